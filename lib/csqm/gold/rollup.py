"""Roll-ups of a gold table to a coarser grain (city, province) or from days to months (gold.md §0 Roll-up):
ratios as Σnum / Σden × scale, except month-to-date metrics (the last day's row), looked-up denominators (user bases
and group totals: once per distinct lookup key, never across rows that differ only in other dimensions); distinct
counts and VALUEs are not additive and come out NULL."""
from __future__ import annotations

from collections.abc import Sequence

from csqm.gold.catalog import GoldTable, Metric
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def _rate(m: Metric, num: Column, den: Column) -> Column:
    n, d = num.cast("double"), den.cast("double")
    r = n / d * F.lit(m.scale_mult) if m.scale_div == 1 else n / d / F.lit(m.scale_div)
    return F.when(den != 0, r)


def _lookup_den(df: DataFrame, keys: list[str], m: Metric, period: str) -> DataFrame:
    """A looked-up den summed once per distinct (period, lookup key) inside each output group."""
    c = f"{m.code.lower()}_den"
    by = [b for b in m.den.lookup.by if b not in keys]
    return df.select(*keys, *by, period, c).distinct().groupBy(*keys).agg(F.sum(c).alias(c))


def rollup(df: DataFrame, t: GoldTable, keep: Sequence[str], to_month: bool = False) -> DataFrame:
    """df (rows of table t) rolled up to the columns `keep` (a subset of the grain, partition first; with to_month
    a daily table's day_id becomes month_id)."""
    period = t.partition
    if to_month and period == "day_id":
        last = df.groupBy(F.substring("day_id", 1, 6).alias("_m")).agg(F.max("day_id").alias("_last"))
        df = (df.withColumn("_m", F.substring("day_id", 1, 6)).join(last, "_m")
              .withColumn("month_id", F.col("_m")).drop("_m"))
        keys = ["month_id" if k == "day_id" else k for k in keep]
    else:
        df = df.withColumn("_last", F.col(period))
        keys = list(keep)
    sums, lookups, out_cols = [], [], []
    for m in t.metrics:
        c = m.code.lower()
        if m.kind in ("CNT", "SUM"):
            sums.append(F.sum(c).alias(c))
            out_cols.append(F.col(c))
        elif m.kind == "RATIO":
            for side, part in (("num", m.num), ("den", m.den)):
                col = f"{c}_{side}"
                if side == "den" and part.lookup is not None:
                    lookups.append(m)
                    continue
                val = F.when(F.col(period) == F.col("_last"), F.col(col)).otherwise(F.lit(0)) if m.mtd else F.col(col)
                sums.append(F.sum(val).alias(col))
            out_cols += [F.col(f"{c}_num"), F.col(f"{c}_den"), _rate(m, F.col(f"{c}_num"),
                                                                      F.col(f"{c}_den")).alias(f"{c}_rate")]
        else:
            out_cols.append(F.lit(None).cast("double" if m.kind == "VALUE" else "bigint").alias(c))
    base = df.groupBy(*keys).agg(*sums)
    last_rows = df.where(F.col(period) == F.col("_last"))
    for m in lookups:
        base = base.join(_lookup_den(last_rows if m.mtd else df, keys, m, period), keys, "left")
    return base.select(*[F.col(k) for k in keys], *out_cols)
