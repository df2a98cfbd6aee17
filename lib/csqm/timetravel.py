"""Time travel for users and notebooks: read a table as it was, list its versions, and explain what changed in a
gold partition between two versions ("why did this KPI change since it was published?")."""
from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import NumericType

from csqm import io
from csqm.config import Config
from csqm.maintenance.window import OutOfWindow, checked_time_travel, resolve, table_window  # noqa: F401

AUDIT_PREFIX = "_"


def read_as_of(spark: SparkSession, cfg: Config, table: str, version: int | None = None,
               timestamp: str | None = None, where: str | None = None) -> DataFrame:
    """The table at a version or timestamp, refused with OUT_OF_WINDOW (and the backups to use) outside the window."""
    v = resolve(spark, cfg, table, version, timestamp)
    with checked_time_travel(spark):
        return io.read(spark, cfg, table, where=where, version=v)


def versions(spark: SparkSession, cfg: Config, table: str) -> DataFrame:
    """The table's history: version, timestamp, operation, the run and job that committed it."""
    from delta.tables import DeltaTable

    meta = "from_json(userMetadata, 'run_id STRING, job STRING, restore_from STRING')"
    return (DeltaTable.forPath(spark, io.table_path(cfg, table)).history()
            .select("version", "timestamp", "operation", F.expr(f"{meta}.run_id").alias("run_id"),
                    F.expr(f"{meta}.job").alias("job"), F.expr(f"{meta}.restore_from").alias("restore_from"),
                    F.col("operationMetrics"))
            .orderBy(F.col("version").desc()))


def split_columns(df: DataFrame, keys: Sequence[str] | None = None,
                  metrics: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """Grain keys (default: non-audit, non-numeric columns) and metrics (default: non-audit numeric columns)."""
    plain = [f for f in df.schema.fields if not f.name.startswith(AUDIT_PREFIX)]
    k = list(keys) if keys else [f.name for f in plain if not isinstance(f.dataType, NumericType)]
    m = list(metrics) if metrics else [f.name for f in plain if isinstance(f.dataType, NumericType) and f.name not in k]
    return k, m


def diff_frames(old: DataFrame, new: DataFrame, keys: Sequence[str] | None = None,
                metrics: Sequence[str] | None = None) -> DataFrame:
    """One row per (grain key, metric) whose value differs: keys..., metric, old_value, new_value, change
    (CHANGED / ADDED / REMOVED). Values are shown as strings so metrics of different types fit one column."""
    k, m = split_columns(new, keys, metrics)
    o = old.select(*k, *[F.col(c).alias(f"o__{c}") for c in m]).withColumn("o__present", F.lit(True))
    n = new.select(*k, *[F.col(c).alias(f"n__{c}") for c in m]).withColumn("n__present", F.lit(True))
    cond = [o[c].eqNullSafe(n[c]) for c in k]
    j = o.alias("o").join(n.alias("n"), cond, "full_outer")
    key_cols = [F.coalesce(F.col(f"n.{c}"), F.col(f"o.{c}")).alias(c) for c in k]
    change = (F.when(F.col("o__present").isNull(), "ADDED").when(F.col("n__present").isNull(), "REMOVED")
              .otherwise("CHANGED"))
    cells = F.array(*[F.struct(F.lit(c).alias("metric"), F.col(f"o__{c}").cast("string").alias("old_value"),
                               F.col(f"n__{c}").cast("string").alias("new_value"),
                               (~F.col(f"o__{c}").eqNullSafe(F.col(f"n__{c}"))).alias("differs")) for c in m])
    out = j.select(*key_cols, change.alias("change"), F.explode(cells).alias("cell"))
    return (out.where("cell.differs OR change <> 'CHANGED'")
            .select(*k, "cell.metric", "cell.old_value", "cell.new_value", "change"))


def compare_versions(spark: SparkSession, cfg: Config, table: str, old_version: int, new_version: int | None = None,
                     where: str | None = None, keys: Sequence[str] | None = None,
                     metrics: Sequence[str] | None = None) -> DataFrame:
    """What changed in a (gold) partition between two versions (new_version default: latest), per grain key and
    metric; both versions must be inside the window."""
    old = read_as_of(spark, cfg, table, version=old_version, where=where)
    new = (read_as_of(spark, cfg, table, version=new_version, where=where) if new_version is not None
           else io.read(spark, cfg, table, where=where))
    return diff_frames(old, new, keys, metrics)
