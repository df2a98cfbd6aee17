"""DQ03 counts every bad value, a value repeated on many rows included, per scoped partition."""
from __future__ import annotations

from dataclasses import replace

import pytest
from csqm import audit, io
from csqm.quality import checks
from csqm.quality.rules import Rule

FAULT = "fault_id STRING, city_code STRING, product_line STRING, day_id STRING"


@pytest.fixture(scope="module")
def seeded(spark, cfg, tmp_path_factory):
    """One lake with dim_code and dim_city seeded, for both tests (each writes its own table)."""
    from csqm.manual.seed import seed_reference

    c = replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path_factory.mktemp("codes") / "lake")))
    seed_reference(spark, c, audit.Run("seed", {}, None))
    return c


def test_repeated_bad_values_are_each_counted(spark, seeded):
    c = seeded
    rows = [("F1", "0531", "XX", "20130105"), ("F2", "0531", "XX", "20130105"),   # XX twice: 2 bad values
            ("F3", "0599", "BB", "20130105"),                                     # a city not in dim_city
            ("F4", "0531", "BB", "20130105"), ("F5", "9999", "UNK", "20130105"),  # good; special members
            ("F6", "0531", "XX", "20130106")]                                     # outside the scope
    spark.createDataFrame(rows, FAULT).write.format("delta").partitionBy("day_id").save(
        io.table_path(c, "slv_fault_event_d"))
    s = checks.Scope(spark, c, "20130105", None, {"slv_fault_event_d": ["20130105"]})
    rule = Rule("DQ03", "codes", "ERROR", "codes", ("silver",))
    got = [(r.partition, r.passed, r.observed, r.detail) for r in checks.codes(s, rule).collect()]
    assert got == [("20130105", False, "3 values not in dim_code/dim_city", "e.g. city_code=0599")]


def test_repeated_bad_counties_are_each_counted(spark, seeded):
    c = seeded
    rows = [("S1", "0531", "370102", "201301"), ("S2", "0531", "999999", "201301"),   # good: prefix 3701; unknown
            ("S3", "0531", "370299", "201301"), ("S4", "0531", "370299", "201301"),   # Qingdao's prefix twice: 2
            ("S5", "0531", "37010X", "201301"), ("S6", "0531", None, "201301"),       # not 6 digits: 1; NULL: none
            ("S7", "0531", "370299", "201212")]                                       # outside the scope
    spark.createDataFrame(rows, "prod_inst_id STRING, city_code STRING, county_code STRING, month_id STRING").write \
        .format("delta").partitionBy("month_id").save(io.table_path(c, "slv_subscriber_m"))
    s = checks.Scope(spark, c, None, "201301", {"slv_subscriber_m": ["201301"]})
    rule = Rule("DQ03", "codes", "ERROR", "codes", ("silver",))
    got = [(r.partition, r.passed, r.observed, r.detail) for r in checks.codes(s, rule).collect()]
    assert got == [("201301", False, "3 values not in dim_code/dim_city", "e.g. county_code=37010X under city 0531")]
