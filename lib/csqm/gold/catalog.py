"""The metric catalog (gold.md §0, conf/metrics.yaml): every gold table's grain and every metric's caliber as data.

A metric names the source population it counts (prepared by the table's module), the column that dates it, and the
filters of its sets; the engine (gold/engine.py) turns these into columns. Loaded once, strictly, with the rest of
the configuration (cfg.section("metrics")).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csqm.config import ConfigError, read_yaml, take

KINDS = ("CNT", "DCNT", "SUM", "RATIO", "VALUE")
PERIODS = {"D": "day_id", "M": "month_id"}
SUM_TYPES = ("decimal", "bigint")
SHIFTS = ("same", "prev")
_SCALE = re.compile(r"^(?:(\d+(?:\.\d+)?)|1/(\d+))$")


@dataclass(frozen=True)
class Lookup:
    """A looked-up denominator (README §6, gold.md §0): an aggregate of another population joined on a subset of the
    grain; it creates no rows. shift = prev: the lookup month is the month before the row's month."""

    source: str
    date: str
    by: tuple[str, ...]
    filter: str | None = None
    value: str | None = None
    shift: str = "same"


@dataclass(frozen=True)
class Part:
    """One side of a ratio, or the set of a CNT/SUM/DCNT/VALUE: a filtered set with an optional summed value, an
    expression over the row's other columns, or a lookup."""

    filter: str | None = None
    value: str | None = None
    expr: str | None = None
    lookup: Lookup | None = None


@dataclass(frozen=True)
class Backlog:
    """An end-of-period snapshot (README §5.3): in backlog at boundary B iff start < B and (leave IS NULL or
    leave >= B). Filters of a backlog metric may use `_b`, the boundary timestamp."""

    start: str
    leave: str
    # a day column NULL where leave is, else on or after leave's day: rows that left before the first boundary are
    # left out by it, so Delta's statistics skip the files of objects long closed (the same rows count)
    leave_day: str | None = None


@dataclass(frozen=True)
class Metric:
    code: str
    name_cn: str
    name_en: str
    kind: str
    unit: str
    source: str | None
    date: str | None
    scale_mult: float = 1.0
    scale_div: float = 1.0
    scale_text: str = "1"
    sum_type: str = "bigint"
    set: Part | None = None        # CNT / SUM / DCNT / VALUE
    num: Part | None = None        # RATIO
    den: Part | None = None        # RATIO
    mtd: bool = False
    backlog: Backlog | None = None
    only: str | None = None        # a row condition on grain columns: elsewhere num = den = 0
    formula: str = ""
    pinned_by: str | None = None   # a reconciliation identity that holds the value constant (e.g. RC01: 0)

    @property
    def columns(self) -> list[str]:
        c = self.code.lower()
        return [f"{c}_num", f"{c}_den", f"{c}_rate"] if self.kind == "RATIO" else [c]


@dataclass(frozen=True)
class GoldTable:
    name: str
    name_cn: str
    period: str
    grain: tuple[str, ...]
    sources: tuple[str, ...]            # silver (and gold) tables read; their daily interfaces make the horizon
    metrics: tuple[Metric, ...]
    shorthands: dict[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return self.grain[0]

    @property
    def columns(self) -> list[str]:
        return [*self.grain, *(c for m in self.metrics for c in m.columns)]


@dataclass(frozen=True)
class Catalog:
    tables: dict[str, GoldTable]
    headline: tuple[str, ...] = ()      # metric codes printed per city by `csqm kpi` (and at the end of the demo)

    def table(self, name: str) -> GoldTable:
        try:
            return self.tables[name]
        except KeyError:
            raise ConfigError(f"unknown gold table {name!r}; known: {', '.join(self.tables)}") from None

    def metric(self, code: str) -> tuple[GoldTable, Metric]:
        for t in self.tables.values():
            for m in t.metrics:
                if m.code == code:
                    return t, m
        raise ConfigError(f"unknown metric {code!r}")


def _scale(v: Any, where: str) -> tuple[float, float, str]:
    m = _SCALE.match(str(v))
    if not m:
        raise ConfigError(f"{where}: scale must be a number or 1/<n>, got {v!r}")
    return (float(m.group(1)), 1.0, str(v)) if m.group(1) else (1.0, float(m.group(2)), str(v))


def _expand(text: str | None, shorthands: dict[str, str], where: str) -> str | None:
    """Replace {NAME} by the table's (or catalog's) shorthand, parenthesised."""
    if text is None:
        return None

    def sub(m: re.Match) -> str:
        if m.group(1) not in shorthands:
            raise ConfigError(f"{where}: unknown shorthand {{{m.group(1)}}}")
        return f"({shorthands[m.group(1)]})"

    return re.sub(r"\{([A-Z0-9_]+)\}", sub, str(text))


def _part(d: Any, where: str, sh: dict[str, str]) -> Part:
    if isinstance(d, str):
        return Part(filter=_expand(d, sh, where))
    d = take(d, where, (), ("filter", "value", "expr", "lookup"))
    lk = None
    if "lookup" in d:
        v = take(d["lookup"], f"{where}.lookup", ("source", "date", "by"), ("filter", "value", "shift"))
        if v.get("shift", "same") not in SHIFTS:
            raise ConfigError(f"{where}.lookup.shift: one of {SHIFTS}")
        lk = Lookup(v["source"], v["date"], tuple(v["by"]), _expand(v.get("filter"), sh, where), v.get("value"),
                    v.get("shift", "same"))
    if ("expr" in d) + ("lookup" in d) + ("filter" in d or "value" in d) > 1:
        raise ConfigError(f"{where}: a set (filter/value), an expr or a lookup, not several")
    return Part(_expand(d.get("filter"), sh, where), d.get("value"), _expand(d.get("expr"), sh, where), lk)


def _metric(d: Any, where: str, sh: dict[str, str], source: str | None, date: str | None) -> Metric:
    d = take(d, where, ("code", "name_cn", "name_en", "kind", "formula"),
             ("unit", "source", "date", "scale", "type", "filter", "value", "expr", "num", "den", "mtd", "backlog",
              "only", "pinned_by"))
    kind = d["kind"]
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: one of {KINDS}, got {kind!r}")
    where = f"{where}({d['code']})"
    mult, div, text = _scale(d.get("scale", 1), f"{where}.scale")
    sum_type = d.get("type", "decimal" if str(d.get("unit", "")).startswith("元") else "bigint")
    if sum_type not in SUM_TYPES:
        raise ConfigError(f"{where}.type: one of {SUM_TYPES}")
    bl = None
    if "backlog" in d:
        b = take(d["backlog"], f"{where}.backlog", ("start", "leave"), ("leave_day",))
        bl = Backlog(_expand(b["start"], sh, where), _expand(b["leave"], sh, where), b.get("leave_day"))
    st = num = den = None
    if kind == "RATIO":
        if "num" not in d or "den" not in d:
            raise ConfigError(f"{where}: a RATIO needs num and den")
        num, den = _part(d["num"], f"{where}.num", sh), _part(d["den"], f"{where}.den", sh)
    else:
        if "num" in d or "den" in d:
            raise ConfigError(f"{where}: num/den only for RATIO")
        st = Part(_expand(d.get("filter"), sh, where), d.get("value"), _expand(d.get("expr"), sh, where))
    m = Metric(d["code"], d["name_cn"], d["name_en"], kind, str(d.get("unit", "")), d.get("source", source),
               str(d.get("date", date)) if d.get("date", date) else None, mult, div, text, sum_type, st, num, den,
               bool(d.get("mtd", False)), bl, _expand(d.get("only"), sh, where), str(d["formula"]),
               d.get("pinned_by"))
    needs_source = any(p is not None and p.expr is None and p.lookup is None for p in (st, num, den))
    if needs_source and (m.source is None or (m.date is None and bl is None)):
        raise ConfigError(f"{where}: source and date are needed (on the metric or its table)")
    return m


def _table(name: str, d: Any, where: str, sh0: dict[str, str]) -> GoldTable:
    d = take(d, where, ("name_cn", "period", "grain", "sources", "metrics"), ("shorthands", "source", "date"))
    if d["period"] not in PERIODS:
        raise ConfigError(f"{where}.period: one of {list(PERIODS)}")
    grain = tuple(d["grain"])
    if not grain or grain[0] != PERIODS[d["period"]]:
        raise ConfigError(f"{where}.grain: must start with {PERIODS[d['period']]}")
    sh = {**sh0, **{k: str(v) for k, v in (d.get("shorthands") or {}).items()}}
    metrics = tuple(_metric(m, f"{where}.metrics[{i}]", sh, d.get("source"), d.get("date"))
                    for i, m in enumerate(d["metrics"]))
    return GoldTable(name, d["name_cn"], d["period"], grain, tuple(d["sources"]), metrics, sh)


def load(conf_dir: Path) -> Catalog:
    """conf/metrics.yaml (shared shorthands, tables) plus conf/metrics/*.yaml (more tables) -> Catalog; table names
    and metric codes unique across the lake (gold.md §0)."""
    w = "metrics.yaml"
    d = take(read_yaml(conf_dir / w), w, ("tables",), ("shorthands", "headline"))
    sh0 = {k: str(v) for k, v in (d.get("shorthands") or {}).items()}
    tables = {n: _table(n, t, f"{w}:tables.{n}", sh0) for n, t in d["tables"].items()}
    for extra in sorted((conf_dir / "metrics").glob("*.yaml")):
        w = f"metrics/{extra.name}"
        e = take(read_yaml(extra), w, ("tables",))
        for n, t in e["tables"].items():
            if n in tables:
                raise ConfigError(f"{w}:tables.{n}: table defined twice")
            tables[n] = _table(n, t, f"{w}:tables.{n}", sh0)
    seen: dict[str, str] = {}
    for t in tables.values():
        for m in t.metrics:
            if m.code in seen:
                raise ConfigError(f"metric code {m.code} in both {seen[m.code]} and {t.name}")
            seen[m.code] = t.name
    headline = tuple(str(c) for c in d.get("headline") or ())
    unknown = [c for c in headline if c not in seen]
    if unknown:
        raise ConfigError(f"metrics.yaml:headline: unknown metric {unknown[0]}")
    return Catalog(tables, headline)


def grains(cfg) -> list[tuple[str, tuple[str, ...]]]:
    """(gold table, grain columns) for DQ02."""
    return [(t.name, t.grain) for t in cfg.section("metrics").tables.values()]


def dim_metric_rows(catalog: Catalog) -> list[dict[str, str]]:
    """dim_metric (gold.md §0): one row per metric."""
    return [{"metric_code": m.code, "name_cn": m.name_cn, "gold_table": t.name, "kind": m.kind,
             "scale": m.scale_text, "unit": m.unit, "date_basis": m.date or ""}
            for t in catalog.tables.values() for m in t.metrics]
