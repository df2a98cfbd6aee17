"""Headline KPIs per city for one day (`csqm kpi`, the end of `make demo`): the catalog's `headline` metrics rolled
up from their gold tables to (day, city_code) by the gold.md roll-up rules."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from csqm import io
from csqm.config import Config
from csqm.gold.rollup import rollup


def headline(spark: SparkSession, cfg: Config, day: str) -> tuple[list[str], DataFrame | None]:
    """(metric codes shown, one row per city with each metric's value; monthly metrics use month(day))."""
    catalog = cfg.section("metrics")
    shown, frames = [], []
    for code in catalog.headline:
        t, m = catalog.metric(code)
        if not io.table_exists(spark, cfg, t.name):
            continue
        part = day if t.period == "D" else day[:6]
        rows = rollup(io.read(spark, cfg, t.name, f"{t.partition} = '{part}'"), t, [t.partition, "city_code"])
        col = f"{code.lower()}_rate" if m.kind == "RATIO" else code.lower()
        frames.append(rows.select("city_code", F.col(col).alias(code)))
        shown.append(code)
    if not frames:
        return shown, None
    out = frames[0]
    for f in frames[1:]:
        out = out.join(f, "city_code", "full")
    return shown, out.orderBy("city_code")


def print_headline(spark: SparkSession, cfg: Config, day: str) -> None:
    """A small fixed-width table: one line per city, one column per KPI (rates as %, per-10k rates as they are)."""
    catalog = cfg.section("metrics")
    shown, df = headline(spark, cfg, day)
    if df is None:
        print(f"kpi {day}: no gold table of the headline metrics exists yet")
        return
    metrics = [catalog.metric(c)[1] for c in shown]
    names = {c.city_code: c.name_cn for c in (*cfg.codes.cities, *cfg.codes.special_cities)}
    print(f"key KPIs per city for {day} (lake: {cfg.env.lake_root})")
    print(f"  {'city':<14}" + "".join(f"{m.code:>15}" for m in metrics))
    print(f"  {'':<14}" + "".join(f"{m.name_cn[:7]:>{15 - _wide(m.name_cn[:7])}}" for m in metrics))
    for r in df.collect():
        cells = []
        for m in metrics:
            v = r[m.code]
            pct = m.kind == "RATIO" and m.scale_mult == 1 and m.scale_div == 1
            cells.append(f"{'-':>15}" if v is None else f"{v * 100:>14.2f}%" if pct else f"{v:>15.2f}")
        label = f"{r.city_code} {names.get(r.city_code, '')}"
        print(f"  {label:<{14 - _wide(label)}}" + "".join(cells))


def _wide(s: str) -> int:
    """Extra display width of CJK characters (two columns each) for alignment."""
    return sum(1 for ch in s if ord(ch) > 0x2E80)


def degenerate_columns(spark: SparkSession, cfg: Config) -> dict[str, list[str]]:
    """Per gold table, the metric columns that are entirely NULL or hold one value (a sign of a broken caliber or
    of sample data too thin to exercise it); one aggregation per table. Columns a reconciliation identity pins
    (`pinned_by`, e.g. pv_recon_diff = 0 by RC01) are expected to be constant and are left out."""
    out: dict[str, list[str]] = {}
    for t in cfg.section("metrics").tables.values():
        if not io.table_exists(spark, cfg, t.name):
            out[t.name] = ["(table missing)"]
            continue
        cols = [c for m in t.metrics if not m.pinned_by for c in m.columns]
        row = io.read(spark, cfg, t.name).agg(*[F.count_distinct(c).alias(c) for c in cols]).first()
        bad = [c for c in cols if row[c] <= 1]
        if bad:
            out[t.name] = bad
    return out


def print_degenerate(spark: SparkSession, cfg: Config) -> None:
    bad = degenerate_columns(spark, cfg)
    tables = len(cfg.section("metrics").tables)
    if not bad:
        print(f"gold: every metric column of the {tables} tables holds more than one value")
    for t, cols in bad.items():
        print(f"gold: {t}: entirely NULL or constant: {', '.join(cols)}")
