"""One function per CLI job: open the session, audit the run, call the step, print a summary."""
from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

from csqm import audit
from csqm.config import Config
from csqm.errors import JobFailed, UsageError


def _spark(cfg: Config):
    from csqm.session import get_spark

    return get_spark(cfg.env)


def _audited(spark, cfg: Config, job: str, params: dict, data_date: str | None,
             step: Callable[[audit.Run], str]) -> audit.Run:
    """Run a step between a RUNNING and a final ops_run_audit row; a failure is recorded and re-raised."""
    run = audit.start(spark, cfg, job, params, data_date)
    try:
        status = step(run)
    except Exception as e:  # recorded, then reported by the CLI
        audit.finish(spark, cfg, run, "FAILED", f"{type(e).__name__}: {e}"[:4000])
        raise JobFailed(f"{job} {data_date or ''}: {type(e).__name__}: {e}") from e
    audit.finish(spark, cfg, run, status)
    return run


def _print_run(run: audit.Run, t0: float) -> None:
    tables = ", ".join(f"{t}@v{v}" for t, v in sorted(run.versions.items())) or "none"
    print(f"  rows in={run.rows_in} out={run.rows_out} quarantined={run.rows_quarantined} dup={run.rows_dup}; "
          f"tables written: {tables}; {time.time() - t0:.1f}s")


def job_generate(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.generate import generate_landing

    if ns.dry_run:
        print(f"would generate {ns.days} days from {ns.start} into {cfg.env.landing_root}")
        return 0
    summary = generate_landing(cfg, cfg.env.landing_root, ns.start, ns.days, ns.subscribers, ns.seed,
                               redeliveries=not ns.no_redeliveries, progress=print)
    for code, c in summary.interfaces.items():
        print(f"  {code:<13} files={c.files:>5} rows={c.rows:>10,} bytes={c.bytes:>13,}")
    print(f"  total: {summary.files} files, {summary.rows:,} rows, {summary.bytes:,} bytes in {cfg.env.landing_root}")
    return 0


def run_ingest(spark, cfg: Config, *, date: str | None, month: str | None, ifcodes: list[str] | None,
               dry_run: bool) -> audit.Run:
    from csqm.pipeline.ingest import ingest

    t0 = time.time()
    params = {"date": date, "month": month, "ifcode": ifcodes, "dry_run": dry_run}
    print(f"ingest {date or month}:")

    def step(run: audit.Run) -> str:
        s = ingest(spark, cfg, run, date=date, month=month, ifcodes=ifcodes, dry_run=dry_run)
        return "REJECTED" if s.by_status("REJECTED") and not s.by_status("LOADED") else "SUCCESS"

    run = _audited(spark, cfg, "ingest", params, date or month, step)
    _print_run(run, t0)
    return run


def job_ingest(cfg: Config, ns: argparse.Namespace) -> int:
    date, month = (ns.date, None) if ns.date and len(ns.date) == 8 else (None, ns.month or ns.date)
    run_ingest(_spark(cfg), cfg, date=date, month=month, ifcodes=[ns.ifcode] if ns.ifcode else None,
               dry_run=ns.dry_run)
    return 0


def run_silver_job(spark, cfg: Config, *, date: str | None, month: str | None, tables: list[str] | None,
                   dry_run: bool, full_refresh: bool = False) -> audit.Run | None:
    from csqm.pipeline.silver import BUILDERS, run_silver

    t0 = time.time()
    print(f"silver {date or month}:")
    if dry_run:
        for module, _ in BUILDERS:
            print(f"  would build {module.TABLE}")
        return None

    def step(run: audit.Run) -> str:
        run_silver(spark, cfg, run, tables=tables, full_refresh=full_refresh)
        return "SUCCESS"

    params = {"date": date, "month": month, "table": tables, "full_refresh": full_refresh}
    run = _audited(spark, cfg, "silver", params, date or month, step)
    _print_run(run, t0)
    return run


def job_silver(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.silver import BUILDERS

    known = [m.TABLE for m, _ in BUILDERS]
    if ns.table and ns.table not in known:
        raise UsageError(f"unknown silver table {ns.table!r}; known: {', '.join(known)}")
    date, month = (ns.date, None) if ns.date and len(ns.date) == 8 else (None, ns.month or ns.date)
    run_silver_job(_spark(cfg), cfg, date=date, month=month, tables=[ns.table] if ns.table else None,
                   dry_run=ns.dry_run, full_refresh=ns.full_refresh)
    return 0


def _days(first: str, last: str) -> list[str]:
    d0, d1 = (dt.datetime.strptime(x, "%Y%m%d").date() for x in (first, last))
    return [(d0 + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range((d1 - d0).days + 1)]


DAILY_STEPS: list[tuple[str, Callable]] = [
    ("ingest", lambda spark, cfg, day, dry: run_ingest(spark, cfg, date=day, month=None, ifcodes=None,
                                                        dry_run=dry)),
    ("silver", lambda spark, cfg, day, dry: run_silver_job(spark, cfg, date=day, month=None, tables=None,
                                                            dry_run=dry)),
    ("gold", lambda spark, cfg, day, dry: _gold(spark, cfg, day, dry)),
    ("dq", lambda spark, cfg, day, dry: _dq(spark, cfg, day, dry)),
    ("backup", lambda spark, cfg, day, dry: _backup(spark, cfg, day, dry)),
]
# A failure here does not stop the chain (operations.md §6: data is not rolled back and the backup still runs);
# the day still ends FAILED, naming the step.
SOFT_STEPS = {"dq"}


def _backup(spark, cfg: Config, day: str, dry: bool):
    """DAILY backup of every table that changed since its newest backup (operations.md §5, §7)."""
    from csqm.commands.safety import run_backup_job

    return run_backup_job(spark, cfg, tables=None, type_="DAILY", dry_run=dry)


def _dq(spark, cfg: Config, day: str, dry: bool):
    from csqm.pipeline.dq import run_dq_job

    if dry:
        print(f"dq {day}: would check the rules of conf/quality.yaml")
        return None
    return run_dq_job(spark, cfg, date=day, month=None)


def _gold(spark, cfg: Config, day: str, dry: bool):
    """Every affected daily partition, and the monthly ones of months <= HM (operations.md §7)."""
    from csqm.commands.gold import run_gold_job

    return run_gold_job(spark, cfg, date=day, month=None, tables=None, span_=None, full_refresh=False, dry_run=dry)


def job_daily(cfg: Config, ns: argparse.Namespace) -> int:
    """The daily chain (operations.md §7: ingest → silver → gold → dq → backup DAILY), date by date; stops at the first
    failing step and names it (a dq failure lets the backup run, then fails the day)."""
    days = _days(ns.from_date, ns.to_date) if ns.from_date else [ns.date]
    spark = _spark(cfg)
    for day in days:
        soft: list[str] = []
        for name, step in DAILY_STEPS:
            try:
                step(spark, cfg, day, ns.dry_run)
            except JobFailed as e:
                if name not in SOFT_STEPS:
                    raise JobFailed(f"daily {day} stopped at step {name}: {e}") from e
                soft.append(f"{name}: {e}")
        if soft:
            raise JobFailed(f"daily {day} ran every step but failed at {'; '.join(soft)}")
    return 0


def job_status(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.status import print_status

    print_status(_spark(cfg), cfg)
    return 0


JOBS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "generate": job_generate,
    "ingest": job_ingest,
    "silver": job_silver,
    "daily": job_daily,
    "status": job_status,
}
