"""Roll-ups follow gold.md §0 (Σnum/Σden, MTD = last day, user-base dens once per user key) and a broken identity
fails the gold run with a message naming identity, partition and both sides."""
from __future__ import annotations

import pytest
from csqm import io
from csqm.errors import JobFailed
from csqm.gold import reconcile
from csqm.gold.engine import schema_of
from csqm.gold.rollup import rollup

K = {"product_line": "MOB", "channel_type": "HOTLINE", "cmpl_phen_l1": "NET"}


def _with_rates(df, t):
    """Rates as gold.md §0 states them, so the rows are consistent (RC05 passes)."""
    from pyspark.sql import functions as F

    for m in (m for m in t.metrics if m.kind == "RATIO"):
        c = m.code.lower()
        rate = F.col(f"{c}_num").cast("double") / F.col(f"{c}_den").cast("double") * F.lit(m.scale_mult)
        df = df.withColumn(f"{c}_rate", F.when(F.col(f"{c}_den") != 0, rate))
    return df


def _rows(gold_rows, catalog):
    ten = {"cmpl_per_10k_den": 4}
    return _with_rates(gold_rows("gld_complaint_d", [
        # two channels of one user key (PUB) on day 1: the user base 4 must be counted once
        {**K, "day_id": "20130101", "city_code": "0531", "cust_segment": "PUB", "cmpl_cnt": 1,
         "cmpl_per_10k_num": 1, **ten, "cmpl_repeat_num": 1, "cmpl_repeat_den": 1},
        {**K, "day_id": "20130101", "city_code": "0531", "cust_segment": "PUB", "channel_type": "HALL",
         "cmpl_cnt": 2, "cmpl_per_10k_num": 2, **ten, "cmpl_repeat_num": 0, "cmpl_repeat_den": 2},
        # another user key of the same city
        {**K, "day_id": "20130101", "city_code": "0531", "cust_segment": "GOV", "cmpl_cnt": 1,
         "cmpl_per_10k_num": 1, "cmpl_per_10k_den": 6, "cmpl_repeat_den": 1},
        # day 2: MTD carries 1 + 1 new on the PUB hotline row
        {**K, "day_id": "20130102", "city_code": "0531", "cust_segment": "PUB", "cmpl_cnt": 1,
         "cmpl_per_10k_num": 2, **ten, "cmpl_repeat_den": 1},
    ]), catalog.table("gld_complaint_d"))


def test_city_rollup_counts_user_base_once_per_user_key(gold_rows, catalog):
    t = catalog.table("gld_complaint_d")
    got = {r.day_id: r for r in rollup(_rows(gold_rows, catalog), t, ["day_id", "city_code"]).collect()}
    d1 = got["20130101"]
    assert (d1.cmpl_cnt, d1.cmpl_per_10k_num, d1.cmpl_per_10k_den) == (4, 4, 10)     # den 4 (PUB) + 6 (GOV)
    assert d1.cmpl_per_10k_rate == pytest.approx(4 / 10 * 1e4)
    assert (d1.cmpl_repeat_num, d1.cmpl_repeat_den, d1.cmpl_repeat_rate) == (1, 4, 0.25)


def test_month_rollup_takes_the_last_day_of_an_mtd_metric(gold_rows, catalog):
    t = catalog.table("gld_complaint_d")
    (m,) = rollup(_rows(gold_rows, catalog), t, ["day_id", "city_code"], to_month=True).collect()
    assert m.month_id == "201301" and m.cmpl_cnt == 5
    assert (m.cmpl_per_10k_num, m.cmpl_per_10k_den) == (2, 4)       # last day's row only: PUB hotline
    assert (m.cmpl_repeat_num, m.cmpl_repeat_den) == (1, 5)          # ordinary ratios add over days


def test_a_broken_rate_fails_the_run_naming_identity_partition_and_sides(spark, tmp_roots, gold_rows, catalog):
    t = catalog.table("gld_complaint_d")
    good = _rows(gold_rows, catalog)
    io.ensure_table(spark, tmp_roots, t.name, schema_of(t), [t.partition])
    io.append(good, tmp_roots, t.name)
    ok = reconcile.check(spark, tmp_roots, ["20130101", "20130102"], [], only=["RC05"])
    assert [(o.rule_id, o.passed) for o in ok] == [("RC05", True)]
    io.update_rows(spark, tmp_roots, t.name, "day_id = '20130102'", {"cmpl_per_10k_rate": "1.0"})
    with pytest.raises(JobFailed) as e:
        reconcile.enforce(spark, tmp_roots, {t.name: ["20130102"]}, log=lambda _: None)
    msg = str(e.value)
    assert "RC05 gld_complaint_d[day_id=20130102]: observed CMPL_PER_10K" in msg
    assert "expected rate = num/den×scale" in msg and "cust_segment=PUB" in msg
