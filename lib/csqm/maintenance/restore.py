"""Restores (operations.md §4, §5): from a backup to an empty path or over the live table, and Delta RESTORE to a
version inside the time-travel window; each verified against the manifest or the source version."""
from __future__ import annotations

import json
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from csqm import audit, io
from csqm.config import Config
from csqm.errors import JobFailed
from csqm.io import backup as store
from csqm.io.locks import table_lock
from csqm.maintenance.backup import BackupFailed, backup_dir, content_stats, find_manifest, manifests
from csqm.maintenance.window import checked_time_travel, resolve


def check_against(m: dict, rows: int, checksum: str, what: str) -> None:
    if (rows, checksum) != (m["row_count"], m["content_checksum"]):
        raise BackupFailed(f"{what}: rows={rows} checksum={checksum}, manifest {m['backup_id']} says "
                           f"rows={m['row_count']} checksum={m['content_checksum']}")


def _last_checkpoint(spark: SparkSession, target: str, log_files: list[str]) -> None:
    """Write _last_checkpoint for the newest copied checkpoint (Delta reads it as the starting hint)."""
    cps = [f for f in log_files if ".checkpoint." in f]
    if not cps:
        return
    version = int(Path(cps[0]).name[:20])
    size = spark.read.parquet(*[f"{target}/{f}" for f in cps]).count()
    info = {"version": version, "size": size, **({"parts": len(cps)} if len(cps) > 1 else {})}
    Path(target, store.LOG, "_last_checkpoint").write_text(json.dumps(info), encoding="utf-8")


def restore_to_path(spark: SparkSession, cfg: Config, backup_id: str, target: str) -> dict:
    """Copy a backup's files and log files to an empty path: a Delta table whose latest version is V; verified."""
    m = find_manifest(cfg, backup_id)
    if not store.is_empty_dir(target):
        raise JobFailed(f"restore target {target} is not empty")
    src = backup_dir(cfg, m["table"])
    files = [(f["path"], f["size"]) for f in m["files"]]
    logs = [(p, (Path(src) / p).stat().st_size) for p in m["log_files"]]
    n, b = store.copy_missing(src, target, files + logs)
    _last_checkpoint(spark, target, m["log_files"])
    latest = max(int(Path(p).name[:20]) for p in m["log_files"] if p.endswith(".json"))
    if latest != m["version"]:
        raise BackupFailed(f"restored {target} ends at version {latest}, manifest says {m['version']}")
    check_against(m, *content_stats(spark.read.format("delta").load(target)), f"restore of {backup_id} to {target}")
    print(f"  restored {backup_id} to {target}: {n} files, {b:,} bytes, rows={m['row_count']} (verified)")
    return m


def _readable(spark: SparkSession, path: str) -> bool:
    try:
        return DeltaTable.isDeltaTable(spark, path) and spark.read.format("delta").load(path).schema is not None
    except Exception:  # a damaged log or folder: rebuild by file copy
        return False


def restore_over_live(spark: SparkSession, cfg: Config, backup_id: str, run: audit.Run) -> int:
    """Write the backup's content at V over the live table as one overwrite commit (history kept), verified; a
    missing or unreadable live table is rebuilt by file copy. Returns the live version now."""
    m = find_manifest(cfg, backup_id)
    table, live = m["table"], io.table_path(cfg, m["table"])
    with table_lock(cfg.env.lake_root, table, run.run_id, run.job):
        if not _readable(spark, live):
            if Path(live).exists():
                moved = store.move_aside(live, f"broken-{audit.now():%Y%m%d%H%M%S}")
                print(f"  {table}: live folder unreadable, moved to {moved}")
            restore_to_path(spark, cfg, backup_id, live)
            version = m["version"]
        else:
            with checked_time_travel(spark):  # V may be older than later backups in the same folder
                src = spark.read.format("delta").option("versionAsOf", m["version"]).load(backup_dir(cfg, table))
            meta = {**run.meta, "restore_from": backup_id}
            with io.commit_metadata(spark, meta):
                (src.write.format("delta").mode("overwrite").option("partitionOverwriteMode", "static")
                 .save(live))
            version = io.latest_version(spark, cfg, table)
            check_against(m, *content_stats(io.read(spark, cfg, table, version=version)),
                          f"{table} v{version} restored from {backup_id}")
    run.committed(table, version)
    return version


def restore_version(spark: SparkSession, cfg: Config, table: str, run: audit.Run, version: int | None = None,
                    timestamp: str | None = None) -> int:
    """Delta RESTORE to a version/timestamp inside the window (OUT_OF_WINDOW otherwise); verified; new version."""
    target = resolve(spark, cfg, table, version, timestamp)
    with table_lock(cfg.env.lake_root, table, run.run_id, run.job):
        with io.commit_metadata(spark, {**run.meta, "restore_to_version": str(target)}), checked_time_travel(spark):
            spark.sql(f"RESTORE TABLE delta.`{io.table_path(cfg, table)}` TO VERSION AS OF {target}")
            want = content_stats(io.read(spark, cfg, table, version=target))
        new = io.latest_version(spark, cfg, table)
        got = content_stats(io.read(spark, cfg, table, version=new))
        if want != got:
            raise BackupFailed(f"{table} v{new} differs from v{target} after RESTORE: {got} vs {want}")
    run.committed(table, new)
    print(f"  {table}: restored to version {target} as version {new} (rows={got[0]}, verified)")
    return new


def latest_backups(cfg: Config) -> dict[str, dict]:
    """table -> its newest complete backup."""
    return {m["table"]: m for m in manifests(cfg)}


def restore_all(spark: SparkSession, cfg: Config, run: audit.Run) -> dict[str, int]:
    """Disaster recovery: every backed-up table from its newest backup (rebuilt by copy when the lake is gone)."""
    return {t: restore_over_live(spark, cfg, m["backup_id"], run) for t, m in sorted(latest_backups(cfg).items())}
