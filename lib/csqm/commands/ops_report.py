"""Operations commands: `schedule` (the runs of operations.md §7 from conf/schedule.yaml: crontab, runner, monthly
gate) and `report` (the daily monitoring report as one self-contained HTML file)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from csqm.config import Config
from csqm.errors import JobFailed, UsageError


def add_parsers(sub, h) -> None:
    s = sub.add_parser("schedule", help="the daily/monthly/weekly runs: crontab, run one, or the monthly gate")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--cron", action="store_true", help="print the crontab rendered from conf/schedule.yaml")
    g.add_argument("--run", metavar="NAME", help="run the steps of a run (daily, monthly, weekly) in order")
    g.add_argument("--due-month", action="store_true",
                   help=f"print the month that just closed and needs its monthly run, or exit {99}")
    s.add_argument("--date", type=h._date, help="with --run: data date {D} / run date {R} (default from the clock)")
    s.add_argument("--month", type=h._month, help="with --run monthly: the month {M}")
    s.add_argument("--out", help="with --cron: write the crontab to this file")
    s.add_argument("--csqm", default="csqm", help="with --cron: the csqm executable the crontab calls")
    s.add_argument("--log-dir", default="/var/log/csqm", help="with --cron: where each run appends its log")
    h._common(s)

    r = sub.add_parser("report", help="write the daily monitoring report (one self-contained HTML file)")
    r.add_argument("--date", type=h._date, required=True, help="data date yyyymmdd")
    r.add_argument("--out", help="output file (default report_<date>.html in the current folder)")
    h._common(r)


def _passthrough(ns: argparse.Namespace) -> list[str]:
    """The environment options of this call, repeated on every step (and on the crontab's command)."""
    out = [] if ns.env == "local" else ["--env", ns.env]
    for opt in ("conf_dir", "landing_root", "lake_root", "backup_root"):
        if getattr(ns, opt):
            out += [f"--{opt.replace('_', '-')}", getattr(ns, opt)]
    return out + (["--dry-run"] if ns.dry_run else [])


def _call(argv: list[str]) -> int:
    """One step through the same CLI, in this process (one Spark session for the whole run)."""
    from csqm import cli

    try:
        return cli.main(argv)
    except SystemExit as e:            # argparse
        return int(e.code or 0)
    except Exception as e:  # noqa: BLE001  (an unexpected error fails the step, not the runner)
        print(f"csqm {argv[0]}: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def job_schedule(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm import schedule

    s = cfg.section("schedule")
    if ns.cron:
        text = schedule.cron(s, ns.csqm, _passthrough(ns), ns.log_dir)
        if ns.out:
            Path(ns.out).write_text(text, encoding="utf-8")
            print(f"crontab written to {ns.out}")
        else:
            print(text, end="")
        return 0
    from csqm.pipeline.jobs import _spark

    if ns.due_month:
        month = schedule.due_month(_spark(cfg), cfg)
        if month is None:
            print("no month waiting for its monthly run")
            return schedule.SKIP_EXIT
        print(month)
        return 0
    run = s.run(ns.run)
    if ns.month and not run.follows:
        raise UsageError(f"schedule --run {ns.run}: --month applies only to a run that follows another (monthly)")
    values = schedule.values_for(s, run, date=ns.date, month=ns.month)
    extra = _passthrough(ns)
    out = schedule.execute(s, ns.run, values, lambda argv: _call([*argv, *extra]),
                           lambda _when: schedule.due_month(_spark(cfg), cfg))
    bad = [o for o in out if o.status in ("FAILED", "BLOCKED")]
    for o in out:
        print(f"  {o.run}.{o.step}: {o.status}")
    if bad:
        raise JobFailed(f"{ns.run} {values['D']} stopped: " + ", ".join(f"{o.step} {o.status}" for o in bad))
    return 0


def job_report(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.jobs import _spark
    from csqm.report import write_report

    out = Path(ns.out or f"report_{ns.date}.html")
    if ns.dry_run:
        print(f"would write the monitoring report for {ns.date} to {out}")
        return 0
    facts = write_report(_spark(cfg), cfg, ns.date, out)
    print(f"report {ns.date}: {out} ({out.stat().st_size:,} bytes; {facts})")
    return 0


JOBS = {"schedule": job_schedule, "report": job_report}
