"""slv_proactive_task_d (silver.md §11) on hand-made OB_TASK rows, a tiny complaint table and the threshold seed."""
from __future__ import annotations

from decimal import Decimal

import pytest
from csqm.silver.common import THRESHOLD_SCHEMA, threshold_seed
from csqm.silver.tables import proactive
from pyspark.sql import functions as F

M1, M2, M3, M4, M5, M6 = (f"1330000000{i}" for i in range(1, 7))
RAW = (M1, M2, M3, M4, M5, M6)


@pytest.fixture(scope="module")
def out(spark, cfg, bronze_df, snapshot_df, sha):
    salt = cfg.env.pii_salt

    def task(tid, ttype, nbr, trig, exe, reach, status="DONE", **kw):
        return {"task_id": tid, "task_type": ttype, "task_scene": "REPAIR", "ob_channel": "OUTCALL", "acc_nbr": nbr,
                "city_code": "0531", "plan_date": "2013-02-01", "trigger_time": trig, "exec_time": exe,
                "reach_flag": reach, "task_status": status, "update_time": "2013-02-06 12:00:00", **kw}

    cur = bronze_df("OB_TASK", [
        task("t1", "CALLBACK", M1, "2013-02-01 10:00:00", "2013-02-03 10:00:00", 1, trigger_ref_id="F1",
             result_code="SAT"),                                                    # exactly 48 h; cmpl at exec_time
        task("t2", "CALLBACK", M2, "2013-02-01 10:00:00", "2013-02-03 10:00:01", 1, city_code="0532",
             product_line="BB"),                                                    # 48 h + 1 s; cmpl at + 168 h
        task("t3", "CARE_CALL", M3, "2013-02-01 10:00:00", "2013-02-05 08:00:00", 0),       # not reached
        task("t4", "CALLBACK", M3, "2013-02-01 10:00:00", None, None, status="CANCELLED"),  # never executed
        task("t5", "SMS_REMIND", None, None, "2013-02-02 09:00:00", 1, prod_inst_id="P01", ob_channel="SMS"),
        task("t6", "NOTICE", M4, None, "2013-02-01 12:00:00", 1),                 # only complaints that do not count
        task("t7", "CARE_CALL", M1, None, "2013-02-02 10:00:00", 1),              # t1's complaint is inside its window
        task("t8", "CALLBACK", M5, None, "2013-02-02 10:00:00", None),            # reach_flag NULL
        task("t9", "CALLBACK", None, "2013-02-04 11:00:00", "2013-02-04 10:00:00", 1),  # inverted: negative kept
        task("t10", "CALLBACK", M6, "2013-02-05 10:00:00", "2013-02-06 10:00:00", 1),   # FIX (enriched) -> 24 h
    ], data_date="20130206")
    subs = snapshot_df([
        ("201301", "P01", sha(M1), "C01", "0531", "370102", "U", "MOB", "PUB", "PUB_IND", "SILVER", "PRE", "OF1",
         "SINGLE", 30),
        ("201301", "P06", sha(M6), "C06", "0531", "370103", "U", "FIX", "PUB", "PUB_HOME", "NORMAL", "POST", "OF6",
         "SINGLE", 90),
    ])
    thresholds = threshold_seed(spark).unionByName(spark.createDataFrame(
        [("CALLBACK", "FIX", "*", "*", "*", None, None, Decimal("24.00"), None, "test")], THRESHOLD_SCHEMA)
        .withColumn("valid_from", F.to_date(F.lit("2010-01-01"))))
    complaints = spark.createDataFrame([
        ("K1", sha(M1), "2013-02-03 10:00:00", 1, "CMPL"),
        ("K2", sha(M2), "2013-02-10 10:00:01", 1, "CMPL"),
        ("K3", sha(M4), "2013-02-08 12:00:01", 1, "CMPL"),      # 168 h + 1 s after t6
        ("K4", sha(M4), "2013-02-02 10:00:00", 0, "CMPL"),      # not valid
        ("K5", sha(M4), "2013-02-02 10:00:00", 1, "CONSULT"),   # not a complaint
        ("K6", sha(M5), "2013-02-02 11:00:00", 1, "CMPL"),
        ("K7", None, "2013-02-02 11:00:00", 1, "CMPL"),
    ], "sheet_id STRING, acc_nbr_hash STRING, accept_time STRING, is_valid TINYINT, sheet_type STRING"
    ).withColumn("accept_time", F.col("accept_time").cast("timestamp"))
    df = proactive.build(cur=cur, subscribers=subs, thresholds=thresholds, complaints=complaints, salt=salt).cache()
    yield df
    df.unpersist()


def test_schema_and_no_raw_number(out, assert_schema, assert_no_raw):
    assert_schema(out, proactive.DDL)
    assert (proactive.TABLE, proactive.KEY, proactive.PARTITION) == ("slv_proactive_task_d", ("task_id",), "day_id")
    rows = out.collect()
    assert len(rows) == 10
    assert_no_raw(rows, RAW)


def test_flags_callback_limit_and_cmpl_within_7d(out, expect_df, assert_rows_equal):
    cols = ["task_id", "task_type", "plan_date", "trigger_ref_id", "result_code", "is_cancelled", "is_executed",
            "is_reached", "cb_sec", "cb_limit_hours", "is_cb_timely", "cmpl_within_7d", "day_id", "_batch_id"]
    n, d, b, h48 = None, "2013-02-01", "OB_TASK_20130206_001", Decimal("48.00")
    assert_rows_equal(out.select(*cols), expect_df(proactive.DDL, cols=cols, rows=[
        ("t1", "CALLBACK", d, "F1", "SAT", 0, 1, 1, 172800, h48, 1, 0, "20130201", b),
        ("t2", "CALLBACK", d, n, n, 0, 1, 1, 172801, h48, 0, 1, "20130201", b),
        ("t3", "CARE_CALL", d, n, n, 0, 1, 0, n, n, n, n, "20130201", b),
        ("t4", "CALLBACK", d, n, n, 1, 0, 0, n, h48, n, n, "20130201", b),
        ("t5", "SMS_REMIND", d, n, n, 0, 1, 1, n, n, n, n, "20130201", b),
        ("t6", "NOTICE", d, n, n, 0, 1, 1, n, n, n, 0, "20130201", b),
        ("t7", "CARE_CALL", d, n, n, 0, 1, 1, n, n, n, 1, "20130201", b),
        ("t8", "CALLBACK", d, n, n, 0, 1, 0, n, h48, n, n, "20130201", b),
        ("t9", "CALLBACK", d, n, n, 0, 1, 1, -3600, h48, 1, n, "20130201", b),
        ("t10", "CALLBACK", d, n, n, 0, 1, 1, 86400, Decimal("24.00"), 1, 0, "20130201", b),
    ]))


def test_pii_and_enrichment(out, sha, expect_df, assert_rows_equal):
    cols = ["task_id", "acc_nbr_hash", "acc_nbr_mask", "ref_month_id", "cust_id", "city_code", "county_code",
            "product_line", "vip_level", "tenure_months"]

    def unk(nbr, city="0531", pl="UNK"):
        return (sha(nbr), None if nbr is None else nbr[:3] + "****" + nbr[-4:], "201301", None, city, "999999", pl,
                "UNK", None)

    p01 = ("201301", "C01", "0531", "370102", "MOB", "SILVER", 30)
    assert_rows_equal(out.select(*cols), expect_df(proactive.DDL, cols=cols, rows=[
        ("t1", sha(M1), "133****0001", *p01),
        ("t2", *unk(M2, "0532", "BB")), ("t3", *unk(M3)), ("t4", *unk(M3)),
        ("t5", None, None, *p01),                                                   # by prod_inst_id
        ("t6", *unk(M4)),
        ("t7", sha(M1), "133****0001", *p01),
        ("t8", *unk(M5)), ("t9", *unk(None)),
        ("t10", sha(M6), "133****0006", "201301", "C06", "0531", "370103", "FIX", "NORMAL", 90),
    ]))
