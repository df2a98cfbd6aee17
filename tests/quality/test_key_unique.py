"""DQ01 key uniqueness on a monthly table (partition column in the key) and a daily one (key without it)."""
from __future__ import annotations

from dataclasses import replace

from csqm import io
from csqm.quality import checks
from csqm.quality.rules import Rule

BAL = "month_id STRING, cust_id STRING, points_type STRING"
TXN = "txn_id STRING, day_id STRING"


def _save(spark, cfg, table, rows, ddl, part):
    spark.createDataFrame(rows, ddl).write.format("delta").mode("overwrite").partitionBy(part).save(
        io.table_path(cfg, table))


def test_duplicates_within_a_month_and_across_days(spark, cfg, tmp_path):
    c = replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path / "lake")))
    _save(spark, c, "slv_points_balance_m", [
        ("201301", "C1", "CONSUME"), ("201301", "C1", "CONSUME"),   # twice in the scoped month: 1 duplicate key
        ("201301", "C2", "CONSUME"),
        ("201301", "C3", "CONSUME"), ("201301", "C3", "CONSUME"), ("201301", "C3", "CONSUME"),  # thrice: 1 more key
        ("201212", "C2", "CONSUME"), ("201212", "C2", "CONSUME"),   # twice, but in a month outside the scope
    ], BAL, "month_id")
    _save(spark, c, "slv_points_txn_d", [
        ("T1", "20130131"), ("T1", "20130131"), ("T1", "20130101"),  # twice in the scoped day, once before: 1 key
        ("T2", "20130131"),
    ], TXN, "day_id")
    s = checks.Scope(spark, c, "20130131", None, {"slv_points_balance_m": ["201301"], "slv_points_txn_d": ["20130131"]})
    rule = Rule("DQ01", "key_unique", "ERROR", "silver key unique", ("silver",))
    keys = {"slv_points_balance_m": ("month_id", "cust_id", "points_type"), "slv_points_txn_d": ("txn_id",)}
    got = {(r.table_name, r.partition): (r.passed, r.observed, r.detail)
           for r in checks.key_unique(s, rule, keys).collect()}
    assert got == {("slv_points_balance_m", "201301"): (False, "2 duplicate keys", "e.g. 201301|C1|CONSUME"),
                   ("slv_points_txn_d", "20130131"): (False, "1 duplicate keys", "e.g. T1")}
