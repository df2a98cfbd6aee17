"""The daily monitoring report (`csqm report --date D`): one self-contained HTML file with the day's key KPIs by city
against targets and thresholds, their trends, and the day's data quality and batch status."""
from __future__ import annotations

from pathlib import Path

from csqm.config import Config


def write_report(spark, cfg: Config, day: str, out: Path) -> str:
    """Gather, render, write; returns a one-line summary of what the report shows."""
    from csqm.report.data import gather
    from csqm.report.html import render

    d = gather(spark, cfg, day)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(d, cfg.env.lake_root), encoding="utf-8")
    miss = sum(k.status(c, day) == "MISS" for k in d.kpis for c, _ in d.cities)
    return (f"{len(d.kpis)} KPIs x {len(d.cities)} cities, {miss} below goal; "
            f"dq {'none' if d.dq_run is None else d.dq_run['status']}; {len(d.batches)} batches")
