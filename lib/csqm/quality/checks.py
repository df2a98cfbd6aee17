"""The DQ check kinds of conf/quality.yaml. Each returns a DataFrame of outcomes (table_name, partition, passed,
observed, expected, detail) built with Spark functions only; the runner unions them and collects once."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from csqm import io
from csqm.config import Config
from csqm.quality.rules import Rule

OUT_DDL = "table_name STRING, partition STRING, passed BOOLEAN, observed STRING, expected STRING, detail STRING"
SPECIAL_TYPE = "special"


@dataclass
class Scope:
    """What a DQ run looks at: the data date or month, and per table the partitions to check."""

    spark: SparkSession
    cfg: Config
    date: str | None
    month: str | None
    parts: Mapping[str, list[str]]  # table -> partition values

    @property
    def key(self) -> str:
        return self.date or self.month or ""

    def tables(self, layers: Sequence[str]) -> list[str]:
        return [t for t in self.parts if io.layer_of(t) in layers and self.parts[t]]

    def rows(self, table: str) -> DataFrame:
        return io.read(self.spark, self.cfg, table).where(F.col(part_col(table)).isin(self.parts[table]))


def part_col(table: str) -> str:
    return "month_id" if table.endswith("_m") else "day_id"


def _empty(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], OUT_DDL)


def union(spark: SparkSession, frames: Sequence[DataFrame]) -> DataFrame:
    return reduce(DataFrame.unionByName, frames, _empty(spark))


def per_partition(s: Scope, table: str, bad: DataFrame, noun: str, limit: float | None = None) -> DataFrame:
    """One outcome per scoped partition of table from bad = (partition, bad BIGINT, total BIGINT, sample STRING):
    passes when bad = 0, or, with limit, when bad / total <= limit."""
    parts = s.spark.createDataFrame([(p,) for p in s.parts[table]], "partition STRING")
    j = parts.join(bad, "partition", "left").fillna(0, ["bad", "total"])
    if limit is None:
        passed, observed, expected = F.col("bad") == 0, F.concat(F.col("bad").cast("string"), F.lit(f" {noun}")), \
            F.lit(f"0 {noun}")
    else:
        share = F.when(F.col("total") > 0, F.col("bad") / F.col("total")).otherwise(F.lit(0.0))
        passed = share <= F.lit(limit)
        observed = F.format_string(f"%.2f%% {noun} (%d of %d)", share * 100, F.col("bad"), F.col("total"))
        expected = F.lit(f"<= {limit * 100:g}%")
    return j.select(F.lit(table).alias("table_name"), "partition", passed.alias("passed"), observed.alias("observed"),
                    expected.alias("expected"),
                    F.when(F.col("sample").isNotNull(), F.concat(F.lit("e.g. "), F.col("sample")))
                    .otherwise(F.lit("")).alias("detail"))


def _key(cols: Sequence[str]) -> Column:
    return F.concat_ws("|", *[F.coalesce(F.col(c).cast("string"), F.lit("NULL")) for c in cols])


# ------------------------------------------------------------------ DQ01 / DQ02
def key_unique(s: Scope, rule: Rule, keys: Mapping[str, Sequence[str]]) -> DataFrame:
    """Keys of the scoped partitions that occur more than once in the WHOLE table (silver.md §0.1).

    When the partition column is part of the key (the monthly tables), every row of a key sits in the key's own
    partition, so the scoped partitions are the whole of what can hold a duplicate, the rest of the table is not
    read and a duplicate key names its partition itself (no join back to the scoped rows, which at a month end are
    millions); otherwise the key columns of every partition are."""
    out = []
    for table in s.tables(rule.layers):
        if table not in keys:
            continue
        key, p = list(keys[table]), part_col(table)
        touched = s.rows(table).select(p, *key)
        holding = touched if p in key else io.read(s.spark, s.cfg, table).join(
            touched.select(*key).distinct(), key, "left_semi")
        counts = holding.groupBy(*key).count().where("count > 1")
        dup_keys = counts if p in key else touched.join(counts, key).select(p, *key).distinct()
        bad = (dup_keys.groupBy(F.col(p).alias("partition"))
               .agg(F.count(F.lit(1)).alias("bad"), F.lit(0).cast("bigint").alias("total"),
                    F.min(_key(key)).alias("sample")))
        out.append(per_partition(s, table, bad, "duplicate keys"))
    return union(s.spark, out)


def grain(s: Scope, rule: Rule, grains: Mapping[str, Sequence[str]]) -> DataFrame:
    """Gold grain: no NULL grain column and no grain key twice within the scoped partitions."""
    out = []
    for table in s.tables(rule.layers):
        if table not in grains:
            continue
        g = list(grains[table])
        p = g[0]
        nulls = reduce(lambda a, b: a | b, [F.col(c).isNull() for c in g])
        per_key = s.rows(table).groupBy(*g).agg(F.count(F.lit(1)).alias("n"), F.max(nulls.cast("int")).alias("nul"))
        bad = (per_key.where("n > 1 OR nul = 1").groupBy(F.col(p).alias("partition"))
               .agg(F.sum(F.col("n") - 1 + F.col("nul")).alias("bad"), F.lit(0).cast("bigint").alias("total"),
                    F.min(_key(g)).alias("sample")))
        out.append(per_partition(s, table, bad, "NULL-grain or duplicate-grain rows"))
    return union(s.spark, out)


# ------------------------------------------------------------------ DQ03
def code_columns(table_cols: Sequence[str], table: str, types: set[str], params: Mapping) -> dict[str, str]:
    """column -> code_type to check: a per-table override, a rename, or the column's own name when it is a type."""
    over = dict((params.get("tables") or {}).get(table) or {})
    rename = dict(params.get("rename") or {})
    out = {}
    for c in table_cols:
        t = over.get(c) or rename.get(c) or c
        if c == "city_code" or t in types:
            out[c] = t
    return out


def codes(s: Scope, rule: Rule) -> DataFrame:
    """Every code value in dim_code (its type) or a special member; city_code in dim_city; county prefix rule."""
    if not (io.table_exists(s.spark, s.cfg, "dim_code") and io.table_exists(s.spark, s.cfg, "dim_city")):
        return s.spark.createDataFrame([("dim_code", "", False, "not seeded", "dim_code and dim_city seeded",
                                         "run `csqm seed`")], OUT_DDL)
    dim = io.read(s.spark, s.cfg, "dim_code").select("code_type", "code")
    city = io.read(s.spark, s.cfg, "dim_city").select("city_code", "gb_code")
    valid = dim.unionByName(city.select(F.lit("city_code").alias("code_type"), F.col("city_code").alias("code")))
    special = dim.where(F.col("code_type") == SPECIAL_TYPE).select("code")
    types = {r.code_type for r in dim.select("code_type").distinct().collect()}
    out = []
    for table in s.tables(rule.layers):
        df = s.rows(table)
        cols = code_columns(df.columns, table, types, rule.params)
        p = part_col(table)
        bad = []
        if cols:
            args = ", ".join(f"'{c}', '{t}', CAST(`{c}` AS STRING)" for c, t in cols.items())
            long = df.selectExpr(f"`{p}` AS partition", f"stack({len(cols)}, {args}) AS (col, code_type, code)")
            long = long.where(F.col("code").isNotNull())
            miss = long.join(valid, ["code_type", "code"], "left_anti").join(special, "code", "left_anti")
            bad.append(miss.select("partition", F.concat_ws("=", "col", "code").alias("what")))
        if "county_code" in df.columns and "city_code" in df.columns:
            c = df.join(F.broadcast(city), "city_code", "left")
            prefix = F.substring("county_code", 1, 4) == F.substring("gb_code", 1, 4)
            ok = (F.col("county_code") == "999999") | (F.col("county_code").rlike("^[0-9]{6}$") & prefix)
            bad.append(c.where(F.col("county_code").isNotNull() & ~F.coalesce(ok, F.lit(False)))
                       .select(F.col(p).alias("partition"),
                               F.concat(F.lit("county_code="), F.col("county_code"), F.lit(" under city "),
                                        F.coalesce(F.col("city_code"), F.lit("NULL"))).alias("what")))
        if not bad:
            continue
        agg = (reduce(DataFrame.unionByName, bad).groupBy("partition")
               .agg(F.count(F.lit(1)).alias("bad"), F.lit(0).cast("bigint").alias("total"),
                    F.min("what").alias("sample")))
        out.append(per_partition(s, table, agg, "values not in dim_code/dim_city"))
    return union(s.spark, out)


# ------------------------------------------------------------------ DQ05 / DQ06 / DQ10 (batches)
def _batch_log(s: Scope) -> DataFrame | None:
    if not io.table_exists(s.spark, s.cfg, "ops_batch_log"):
        return None
    return io.read(s.spark, s.cfg, "ops_batch_log").where(F.col("data_date") == s.key)


def due_times(s: Scope, rule: Rule) -> list[tuple[str, str]]:
    """(IFCODE, due 'yyyy-MM-dd HH:mm:ss') of the interfaces of the run's frequency (sources.md §1.6)."""
    if s.date:
        d = dt.datetime.strptime(s.date, "%Y%m%d") + dt.timedelta(days=int(rule.params["daily"]["days_after"]))
        due = f"{d:%Y-%m-%d} {rule.params['daily']['at']}"
        return [(i, due) for i, spec in s.cfg.interfaces.items() if spec.freq == "D"]
    m = dt.datetime.strptime(s.month + "01", "%Y%m%d")
    nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [(i, f"{nxt.replace(day=int(day)):%Y-%m-%d} {rule.params['monthly_at']}")
            for i, day in rule.params["monthly"].items()]


def batch_late(s: Scope, rule: Rule) -> DataFrame:
    """A batch not LOADED by its expected time: loaded late, or still missing after the due time."""
    due = s.spark.createDataFrame(due_times(s, rule), "ifcode STRING, due STRING").withColumn(
        "due_ts", F.to_timestamp("due"))
    log = _batch_log(s)
    if log is None:
        loaded = s.spark.createDataFrame([], "ifcode STRING, loaded_ts TIMESTAMP")
    else:
        loaded = (log.where(F.col("status").isin("LOADED", "REPLACED")).groupBy("ifcode")
                  .agg(F.min("_load_ts").alias("loaded_ts")))
    j = due.join(loaded, "ifcode", "left")
    passed = F.coalesce(F.col("loaded_ts") <= F.col("due_ts"), F.current_timestamp() <= F.col("due_ts"))
    observed = F.when(F.col("loaded_ts").isNull(), F.lit("not loaded")).otherwise(
        F.concat(F.lit("loaded "), F.date_format("loaded_ts", "yyyy-MM-dd HH:mm:ss")))
    return j.select(F.concat(F.lit("brz_"), F.lower("ifcode")).alias("table_name"), F.lit(s.key).alias("partition"),
                    passed.alias("passed"), observed.alias("observed"), F.concat(F.lit("by "), F.col("due")).alias(
                        "expected"), F.lit("").alias("detail"))


def empty_batch(s: Scope, rule: Rule) -> DataFrame:
    """Every LOADED batch of the date: WARN when it had 0 records."""
    log = _batch_log(s)
    if log is None:
        return _empty(s.spark)
    b = log.where(F.col("status") == "LOADED")
    return b.select(F.concat(F.lit("brz_"), F.lower("ifcode")).alias("table_name"), F.lit(s.key).alias("partition"),
                    (F.col("rows_total") > 0).alias("passed"),
                    F.concat(F.col("rows_total").cast("string"), F.lit(" records")).alias("observed"),
                    F.lit("> 0 records").alias("expected"),
                    F.concat(F.lit("batch "), F.col("_batch_id")).alias("detail"))


def quarantine(s: Scope, rule: Rule) -> DataFrame:
    """Quarantined rows per interface and batch (informational): one WARN per batch with rows, else one pass."""
    if not io.table_exists(s.spark, s.cfg, "ops_quarantine"):
        q = s.spark.createDataFrame([], "ifcode STRING, _batch_id STRING, n BIGINT")
    else:
        q = (io.read(s.spark, s.cfg, "ops_quarantine").where(F.col("data_date") == s.key)
             .groupBy("ifcode", "_batch_id").agg(F.count(F.lit(1)).alias("n")))
    rows = q.select(F.concat(F.lit("brz_"), F.lower("ifcode")).alias("table_name"), F.lit(s.key).alias("partition"),
                    F.lit(False).alias("passed"), F.concat(F.col("n").cast("string"), F.lit(" quarantined rows"))
                    .alias("observed"), F.lit("0 quarantined rows").alias("expected"),
                    F.concat(F.lit("batch "), F.coalesce(F.col("_batch_id"), F.lit("NULL"))).alias("detail"))
    none = s.spark.createDataFrame([("ops_quarantine", s.key, True, "0 quarantined rows", "0 quarantined rows", "")],
                                   OUT_DDL)
    return rows.unionByName(none.join(rows.select("partition").limit(1), "partition", "left_anti"))


# ------------------------------------------------------------------ DQ07 / DQ08 / DQ09
def row_change(s: Scope, rule: Rule) -> DataFrame:
    """Month M's snapshot row count vs prev(M): WARN when the change exceeds max_change."""
    table, limit = rule.params["table"], float(rule.params["max_change"])
    if not s.month or not io.table_exists(s.spark, s.cfg, table):
        return _empty(s.spark)
    m = dt.datetime.strptime(s.month + "01", "%Y%m%d")
    prev = f"{m - dt.timedelta(days=1):%Y%m}"
    n = io.read(s.spark, s.cfg, table).where(F.col("month_id").isin(s.month, prev))
    c = n.agg(F.sum((F.col("month_id") == s.month).cast("long")).alias("cur"),
              F.sum((F.col("month_id") == prev).cast("long")).alias("prev")).fillna(0)
    change = F.when(F.col("prev") > 0, F.abs(F.col("cur") - F.col("prev")) / F.col("prev"))
    return c.select(F.lit(table).alias("table_name"), F.lit(s.month).alias("partition"),
                    F.coalesce(change <= F.lit(limit), F.lit(True)).alias("passed"),
                    F.when(change.isNull(), F.format_string("%d rows, no rows in " + prev, F.col("cur")))
                    .otherwise(F.format_string("%.1f%% change (%d -> %d)", change * 100, F.col("prev"), F.col("cur")))
                    .alias("observed"), F.lit(f"<= {limit * 100:g}% change vs {prev}").alias("expected"),
                    F.lit("").alias("detail"))


def end_before_start(s: Scope, rule: Rule) -> DataFrame:
    """Rows whose end timestamp is before their start (kept in silver; silver.md §0.1), per table and partition."""
    out = []
    for table, pairs in rule.params["pairs"].items():
        if not s.parts.get(table):
            continue
        p = part_col(table)
        inverted = reduce(lambda a, b: a | b, [F.coalesce(F.col(e) < F.col(b), F.lit(False)) for e, b in pairs])
        key = F.concat_ws(" / ", *[F.lit(f"{e} < {b}") for e, b in pairs])
        bad = (s.rows(table).where(inverted).groupBy(F.col(p).alias("partition"))
               .agg(F.count(F.lit(1)).alias("bad"), F.lit(0).cast("bigint").alias("total"),
                    F.first(key).alias("sample")))
        out.append(per_partition(s, table, bad, "rows with end before start"))
    return union(s.spark, out)


def enrichment_miss(s: Scope, rule: Rule) -> DataFrame:
    """Share of rows with city_code 9999 or cust_segment UNK among rows that carry a number or prod_inst_id."""
    out = []
    for table, exclude in rule.params["tables"].items():
        if not s.parts.get(table):
            continue
        df = s.rows(table)
        ids = [c for c in ("acc_nbr_hash", "prod_inst_id") if c in df.columns]
        base = df.where(reduce(lambda a, b: a | b, [F.col(c).isNotNull() for c in ids]))
        if exclude:
            base = base.where(~F.coalesce(F.expr(exclude), F.lit(False)))
        miss = (F.col("city_code") == "9999") | (F.col("cust_segment") == "UNK")
        bad = base.groupBy(F.col(part_col(table)).alias("partition")).agg(
            F.sum(F.coalesce(miss, F.lit(False)).cast("long")).alias("bad"), F.count(F.lit(1)).alias("total"),
            F.lit(None).cast("string").alias("sample"))
        out.append(per_partition(s, table, bad, "rows not enriched", float(rule.params["max_share"])))
    return union(s.spark, out)


KINDS: dict[str, Callable[..., DataFrame]] = {
    "codes": codes, "batch_late": batch_late, "empty_batch": empty_batch, "quarantine": quarantine,
    "row_change": row_change, "end_before_start": end_before_start, "enrichment_miss": enrichment_miss,
}
