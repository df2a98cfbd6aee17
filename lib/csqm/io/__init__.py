"""The storage layer, the only code that touches storage: landing files, Delta tables (create, read, replaceWhere,
MERGE). Sub-modules of this package hold the larger storage concerns (backup, uploads)."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, DataFrameWriter, SparkSession
from pyspark.sql.types import StructType

from csqm.config import Config
from csqm.io.retry import retry_conflicts

LAYER_BY_PREFIX = {"brz_": "bronze", "slv_": "silver", "gld_": "gold", "ops_": "ops", "man_": "manual",
                   "dim_": "reference"}
META_CONF = "spark.databricks.delta.commitInfo.userMetadata"
_KNOWN_TABLES: set[str] = set()  # paths seen to exist in this process (tables are never dropped by jobs)


# ------------------------------------------------------------------ Delta tables
def layer_of(table: str) -> str:
    """Layer from the table name prefix (README §1)."""
    for prefix, layer in LAYER_BY_PREFIX.items():
        if table.startswith(prefix):
            return layer
    raise ValueError(f"table {table!r} has no layer prefix ({', '.join(LAYER_BY_PREFIX)})")


def table_path(cfg: Config, table: str) -> str:
    """Every table lives at <lake_root>/<layer>/<table>."""
    return f"{cfg.env.lake_root.rstrip('/')}/{layer_of(table)}/{table}"


def tables_in_layer(cfg: Config, layer: str) -> list[str]:
    """Names of the Delta tables stored under <lake_root>/<layer> (local lakes; a cluster lists its catalog)."""
    root = Path(cfg.env.lake_root) / layer
    if "://" in cfg.env.lake_root or not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "_delta_log").is_dir())


def table_exists(spark: SparkSession, cfg: Config, table: str) -> bool:
    return DeltaTable.isDeltaTable(spark, table_path(cfg, table))


@retry_conflicts  # commit conflicts retried with bounded backoff (io/retry.py)
def ensure_table(spark: SparkSession, cfg: Config, table: str, schema: StructType,
                 partition_cols: Sequence[str] = (), meta: Mapping[str, str] | None = None) -> None:
    """Create the table with its layer's properties (operations.md §4) if it does not exist yet."""
    path = table_path(cfg, table)
    if path in _KNOWN_TABLES or table_exists(spark, cfg, table):
        _KNOWN_TABLES.add(path)
        return
    if "://" in path:  # Delta compares the location in Hadoop's form: hdfs:///x is hdfs:/x to it, an ambiguous path
        path = spark._jvm.org.apache.hadoop.fs.Path(path).toString()
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
    if partition_cols:
        builder = builder.partitionedBy(*partition_cols)
    columns = [f.name for f in schema.fields if f.name not in partition_cols]
    for k, v in cfg.retention.properties(layer_of(table), columns).items():
        builder = builder.property(k, v)
    with commit_metadata(spark, meta):
        builder.execute()


def read(spark: SparkSession, cfg: Config, table: str, where: str | None = None,
         version: int | None = None, timestamp: str | None = None) -> DataFrame:
    """Read a table (optionally at a version/timestamp), filtered early so partitions are pruned."""
    r = spark.read.format("delta")
    if version is not None:
        r = r.option("versionAsOf", version)
    if timestamp is not None:
        r = r.option("timestampAsOf", timestamp)
    df = r.load(table_path(cfg, table))
    return df.where(where) if where else df


def latest_version(spark: SparkSession, cfg: Config, table: str) -> int:
    """The table's latest committed version, from a listing of its _delta_log: no snapshot, no Spark job."""
    found = latest_versions(spark, cfg, [table])
    if table not in found:
        raise ValueError(f"{table}: no Delta table at {table_path(cfg, table)}")
    return found[table]


@contextmanager
def spark_conf(spark: SparkSession, key: str, value: str) -> Iterator[None]:
    """Set one session conf for the block, then put back what was there (or unset it)."""
    old = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        _put_conf(spark, key, old)


def _put_conf(spark: SparkSession, key: str, value: str | None) -> None:
    """Set a session conf, or unset it for None (what it was before anyone set it)."""
    if value is None:
        spark.conf.unset(key)
    else:
        spark.conf.set(key, value)


def _meta_json(meta: Mapping[str, str]) -> str:
    """One JSON form for both ways a commit is tagged (session conf, writer option)."""
    return json.dumps(dict(meta), ensure_ascii=False, sort_keys=True)


_META_LOCK = threading.Lock()
_META_OPEN: list[str] = []  # values of the commit_metadata blocks open in this process, innermost last
_META_BASE: list[str | None] = [None]  # what the conf held before the first block opened


@contextmanager
def commit_metadata(spark: SparkSession, meta: Mapping[str, str] | None) -> Iterator[None]:
    """Tag every commit made inside with userMetadata {"run_id", "job"} (operations.md §7).

    The session conf is shared by the threads that write in parallel (ingest, gold): the conf keeps the value while
    any block with it is open, so one thread's block ending cannot untag another's MERGE, DELETE or CREATE."""
    if not meta:
        yield
        return
    value = _meta_json(meta)
    with _META_LOCK:
        if not _META_OPEN:
            _META_BASE[0] = spark.conf.get(META_CONF, None)
        _META_OPEN.append(value)
        spark.conf.set(META_CONF, value)
    try:
        yield
    finally:
        with _META_LOCK:
            _META_OPEN.remove(value)
            _put_conf(spark, META_CONF, _META_OPEN[-1] if _META_OPEN else _META_BASE[0])


def _tagged(writer: DataFrameWriter, meta: Mapping[str, str] | None) -> DataFrameWriter:
    """The commit's userMetadata as a writer option too, which Delta prefers to the shared session conf."""
    return writer.option("userMetadata", _meta_json(meta)) if meta else writer


def replace_where(df: DataFrame, cfg: Config, table: str, predicate: str,
                  meta: Mapping[str, str] | None = None, empty: bool = False) -> int:
    """Atomically replace the rows matching predicate (a partition or a batch) with df; returns the version.

    Delta makes no commit for an overwrite that writes no rows, so a caller that knows df is empty says so and the
    matching rows are deleted instead."""
    return replace_where_counted(df, cfg, table, predicate, meta, empty)[0]


@retry_conflicts  # commit conflicts retried with bounded backoff (io/retry.py)
def replace_where_counted(df: DataFrame, cfg: Config, table: str, predicate: str,
                          meta: Mapping[str, str] | None = None, empty: bool = False) -> tuple[int, int]:
    """replace_where that also returns the rows written (the commit's numOutputRows), saving a count."""
    spark = df.sparkSession
    if empty:
        return delete_rows(spark, cfg, table, predicate, meta), 0
    with commit_metadata(spark, meta):
        (_tagged(df.write, meta).format("delta").mode("overwrite").option("replaceWhere", predicate)
         .save(table_path(cfg, table)))
    version = latest_version(spark, cfg, table)
    metrics = commit_info(spark, cfg, table, version).get("operationMetrics") or {}
    return version, int(metrics.get("numOutputRows", 0))


@retry_conflicts  # commit conflicts retried with bounded backoff (io/retry.py)
def append(df: DataFrame, cfg: Config, table: str, meta: Mapping[str, str] | None = None) -> int:
    spark = df.sparkSession
    with commit_metadata(spark, meta):
        _tagged(df.write, meta).format("delta").mode("append").save(table_path(cfg, table))
    return latest_version(spark, cfg, table)


@retry_conflicts  # commit conflicts retried with bounded backoff (io/retry.py)
def merge_upsert(df: DataFrame, cfg: Config, table: str, keys: Sequence[str],
                 meta: Mapping[str, str] | None = None, delete_when: str | None = None,
                 target: str | None = None) -> int:
    """One atomic MERGE on keys: matched rows are replaced (or deleted where delete_when holds), others inserted.

    target: a predicate over the target's columns (alias t) that every row the source can match satisfies, e.g. its
    partition; Delta reads only the files it admits, where a join condition alone makes it scan the whole table."""
    spark = df.sparkSession
    on = " AND ".join([*([f"({target})"] if target else []), *(f"t.`{k}` <=> s.`{k}`" for k in keys)])
    m = DeltaTable.forPath(spark, table_path(cfg, table)).alias("t").merge(df.alias("s"), on)
    if delete_when:
        m = m.whenMatchedDelete(condition=delete_when)
        m = m.whenMatchedUpdateAll().whenNotMatchedInsertAll(condition=f"NOT ({delete_when})")
    else:
        m = m.whenMatchedUpdateAll().whenNotMatchedInsertAll()
    with commit_metadata(spark, meta):
        m.execute()
    return latest_version(spark, cfg, table)


@retry_conflicts  # commit conflicts retried with bounded backoff (io/retry.py)
def delete_rows(spark: SparkSession, cfg: Config, table: str, condition: str,
                meta: Mapping[str, str] | None = None) -> int:
    with commit_metadata(spark, meta):
        DeltaTable.forPath(spark, table_path(cfg, table)).delete(condition)
    return latest_version(spark, cfg, table)


@retry_conflicts  # commit conflicts retried with bounded backoff (io/retry.py)
def update_rows(spark: SparkSession, cfg: Config, table: str, condition: str, set_exprs: Mapping[str, str],
                meta: Mapping[str, str] | None = None) -> int:
    with commit_metadata(spark, meta):
        DeltaTable.forPath(spark, table_path(cfg, table)).update(condition, dict(set_exprs))
    return latest_version(spark, cfg, table)


# ------------------------------------------------------------------ landing zone
def landing_dir(cfg: Config, ifcode: str, date: str | None = None) -> Path:
    """landing/<IFCODE>/<date>/ (sources.md §1.1)."""
    p = Path(cfg.env.landing_root) / ifcode
    return p / date if date else p


def landing_dates(cfg: Config, ifcode: str) -> list[str]:
    """Sub-folder names of an interface folder (the caller keeps those that are dates of its frequency)."""
    p = landing_dir(cfg, ifcode)
    return sorted(d.name for d in p.iterdir() if d.is_dir()) if p.is_dir() else []


def list_files(folder: Path) -> dict[str, int]:
    """File name -> size in bytes of a landing folder."""
    return {f.name: f.stat().st_size for f in folder.iterdir() if f.is_file()} if folder.is_dir() else {}


def read_small(path: Path) -> bytes:
    """Control files are small; read them whole on the driver."""
    return path.read_bytes()


def read_files(spark: SparkSession, paths: Sequence[Path]) -> DataFrame:
    """One row per data file (path, length, content BINARY) with Spark's binaryFile reader."""
    uris = [Path(p).resolve().as_uri() for p in paths]
    return spark.read.format("binaryFile").load(uris)


def remove_tree(path: Path) -> None:
    """Delete a landing folder (retention)."""
    for root, dirs, files in os.walk(path, topdown=False):
        for f in files:
            os.remove(os.path.join(root, f))
        for d in dirs:
            os.rmdir(os.path.join(root, d))
    os.rmdir(path)


# ------------------------------------------------------------------ incremental silver (pipeline.silver_incremental)
def latest_versions(spark: SparkSession, cfg: Config, tables: Sequence[str]) -> dict[str, int]:
    """Latest committed version of each table that exists, from a listing of its _delta_log (the highest
    <version>.json): no snapshot is loaded. Tables that do not exist are left out."""
    out = {}
    for t in tables:
        versions = [int(n[:20]) for n in _list_names(spark, _log_dir(cfg, t))
                    if len(n) == 25 and n.endswith(".json") and n[:20].isdigit()]
        if versions:
            out[t] = max(versions)
    return out


def commit_actions(spark: SparkSession, cfg: Config, table: str, version: int) -> list[dict] | None:
    """The actions (commitInfo, add, remove ...) of one commit, read from its log file; None once log retention
    has removed it. Cheaper than DeltaTable.history(), which loads a snapshot and runs Spark jobs."""
    text = _read_text(spark, f"{_log_dir(cfg, table)}/{version:020d}.json")
    return None if text is None else [json.loads(line) for line in text.splitlines() if line.strip()]


def commit_info(spark: SparkSession, cfg: Config, table: str, version: int) -> dict:
    """The commitInfo of one commit ({} when its log file is gone)."""
    return next((a["commitInfo"] for a in commit_actions(spark, cfg, table, version) or [] if "commitInfo" in a), {})


def commit_partitions(spark: SparkSession, cfg: Config, table: str, version: int, part: str) -> list[str]:
    """The values of partition column `part` that one commit added files to, sorted."""
    adds = [a["add"] for a in commit_actions(spark, cfg, table, version) or [] if "add" in a]
    return sorted({a["partitionValues"][part] for a in adds})


def _log_dir(cfg: Config, table: str) -> str:
    return f"{table_path(cfg, table)}/_delta_log"


def _hadoop(spark: SparkSession, uri: str):
    """The Hadoop FileSystem and Path of a lake URI (a cluster's hdfs:// or s3a:// lake)."""
    hp = spark._jvm.org.apache.hadoop.fs.Path(uri)
    return hp.getFileSystem(spark._jsc.hadoopConfiguration()), hp


def _list_names(spark: SparkSession, folder: str) -> list[str]:
    """Names in a folder of the lake ([] when it does not exist): os for a local lake, Hadoop FS for a cluster's."""
    if "://" not in folder:
        return os.listdir(folder) if os.path.isdir(folder) else []
    fs, hp = _hadoop(spark, folder)
    return [st.getPath().getName() for st in fs.listStatus(hp)] if fs.exists(hp) else []


def _read_text(spark: SparkSession, path: str) -> str | None:
    """A small UTF-8 file of the lake, or None when it does not exist."""
    if "://" not in path:
        return Path(path).read_text(encoding="utf-8") if os.path.isfile(path) else None
    fs, hp = _hadoop(spark, path)
    if not fs.exists(hp):
        return None
    stream = fs.open(hp)
    try:
        return spark._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def commits_after(spark: SparkSession, cfg: Config, table: str, version: int) -> list[dict]:
    """The commits of a table after `version`, oldest first: version, operation, its write mode and the job and run_id
    of its userMetadata (None when absent). Read from the log files; commits log retention has removed are left out."""
    out = []
    for v in range(version + 1, latest_versions(spark, cfg, [table]).get(table, -1) + 1):
        info = commit_info(spark, cfg, table, v)
        if not info:
            continue
        try:
            meta = json.loads(info["userMetadata"]) if info.get("userMetadata") else {}
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        out.append({"version": v, "operation": info.get("operation"), "job": meta.get("job"),
                    "run_id": meta.get("run_id"), "mode": (info.get("operationParameters") or {}).get("mode")})
    return out
