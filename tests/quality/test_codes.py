"""DQ03 counts every bad value, a value repeated on many rows included, per scoped partition."""
from __future__ import annotations

from dataclasses import replace

from csqm import audit, io
from csqm.quality import checks
from csqm.quality.rules import Rule

FAULT = "fault_id STRING, city_code STRING, product_line STRING, day_id STRING"


def test_repeated_bad_values_are_each_counted(spark, cfg, tmp_path):
    from csqm.manual.seed import seed_reference

    c = replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path / "lake")))
    seed_reference(spark, c, audit.Run("seed", {}, None))
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
