"""Shared silver mechanics against silver.md §0, sources.md §1.5, README §7–§9 and operations.md §2,
on tiny literal frames."""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from csqm.config import DEFAULT_CONF_DIR, ConfigError
from csqm.silver.common import (
    ScopedSnapshots,
    count_earlier_within,
    current_state,
    earlier_within,
    enrich,
    exists_other_in_range,
    fen_to_yuan,
    hours,
    later_within,
    load_threshold_rows,
    lookup_threshold,
    net_seconds,
    pii_block,
    prev_month_id,
    seconds_between,
    threshold_seed,
    with_ref_month,
    yyyymm,
    yyyymmdd,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

SALT = "test-salt"


def frame(spark, rows: list[tuple], ddl: str, ts: tuple[str, ...] = (), dates: tuple[str, ...] = ()) -> DataFrame:
    """A literal frame; timestamp/date columns are given as strings and cast in the session time zone
    (Asia/Shanghai)."""
    df = spark.createDataFrame(rows, ddl)
    for c in ts:
        df = df.withColumn(c, F.col(c).cast("timestamp"))
    for c in dates:
        df = df.withColumn(c, F.col(c).cast("date"))
    return df


def eq(actual: DataFrame, expected: DataFrame) -> None:
    """Row-order-free equality with exact types (nullability aside)."""
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# ---------------------------------------------------------------- current state


def test_current_state_picks_greatest_update_time_then_batch_date_seq_line(spark):
    rows = [
        # A: a later update_time wins although an older version was delivered later (a3, batch 0305)
        ("A", 1, "2013-03-01 10:00:00", "20130301", 1, 5), ("A", 2, "2013-03-01 12:00:00", "20130302", 1, 6),
        ("A", 3, "2013-03-01 11:00:00", "20130305", 2, 1),
        # B: same update_time -> greater day_id
        ("B", 4, "2013-03-01 10:00:00", "20130301", 3, 9), ("B", 5, "2013-03-01 10:00:00", "20130302", 1, 1),
        # C: same update_time and day -> greater _file_seq
        ("C", 6, "2013-03-01 10:00:00", "20130302", 1, 100), ("C", 7, "2013-03-01 10:00:00", "20130302", 2, 1),
        # D: same update_time, day and seq -> greater _line_no
        ("D", 8, "2013-03-01 10:00:00", "20130302", 1, 7), ("D", 9, "2013-03-01 10:00:00", "20130302", 1, 8),
        # E: a single version with NULL payload stays
        ("E", None, "2013-03-01 10:00:00", "20130301", 1, 1),
    ]
    df = frame(spark, rows, "k STRING, v INT, update_time STRING, day_id STRING, _file_seq INT, _line_no BIGINT",
               ts=("update_time",))
    expected = df.where(F.col("v").isin(2, 5, 7, 9) | F.col("v").isNull())
    eq(current_state(df, ["k"]), expected)


# ---------------------------------------------------------------- PII block P


def test_pii_block_hashes_and_masks(spark):
    rows = [(1, "13312345678", "37010219800101123X"), (2, "1234567", "ab"), (3, "12345678", None),
            (4, None, "号码12345678"), (5, "abc号码12345", "")]
    df = spark.createDataFrame(rows, "id INT, acc_nbr STRING, cert_nbr STRING")

    def h(v: str | None) -> str | None:
        return None if v is None else hashlib.sha256((SALT + v).encode("utf-8")).hexdigest()

    masks = {"13312345678": "133****5678", "1234567": "****", "12345678": "123****5678", None: None,
             "37010219800101123X": "370****123X", "ab": "****", "号码12345678": "号码1****5678",
             "abc号码12345": "abc****2345", "": "****"}
    expected = spark.createDataFrame(
        [(i, h(a), masks[a], h(c), masks[c]) for i, a, c in rows],
        "id INT, acc_nbr_hash STRING, acc_nbr_mask STRING, cert_nbr_hash STRING, cert_nbr_mask STRING")
    out = df.transform(pii_block, "acc_nbr", salt=SALT).transform(pii_block, "cert_nbr", "cert_nbr", SALT)
    eq(out, expected)
    with pytest.raises(ValueError, match="salt"):
        pii_block(df, "acc_nbr")


# ---------------------------------------------------------------- month, durations, money


def test_months_durations_hours_and_money(spark):
    rows = [  # id, business time, month_id, start, end, suspend, fen
        (1, "2013-01-01 00:00:00", "201301", "2013-03-01 10:00:00", "2013-03-01 11:29:59", None, 12345),  # 5399 s
        (2, "2013-03-31 23:59:59", "201212", "2013-03-01 10:00:00", "2013-03-01 10:29:59", 0, -5),  # 1799 s
        (3, "2013-12-15 08:00:00", "201312", "2013-03-01 10:00:00", "2013-03-01 10:00:18", None, 999999999999999),
        (4, "2013-02-28 12:00:00", "201302", "2013-03-01 10:00:00", "2013-03-01 10:00:17", 5, 0),  # 17 s
        (5, None, None, "2013-03-01 10:00:00", None, 5, None),  # open: everything NULL
        (6, "2013-02-01 00:00:00", "201301", "2013-03-01 10:00:30", "2013-03-01 10:00:00", None, 1),  # inverted
        (7, "2013-02-01 00:00:00", "201301", "2013-03-01 10:00:00", "2013-03-01 10:01:40", 200, 100),  # clipped
        (8, "2013-02-01 00:00:00", "201301", "2013-02-28 23:00:00", "2013-03-02 01:00:00", 3600, 150),  # 26h − 1h
    ]
    df = frame(spark, rows, "id INT, bt STRING, m STRING, s STRING, e STRING, susp BIGINT, fen BIGINT",
               ts=("bt", "s", "e"))
    out = (df.transform(with_ref_month, "bt")
           .select("id", "ref_month_id", prev_month_id("m").alias("prev_m"), yyyymmdd("bt").alias("day_id"),
                   yyyymm(F.col("bt")).alias("month_id"), seconds_between("e", "s").alias("sec"),
                   net_seconds("e", "s", "susp").alias("net_sec"),
                   hours(net_seconds("e", "s", "susp")).alias("net_hours"), fen_to_yuan("fen").alias("yuan")))
    D = Decimal
    expected = spark.createDataFrame([
        (1, "201212", "201212", "20130101", "201301", 5399, 5399, D("1.50"), D("123.45")),
        (2, "201302", "201211", "20130331", "201303", 1799, 1799, D("0.50"), D("-0.05")),
        (3, "201311", "201311", "20131215", "201312", 18, 18, D("0.01"), D("9999999999999.99")),
        (4, "201301", "201301", "20130228", "201302", 17, 12, D("0.00"), D("0.00")),
        (5, None, None, None, None, None, None, None, None),
        (6, "201301", "201212", "20130201", "201302", -30, 0, D("0.00"), D("0.01")),
        (7, "201301", "201212", "20130201", "201302", 100, 0, D("0.00"), D("1.00")),
        (8, "201301", "201212", "20130201", "201302", 93600, 90000, D("25.00"), D("1.50")),
    ], "id INT, ref_month_id STRING, prev_m STRING, day_id STRING, month_id STRING, sec BIGINT, net_sec BIGINT, "
       "net_hours DECIMAL(10,2), yuan DECIMAL(18,2)")
    eq(out, expected)


# ---------------------------------------------------------------- enrichment block E

SUBS_DDL = ("month_id STRING, prod_inst_id STRING, acc_nbr_hash STRING, cust_id STRING, city_code STRING, "
            "county_code STRING, urban_rural STRING, product_line STRING, cust_segment STRING, cust_segment_l2 STRING, "
            "vip_level STRING, pay_type STRING, offer_id STRING, offer_type STRING, tenure_months BIGINT, "
            "is_arrive TINYINT")
P1 = ("C1", "0531", "370102", "U", "BB", "PUB", "PUB_HOME", "GOLD", "POST", "OF1", "SINGLE", 30)
P0 = ("C2", "0532", "370202", "R", "MOB", "GOV", "GOV_SME", "NORMAL", "PRE", "OF2", "BUNDLE", 5)
P9 = ("C3", "0531", "370103", "U", "FIX", "PUB", "PUB_IND", "SILVER", "POST", "UNK", "UNK", 70)
UNKNOWN = (None, "9999", "999999", "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", None)


@pytest.mark.parametrize("scoped", [False, True], ids=["full-build", "scoped-build"])
def test_enrich_matches_by_prod_then_number_with_own_values_and_geography(spark, scoped):
    """A scoped build (ScopedSnapshots: only the snapshot rows the events can match) enriches exactly like a full one;
    H2 has two snapshot rows, and the smallest prod_inst_id must still win."""
    subs = spark.createDataFrame([
        ("201302", "P1", "H1", *P1, 1), ("201302", "P0", "H2", *P0, 1), ("201302", "P9", "H2", *P9, 1),
        ("201301", "P5", "H3", *P9, 1), ("201302", "P7", None, *P9, 0),
    ], SUBS_DDL)
    events = spark.createDataFrame([
        # ev_id, prod_inst_id, acc_nbr_hash, ref_month_id, own: cust_id, city_code, county_code, urban_rural,
        # product_line; vip_level is not an own field of this interface (replaced)
        ("e1", "P1", "Hx", "201302", "CX", None, None, None, None, "DIAMOND"),   # by prod, own cust_id wins
        ("e2", None, "H2", "201302", None, "0532", None, None, "FIX", None),      # by number: smallest P0, same city
        ("e3", "P404", "H2", "201302", None, "0531", None, None, None, None),    # prod missing -> number; other city
        ("e4", None, "H3", "201302", None, None, None, None, None, None),        # H3 only in 201301 -> no match
        ("e5", "P1", None, "201302", None, "0532", "370299", None, "DL", None),  # other city, own county kept
        ("e6", None, None, None, None, None, None, None, None, "GOLD"),           # nothing to match
    ], "ev_id STRING, prod_inst_id STRING, acc_nbr_hash STRING, ref_month_id STRING, cust_id STRING, "
       "city_code STRING, county_code STRING, urban_rural STRING, product_line STRING, vip_level STRING")
    own = ("cust_id", "city_code", "county_code", "urban_rural", "product_line")
    out = enrich(events, ScopedSnapshots(subs) if scoped else subs, own)

    def e(ev, prod, h, ref, attrs):
        return (ev, prod, h, ref, *attrs)

    expected = spark.createDataFrame([
        e("e1", "P1", "Hx", "201302", ("CX", *P1[1:])),
        e("e2", None, "H2", "201302", (*P0[:4], "FIX", *P0[5:])),
        e("e3", "P404", "H2", "201302", ("C2", "0531", "999999", "UNK", *P0[4:])),
        e("e4", None, "H3", "201302", UNKNOWN),
        e("e5", "P1", None, "201302", ("C1", "0532", "370299", "UNK", "DL", *P1[5:])),
        e("e6", None, None, None, UNKNOWN),
    ], "ev_id STRING, prod_inst_id STRING, acc_nbr_hash STRING, ref_month_id STRING, cust_id STRING, "
       "city_code STRING, county_code STRING, urban_rural STRING, product_line STRING, cust_segment STRING, "
       "cust_segment_l2 STRING, vip_level STRING, pay_type STRING, offer_id STRING, offer_type STRING, "
       "tenure_months BIGINT")
    assert out.columns == expected.columns
    eq(out, expected)


@pytest.mark.parametrize("scoped", [False, True], ids=["full-build", "scoped-build"])
def test_enrich_reads_only_the_snapshot_months_its_events_refer_to(spark, tmp_path, scoped):
    """A build must not scan (and shuffle) snapshot months none of its events can match: with the file of the other
    month deleted behind Delta's back, a scan of it would fail."""
    subs = spark.createDataFrame([("201302", "P1", "H1", *P1, 1), ("201301", "P1", "H1", *P0, 1)], SUBS_DDL)
    path = str(tmp_path / "slv_subscriber_m")
    subs.write.format("delta").partitionBy("month_id").save(path)
    for f in (tmp_path / "slv_subscriber_m" / "month_id=201301").glob("*.parquet"):
        f.unlink()
    events = spark.createDataFrame([("e1", "P1", "Hx", "201302")],
                                   "ev_id STRING, prod_inst_id STRING, acc_nbr_hash STRING, ref_month_id STRING")
    snapshots = spark.read.format("delta").load(path)
    out = enrich(events, ScopedSnapshots(snapshots) if scoped else snapshots, ())
    assert [tuple(r) for r in out.collect()] == [("e1", "P1", "Hx", "201302", *P1)]


# ---------------------------------------------------------------- thresholds L


def test_threshold_seed_file_transcribes_operations_2(tmp_path: Path):
    rows = load_threshold_rows(DEFAULT_CONF_DIR)
    assert len(rows) == 21
    assert {r["valid_from"] for r in rows} == {dt.date(2010, 1, 1)} and {r["valid_to"] for r in rows} == {None}
    by = {(r["kpi_code"], r["product_line"], r["order_type"], r["urgent_level"], r["urban_rural"]): r for r in rows}
    assert by[("FAULT_REPAIR", "DL", "*", "*", "*")]["limit_hours"] == Decimal("4.00")
    assert by[("ORDER_COMPLETE", "*", "MOVE", "*", "R")]["limit_hours"] == Decimal(120)
    assert by[("FAULT_REPAIR_REG", "*", "*", "*", "R")]["target_rate"] is None
    sl20 = by[("HOTLINE_SL20", "*", "*", "*", "*")]
    assert sl20["limit_hours"] is None and sl20["target_rate"] == Decimal("0.8")
    (tmp_path / "thresholds.yaml").write_text(
        'valid_from: "20100101"\nthresholds:\n  - {kpi_code: X, product_line: "*", order_type: "*", '
        'urgent_level: "*", urban_rural: "*", limit_hours: 1, colour: red}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        load_threshold_rows(tmp_path)
    (tmp_path / "thresholds.yaml").write_text('valid_from: "20100101"\nthresholdz: []\nthresholds: []\n',
                                              encoding="utf-8")
    with pytest.raises(ConfigError, match="thresholdz"):
        load_threshold_rows(tmp_path)


def test_lookup_threshold_examples_and_validity(spark):
    seed = threshold_seed(spark)
    assert seed.schema.simpleString() == (
        "struct<kpi_code:string,product_line:string,order_type:string,urgent_level:string,urban_rural:string,"
        "valid_from:date,valid_to:date,limit_hours:decimal(10,2),target_rate:decimal(5,4),remark:string>")
    extra = frame(spark, [  # validity bounds: X until 2013-01-31 (inclusive), a rural row from 2013-02-01
        ("X_TEST", "*", "*", "*", "*", "2013-01-01", "2013-01-31", Decimal(1), None, "jan"),
        ("X_TEST", "*", "*", "*", "R", "2013-02-01", None, Decimal(2), None, "rural from feb"),
    ], "kpi_code STRING, product_line STRING, order_type STRING, urgent_level STRING, urban_rural STRING, "
       "valid_from STRING, valid_to STRING, limit_hours DECIMAL(10,2), target_rate DECIMAL(5,4), remark STRING",
        dates=("valid_from", "valid_to"))
    thr = seed.unionByName(extra)
    events = frame(spark, [
        # id, accept_time, product_line, order_type, urgent_level, urban_rural
        (1, "2013-03-01 10:00:00", "MOB", "NEW", "URGENT", "R"),    # fault 48 (8 beats 1); NEW R 120; X 2
        (2, "2013-03-01 10:00:00", "DL", "CHG", "NORMAL", "U"),     # fault 4; CHG: no row -> NULL
        (3, "2013-03-01 10:00:00", "FIX", "MOVE", None, "R"),       # fault 48 (rural); MOVE R 120; proc NULL
        (4, "2013-03-01 10:00:00", "BB", "NEW", "URGENT", "UNK"),   # fault 24 catch-all; NEW UNK 72
        (5, "2013-03-01 10:00:00", "BB", "MOVE", "NORMAL", "U"),    # 24; MOVE U 72
        (5, "2013-03-01 10:00:00", "BB", "MOVE", "NORMAL", "U"),    # a duplicate event row stays twice
        (6, "2013-03-01 10:00:00", None, None, None, None),         # catch-all only; order NULL
        (7, None, "MOB", "NEW", "URGENT", "R"),                     # no date -> NULL
        (8, "2009-12-31 23:59:59", "MOB", "NEW", "URGENT", "R"),    # before valid_from -> NULL
        (9, "2013-01-31 23:59:59", None, None, None, "R"),          # X: last valid day -> 1
        (10, "2013-02-01 00:00:00", None, None, None, "R"),         # X: rural row -> 2
        (11, "2013-02-01 00:00:00", None, None, None, "U"),         # X: jan row expired, no rural -> NULL
        (12, "2013-01-01 00:00:00", None, None, None, "U"),         # X: first valid day -> 1
        (13, "2012-12-31 23:59:59", None, None, None, "U"),         # X: before -> NULL
    ], "id INT, accept_time STRING, pl STRING, ot STRING, ul STRING, ur STRING", ts=("accept_time",))
    out = (events
           .transform(lookup_threshold, thr, "FAULT_REPAIR", out_limit="flt", out_target="flt_t",
                      date_col="accept_time", product_line="pl", urban_rural="ur")
           .transform(lookup_threshold, thr, "ORDER_COMPLETE", out_limit="ord", date_col="accept_time",
                      product_line="pl", order_type="ot", urban_rural="ur")
           .transform(lookup_threshold, thr, "CMPL_PROC", out_limit="proc", date_col="accept_time",
                      product_line="pl", urgent_level="ul")
           .transform(lookup_threshold, thr, "FAULT_REPAIR_REG", out_limit="reg", out_target="reg_t",
                      date_col="accept_time", product_line="pl", urban_rural="ur")
           .transform(lookup_threshold, thr, "X_TEST", out_limit="x", date_col="accept_time", urban_rural="ur")
           .transform(lookup_threshold, thr, "NO_SUCH_KPI", out_limit="none", date_col="accept_time")
           .drop("accept_time", "pl", "ot", "ul", "ur"))
    D, N = Decimal, None
    t95 = D("0.9500")
    expected = spark.createDataFrame([
        (1, D(48), t95, D(120), D(24), D(72), N, D(2)),
        (2, D(4), t95, N, D(48), D(48), N, N),
        (3, D(48), t95, D(120), N, D(72), N, D(2)),
        (4, D(24), t95, D(72), D(24), D(48), N, N),
        (5, D(24), t95, D(72), D(48), D(48), N, N),
        (5, D(24), t95, D(72), D(48), D(48), N, N),
        (6, D(24), t95, N, N, D(48), N, N),
        (7, N, N, N, N, N, N, N),
        (8, N, N, N, N, N, N, N),
        (9, D(48), t95, N, N, D(72), N, D(1)),
        (10, D(48), t95, N, N, D(72), N, D(2)),
        (11, D(24), t95, N, N, D(48), N, N),
        (12, D(24), t95, N, N, D(48), N, D(1)),
        (13, D(24), t95, N, N, D(48), N, N),
    ], "id INT, flt DECIMAL(10,2), flt_t DECIMAL(5,4), ord DECIMAL(10,2), proc DECIMAL(10,2), reg DECIMAL(10,2), "
       "reg_t DECIMAL(5,4), x DECIMAL(10,2)").withColumn("none", F.lit(None).cast("decimal(10,2)"))  # no rows at all
    eq(out, expected)


# ---------------------------------------------------------------- windows

T0 = dt.datetime(2013, 3, 31, 12, 0, 0)


def at(**delta: float) -> str:
    """T0 shifted by a timedelta, as a timestamp string."""
    return (T0 + dt.timedelta(**delta)).strftime("%Y-%m-%d %H:%M:%S")


def test_earlier_later_and_count_windows_exact_bounds_and_ties(spark):
    H = 3600
    rows = [  # id, partition, time, eligible -> expected dup(24h, applies eligible), cnt(24h), rep(48h)
        ("x1", "P1", at(), 1, 0, 0, 1), ("x2", "P1", at(hours=24), 1, 1, 1, 0),  # exactly 24h: inside
        ("tn", "P1", None, 1, 0, 0, 0),  # no time: never another row, itself 0
        ("y1", "P2", at(), 1, 0, 0, 1), ("y2", "P2", at(hours=24, seconds=1), 1, 0, 0, 0),  # 24h+1s: outside
        ("z1", "P3", at(), 1, 0, 0, 1), ("z2", "P3", at(), 1, 1, 1, 0),  # same time: smaller key is earlier
        ("w1", "P4", at(), 0, None, 0, 1), ("w2", "P4", at(hours=1), 1, 0, 0, 0),  # ineligible earlier row ignored
        ("v1", "P5", at(), 1, 0, 0, 1), ("v2", "P5", at(hours=1), 1, 1, 1, 1),
        ("v3", "P5", at(hours=2), 1, 1, 2, 1), ("v4", "P5", at(hours=2), 1, 1, 3, 1),
        ("v5", "P5", at(hours=25), 1, 1, 3, 0),  # [T0+1h, T0+25h]: v2 on the edge counts, v1 not
        ("u1", "P6", at(), 1, 0, 0, 1), ("u2", "P6", at(hours=48), 1, 0, 0, 0),  # later exactly 48h: inside
        ("s1", "P7", at(), 1, 0, 0, 0), ("s2", "P7", at(hours=48, seconds=1), 1, 0, 0, 0),  # 48h+1s: outside
        ("n1", None, at(), 1, 0, 0, 0), ("n2", None, at(minutes=1), 1, 0, 0, 0),  # NULL partitions never pair
    ]
    df = frame(spark, [r[:4] for r in rows], "id STRING, h STRING, t STRING, ok INT", ts=("t",))
    el = F.col("ok") == 1
    out = (df.transform(earlier_within, "h", "t", "id", 24 * H, "dup", el, applies=el)
           .transform(count_earlier_within, "h", "t", "id", 24 * H, "cnt", el)
           .transform(later_within, "h", "t", "id", 48 * H, "rep", el)
           .select("id", "dup", "cnt", "rep"))
    expected = spark.createDataFrame([(r[0], r[4], r[5], r[6]) for r in rows],
                                     "id STRING, dup TINYINT, cnt INT, rep TINYINT")
    eq(out, expected)


def test_exists_other_in_range_excludes_self_and_picks_greatest(spark):
    rows = [  # id, partition, accept, close, eligible-as-g, valid -> expected flag, pick
        ("a1", "A", at(days=-40), at(days=-30), 1, 1, 0, None),
        ("a2", "A", at(), None, 0, 1, 1, "a1"),  # close exactly accept − 720 h: inside
        ("b1", "B", at(days=-40), at(days=-30, seconds=-1), 1, 1, 0, None),
        ("b2", "B", at(), None, 0, 1, 0, None),  # 720 h + 1 s before: outside
        ("c1", "C", at(days=-5), at(), 1, 1, 1, "c3b"),  # its own close is after its accept
        ("c2", "C", at(days=-3), at(days=-1), 0, 0, None, None),  # not valid: NULL; not eligible as g
        ("c3", "C", at(days=-20), at(days=-10), 1, 1, 0, None),
        ("c3b", "C", at(days=-15), at(days=-10), 1, 1, 0, None),  # same close as c3, greater key
        ("c4", "C", at(), None, 0, 1, 1, "c3b"),  # c1 closes exactly at c4's accept: upper bound open
        ("d1", "D", at(), at(hours=-1), 1, 1, 1, "d2"),  # inverted times: itself is never 'another' fault
        ("d2", "D", at(days=-3), at(days=-2), 1, 1, 0, None),
        ("e1", "E", at(), at(hours=-1), 1, 1, 0, None),
        ("n1", None, at(), at(days=-1), 1, 1, 0, None), ("n2", None, at(hours=1), None, 0, 1, 0, None),
    ]
    df = frame(spark, [r[:6] for r in rows],
               "fault_id STRING, h STRING, accept_time STRING, close_time STRING, g_ok INT, valid INT",
               ts=("accept_time", "close_time"))
    out = (df.transform(exists_other_in_range, "h", "fault_id", "accept_time", "close_time", 720 * 3600,
                        "is_repeat_30d", F.col("g_ok") == 1, "fault_id", "prev_fault_id",
                        applies=F.col("valid") == 1)
           .select("fault_id", "is_repeat_30d", "prev_fault_id"))
    expected = spark.createDataFrame([(r[0], r[6], r[7]) for r in rows],
                                     "fault_id STRING, is_repeat_30d TINYINT, prev_fault_id STRING")
    eq(out, expected)
