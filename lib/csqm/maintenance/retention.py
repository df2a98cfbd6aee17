"""Weekly retention (operations.md §3, §4, §5): partition deletes, landing cleanup, VACUUM with the layer's RETAIN,
backup expiry; refuses a window-breaking configuration; --dry-run lists what would go and changes nothing."""
from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from csqm import audit, io
from csqm.config import Config
from csqm.io import backup as store
from csqm.io.locks import table_lock
from csqm.maintenance import properties
from csqm.maintenance.backup import CATALOG, backup_dir, lake_tables, manifest_path, manifests

TIME_KEYS = ("day_id", "month_id", "data_date", "run_day")


def rule_for(table: str) -> str | None:
    """The online_months key of a table family (§3); None = never deleted (man_*, dim_*, catalog, unknown ops)."""
    if table.startswith("brz_"):
        return "bronze"
    if table.startswith("slv_"):
        return "silver_daily" if table.endswith("_d") else "silver_monthly" if table.endswith("_m") else None
    if table.startswith("gld_"):
        return "gold"
    return {"ops_quarantine": "ops_batch", "ops_batch_log": "ops_batch", "ops_run_audit": "ops_run",
            "ops_dq_result": "ops_run"}.get(table)


def cutoff(as_of: dt.date, months: int) -> dt.date:
    """First day of month(R) - (N-1): 'N months' keeps R's month and the N-1 before it."""
    m = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return dt.date(m // 12, m % 12 + 1, 1)


def older_than(value: str | None, cut: dt.date) -> bool:
    """A yyyymmdd or yyyymm partition value before the cutoff (a month counts by its first day)."""
    if value is None or not value.isdigit():
        return False
    if len(value) == 8:
        return value < cut.strftime("%Y%m%d")
    return len(value) == 6 and value < cut.strftime("%Y%m")


def predicate(col: str, cut: dt.date) -> str:
    d, m = cut.strftime("%Y%m%d"), cut.strftime("%Y%m")
    return (f"((length(`{col}`) = 8 AND `{col}` < '{d}') OR (length(`{col}`) = 6 AND `{col}` < '{m}'))")


@dataclass
class Report:
    """What retention did (or would do): per step, the items and their sizes."""

    dry_run: bool
    partitions: list[tuple[str, str, int, int]] = field(default_factory=list)  # table, col=value, files, bytes
    landing: list[tuple[str, int, int]] = field(default_factory=list)  # folder, files, bytes
    vacuum: list[tuple[str, int, int]] = field(default_factory=list)  # table, files, bytes
    expired: list[str] = field(default_factory=list)  # backup ids
    backup_files: list[tuple[str, int, int]] = field(default_factory=list)  # table, files, bytes
    drift: dict = field(default_factory=dict)

    def text(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        out = [f"retention ({'dry run' if self.dry_run else 'applied'}):"]
        for t, p, n, b in self.partitions:
            out.append(f"  partition {verb}: {t} {p} ({n} files, {b:,} bytes)")
        for f, n, b in self.landing:
            out.append(f"  landing {verb}: {f} ({n} files, {b:,} bytes)")
        for t, n, b in self.vacuum:
            out.append(f"  vacuum {verb}: {t} {n} files, {b:,} bytes")
        for bid in self.expired:
            out.append(f"  backup expired: {bid}")
        for t, n, b in self.backup_files:
            out.append(f"  backup files {verb}: {t} {n} files, {b:,} bytes")
        out.append(f"  totals: {len(self.partitions)} partitions, {len(self.landing)} landing folders, "
                   f"{sum(n for _, n, _ in self.vacuum)} vacuumed files, {len(self.expired)} expired backups")
        return "\n".join(out)


# ------------------------------------------------------------------ 1. partition deletes
def partition_column(spark: SparkSession, cfg: Config, table: str) -> str | None:
    """The table's own time partition column (DESCRIBE DETAIL)."""
    cols = DeltaTable.forPath(spark, io.table_path(cfg, table)).detail().select("partitionColumns").first()[0]
    return next((c for c in cols if c in TIME_KEYS), None)


def delete_partitions(spark: SparkSession, cfg: Config, run: audit.Run, as_of: dt.date, rep: Report) -> None:
    """Delta DELETE of every partition older than its family's cutoff (files go at the next VACUUM)."""
    for t in lake_tables(cfg):
        key = rule_for(t)
        col = partition_column(spark, cfg, t) if key else None
        if not col:
            continue
        cut = cutoff(as_of, cfg.retention.online_months[key])
        path = io.table_path(cfg, t)
        _, files = store.snapshot_files(spark, path, store.commit_versions(store.log_listing(path))[-1])
        parts: dict[str, list[int]] = defaultdict(list)
        for f in files:
            v = dict(f.partition).get(col)
            if older_than(v, cut):
                parts[v].append(f.size)
        for v in sorted(parts):
            rep.partitions.append((t, f"{col}={v}", len(parts[v]), sum(parts[v])))
        if parts and not rep.dry_run:
            with table_lock(cfg.env.lake_root, t, run.run_id, run.job):
                run.committed(t, io.delete_rows(spark, cfg, t, predicate(col, cut), run.meta))


# ------------------------------------------------------------------ 2. landing
def _folder_date(name: str) -> dt.date | None:
    """A landing folder's data date (a monthly folder counts by the last day of its month)."""
    try:
        if len(name) == 8:
            return dt.datetime.strptime(name, "%Y%m%d").date()
        if len(name) == 6:
            first = dt.datetime.strptime(name, "%Y%m").date()
            return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    except ValueError:
        return None
    return None


def clean_landing(cfg: Config, as_of: dt.date, rep: Report) -> None:
    """Delete landing/<IFCODE>/<date>/ when its data date < R - landing_days."""
    limit = as_of - dt.timedelta(days=cfg.retention.online_months["landing_days"])
    root = Path(cfg.env.landing_root)
    for ifcode in sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for name in io.landing_dates(cfg, ifcode):
            d = _folder_date(name)
            if d is None or d >= limit:
                continue
            folder = io.landing_dir(cfg, ifcode, name)
            sizes = store.files_under(str(folder))
            rep.landing.append((f"{ifcode}/{name}", len(sizes), sum(sizes.values())))
            if not rep.dry_run:
                io.remove_tree(folder)


# ------------------------------------------------------------------ 3. VACUUM
def retain_hours(cfg: Config, table: str) -> int:
    return cfg.retention.layers[io.layer_of(table)].deleted_file_retention_days * 24


@contextmanager
def _listing_parallelism(spark: SparkSession) -> Iterator[None]:
    """VACUUM lists files with spark.sql.sources.parallelPartitionDiscovery.parallelism tasks (default 10000, minutes
    of scheduling for a small table); use the cluster's default parallelism instead."""
    with io.spark_conf(spark, "spark.sql.sources.parallelPartitionDiscovery.parallelism",
                       str(max(2, spark.sparkContext.defaultParallelism))):
        yield


def vacuum_table(spark: SparkSession, cfg: Config, table: str, run: audit.Run, dry_run: bool) -> tuple[int, int]:
    """VACUUM with RETAIN = the layer's deletedFileRetentionDuration in hours (never shorter); (files, bytes)."""
    path = io.table_path(cfg, table)
    sql = f"VACUUM delta.`{path}` RETAIN {retain_hours(cfg, table)} HOURS"
    if dry_run:
        with _listing_parallelism(spark):
            gone = [r[0] for r in spark.sql(f"{sql} DRY RUN").collect()]
        return len(gone), sum(os.path.getsize(p.removeprefix("file:")) for p in gone
                              if os.path.exists(p.removeprefix("file:")))
    before = store.files_under(path)
    with table_lock(cfg.env.lake_root, table, run.run_id, run.job), io.commit_metadata(spark, run.meta), \
            _listing_parallelism(spark):
        spark.sql(sql).collect()
    after = store.files_under(path)
    gone = [k for k in before if k not in after and not k.startswith(store.LOG) and not Path(k).name.startswith(".")]
    return len(gone), sum(before[k] for k in gone)


# ------------------------------------------------------------------ 4. backup expiry
def expire_backups(cfg: Config, run: audit.Run, rep: Report) -> None:
    """Keep the newest daily_keep DAILY and monthly_keep MONTHLY manifests per table; delete the rest, then every
    backup file no remaining manifest references (incl. files of killed backups)."""
    keep = {"DAILY": cfg.retention.backup_daily_keep, "MONTHLY": cfg.retention.backup_monthly_keep}
    by_table: dict[str, list[dict]] = defaultdict(list)
    for m in manifests(cfg):
        by_table[m["table"]].append(m)
    folders = {t: backup_dir(cfg, t) for t in by_table}
    for layer_dir in Path(cfg.env.backup_root).glob("*/*"):
        if layer_dir.parent.name not in ("_manifests", "_locks") and layer_dir.is_dir():
            folders.setdefault(layer_dir.name, str(layer_dir))
    for table, folder in sorted(folders.items()):
        with table_lock(cfg.env.backup_root, table, run.run_id, run.job):
            ms = by_table.get(table, [])
            expired = []
            for type_, n in keep.items():
                of_type = sorted((m for m in ms if m["backup_type"] == type_), key=lambda m: m["created_at"])
                expired += of_type[:-n] if len(of_type) > n else []
            rep.expired += [m["backup_id"] for m in expired]
            live = [m for m in ms if m not in expired]
            referenced = {f["path"] for m in live for f in m["files"]} | {p for m in live for p in m["log_files"]}
            present = store.files_under(folder)
            drop = [p for p in present if p not in referenced]
            if drop:
                rep.backup_files.append((table, len(drop), sum(present[p] for p in drop)))
            if rep.dry_run:
                continue
            for m in expired:
                manifest_path(cfg, table, m["backup_id"]).unlink(missing_ok=True)
            store.remove_files(folder, drop)


def _mark_expired(spark: SparkSession, cfg: Config, run: audit.Run, ids: list[str]) -> None:
    if ids and io.table_exists(spark, cfg, CATALOG):
        listed = ", ".join(f"'{i}'" for i in ids)
        with table_lock(cfg.env.lake_root, CATALOG, run.run_id, run.job):
            run.committed(CATALOG, io.update_rows(spark, cfg, CATALOG, f"backup_id IN ({listed})",
                                                  {"status": "'EXPIRED'"}, run.meta))


# ------------------------------------------------------------------ the job
def run_retention(spark: SparkSession, cfg: Config, run: audit.Run, as_of: dt.date, dry_run: bool) -> Report:
    """Config check -> property check/repair -> partition deletes -> landing -> VACUUM -> backup expiry."""
    properties.check_windows(cfg)
    rep = Report(dry_run)
    tables = lake_tables(cfg)
    rep.drift = properties.check_and_repair(spark, cfg, tables, run.meta, dry_run)
    delete_partitions(spark, cfg, run, as_of, rep)
    clean_landing(cfg, as_of, rep)
    for t in tables:
        n, b = vacuum_table(spark, cfg, t, run, dry_run)
        if n:
            rep.vacuum.append((t, n, b))
    expire_backups(cfg, run, rep)
    if not dry_run:
        _mark_expired(spark, cfg, run, rep.expired)
    return rep
