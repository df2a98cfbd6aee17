"""Shared silver mechanics (silver.md §0): current state, PII block P, enrichment block E, durations,
threshold lookup L, cross-row windows and value helpers. Every function is a pure DataFrame -> DataFrame (or Column)
transform built from Spark built-ins only, so builders compose them with ``df.transform(...)`` and Spark optimises
the whole plan."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from csqm.config import DEFAULT_CONF_DIR, ConfigError, _take

ColumnOrName = Column | str

# ---------------------------------------------------------------- value helpers


def _c(col: ColumnOrName) -> Column:
    """Accept a column name or a Column so helpers read naturally in select lists."""
    return F.col(col) if isinstance(col, str) else col


def yyyymmdd(col: ColumnOrName) -> Column:
    """day_id form (README §2): STRING yyyymmdd of a DATE/TIMESTAMP, NULL stays NULL."""
    return F.date_format(_c(col), "yyyyMMdd")


def yyyymm(col: ColumnOrName) -> Column:
    """month_id form (README §2): STRING yyyymm of a DATE/TIMESTAMP, NULL stays NULL."""
    return F.date_format(_c(col), "yyyyMM")


def fen_to_yuan(col: ColumnOrName) -> Column:
    """Money rule (README §7): fen / 100 as exact DECIMAL(18,2), never through a double."""
    return (_c(col).cast("decimal(20,0)") / F.lit(100)).cast("decimal(18,2)")


def prev_month_id(col: ColumnOrName) -> Column:
    """prev(M) for a yyyymm STRING (README §5.4), via a real date so December/January roll over correctly."""
    first = F.to_date(F.concat(_c(col), F.lit("01")), "yyyyMMdd")
    return F.date_format(F.add_months(first, -1), "yyyyMM")


def flag(cond: Column) -> Column:
    """A 0/1 TINYINT of a predicate; a NULL predicate (unknown input) counts as not met."""
    return F.coalesce(cond, F.lit(False)).cast("tinyint")


def to_ddl(df: DataFrame, ddl: str) -> DataFrame:
    """A builder's output contract: exactly the DDL's columns, in its order, cast to its types."""
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in T.StructType.fromDDL(ddl).fields])


def with_ref_month(df: DataFrame, date_col: str, out: str = "ref_month_id") -> DataFrame:
    """E block rule 1: ref_month_id = prev(month of the business date), yyyymm STRING."""
    first = F.trunc(F.to_date(F.col(date_col)), "month")
    return df.withColumn(out, F.date_format(F.add_months(first, -1), "yyyyMM"))


# ---------------------------------------------------------------- current state (sources.md §1.5)


def current_state(bronze: DataFrame, key: Sequence[str], version_col: str = "update_time",
                  batch_date_col: str = "day_id") -> DataFrame:
    """Latest version per key: greatest (update_time, batch data date, _file_seq, _line_no),
    so late/older resends lose."""
    order = [version_col, batch_date_col, "_file_seq", "_line_no"]
    missing = [c for c in [*key, *order] if c not in bronze.columns]
    if missing:
        raise ValueError(f"current_state: column {missing[0]!r} not in the bronze frame")
    # row_number with a rank-1 filter lets Spark add a partial WindowGroupLimit before the shuffle; measured as fast as
    # max(struct) and faster than max_by (which falls back to a sort aggregate), and it keeps column types untouched.
    w = Window.partitionBy(*key).orderBy(*[F.col(c).desc_nulls_last() for c in order])
    return (bronze.withColumn("__cs_rn", F.row_number().over(w))
            .where(F.col("__cs_rn") == 1).drop("__cs_rn"))


def batch_order(batch_id: ColumnOrName, preference: int = 0) -> Column:
    """Orderable (data date, seq, preference, _batch_id) of a `<IFCODE>_<date>_<seq3>` batch id (silver.md §0.1):
    the greater is the later batch; equal date and seq fall to the greater preference, then to the id."""
    b = _c(batch_id)
    parts = F.split(b, "_")
    return F.struct(F.element_at(parts, -2).alias("d"), F.element_at(parts, -1).cast("int").alias("s"),
                    F.lit(preference).alias("o"), b.alias("b"))


def latest_batch_id(batch_id: ColumnOrName) -> Column:
    """Aggregate: the _batch_id with the greatest data date, then seq, among the group's rows."""
    return F.max(batch_order(batch_id))["b"]


# ---------------------------------------------------------------- PII block P (README §9)


def pii_hash(col: ColumnOrName, salt: str) -> Column:
    """Lower-case hex SHA-256 of salt || value; NULL stays NULL so unknown numbers never collide."""
    return F.sha2(F.concat(F.lit(salt), _c(col).cast("string")), 256)


def pii_mask(col: ColumnOrName) -> Column:
    """First 3 + '****' + last 4 when length >= 8, else '****'; NULL stays NULL (README §9)."""
    v = _c(col).cast("string")
    return (F.when(v.isNull(), F.lit(None).cast("string"))
            .when(F.length(v) >= 8, F.concat(F.substring(v, 1, 3), F.lit("****"), F.substring(v, -4, 4)))
            .otherwise(F.lit("****")))


def pii_block(df: DataFrame, number_col: str, prefix: str = "acc_nbr", salt: str | None = None) -> DataFrame:
    """Replace a raw PII column by <prefix>_hash and <prefix>_mask; raw values must never reach silver."""
    if not salt:
        raise ValueError("pii_block: salt is required (configuration pii.salt)")
    return (df.withColumn(f"{prefix}_hash", pii_hash(number_col, salt))
            .withColumn(f"{prefix}_mask", pii_mask(number_col))
            .drop(number_col))


# ---------------------------------------------------------------- enrichment block E (silver.md §0.3)

E_COLUMNS: tuple[str, ...] = ("ref_month_id", "cust_id", "city_code", "county_code", "urban_rural", "product_line",
                              "cust_segment", "cust_segment_l2", "vip_level", "pay_type", "offer_id", "offer_type",
                              "tenure_months")
SNAPSHOT_COLUMNS: tuple[str, ...] = E_COLUMNS[1:]
# the E block of a table's DDL, in E_COLUMNS order (silver.md §0.3)
E_DDL = ", ".join(f"{c} {'BIGINT' if c == 'tenure_months' else 'STRING'}" for c in E_COLUMNS)
UNKNOWN_MEMBER: dict[str, str | None] = {c: "UNK" for c in SNAPSHOT_COLUMNS} | {
    "city_code": "9999", "county_code": "999999", "cust_id": None, "tenure_months": None}


@dataclass(frozen=True)
class ScopedSnapshots:
    """A monthly snapshot table (slv_subscriber_m, slv_points_balance_m) handed to a build restricted to a few keys (an
    incremental run): the build first keeps only the snapshot rows its events can match (enrich: their (month,
    prod_inst_id) or (month, number); points: their customers), so it shuffles those instead of every snapshot row of
    the months. A full build gets the plain DataFrame; either way enrich reads only the months its events refer to."""

    df: DataFrame


Snapshots = DataFrame | ScopedSnapshots  # what a builder's `subscribers` / `balances` is


def _matchable(subscribers: DataFrame, events: DataFrame, col: str, event_col: str) -> DataFrame:
    """Snapshot rows whose (month_id, col) equals an event's (ref_month_id, event_col); the event keys are few."""
    keys = events.select(F.col("ref_month_id").alias("month_id"), F.col(event_col).alias(col)).distinct()
    return subscribers.join(F.broadcast(keys), on=["month_id", col], how="left_semi")


def rows_of_months(rows: DataFrame, months: DataFrame) -> DataFrame:
    """Rows of a month-partitioned table whose month_id is one of months' (a frame with a month_id column). A
    broadcast semi-join on the partition column: Spark prunes the other months' files at run time (dynamic partition
    pruning), so a build does not shuffle a 20 M-row month that none of its rows can use."""
    # Spark plans the pruning only when the month side holds a filter it deems selective (a comparison): this one
    # also drops what cannot be a YYYYMM month
    keep = months.select("month_id").where(F.length("month_id") == 6).distinct()
    return rows.join(F.broadcast(keep), on="month_id", how="left_semi")


def enrich(events: DataFrame, subscribers: Snapshots, own: Sequence[str], *,
           number_hash_col: str = "acc_nbr_hash", prod_col: str = "prod_inst_id") -> DataFrame:
    """Block E: take the previous month-end snapshot's attributes (by prod_inst_id, else by number),
    own values first."""
    scoped = isinstance(subscribers, ScopedSnapshots)
    snapshots = rows_of_months(subscribers.df if scoped else subscribers,
                               events.select(F.col("ref_month_id").alias("month_id")))  # the months referred to
    own = tuple(own)
    bad = [c for c in own if c not in SNAPSHOT_COLUMNS]
    if bad:
        raise ValueError(f"enrich: {bad[0]!r} is not an enrichment column")
    missing = [c for c in ("ref_month_id", *own) if c not in events.columns]
    if missing:
        raise ValueError(f"enrich: event column {missing[0]!r} missing")
    attrs = F.struct(*[F.col(c) for c in SNAPSHOT_COLUMNS])
    ev, matches = events, []
    if prod_col in events.columns:  # (a) the event's own product instance in ref_month_id
        rows = _matchable(snapshots, events, "prod_inst_id", prod_col) if scoped else snapshots
        by_prod = rows.select(F.col("month_id").alias("__ep_m"), F.col("prod_inst_id").alias("__ep_k"),
                                     attrs.alias("__ep"))
        ev = ev.join(by_prod, (F.col("ref_month_id") == F.col("__ep_m")) & (F.col(prod_col) == F.col("__ep_k")),
                     how="left")
        matches.append(F.col("__ep"))
    if number_hash_col in events.columns:  # (b) one row per (month, number): the smallest prod_inst_id
        rows = _matchable(snapshots, events, "acc_nbr_hash", number_hash_col) if scoped else snapshots
        by_num = (rows.where(F.col("acc_nbr_hash").isNotNull())
                  .groupBy(F.col("month_id").alias("__en_m"), F.col("acc_nbr_hash").alias("__en_k"))
                  .agg(F.min(F.struct(F.col("prod_inst_id").alias("p"), attrs.alias("a"))).alias("__en"))
                  .select("__en_m", "__en_k", F.col("__en.a").alias("__en")))
        ev = ev.join(by_num, (F.col("ref_month_id") == F.col("__en_m")) & (F.col(number_hash_col) == F.col("__en_k")),
                     how="left")
        matches.append(F.col("__en"))
    if not matches:
        raise ValueError(f"enrich: events have neither {prod_col!r} nor {number_hash_col!r}")
    m = F.coalesce(*matches) if len(matches) > 1 else matches[0]
    # geography group: a snapshot row of another city must not lend its county / urban_rural
    geo_foreign = (F.col("city_code").isNotNull() & m.isNotNull() & ~m["city_code"].eqNullSafe(F.col("city_code"))
                   if "city_code" in own else F.lit(False))
    out = []
    for c in SNAPSHOT_COLUMNS:
        snap = m[c]
        if c in ("county_code", "urban_rural"):
            snap = F.when(geo_foreign, F.lit(None)).otherwise(snap)
        parts = ([F.col(c)] if c in own else []) + [snap]
        if UNKNOWN_MEMBER[c] is not None:
            parts.append(F.lit(UNKNOWN_MEMBER[c]))
        out.append(F.coalesce(*parts).alias(c))
    keep = [F.col(c) for c in events.columns if c not in E_COLUMNS]
    return ev.select(*keep, F.col("ref_month_id"), *out)


# ---------------------------------------------------------------- durations (silver.md §0.4, README §7)


def seconds_between(end: ColumnOrName, start: ColumnOrName) -> Column:
    """Exact end − start in whole seconds as BIGINT (may be negative); NULL when either side is NULL."""
    return (F.unix_seconds(_c(end).cast("timestamp")) - F.unix_seconds(_c(start).cast("timestamp"))).cast("bigint")


def net_seconds(end: ColumnOrName, start: ColumnOrName, suspend: ColumnOrName) -> Column:
    """GREATEST(0, end − start − COALESCE(suspend, 0)); NULL (not 0) when a timestamp is NULL,
    since GREATEST skips NULLs."""
    raw = seconds_between(end, start) - F.coalesce(_c(suspend).cast("bigint"), F.lit(0).cast("bigint"))
    return F.when(raw.isNull(), F.lit(None).cast("bigint")).otherwise(F.greatest(F.lit(0).cast("bigint"), raw))


def hours(sec_col: ColumnOrName) -> Column:
    """x_hours = ROUND_HALF_UP(sec / 3600, 2) as DECIMAL(10,2), computed in decimals from the exact seconds."""
    # sec/3600 at scale 6 never lands within 1e-6 below a .xx5 boundary (fractions are k/36), so no double rounding.
    return F.round(_c(sec_col).cast("decimal(38,6)") / F.lit(3600), 2).cast("decimal(10,2)")


def within_limit(sec: ColumnOrName, limit_hours: ColumnOrName) -> Column:
    """1 iff sec <= limit_hours × 3600, compared on exact seconds (README §7), never on rounded hours; NULL when
    either side is NULL."""
    return (_c(sec).cast("decimal(20,0)") <= _c(limit_hours) * F.lit(3600)).cast("tinyint")


# ---------------------------------------------------------------- threshold lookup L (silver.md §0.4, operations.md §2)

THRESHOLD_SCHEMA = ("kpi_code STRING, product_line STRING, order_type STRING, urgent_level STRING, urban_rural STRING, "
                    "valid_from DATE, valid_to DATE, limit_hours DECIMAL(10,2), target_rate DECIMAL(5,4), "
                    "remark STRING")
THRESHOLD_COLUMNS = ("kpi_code", "product_line", "order_type", "urgent_level", "urban_rural", "valid_from", "valid_to",
                     "limit_hours", "target_rate", "remark")
_THR_KEYS = ("product_line", "order_type", "urgent_level", "urban_rural")
_THR_ROW_REQUIRED = ("kpi_code", *_THR_KEYS)
_THR_ROW_OPTIONAL = ("limit_hours", "target_rate", "remark", "valid_from", "valid_to")


def _yaml_date(v: Any, where: str) -> _dt.date | None:
    """A yyyymmdd value (string or YAML int) as a date, so the seed file reads like the contract."""
    if v is None:
        return None
    try:
        return _dt.datetime.strptime(str(v), "%Y%m%d").date()
    except ValueError:
        raise ConfigError(f"{where}: {v!r} is not a yyyymmdd date") from None


def _yaml_decimal(v: Any, scale: int, where: str) -> Decimal | None:
    """A YAML number as an exact Decimal of the column's scale; anything finer is an error, not a silent rounding."""
    if v is None:
        return None
    if isinstance(v, bool):
        raise ConfigError(f"{where}: {v!r} is not a number")
    try:
        d = Decimal(str(v))
        q = d.quantize(Decimal(1).scaleb(-scale))
    except (InvalidOperation, ValueError):
        raise ConfigError(f"{where}: {v!r} is not a number") from None
    if q != d:
        raise ConfigError(f"{where}: {v!r} has more than {scale} decimals")
    return q


def load_threshold_rows(conf_dir: Path) -> list[dict]:
    """Read conf/thresholds.yaml (operations.md §2 seed) strictly: unknown keys are errors naming the key."""
    path = Path(conf_dir) / "thresholds.yaml"
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    d = _take(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, "thresholds.yaml",
              ("thresholds", "valid_from"), ("valid_to",))
    vf_all = _yaml_date(d["valid_from"], "thresholds.yaml.valid_from")
    vt_all = _yaml_date(d.get("valid_to"), "thresholds.yaml.valid_to")
    if not isinstance(d["thresholds"], list):
        raise ConfigError("thresholds.yaml.thresholds: expected a list")
    rows, seen = [], set()
    for i, r in enumerate(d["thresholds"]):
        where = f"thresholds.yaml:thresholds[{i}]"
        r = _take(r, where, _THR_ROW_REQUIRED, _THR_ROW_OPTIONAL)
        row = {k: str(r[k]) for k in _THR_ROW_REQUIRED}
        row["valid_from"] = _yaml_date(r["valid_from"], f"{where}.valid_from") if "valid_from" in r else vf_all
        row["valid_to"] = _yaml_date(r["valid_to"], f"{where}.valid_to") if "valid_to" in r else vt_all
        row["limit_hours"] = _yaml_decimal(r.get("limit_hours"), 2, f"{where}.limit_hours")
        row["target_rate"] = _yaml_decimal(r.get("target_rate"), 4, f"{where}.target_rate")
        row["remark"] = None if r.get("remark") is None else str(r["remark"])
        if row["limit_hours"] is None and row["target_rate"] is None:
            raise ConfigError(f"{where}: limit_hours or target_rate must be set")
        if row["valid_to"] is not None and row["valid_from"] > row["valid_to"]:
            raise ConfigError(f"{where}.valid_to: before valid_from")
        k = (*(row[c] for c in _THR_ROW_REQUIRED), row["valid_from"])
        if k in seen:
            raise ConfigError(f"{where}: duplicate key {k}")
        seen.add(k)
        rows.append(row)
    return rows


def threshold_seed(spark: SparkSession, conf_dir: Path | None = None) -> DataFrame:
    """dim_kpi_threshold seed rows (operations.md §2) from conf/thresholds.yaml, typed like the table."""
    rows = load_threshold_rows(Path(conf_dir) if conf_dir else DEFAULT_CONF_DIR)
    return spark.createDataFrame([tuple(r[n] for n in THRESHOLD_COLUMNS) for r in rows], THRESHOLD_SCHEMA)


def lookup_threshold(events: DataFrame, thresholds: DataFrame, kpi_code: str, *, out_limit: str, date_col: str,
                     product_line: str | None = None, order_type: str | None = None, urgent_level: str | None = None,
                     urban_rural: str | None = None, out_target: str | None = None) -> DataFrame:
    """L(kpi, pl, ot, ul, ur, d): the most specific valid threshold row per event, or NULL;
    keeps every event row once."""
    # The table is tiny: fold the kpi's rows into ONE array row, broadcast-cross-join it, and pick per event with
    # higher-order functions. Exactly one output row per event by construction: no row id, no shuffle, no regroup.
    cand = (thresholds.where(F.col("kpi_code") == F.lit(kpi_code))
            .agg(F.collect_list(F.struct(
                *[F.col(c).alias(c) for c in _THR_KEYS],
                F.col("valid_from").cast("date").alias("vf"), F.col("valid_to").cast("date").alias("vt"),
                F.col("limit_hours").cast("decimal(10,2)").alias("lh"),
                F.col("target_rate").cast("decimal(5,4)").alias("tr"))).alias("__thr")))
    d = F.to_date(F.col(date_col))
    ev_vals = {"product_line": product_line, "order_type": order_type, "urgent_level": urgent_level,
               "urban_rural": urban_rural}

    def key_match(t: Column, k: str) -> Column:
        star = t[k] == F.lit("*")
        arg = ev_vals[k]
        return star if arg is None else (star | (F.col(arg).isNotNull() & (t[k] == F.col(arg))))

    def applies(t: Column) -> Column:
        ok = (t["vf"] <= d) & (t["vt"].isNull() | (d <= t["vt"]))
        for k in _THR_KEYS:
            ok = ok & key_match(t, k)
        return F.coalesce(ok, F.lit(False))

    def scored(t: Column) -> Column:
        score = sum((F.when(t[k] != F.lit("*"), F.lit(w)).otherwise(F.lit(0))
                     for k, w in zip(_THR_KEYS, (8, 4, 2, 1), strict=True)), F.lit(0))
        return F.struct(score.alias("s"), t["lh"].alias("lh"), t["tr"].alias("tr"))

    best = F.array_max(F.transform(F.filter(F.col("__thr"), applies), scored))
    out = events.crossJoin(F.broadcast(cand)).withColumn("__thr_best", best)
    out = out.withColumn(out_limit, F.col("__thr_best.lh"))
    if out_target:
        out = out.withColumn(out_target, F.col("__thr_best.tr"))
    return out.drop("__thr", "__thr_best")


# ---------------------------------------------------------------- cross-row windows (silver.md §0.5, README §8)

US = 1_000_000


def epoch_micros(col: ColumnOrName) -> Column:
    """Epoch microseconds, so window bounds are exact integers (README §8: N h = N×3600 s exactly)."""
    return F.unix_micros(_c(col).cast("timestamp"))


def _wpart(partition_col: str, key_col: str) -> Column:
    """Window partition value; NULL partitions are spread by key (they see no other row) instead of forming
    one hot group."""
    return (F.when(F.col(partition_col).isNull(), F.concat(F.lit("\u0000"), F.col(key_col).cast("string")))
            .otherwise(F.col(partition_col).cast("string")))


def _finish(flag: Column, partition_col: str, applies: Column | None, null_partition: int | None,
            dtype: str = "tinyint") -> Column:
    """Common result shape: NULL where the rule does not apply, null_partition where there is no partition value."""
    res = F.when(F.col(partition_col).isNull(), F.lit(null_partition).cast(dtype)).otherwise(flag.cast(dtype))
    if applies is not None:
        res = F.when(F.coalesce(applies, F.lit(False)), res).otherwise(F.lit(None).cast(dtype))
    return res


def _eligible(eligible: Column | None, partition_col: str, time_col: str) -> Column:
    """A row can be 'another row' only with a partition value, a time, and the caller's eligibility."""
    base = F.col(partition_col).isNotNull() & F.col(time_col).isNotNull()
    return base if eligible is None else base & F.coalesce(eligible, F.lit(False))


def earlier_within(df: DataFrame, partition_col: str, time_col: str, key_col: str, seconds: int, out: str,
                   eligible: Column | None = None, *, applies: Column | None = None,
                   null_partition: int | None = 0) -> DataFrame:
    """out = 1 iff an eligible row of the same partition is earlier by (time, key) with time >= t − seconds
    (e.g. is_dup_24h)."""
    # max eligible time over the strictly-earlier rows (rows frame) >= t − N  <=>  such a row exists in [t − N, t].
    el = _eligible(eligible, partition_col, time_col)
    w = (Window.partitionBy("__w_p").orderBy(F.col("__w_t").asc_nulls_first(), F.col(key_col).asc_nulls_first())
         .rowsBetween(Window.unboundedPreceding, -1))
    prev = F.max(F.when(el, F.col("__w_t"))).over(w)
    flag = F.coalesce(prev >= F.col("__w_t") - F.lit(seconds * US), F.lit(False))
    return (df.withColumn("__w_p", _wpart(partition_col, key_col)).withColumn("__w_t", epoch_micros(time_col))
            .withColumn(out, _finish(flag, partition_col, applies, null_partition))
            .drop("__w_p", "__w_t"))


def later_within(df: DataFrame, partition_col: str, time_col: str, key_col: str, seconds: int, out: str,
                 eligible: Column | None = None, *, applies: Column | None = None,
                 null_partition: int | None = 0) -> DataFrame:
    """out = 1 iff an eligible row of the same partition is later by (time, key) with time <= t + seconds
    (e.g. is_repeat_48h)."""
    el = _eligible(eligible, partition_col, time_col)
    w = (Window.partitionBy("__w_p").orderBy(F.col("__w_t").asc_nulls_first(), F.col(key_col).asc_nulls_first())
         .rowsBetween(1, Window.unboundedFollowing))
    nxt = F.min(F.when(el, F.col("__w_t"))).over(w)
    flag = F.coalesce(nxt <= F.col("__w_t") + F.lit(seconds * US), F.lit(False))
    return (df.withColumn("__w_p", _wpart(partition_col, key_col)).withColumn("__w_t", epoch_micros(time_col))
            .withColumn(out, _finish(flag, partition_col, applies, null_partition))
            .drop("__w_p", "__w_t"))


def count_earlier_within(df: DataFrame, partition_col: str, time_col: str, key_col: str, seconds: int, out: str,
                         eligible: Column | None = None, *, applies: Column | None = None,
                         null_partition: int | None = 0) -> DataFrame:
    """out = number of eligible rows earlier by (time, key) with time >= t − seconds (INT; e.g. repeat_cnt_30d)."""
    # earlier-by-(time, key) eligible rows of any age (rows frame) minus the eligible rows older than the window
    # (range frame up to t − N − 1 µs; all of them are earlier). Both windows partition by p only, and the (t, key)
    # window runs first, so one shuffle and one sort (p, t, key) serve both; ties at equal time are exact.
    el = _eligible(eligible, partition_col, time_col)
    one = F.when(el, F.lit(1))
    w_rows = (Window.partitionBy("__w_p").orderBy(F.col("__w_t").asc_nulls_first(), F.col(key_col).asc_nulls_first())
              .rowsBetween(Window.unboundedPreceding, -1))
    w_old = (Window.partitionBy("__w_p").orderBy(F.col("__w_t").asc_nulls_first())
             .rangeBetween(Window.unboundedPreceding, -seconds * US - 1))
    cnt = F.when(F.col("__w_t").isNull(), F.lit(0)).otherwise(F.col("__w_earlier") - F.count(one).over(w_old))
    return (df.withColumn("__w_p", _wpart(partition_col, key_col)).withColumn("__w_t", epoch_micros(time_col))
            .withColumn("__w_earlier", F.count(one).over(w_rows))
            .withColumn(out, _finish(cnt, partition_col, applies, null_partition, "int"))
            .drop("__w_p", "__w_t", "__w_earlier"))


def exists_other_in_range(df: DataFrame, partition_col: str, key_col: str, probe_time_col: str, other_time_col: str,
                          lower_seconds: int, out: str, eligible_other: Column | None = None,
                          pick_col: str | None = None, pick_out: str | None = None, *,
                          applies: Column | None = None, null_partition: int | None = 0) -> DataFrame:
    """out = 1 iff ANOTHER eligible row g of the partition has other_time in [probe − N, probe) (e.g. is_repeat_30d);
    pick_out = g's pick_col for the g with the greatest (other_time, key) (e.g. prev_fault_id)."""
    # Instead of a quadratic self-join per number, union each row's probe point (its probe time) with each eligible
    # row's 'other' point (its other time) and scan once per partition in (time, kind, key) order; others at exactly the
    # probe time sort after the probe (upper bound exclusive). The greatest earlier 'other' point can be the row itself
    # (inverted source times); then the answer is the best point before the row's own 'other' point, fetched through a
    # second window on (partition, key) that reuses the same shuffle.
    if (pick_col is None) != (pick_out is None):
        raise ValueError("exists_other_in_range: pass both pick_col and pick_out, or neither")
    pick_type = df.schema[pick_col].dataType if pick_col else T.StringType()
    other_el = _eligible(eligible_other, partition_col, other_time_col)
    probe = (df.withColumn("__x_p", _wpart(partition_col, key_col)).withColumn("__x_k", F.col(key_col))
             .withColumn("__x_t", epoch_micros(probe_time_col)).withColumn("__x_kind", F.lit(0))
             .withColumn("__x_o", F.lit(None).cast(T.StructType([
                 T.StructField("t", T.LongType()), T.StructField("k", df.schema[key_col].dataType),
                 T.StructField("v", pick_type)]))))
    other = (df.where(other_el)
             .select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in df.schema.fields],
                     F.col(partition_col).cast("string").alias("__x_p"), F.col(key_col).alias("__x_k"),
                     epoch_micros(other_time_col).alias("__x_t"), F.lit(1).alias("__x_kind"),
                     F.struct(epoch_micros(other_time_col).alias("t"), F.col(key_col).alias("k"),
                              (F.col(pick_col) if pick_col else F.lit(None).cast(pick_type)).alias("v"))
                     .alias("__x_o")))
    u = probe.unionByName(other)
    w1 = (Window.partitionBy("__x_p").orderBy(F.col("__x_t").asc_nulls_first(), "__x_kind", "__x_k")
          .rowsBetween(Window.unboundedPreceding, -1))
    w2 = Window.partitionBy("__x_p", "__x_k")
    u = u.withColumn("__x_prev", F.max("__x_o").over(w1))
    u = u.withColumn("__x_self_prev", F.max(F.when(F.col("__x_kind") == 1, F.col("__x_prev"))).over(w2))
    best = F.when(F.col("__x_prev.k") == F.col("__x_k"), F.col("__x_self_prev")).otherwise(F.col("__x_prev"))
    u = u.where(F.col("__x_kind") == 0).withColumn("__x_best", best)
    hit = F.coalesce(F.col("__x_best.t") >= F.col("__x_t") - F.lit(lower_seconds * US), F.lit(False))
    u = u.withColumn(out, _finish(hit, partition_col, applies, null_partition))
    if pick_out:
        picked = F.when(hit, F.col("__x_best.v"))
        if applies is not None:
            picked = F.when(F.coalesce(applies, F.lit(False)), picked)
        u = u.withColumn(pick_out, picked)
    return u.drop("__x_p", "__x_k", "__x_t", "__x_kind", "__x_o", "__x_prev", "__x_self_prev", "__x_best")
