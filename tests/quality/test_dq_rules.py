"""DQ rules (operations.md §6) over a tiny literal lake: a bad day where every rule fires, a good day where all pass."""
from __future__ import annotations

from dataclasses import replace

import pytest
from csqm import audit, io
from csqm.errors import JobFailed
from csqm.pipeline import dq
from csqm.quality.result import DqOutcome

FAULT = ("fault_id STRING, city_code STRING, county_code STRING, product_line STRING, ticket_status STRING, "
         "cust_segment STRING, acc_nbr_hash STRING, prod_inst_id STRING, accept_time STRING, close_time STRING, "
         "day_id STRING")
GOLD = "day_id STRING, city_code STRING, product_line STRING, cmpl_cnt BIGINT"
LOG = ("ifcode STRING, data_date STRING, _batch_id STRING, status STRING, rows_total BIGINT, _load_ts STRING")


def _save(spark, cfg, table, rows, ddl, part=None):
    df = spark.createDataFrame(rows, ddl)
    for c in ("accept_time", "close_time", "_load_ts"):
        if c in df.columns:
            df = df.withColumn(c, df[c].cast("timestamp"))
    w = df.write.format("delta").mode("overwrite")
    (w.partitionBy(part) if part else w).save(io.table_path(cfg, table))


@pytest.fixture(scope="module")
def lake(spark, cfg, tmp_path_factory):
    from csqm.manual.seed import seed_reference

    root = tmp_path_factory.mktemp("dq")
    c = replace(cfg, env=replace(cfg.env, lake_root=str(root / "lake")))
    seed_reference(spark, c, audit.Run("seed", {}, None))
    ok = ("0531", "370102", "BB", "OPEN", "PUB", "h", "P", "2013-01-05 08:00:00", "2013-01-05 09:00:00")
    _save(spark, c, "slv_fault_event_d", [
        ("F1", *ok[:-2], "2013-01-04 08:00:00", None, "20130104"),
        ("F1", *ok, "20130105"),  # the same key in two partitions (DQ01)
        ("F2", "0531", "370299", "XX", "OPEN", "PUB", "h", None, "2013-01-05 08:00:00", "2013-01-05 07:00:00",
         "20130105"),  # county of another city, product_line XX (DQ03), closed before accepted (DQ08)
        ("F4", "9999", "999999", "UNK", "CLOSED", "UNK", "h", None, "2013-01-05 08:00:00", None, "20130105"),  # DQ09
        ("F5", "0532", "999999", "NONE", "TEST", "NA", None, None, "2013-01-05 08:00:00", None, "20130105"),
        ("F3", *ok[:-2], "2013-01-06 08:00:00", None, "20130106"),
        ("F6", "9999", "999999", "UNK", "OPEN", "UNK", None, None, "2013-01-06 08:00:00", None, "20130106"),
    ], FAULT, "day_id")
    _save(spark, c, "gld_test_d", [("20130105", "0531", "BB", 1), ("20130105", "0531", "BB", 2),
                                   ("20130105", None, "BB", 1), ("20130106", "0531", "BB", 1)], GOLD, "day_id")
    daily = [i for i, s in c.interfaces.items() if s.freq == "D"]
    log = [(i, "20130106", f"{i}_20130106_001", "LOADED", 10, "2013-01-07 03:00:00") for i in daily]
    log += [("FLT_TICKET", "20130105", "FLT_TICKET_20130105_001", "LOADED", 5, "2013-01-06 05:00:00"),
            ("CS_SHEET", "20130105", "CS_SHEET_20130105_001", "LOADED", 0, "2013-01-06 03:00:00")]
    _save(spark, c, "ops_batch_log", log, LOG, "data_date")
    _save(spark, c, "ops_quarantine", [("FLT_TICKET", "20130105", "FLT_TICKET_20130105_001", 1),
                                       ("FLT_TICKET", "20130105", "FLT_TICKET_20130105_001", 2)],
          "ifcode STRING, data_date STRING, _batch_id STRING, line_no BIGINT", "data_date")
    _save(spark, c, "brz_subs", [("P", "201212")] * 80 + [("P", "201301")] * 100 + [("P", "201302")] * 105,
          "prod_inst_id STRING, month_id STRING", "month_id")
    return c


@pytest.fixture()
def hooks(monkeypatch):
    """DQ02 grains and DQ04 outcomes as the gold package would give them."""
    monkeypatch.setattr(dq, "gold_grains", lambda cfg: {"gld_test_d": ("day_id", "city_code", "product_line")})
    rc = {"20130105": [DqOutcome("RC01", "gld_test_d", "20130105", "ERROR", False, "3", "2", "num > den")],
          "20130106": [DqOutcome("RC01", "gld_test_d", "20130106", "ERROR", True, "0 violations", "0 violations")]}
    monkeypatch.setattr(dq, "reconcile", lambda spark, cfg, days, months: [o for d in days for o in rc.get(d, [])])


def _results(spark, cfg, run):
    rows = io.read(spark, cfg, "ops_dq_result").where(f"run_id = '{run.run_id}'").collect()
    return {(r.rule_id, r.table_name, r.partition): (r.passed, r.observed, r.expected, r.detail) for r in rows}


def test_bad_day_every_rule_fires(spark, lake, hooks):
    run = audit.Run("dq", {}, "20130105")
    with pytest.raises(JobFailed) as e:
        dq.run_dq(spark, lake, run, "20130105", None)
    got = _results(spark, lake, run)
    failed = {k: v for k, v in got.items() if not v[0]}
    assert failed[("DQ01", "slv_fault_event_d", "20130105")] == (False, "1 duplicate keys", "0 duplicate keys",
                                                                 "e.g. F1")
    assert failed[("DQ02", "gld_test_d", "20130105")][1] == "2 NULL-grain or duplicate-grain rows"
    assert failed[("DQ03", "slv_fault_event_d", "20130105")][1:] == (
        "2 values not in dim_code/dim_city", "0 values not in dim_code/dim_city",
        "e.g. county_code=370299 under city 0531")
    assert failed[("RC01", "gld_test_d", "20130105")][1:3] == ("3", "2")
    assert failed[("DQ05", "brz_flt_ticket", "20130105")][1:] == ("loaded 2013-01-06 05:00:00",
                                                                  "by 2013-01-06 04:00:00", "")
    assert got[("DQ05", "brz_cs_sheet", "20130105")][0] is True  # loaded 03:00, on time
    assert failed[("DQ06", "brz_cs_sheet", "20130105")][1:] == ("0 records", "> 0 records",
                                                                "batch CS_SHEET_20130105_001")
    assert failed[("DQ08", "slv_fault_event_d", "20130105")][1] == "1 rows with end before start"
    assert failed[("DQ09", "slv_fault_event_d", "20130105")][1] == "33.33% rows not enriched (1 of 3)"
    assert failed[("DQ10", "brz_flt_ticket", "20130105")][1:] == ("2 quarantined rows", "0 quarantined rows",
                                                                  "batch FLT_TICKET_20130105_001")
    assert {k[0] for k in failed} == {"DQ01", "DQ02", "DQ03", "RC01", "DQ05", "DQ06", "DQ08", "DQ09", "DQ10"}
    msg = str(e.value)
    assert msg.startswith("4 ERROR check(s) failed: DQ01 slv_fault_event_d[20130105]: observed 1 duplicate keys, "
                          "expected 0 duplicate keys (e.g. F1)")
    assert "DQ02 gld_test_d[20130105]" in msg and "RC01 gld_test_d[20130105]: observed 3, expected 2" in msg


def test_good_day_passes(spark, lake, hooks):
    run = audit.Run("dq", {}, "20130106")
    outcomes = dq.run_dq(spark, lake, run, "20130106", None)
    got = _results(spark, lake, run)
    assert all(v[0] for v in got.values()), [k for k, v in got.items() if not v[0]]
    assert {o.rule_id for o in outcomes} == {"DQ01", "DQ02", "DQ03", "RC01", "DQ05", "DQ06", "DQ08", "DQ09", "DQ10"}
    assert got[("DQ09", "slv_fault_event_d", "20130106")][1] == "0.00% rows not enriched (0 of 1)"
    assert len([k for k in got if k[0] == "DQ05"]) == 12  # every daily interface, loaded on time


def test_dq07_subs_month_over_month(spark, lake, hooks):
    bad = dq.run_dq(spark, lake, audit.Run("dq", {}, "201301"), None, "201301")
    good = dq.run_dq(spark, lake, audit.Run("dq", {}, "201302"), None, "201302")
    pick = lambda out: [(o.passed, o.observed, o.expected) for o in out if o.rule_id == "DQ07"]  # noqa: E731
    assert pick(bad) == [(False, "25.0% change (80 -> 100)", "<= 10% change vs 201212")]
    assert pick(good) == [(True, "5.0% change (100 -> 105)", "<= 10% change vs 201301")]


def test_dq_job_failure_is_audited(spark, lake, hooks):
    with pytest.raises(JobFailed, match="dq 20130105: JobFailed: 4 ERROR check"):
        dq.run_dq_job(spark, lake, date="20130105", month=None)
    last = (io.read(spark, lake, "ops_run_audit").where("job_name = 'dq'").orderBy("start_ts", ascending=False)
            .first())
    assert last.status == "FAILED" and "DQ01 slv_fault_event_d[20130105]" in last.error_message
