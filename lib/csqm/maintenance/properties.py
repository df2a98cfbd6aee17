"""operations.md §4 table properties: the configuration must keep every promised window, and every table must carry
its layer's properties; a drifted table is reported and repaired."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from csqm import io
from csqm.config import LAYERS, Config, ConfigError


def check_windows(cfg: Config) -> None:
    """Refuse a retention.yaml that would break a promised time-travel window, naming the key and why."""
    r, w = cfg.retention, "retention.yaml"
    if r.checkpoint_interval < 1:
        raise ConfigError(f"{w}:checkpoint_interval = {r.checkpoint_interval}: must be at least 1")
    for layer in LAYERS:
        p = r.layers[layer]
        key = f"{w}:layers.{layer}"
        if p.time_travel_days < 1:
            raise ConfigError(f"{key}.time_travel_days = {p.time_travel_days}: a window must be at least 1 day")
        if p.deleted_file_retention_days < p.time_travel_days:
            raise ConfigError(
                f"{key}.deleted_file_retention_days = {p.deleted_file_retention_days} is shorter than "
                f"{key}.time_travel_days = {p.time_travel_days}: VACUUM (RETAIN {p.deleted_file_retention_days * 24} "
                f"HOURS) would delete data files of versions the {p.time_travel_days}-day window promises")
        if p.log_retention_days < p.time_travel_days:
            raise ConfigError(
                f"{key}.log_retention_days = {p.log_retention_days} is shorter than {key}.time_travel_days = "
                f"{p.time_travel_days}: log cleanup would drop commits the {p.time_travel_days}-day window promises")
    for k, v in r.online_months.items():
        if v < 1:
            raise ConfigError(f"{w}:online_months.{k} = {v}: must be at least 1")
    if r.backup_daily_keep < 1 or r.backup_monthly_keep < 1:
        raise ConfigError(f"{w}:backup: daily_keep and monthly_keep must be at least 1")


def expected(cfg: Config, table: str, columns: Sequence[str] = ()) -> dict[str, str]:
    """The layer's properties for the table (`columns`: its non-partition columns, which per-column ones name)."""
    return cfg.retention.properties(io.layer_of(table), columns)


def _state(spark: SparkSession, cfg: Config, table: str) -> tuple[dict[str, str], list[str]]:
    """The table's current properties and its non-partition columns (one DESCRIBE DETAIL)."""
    dt = DeltaTable.forPath(spark, io.table_path(cfg, table))
    row = dt.detail().select("properties", "partitionColumns").first()
    parts = set(row[1] or [])
    return dict(row[0] or {}), [c for c in dt.toDF().columns if c not in parts]


def actual(spark: SparkSession, cfg: Config, table: str) -> dict[str, str]:
    """The table's current properties (DESCRIBE DETAIL)."""
    return _state(spark, cfg, table)[0]


def drift(spark: SparkSession, cfg: Config, table: str) -> dict[str, tuple[str | None, str]]:
    """key -> (actual, expected) for every §4 property that differs."""
    have, cols = _state(spark, cfg, table)
    return {k: (have.get(k), v) for k, v in expected(cfg, table, cols).items() if have.get(k) != v}


def repair(spark: SparkSession, cfg: Config, table: str, meta: Mapping[str, str] | None) -> None:
    """ALTER TABLE SET TBLPROPERTIES to the layer's values (one commit)."""
    want = expected(cfg, table, _state(spark, cfg, table)[1])
    props = ", ".join(f"'{k}' = '{v}'" for k, v in want.items())
    with io.commit_metadata(spark, meta):
        spark.sql(f"ALTER TABLE delta.`{io.table_path(cfg, table)}` SET TBLPROPERTIES ({props})")


def check_and_repair(spark: SparkSession, cfg: Config, tables: Iterable[str], meta: Mapping[str, str] | None,
                     dry_run: bool = False) -> dict[str, dict[str, tuple[str | None, str]]]:
    """Check every table; report and (unless dry_run) repair the drifted ones; returns table -> drift."""
    out = {}
    for t in tables:
        d = drift(spark, cfg, t)
        if not d:
            continue
        out[t] = d
        what = "; ".join(f"{k}: {a!r} -> {e!r}" for k, (a, e) in sorted(d.items()))
        print(f"  properties drifted on {t}: {what}{' (dry run: not repaired)' if dry_run else ' (repaired)'}")
        if not dry_run:
            repair(spark, cfg, t, meta)
    return out


def all_tables(cfg: Config, layers: Iterable[str] = LAYERS) -> list[str]:
    """Every Delta table of the lake, layer by layer."""
    return [t for layer in layers for t in io.tables_in_layer(cfg, layer)]
