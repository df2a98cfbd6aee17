"""Management commands: upload (manual-entry tables), seed, dq (data-quality rules), runs and lineage (run audit)."""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from csqm.config import Config
from csqm.errors import JobFailed, UsageError


def add_parsers(sub, h) -> None:
    u = sub.add_parser("upload", help="load a manual-entry file (CSV/xlsx) into a man_*/dim_* table, or a template")
    u.add_argument("--table", help="man_* or dim_* table (with --template: the table of the template)")
    u.add_argument("--file", required=True, help="the file to load (with --template: the file to write)")
    u.add_argument("--user", help="user id recorded as entered_by (required to load)")
    u.add_argument("--template", metavar="TABLE", help="write an empty template of TABLE to --file instead")
    u.add_argument("--format", choices=("csv", "xlsx"), help="template format (default: from the file extension)")
    h._common(u)

    s = sub.add_parser("seed", help="seed dim_kpi_threshold, dim_city, dim_code and dim_metric from conf/ where they "
                                    "are empty (dim_metric: also the metric codes it lacks)")
    h._common(s)

    d = sub.add_parser("dq", help="run the data-quality rules DQ01-DQ10 for a date or month")
    h._dates(d)
    h._common(d)

    r = sub.add_parser("runs", help="list recent job runs (ops_run_audit)")
    r.add_argument("--last", type=int, default=20, help="how many runs (default 20)")
    r.add_argument("--job", help="only runs of this job")
    h._common(r)

    li = sub.add_parser("lineage", help="trace a table partition back to runs, versions, batches and files")
    li.add_argument("table")
    li.add_argument("partition", help="yyyymmdd / yyyymm value of the partition column ('-' for none)")
    h._common(li)


def job_upload(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.jobs import _audited, _print_run, _spark
    from csqm.pipeline.manual import upload, write_template

    if ns.template:
        out = write_template(cfg, ns.template, Path(ns.file), ns.format)
        print(f"template of {ns.template} written to {out}")
        return 0
    if not ns.table or not ns.user:
        raise UsageError("upload needs --table and --user (or --template TABLE)")
    path = Path(ns.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    from csqm.io.upload import UploadFileError
    from csqm.pipeline.manual import table_spec

    table_spec(cfg, ns.table)
    t0, spark, result = time.time(), _spark(cfg), {}
    print(f"upload {ns.table} from {path.name}:")

    def step(run) -> str:
        seed_all(spark, cfg, run)   # a first upload on a new lake validates its codes against the seeded dims
        try:
            result["r"] = upload(spark, cfg, run, ns.table, path, ns.user)
        except UploadFileError as e:
            raise JobFailed(str(e)) from None
        return result["r"].status

    run = _audited(spark, cfg, "upload", {"table": ns.table, "file": str(path), "user": ns.user}, None, step)
    r = result["r"]
    if r.status == "REJECTED":
        print(f"  REJECTED: {len(r.errors)} error(s) in {r.rows} row(s); nothing applied; report: {r.report}")
        for e in r.errors[:10]:
            print(f"    row {e.row_no} {e.column or '-'}: {e.error_code} {e.message}")
        return 1
    print(f"  {r.upserted} row(s) upserted, {r.deleted} deleted")
    _print_run(run, t0)
    return 0


def seed_all(spark, cfg: Config, run) -> None:
    """The deployment seeds of operations.md §1 (tables still empty only; dim_metric also gets codes it lacks)."""
    from csqm.manual.seed import seed_reference
    from csqm.pipeline.gold import seed_dim_metric

    seed_reference(spark, cfg, run)
    seed_dim_metric(spark, cfg, run)


def job_seed(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.jobs import _audited, _print_run, _spark

    t0, spark = time.time(), _spark(cfg)
    run = _audited(spark, cfg, "seed", {}, None, lambda run: (seed_all(spark, cfg, run), "SUCCESS")[1])
    _print_run(run, t0)
    return 0


def job_dq(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.dq import run_dq_job
    from csqm.pipeline.jobs import _spark

    date, month = (ns.date, None) if ns.date and len(ns.date) == 8 else (None, ns.month or ns.date)
    run_dq_job(_spark(cfg), cfg, date=date, month=month)
    return 0


def job_runs(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.audit_report import print_runs
    from csqm.pipeline.jobs import _spark

    if ns.last < 1:
        raise UsageError("--last must be at least 1")
    print_runs(_spark(cfg), cfg, ns.last, ns.job)
    return 0


def job_lineage(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.audit_report import print_lineage
    from csqm.pipeline.jobs import _spark

    print_lineage(_spark(cfg), cfg, ns.table, None if ns.partition == "-" else ns.partition)
    return 0


JOBS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "upload": job_upload,
    "seed": job_seed,
    "dq": job_dq,
    "runs": job_runs,
    "lineage": job_lineage,
}
