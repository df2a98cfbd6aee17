"""Backups (operations.md §5): a verified, incremental copy of one table version into <backup_root>, its manifest
written last, and the ops_backup_catalog row."""
from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StructType

from csqm import audit, io
from csqm.config import LAYERS, Config
from csqm.errors import JobFailed
from csqm.io import backup as store
from csqm.io.locks import table_lock

CATALOG = "ops_backup_catalog"
CATALOG_DDL = (
    "backup_id STRING, `table` STRING, layer STRING, version BIGINT, version_timestamp TIMESTAMP, "
    "backup_type STRING, created_at TIMESTAMP, file_count BIGINT, total_bytes BIGINT, row_count BIGINT, "
    "content_checksum STRING, files ARRAY<STRUCT<path: STRING, size: BIGINT>>, log_files ARRAY<STRING>, "
    "copied_files BIGINT, copied_bytes BIGINT, status STRING, run_id STRING"
)
TYPES = ("DAILY", "MONTHLY")


class BackupFailed(JobFailed):
    """The copy does not read back as the source version: no manifest is written."""


# ------------------------------------------------------------------ checksum (§5 content_checksum)
def hashable(df: DataFrame) -> DataFrame:
    """Map columns become key-sorted entry arrays (Spark cannot hash maps); every other column is unchanged."""
    return df.select(*[F.array_sort(F.map_entries(f.name)).alias(f.name) if isinstance(f.dataType, MapType)
                       else F.col(f"`{f.name}`") for f in df.schema.fields])


def content_stats(df: DataFrame) -> tuple[int, str]:
    """(row_count, content_checksum): Σ xxhash64(all columns in schema order) as DECIMAL(38,0), order-free."""
    h = hashable(df)
    r = h.agg(F.count(F.lit(1)).alias("n"),
              F.sum(F.xxhash64(*[F.col(f"`{c}`") for c in h.columns]).cast("decimal(38,0)")).alias("s")).first()
    return int(r.n), str(r.s if r.s is not None else 0)


# ------------------------------------------------------------------ layout
def backup_dir(cfg: Config, table: str) -> str:
    return f"{cfg.env.backup_root.rstrip('/')}/{io.layer_of(table)}/{table}"


def manifest_path(cfg: Config, table: str, backup_id: str) -> Path:
    return Path(cfg.env.backup_root) / "_manifests" / io.layer_of(table) / table / f"{backup_id}.json"


def manifests(cfg: Config, table: str | None = None) -> list[dict]:
    """Complete backups (those with a manifest), oldest first; a folder without a manifest is no backup."""
    out = [store.read_json(p) for p in store.manifest_paths(cfg.env.backup_root)]
    return sorted((m for m in out if table is None or m["table"] == table), key=lambda m: (m["created_at"],
                                                                                          m["version"]))


def find_manifest(cfg: Config, backup_id: str) -> dict:
    for p in store.manifest_paths(cfg.env.backup_root):
        if p.stem == backup_id:
            return store.read_json(p)
    raise JobFailed(f"no backup {backup_id!r} (no manifest under {cfg.env.backup_root}/_manifests)")


def _commit_time(table_dir: str, version: int) -> dt.datetime:
    ms = os.stat(Path(table_dir) / store.LOG / f"{version:020d}.json").st_mtime
    return dt.datetime.fromtimestamp(int(ms), audit.CST)


# ------------------------------------------------------------------ one table
def verify(spark: SparkSession, source: DataFrame, copy: DataFrame, what: str) -> tuple[int, str]:
    """Row count and checksum of both sides must agree; returns them."""
    a, b = content_stats(source), content_stats(copy)
    if a != b:
        raise BackupFailed(f"{what}: copy has rows={b[0]} checksum={b[1]}, source rows={a[0]} checksum={a[1]}")
    return a


def _new_id(cfg: Config, table: str, version: int) -> tuple[str, dt.datetime]:
    """backup_id = <table>_v<version>_<yyyymmddHHMMSS>, unique (waits for the next second on a clash)."""
    while True:
        now = audit.now()
        bid = f"{table}_v{version}_{now:%Y%m%d%H%M%S}"
        if not manifest_path(cfg, table, bid).exists():
            return bid, now
        time.sleep(0.2)


def backup_table(spark: SparkSession, cfg: Config, table: str, type_: str, run: audit.Run) -> dict:
    """Copy the table's latest version V (missing files only), verify it, write the manifest last; returns it."""
    if type_ not in TYPES:
        raise JobFailed(f"backup type {type_!r} is not one of {TYPES}")
    src, dst = io.table_path(cfg, table), backup_dir(cfg, table)
    with table_lock(cfg.env.backup_root, table, run.run_id, "backup"):
        t0 = time.time()
        names = store.log_listing(src)
        version = store.commit_versions(names)[-1]
        log_files, data = store.snapshot_files(spark, src, version, names)
        n_data, b_data = store.copy_missing(src, dst, [(d.path, d.size) for d in data])
        logs = [(f"{store.LOG}/{f}", names[f]) for f in log_files]
        n_log, b_log = store.copy_missing(src, dst, logs)
        rows, checksum = verify(spark, io.read(spark, cfg, table, version=version),
                                spark.read.format("delta").option("versionAsOf", version).load(dst),
                                f"backup of {table} v{version}")
        bid, created = _new_id(cfg, table, version)
        m = {"backup_id": bid, "table": table, "layer": io.layer_of(table), "version": version,
             "version_timestamp": _commit_time(src, version).isoformat(), "backup_type": type_,
             "created_at": created.isoformat(), "file_count": len(data), "total_bytes": sum(d.size for d in data),
             "row_count": rows, "content_checksum": checksum,
             "files": [{"path": d.path, "size": d.size} for d in data], "log_files": [p for p, _ in logs],
             "log_bytes": sum(s for _, s in logs), "copied_files": n_data + n_log, "copied_bytes": b_data + b_log,
             "status": "COMPLETE", "run_id": run.run_id, "seconds": round(time.time() - t0, 3)}
        store.write_json_atomic(manifest_path(cfg, table, bid), m)
    return m


# ------------------------------------------------------------------ catalog
def _catalog_rows(spark: SparkSession, ms: list[dict]) -> DataFrame:
    schema = StructType.fromDDL(CATALOG_DDL)
    recs = [tuple(dt.datetime.fromisoformat(m[f.name]) if f.name in ("version_timestamp", "created_at")
                  else ([(x["path"], x["size"]) for x in m["files"]] if f.name == "files" else m[f.name])
                  for f in schema.fields) for m in ms]
    return spark.createDataFrame(recs, schema)


def sync_catalog(spark: SparkSession, cfg: Config, run: audit.Run) -> int:
    """Add a catalog row for every manifest that has none yet (a run killed after its manifests heals here)."""
    io.ensure_table(spark, cfg, CATALOG, StructType.fromDDL(CATALOG_DDL), meta=run.meta)
    known = {r.backup_id for r in io.read(spark, cfg, CATALOG).select("backup_id").collect()}
    todo = [m for m in manifests(cfg) if m["backup_id"] not in known]
    if todo:
        with table_lock(cfg.env.lake_root, CATALOG, run.run_id, run.job):
            run.committed(CATALOG, io.append(_catalog_rows(spark, todo), cfg, CATALOG, run.meta))
    return len(todo)


# ------------------------------------------------------------------ many tables
@dataclass
class BackupSummary:
    """What a backup run did: manifests written, tables skipped as unchanged, failures, time."""

    type_: str
    done: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def copied_bytes(self) -> int:
        return sum(m["copied_bytes"] for m in self.done)

    def text(self) -> str:
        """The printable manifest summary: one line per table, then totals and throughput."""
        lines = [f"backup {self.type_}: {len(self.done)} tables backed up, {len(self.skipped)} unchanged, "
                 f"{len(self.failed)} failed"]
        for m in self.done:
            lines.append(f"  {m['backup_id']:<48} files={m['file_count']:>5} bytes={m['total_bytes']:>12,} "
                         f"rows={m['row_count']:>9,} copied={m['copied_files']:>4} files/{m['copied_bytes']:>11,} B")
        for t, e in self.failed.items():
            lines.append(f"  FAILED {t}: {e}")
        files = sum(m["file_count"] for m in self.done)
        total = sum(m["total_bytes"] for m in self.done)
        mbs = self.copied_bytes / 1e6 / self.seconds if self.seconds else 0.0
        lines.append(f"  total: tables={len(self.done)} files={files} bytes={total:,}; copied this time "
                     f"{sum(m['copied_files'] for m in self.done)} files, {self.copied_bytes:,} bytes in "
                     f"{self.seconds:.1f}s ({mbs:.1f} MB/s)")
        return "\n".join(lines)


def lake_tables(cfg: Config, layers: Iterable[str] = LAYERS) -> list[str]:
    return [t for layer in layers for t in io.tables_in_layer(cfg, layer)]


def backup_tables(spark: SparkSession, cfg: Config, run: audit.Run, tables: list[str], type_: str) -> BackupSummary:
    """Back up each table (DAILY: only those changed since their last backup; MONTHLY: all), check its properties
    first, keep going past a failed table, then bring the catalog up to date."""
    from csqm.maintenance.properties import check_and_repair

    t0 = time.time()
    s = BackupSummary(type_)
    last = {m["table"]: m["version"] for m in manifests(cfg)}
    check_and_repair(spark, cfg, tables, run.meta)
    latest = io.latest_versions(spark, cfg, tables)
    for t in tables:
        if type_ == "DAILY" and last.get(t) == latest.get(t):
            s.skipped.append(t)
            continue
        try:
            s.done.append(backup_table(spark, cfg, t, type_, run))
        except Exception as e:  # one table's failure must not stop the others; reported and the run fails
            s.failed[t] = f"{type(e).__name__}: {e}"[:500]
    sync_catalog(spark, cfg, run)
    s.seconds = time.time() - t0
    run.rows_out = sum(m["row_count"] for m in s.done)
    return s


def backup_all(spark: SparkSession, cfg: Config, run: audit.Run, type_: str) -> BackupSummary:
    """Every table of every layer (the end of the daily/monthly chain and of `make demo`)."""
    return backup_tables(spark, cfg, run, lake_tables(cfg), type_)
