"""Data-safety commands (operations.md §3–§5): retention, window, show, backup, restore."""
from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

from csqm.config import LAYERS, Config
from csqm.errors import JobFailed, UsageError


def add_parsers(sub, h) -> None:
    """Register the sub-commands; h is csqm.cli (its _common/_date helpers)."""
    r = sub.add_parser("retention", help="partition deletes, landing cleanup, VACUUM, backup expiry (weekly)")
    r.add_argument("--as-of", dest="as_of", type=h._date, required=True, help="run date R yyyymmdd")
    h._common(r)

    w = sub.add_parser("window", help="each table's readable time-travel window against the promise")
    w.add_argument("--table")
    w.add_argument("--layer", choices=LAYERS)
    h._common(w)

    s = sub.add_parser("show", help="print a table as of a version or timestamp")
    s.add_argument("table")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--version", type=int)
    g.add_argument("--timestamp", help="'yyyy-MM-dd HH:mm:ss' (Asia/Shanghai)")
    s.add_argument("--where", help="SQL filter, e.g. \"day_id = '20130105'\"")
    s.add_argument("--limit", type=int, default=20)
    h._common(s)

    b = sub.add_parser("backup", help="verified incremental backup of tables (manifest written last)")
    g = b.add_mutually_exclusive_group(required=True)
    g.add_argument("--table")
    g.add_argument("--layer", choices=LAYERS)
    g.add_argument("--all", action="store_true")
    b.add_argument("--type", dest="type_", choices=("DAILY", "MONTHLY"), required=True)
    h._common(b)

    rs = sub.add_parser("restore", help="restore from a backup (--backup-id) or to a version (--table)")
    g = rs.add_mutually_exclusive_group(required=True)
    g.add_argument("--backup-id", dest="backup_id")
    g.add_argument("--table")
    rs.add_argument("--target", help="with --backup-id: an empty path to restore into")
    rs.add_argument("--over-live", action="store_true", help="with --backup-id: one overwrite commit on the live table")
    rs.add_argument("--version", type=int, help="with --table")
    rs.add_argument("--timestamp", help="with --table: 'yyyy-MM-dd HH:mm:ss'")
    h._common(rs)


def _spark(cfg: Config):
    from csqm.pipeline.jobs import _spark as spark_of

    return spark_of(cfg)


def _check_table(cfg: Config, table: str) -> None:
    from csqm import io

    try:
        io.layer_of(table)
    except ValueError as e:
        raise UsageError(str(e)) from None


def job_retention(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.maintenance.retention import run_retention
    from csqm.pipeline.jobs import _audited, _print_run

    spark, t0 = _spark(cfg), time.time()
    as_of = dt.datetime.strptime(ns.as_of, "%Y%m%d").date()
    out = []

    def step(run) -> str:
        out.append(run_retention(spark, cfg, run, as_of, ns.dry_run))
        return "SUCCESS"

    run = _audited(spark, cfg, "retention", {"as_of": ns.as_of, "dry_run": ns.dry_run}, ns.as_of, step)
    print(out[0].text())
    _print_run(run, t0)
    return 0


def job_window(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.maintenance.backup import lake_tables
    from csqm.maintenance.properties import drift
    from csqm.maintenance.window import table_window

    spark = _spark(cfg)
    tables = [ns.table] if ns.table else lake_tables(cfg, [ns.layer] if ns.layer else LAYERS)
    broken = 0
    print(f"{'table':<28} {'layer':<9} {'promise':>7} {'latest':>6} {'promised from':<28} "
          f"{'readable from':<28} status")
    for t in tables:
        _check_table(cfg, t)
        w = table_window(spark, cfg, t)
        d = drift(spark, cfg, t)
        status = ("OK" if w.kept else "BROKEN") + (f" (properties drifted: {', '.join(sorted(d))})" if d else "")
        broken += not w.kept
        print(f"{t:<28} {w.layer:<9} {w.promise_days:>5} d {w.latest:>6} v{w.promise_version} {w.promise_ts:<24} "
              f"v{w.oldest_version} {w.oldest_ts or '-':<24} {status}")
    return 1 if broken else 0


def job_show(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.timetravel import read_as_of

    _check_table(cfg, ns.table)
    spark = _spark(cfg)
    df = read_as_of(spark, cfg, ns.table, ns.version, ns.timestamp, ns.where)
    df.show(ns.limit, truncate=40)
    return 0


def run_backup_job(spark, cfg: Config, *, tables: list[str] | None, type_: str, dry_run: bool = False):
    """The audited backup step (what the daily/monthly chain calls last); prints the manifest summary."""
    from csqm.maintenance.backup import backup_tables, lake_tables
    from csqm.pipeline.jobs import _audited

    todo = tables if tables is not None else lake_tables(cfg)
    if dry_run:
        print(f"backup {type_}: would back up {len(todo)} tables: {', '.join(todo)}")
        return None
    out = []

    def step(run) -> str:
        s = backup_tables(spark, cfg, run, todo, type_)
        out.append(s)
        print(s.text())
        if s.failed:
            raise JobFailed(f"{len(s.failed)} table(s) failed: {', '.join(s.failed)}")
        return "SUCCESS"

    _audited(spark, cfg, "backup", {"tables": tables, "type": type_}, None, step)
    return out[0]


def job_backup(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm import io
    from csqm.maintenance.backup import lake_tables

    if ns.table:
        _check_table(cfg, ns.table)
        if not io.latest_versions(None, cfg, [ns.table]):
            raise UsageError(f"no table {ns.table} under {cfg.env.lake_root}")
    tables = [ns.table] if ns.table else lake_tables(cfg, [ns.layer]) if ns.layer else None
    run_backup_job(_spark(cfg), cfg, tables=tables, type_=ns.type_, dry_run=ns.dry_run)
    return 0


def job_restore(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.maintenance import restore
    from csqm.pipeline.jobs import _audited

    if ns.backup_id and bool(ns.target) == bool(ns.over_live):
        raise UsageError("--backup-id needs exactly one of --target PATH or --over-live")
    if ns.table and (ns.version is None) == (ns.timestamp is None):
        raise UsageError("--table needs exactly one of --version or --timestamp")
    if ns.table:
        _check_table(cfg, ns.table)
    spark = _spark(cfg)
    if ns.dry_run:
        print(f"would restore {ns.backup_id or ns.table}")
        return 0

    def step(run) -> str:
        if ns.table:
            restore.restore_version(spark, cfg, ns.table, run, ns.version, ns.timestamp)
        elif ns.target:
            restore.restore_to_path(spark, cfg, ns.backup_id, ns.target)
        else:
            restore.restore_over_live(spark, cfg, ns.backup_id, run)
        return "SUCCESS"

    params = {"backup_id": ns.backup_id, "table": ns.table, "target": ns.target, "over_live": ns.over_live,
              "version": ns.version, "timestamp": ns.timestamp}
    _audited(spark, cfg, "restore", params, None, step)
    return 0


JOBS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "retention": job_retention,
    "window": job_window,
    "show": job_show,
    "backup": job_backup,
    "restore": job_restore,
}
