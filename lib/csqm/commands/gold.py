"""Gold commands: `gold` (the theme summaries) and `metrics` (the catalog as a document for business staff)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from csqm.config import Config
from csqm.errors import UsageError


def add_parsers(sub, h) -> None:
    g = sub.add_parser("gold", help="bring the gold theme summaries up to date with silver")
    h._dates(g, span=True)
    g.add_argument("--table", help="rebuild only this gold table (in full, or over --from/--to)")
    g.add_argument("--full-refresh", action="store_true", help="recompute every partition inside the horizon")
    h._common(g)

    k = sub.add_parser("kpi", help="print the headline KPIs per city for a day")
    k.add_argument("--date", type=h._date, required=True, help="data date yyyymmdd")
    k.add_argument("--check-columns", action="store_true",
                   help="also list gold metric columns that are entirely NULL or constant")
    h._common(k)

    m = sub.add_parser("metrics", help="render the metric catalog (口径) as Markdown or HTML")
    m.add_argument("--format", choices=("md", "html"), default="md")
    m.add_argument("--out", help="write to this file (default: print)")
    h._common(m)


def run_gold_job(spark, cfg: Config, *, date: str | None, month: str | None, tables: list[str] | None,
                 span_: tuple[str, str] | None, full_refresh: bool, dry_run: bool):
    """One audited gold run (operations.md §7); a month after HM is refused."""
    from csqm.pipeline import gold
    from csqm.pipeline.jobs import _audited, _print_run

    catalog = cfg.section("metrics")
    for t in tables or []:
        catalog.table(t)
    if month:
        loaded = gold.loaded_dates(spark, cfg)
        monthly = next(t for t in catalog.tables.values() if t.period == "M")
        hm = gold.horizon(cfg, monthly, loaded).last
        if hm is None or month > hm:
            raise UsageError(f"gold --month {month}: the month is not closed (HM = {hm}: SUBS, PTS_BAL, APPEAL and "
                             "ESCAL must all be loaded for it)")
    t0 = time.time()
    print(f"gold {date or month or f'{span_[0]}..{span_[1]}'}:")
    if dry_run:
        for t in tables or catalog.tables:
            print(f"  would build {t}")
        return None

    def step(run) -> str:
        from csqm.gold.reconcile import enforce

        written = gold.run_gold(spark, cfg, run, tables=tables, full_refresh=full_refresh, span_=span_)
        enforce(spark, cfg, written)
        return "SUCCESS"

    params = {"date": date, "month": month, "table": tables, "from": span_ and span_[0], "to": span_ and span_[1],
              "full_refresh": full_refresh}
    run = _audited(spark, cfg, "gold", params, date or month, step)
    _print_run(run, t0)
    return run


def job_gold(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.jobs import _spark

    date, month = (ns.date, None) if ns.date and len(ns.date) == 8 else (None, ns.month or ns.date)
    span_ = (ns.from_date, ns.to_date) if ns.from_date else None
    run_gold_job(_spark(cfg), cfg, date=date, month=month, tables=[ns.table] if ns.table else None, span_=span_,
                 full_refresh=ns.full_refresh, dry_run=ns.dry_run)
    return 0


def job_metrics(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.gold.catalog_doc import render

    text = render(cfg.section("metrics"), ns.format)
    if ns.out:
        Path(ns.out).write_text(text, encoding="utf-8")
        print(f"metrics: {len(text):,} characters written to {ns.out}")
    else:
        print(text)
    return 0


def job_kpi(cfg: Config, ns: argparse.Namespace) -> int:
    from csqm.pipeline.jobs import _spark
    from csqm.pipeline.kpi import print_degenerate, print_headline

    spark = _spark(cfg)
    print_headline(spark, cfg, ns.date)
    if ns.check_columns:
        print_degenerate(spark, cfg)
    return 0


JOBS = {"gold": job_gold, "kpi": job_kpi, "metrics": job_metrics}
