"""The `csqm` command: argument parsing -> pipeline functions; one-line errors; a run summary."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence

from csqm.config import Config, ConfigError, load_config
from csqm.errors import JobFailed, UsageError


def _stamp(s: str, fmt: str, width: int, what: str) -> str:
    """A yyyymmdd / yyyymm argument: exactly `width` digits and a real calendar value."""
    try:
        dt.datetime.strptime(s, fmt)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a {what}") from None
    if len(s) != width:
        raise argparse.ArgumentTypeError(f"{s!r} is not a {what}")
    return s


def _date(s: str) -> str:
    return _stamp(s, "%Y%m%d", 8, "date yyyymmdd")


def _month(s: str) -> str:
    return _stamp(s, "%Y%m", 6, "month yyyymm")


def _date_or_month(s: str) -> str:
    """--date accepts yyyymmdd, or yyyymm (taken as --month, operations.md §7)."""
    return _month(s) if len(s) == 6 else _date(s)


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("environment")
    g.add_argument("--env", default="local", help="profile conf/env/<env>.yaml (default local)")
    g.add_argument("--conf-dir", help="configuration folder (default: the project's conf/)")
    g.add_argument("--landing-root", help="override the profile's landing_root")
    g.add_argument("--lake-root", help="override the profile's lake_root")
    g.add_argument("--backup-root", help="override the profile's backup_root")
    g.add_argument("--dry-run", action="store_true", help="show what would be done, change nothing")


def _dates(p: argparse.ArgumentParser, month: bool = True, span: bool = False) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--date", type=_date_or_month if month else _date, help="data date yyyymmdd")
    if month:
        g.add_argument("--month", type=_month, help="data month yyyymm")
    if span:
        g.add_argument("--from", dest="from_date", type=_date, help="first data date of a range (with --to)")
        p.add_argument("--to", dest="to_date", type=_date, help="last data date of a range")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="csqm", description="Customer-service quality lake (Spark + Delta).")
    sub = p.add_subparsers(dest="job", required=True, metavar="JOB")

    g = sub.add_parser("generate", help="write sample landing files for all 16 interfaces")
    g.add_argument("--start", type=_date, required=True)
    g.add_argument("--days", type=int, required=True)
    g.add_argument("--subscribers", type=int, required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--no-redeliveries", action="store_true", help="do not redeliver any batch")
    _common(g)

    i = sub.add_parser("ingest", help="validate and load new landing batches into bronze")
    _dates(i)
    w = i.add_mutually_exclusive_group()
    w.add_argument("--ifcode", help="one interface (e.g. FLT_TICKET)")
    w.add_argument("--all", action="store_true", help="every interface (default)")
    _common(i)

    sv = sub.add_parser("silver", help="bring the silver tables up to date with bronze")
    _dates(sv)
    sv.add_argument("--table", help="write only this silver table (its inputs are still built)")
    sv.add_argument("--full-refresh", action="store_true", help="rebuild from all of bronze")
    _common(sv)

    d = sub.add_parser("daily", help="run the daily chain for a date or a range of dates")
    _dates(d, month=False, span=True)
    _common(d)

    s = sub.add_parser("status", help="print what the lake holds: per-interface batches and rows")
    _common(s)

    from csqm import cli, commands

    for group in commands.modules():
        group.add_parsers(sub, cli)
    return p


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = build_parser()
    ns = p.parse_args(list(argv))
    if getattr(ns, "from_date", None) and not ns.to_date:
        p.error("--from needs --to")
    if getattr(ns, "to_date", None) and not getattr(ns, "from_date", None):
        p.error("--to needs --from")
    if getattr(ns, "from_date", None) and ns.to_date < ns.from_date:
        p.error(f"--to {ns.to_date} is before --from {ns.from_date}")
    if getattr(ns, "days", 1) is not None and getattr(ns, "days", 1) < 1:
        p.error("--days must be at least 1")
    if getattr(ns, "subscribers", 1) is not None and getattr(ns, "subscribers", 1) < 1:
        p.error("--subscribers must be at least 1")
    if ns.job == "ingest" and ns.ifcode:
        ns.ifcode = ns.ifcode.upper()
    return ns


def _config(ns: argparse.Namespace) -> Config:
    return load_config(ns.conf_dir, ns.env, {"landing_root": ns.landing_root, "lake_root": ns.lake_root,
                                             "backup_root": ns.backup_root})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script, `python -m csqm` and jobs/*.py."""
    ns = _parse(sys.argv[1:] if argv is None else argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)   # progress reaches a log file as it happens
    t0 = time.time()
    try:
        cfg = _config(ns)
        if ns.job == "ingest" and ns.ifcode:
            cfg.interface(ns.ifcode)
        from csqm import commands, pipeline

        handler: Callable[[Config, argparse.Namespace], int] = {**pipeline.JOBS, **commands.jobs()}[ns.job]
        rc = handler(cfg, ns)
    except (ConfigError, UsageError) as e:
        print(f"csqm {ns.job}: error: {e}", file=sys.stderr)
        return 2
    except JobFailed as e:
        print(f"csqm {ns.job}: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"csqm {ns.job}: finished in {time.time() - t0:.1f}s")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
