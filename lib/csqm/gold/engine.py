"""One mechanism for every gold table (gold.md §0, README §6, §7, §10): filtered counts, sums and distinct counts
by grain, ratios as num/den/rate, month-to-date numerators, end-of-period backlogs, looked-up denominators (user
bases, group totals) that create no rows, and expressions over a row's other columns.

compute() is a pure function of the table's catalog entry, its prepared source populations and the partitions to
produce; the table modules only prepare populations (renames, unions) and, rarely, finish a VALUE column."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

from csqm.gold.catalog import GoldTable, Lookup, Metric, Part
from csqm.months import shift
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

P = "_p"          # the partition value of a source row under a metric's date basis
MONEY = "decimal(18,2)"


@dataclass(frozen=True)
class Window:
    """Which partitions to produce: parts (sorted yyyymmdd / yyyymm values, all <= horizon); backlog metrics only
    from backlog_from (L0 or the first source month; None = no backlog partition yet)."""

    parts: tuple[str, ...]
    horizon: str
    backlog_from: str | None


def is_month_col(col: str) -> bool:
    """Date columns of sources are day ids (yyyymmdd) unless named ..month_id (yyyymm)."""
    return col.endswith("month_id")


def _by_day(t: GoldTable, date_col: str) -> bool:
    """A monthly table dated by a day column: a row's month is the column's first six characters."""
    return t.period == "M" and not is_month_col(date_col)


def _src_part(t: GoldTable, date_col: str) -> Column:
    """The partition a source row falls in: its day, or its month for a monthly table."""
    c = F.col(date_col)
    return F.substring(c, 1, 6) if _by_day(t, date_col) else c


def days_of(date_col: str, months: Sequence[str]) -> Column:
    """The day ids (yyyymmdd) of a day column that can fall in these months, as a range on the column itself: Delta
    skips files by its statistics on a range, not on substring(col, 1, 6), so a month's rows are found without
    reading every file of the source's history (the exact month test stays beside it)."""
    return F.col(date_col).between(min(months) + "01", max(months) + "31")


def _cond(*sql: str | None) -> Column:
    exprs = [F.expr(s) for s in sql if s]
    return reduce(lambda a, b: a & b, exprs) if exprs else F.lit(True)


@dataclass(frozen=True)
class _Agg:
    """One aggregate over a source group: output column, how, condition, value."""

    out: str
    how: str                      # count | sum | dcnt | max
    cond: Column
    value: str | None = None

    def contribution(self) -> Column:
        """What a source row adds to the aggregate: NULL when it is not in the set."""
        return F.when(self.cond, F.lit(1) if self.how == "count" else F.expr(self.value))

    def over(self, c: Column) -> Column:
        return {"count": F.count, "sum": F.sum, "dcnt": F.count_distinct, "max": F.max}[self.how](c).alias(self.out)

    def column(self) -> Column:
        return self.over(self.contribution())


def _set_aggs(m: Metric) -> list[tuple[_Agg, str | None]]:
    """The set-based aggregates of a metric with the filter that admits rows to its sets."""
    c, out = m.code.lower(), []
    if m.kind == "RATIO":
        den_set = m.den.expr is None and m.den.lookup is None
        if den_set:
            f = _both(m.den.filter, m.only)
            out.append((_Agg(f"{c}_den", "sum" if m.den.value else "count", _cond(f), m.den.value), f or ""))
        if m.num.expr is None and m.num.lookup is None:
            f = _both(m.den.filter if den_set else None, m.num.filter, m.only)
            out.append((_Agg(f"{c}_num", "sum" if m.num.value else "count", _cond(f), m.num.value), f or ""))
    elif m.set.expr is None and (m.kind != "VALUE" or m.set.value):
        how = {"CNT": "count", "SUM": "sum", "DCNT": "dcnt", "VALUE": "max"}[m.kind]
        f = _both(m.set.filter, m.only)
        out.append((_Agg(c, how, _cond(f), m.set.value), f or ""))
    return out


def _both(*sql: str | None) -> str | None:
    parts = [f"({s})" for s in sql if s]
    return " AND ".join(parts) if parts else None


def _rows_of(filters: Sequence[str]) -> Column:
    """A source row belongs to the group's output if it is in at least one set (row existence, README §10.3)."""
    return F.lit(True) if any(f == "" for f in filters) else reduce(lambda a, b: a | b, [F.expr(f) for f in filters])


def _day(c: Column) -> Column:
    return F.to_date(c, "yyyyMMdd")


def _mtd(t: GoldTable, df: DataFrame, aggs: list[_Agg], w: Window, keys: list[str]) -> DataFrame:
    """Month-to-date: daily sets from the first day of the earliest target month, carried to every later day of
    their month up to the horizon (README §10.3), then summed per target day."""
    first = w.parts[0][:6] + "01"
    daily = df.where(F.col(P).between(first, w.parts[-1])).groupBy(*keys, P).agg(*[a.column() for a in aggs])
    last = F.least(F.last_day(_day(F.col(P))), _day(F.lit(w.horizon)))
    spread = daily.withColumn(P, F.explode(F.sequence(_day(F.col(P)), last))).withColumn(
        P, F.date_format(P, "yyyyMMdd")).where(F.col(P).isin(list(w.parts)))
    return spread.groupBy(*keys, P).agg(*[F.sum(a.out).alias(a.out) for a in aggs])


def _backlog(t: GoldTable, df: DataFrame, m: Metric, w: Window) -> DataFrame:
    """Rows exploded over every boundary at which they are open, with `_b` = the boundary, inside the backlog
    window [backlog_from, horizon] and the target partitions."""
    start, leave = F.expr(m.backlog.start), F.expr(m.backlog.leave)
    if m.backlog.leave_day:  # left before the first partition began: in no boundary of the window
        day = F.col(m.backlog.leave_day)
        df = df.where(day.isNull() | (day >= F.lit(w.parts[0])))
    if t.period == "D":
        lo = F.greatest(F.to_date(start), _day(F.lit(w.backlog_from)), _day(F.lit(w.parts[0])))
        hi = F.least(F.coalesce(F.date_sub(F.to_date(leave), 1), _day(F.lit(w.horizon))), _day(F.lit(w.parts[-1])))
        step, fmt, bound = F.expr("INTERVAL 1 DAY"), "yyyyMMdd", lambda d: F.date_add(d, 1)
    else:
        def month(x: Column) -> Column:
            return F.trunc(x, "month")

        def mid(s: str) -> Column:
            return F.to_date(F.lit(s + "01"), "yyyyMMdd")

        lo = F.greatest(month(F.to_date(start)), mid(w.backlog_from), mid(w.parts[0]))
        hi = F.least(F.coalesce(F.add_months(month(F.to_date(leave)), -1), mid(w.horizon)), mid(w.parts[-1]))
        step, fmt, bound = F.expr("INTERVAL 1 MONTH"), "yyyyMM", lambda d: F.add_months(d, 1)
    out = (df.where(start.isNotNull() & (lo <= hi)).withColumn("_d", F.explode(F.sequence(lo, hi, step)))
           .withColumn("_b", F.to_timestamp(bound(F.col("_d")))).withColumn(P, F.date_format("_d", fmt)))
    return out.where((start < F.col("_b")) & (leave.isNull() | (leave >= F.col("_b"))) & F.col(P).isin(list(w.parts)))


def _group_key(m: Metric) -> tuple:
    return (m.source, m.date, m.mtd, m.backlog)


def _aggregate(t: GoldTable, sources: Mapping[str, DataFrame], w: Window) -> DataFrame | None:
    """All set-based metrics on the grain: the rows of every (source, date basis, backlog) group, each with its own
    filter and partition, go through ONE aggregation (one shuffle, where a join of per-group aggregates took one per
    group and per join); a month-to-date group is aggregated on its own and joined to it."""
    keys = list(t.grain[1:])
    groups: dict[tuple, list[tuple[_Agg, str]]] = {}
    for m in t.metrics:
        aggs = _set_aggs(m)
        if aggs:
            if m.mtd and any(a.how == "dcnt" for a, _ in aggs):
                raise ValueError(f"{t.name}.{m.code}: a distinct count cannot be month-to-date")
            groups.setdefault(_group_key(m), []).extend(aggs)
    plain: list[DataFrame] = []
    plain_aggs: list[_Agg] = []
    frames = []
    for (source, date, mtd, backlog), aggs in groups.items():
        m = next(x for x in t.metrics if _group_key(x) == (source, date, mtd, backlog))
        df = sources[source]
        if backlog is not None:
            if w.backlog_from is None:
                continue
            df = _backlog(t, df, m, w)
        else:
            df = df.withColumn(P, _src_part(t, date))
            if _by_day(t, date):
                df = df.where(days_of(date, w.parts))
        df = df.where(_rows_of([f for _, f in aggs]))
        if mtd:
            frames.append(_mtd(t, df, [a for a, _ in aggs], w, keys))
        else:
            plain.append(df.where(F.col(P).isin(list(w.parts)))
                         .select(*keys, P, *[a.contribution().alias(a.out) for a, _ in aggs]))
            plain_aggs.extend(a for a, _ in aggs)
    if plain:  # a column of another group's aggregate is NULL on a row: no aggregate counts it
        rows = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), plain)
        frames.insert(0, rows.groupBy(*keys, P).agg(*[a.over(F.col(a.out)) for a in plain_aggs]))
    if not frames:
        return None
    return reduce(lambda a, b: a.join(b, [*keys, P], "full"), frames)


def _lookup_periods(t: GoldTable, lk: Lookup, parts: Sequence[str]) -> list[str] | None:
    """The lookup periods the window's partitions join to (None: not worked out here, no restriction)."""
    if not (t.period == "M" or is_month_col(lk.date)):
        return None
    months = {p[:6] for p in parts}
    return sorted(shift(m, -1) for m in months) if lk.shift == "prev" else sorted(months)


def _lookup(t: GoldTable, rows: DataFrame, out: str, lk: Lookup, sources: Mapping[str, DataFrame],
            parts: Sequence[str]) -> DataFrame:
    """A looked-up aggregate joined on (period key, by): it never adds a row; no match = 0 (README §6). Only the
    periods the window joins to are aggregated (a month-keyed source such as slv_subscriber_m keeps 36 months)."""
    src = sources[lk.source]
    lp = _src_part(t, lk.date)
    periods = _lookup_periods(t, lk, parts)
    if periods is not None:
        src = src.where(lp.isin(periods) & days_of(lk.date, periods) if _by_day(t, lk.date) else lp.isin(periods))
    agg = F.sum(F.when(_cond(lk.filter), F.expr(lk.value))) if lk.value else F.count(F.when(_cond(lk.filter), 1))
    looked = src.withColumn("_lk", lp).groupBy("_lk", *lk.by).agg(agg.alias(out))
    key = F.col(P) if t.period == "D" and not is_month_col(lk.date) else F.substring(F.col(P), 1, 6)
    if lk.shift == "prev":
        key = F.date_format(F.add_months(F.to_date(F.concat(key, F.lit("01")), "yyyyMMdd"), -1), "yyyyMM")
    rows = rows.withColumn("_lk", key).join(looked, ["_lk", *lk.by], "left").drop("_lk")
    return rows.withColumn(out, F.coalesce(F.col(out), F.lit(0)))


def _zero_missing(t: GoldTable, rows: DataFrame) -> DataFrame:
    """Counts, sums, nums and dens are never NULL on an existing row (README §10.3)."""
    fill = {}
    for m in t.metrics:
        for a, _ in _set_aggs(m):
            if a.how != "max":
                fill[a.out] = F.coalesce(F.col(a.out), F.lit(0))
    return rows.withColumns(fill) if fill else rows


def _cast(m: Metric, part: Part | None) -> str:
    if part is not None and (part.value or part.expr or (part.lookup and part.lookup.value)):
        return MONEY if m.sum_type == "decimal" else "bigint"
    return "bigint"


def _finish_metric(t: GoldTable, rows: DataFrame, m: Metric, sources: Mapping[str, DataFrame],
                   parts: Sequence[str]) -> DataFrame:
    """Lookups, expressions, `only`, types and the rate of one metric."""
    c = m.code.lower()
    if m.kind != "RATIO":
        if m.set.expr:
            rows = rows.withColumn(c, F.expr(m.set.expr))
        elif m.kind == "VALUE" and not m.set.value and c not in rows.columns:
            rows = rows.withColumn(c, F.lit(None))
        typ = {"CNT": "bigint", "DCNT": "bigint", "VALUE": "double"}.get(m.kind) or _cast(m, m.set)
        return rows.withColumn(c, F.col(c).cast(typ))
    for side, part in (("num", m.num), ("den", m.den)):
        col = f"{c}_{side}"
        if part.lookup:
            rows = _lookup(t, rows, col, part.lookup, sources, parts)
        elif part.expr:
            rows = rows.withColumn(col, F.coalesce(F.expr(part.expr), F.lit(0)))
        if m.only and (part.lookup or part.expr):
            rows = rows.withColumn(col, F.when(F.expr(m.only), F.col(col)).otherwise(F.lit(0)))
        rows = rows.withColumn(col, F.col(col).cast(_cast(m, part)))
    num, den = F.col(f"{c}_num").cast("double"), F.col(f"{c}_den").cast("double")
    rate = num / den * F.lit(m.scale_mult) if m.scale_div == 1 else num / den / F.lit(m.scale_div)
    return rows.withColumn(f"{c}_rate", F.when(F.col(f"{c}_den") != 0, rate).cast("double"))


Finisher = Callable[[DataFrame, Mapping[str, DataFrame]], DataFrame]


def compute(t: GoldTable, sources: Mapping[str, DataFrame], w: Window, finish: Finisher | None = None) -> DataFrame:
    """The gold table's rows for the window's partitions, columns in catalog order."""
    spark = next(iter(sources.values())).sparkSession
    rows = _aggregate(t, sources, w) if w.parts else None
    if rows is None:
        return spark.createDataFrame([], schema_of(t))
    rows = _zero_missing(t, rows)
    for m in t.metrics:
        rows = _finish_metric(t, rows, m, sources, w.parts)
    if finish is not None:
        rows = finish(rows, sources)
    return rows.withColumnRenamed(P, t.partition).select(*[F.col(c) for c in t.columns])


def schema_of(t: GoldTable):
    """The gold table's Spark schema from its catalog entry."""
    from pyspark.sql.types import StructType

    return StructType.fromDDL(ddl_of(t))


def ddl_of(t: GoldTable) -> str:
    cols = [f"{g} STRING" for g in t.grain]
    for m in t.metrics:
        c = m.code.lower()
        if m.kind == "RATIO":
            cols += [f"{c}_num {_cast(m, m.num).upper()}", f"{c}_den {_cast(m, m.den).upper()}", f"{c}_rate DOUBLE"]
        else:
            typ = {"CNT": "bigint", "DCNT": "bigint", "VALUE": "double"}.get(m.kind) or _cast(m, m.set)
            cols.append(f"{c} {typ.upper()}")
    return ", ".join(cols)
