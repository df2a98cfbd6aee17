"""slv_escalation_event_m (silver.md §4) on one month of hand-worked cases: counted/responsible copied, reply at /
after the deadline, refund and escalated_to_appeal defaults, local complaint by sheet id and by number with the
exact 720 h bounds on receive_time, enrichment from prev(M), PII."""
from __future__ import annotations

from csqm.silver.common import SNAPSHOT_COLUMNS as E_COLS
from csqm.silver.tables import escalation
from pyspark.sql import functions as F

CMPL_DDL = "sheet_id STRING, sheet_type STRING, is_valid TINYINT, acc_nbr_hash STRING, accept_time STRING"
COPIED = ("escal_id", "escal_level", "source_org", "source_ref_no", "receive_time", "cmpl_phen_l1", "local_sheet_id",
          "reply_deadline", "reply_time", "result_code")
SNAP_E1 = ("C1", "0531", "370102", "U", "BB", "PUB", "PUB_HOME", "GOLD", "POST", "OF1", "SINGLE", 30)


def unknown_e(city: str, pl: str | None) -> tuple:
    """E block of an unmatched escalation: own city / product, else the unknown members."""
    return (None, city, "999999", "UNK", pl or "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", None)


def r(eid: str, nbr: str | None, city: str, receive: str, deadline: str, reply: str | None, counted: int,
      **kw) -> dict:
    """One ESCAL input row of 201303 (times as strings)."""
    return {"escal_id": eid, "escal_level": "GOV", "source_org": "12345", "source_ref_no": f"R-{eid}",
            "acc_nbr": nbr, "city_code": city, "receive_time": receive, "cmpl_phen_l1": "NET",
            "counted_flag": counted, "reply_deadline": deadline, "reply_time": reply, "month_id": "201303", **kw}


CASES = [  # (input row, E block, expected derived values)
    # reply exactly at the deadline; local sheet is a valid CMPL; refund / appeal_after NULL → 0; matched by number
    (r("E1", "13300000001", "0531", "2013-03-05 10:00:00", "2013-03-08 10:00:00", "2013-03-08 10:00:00", 1,
       local_sheet_id="S1", resp_flag=1), SNAP_E1,
     {"is_counted": 1, "is_responsible": 1, "reply_sec": 259200, "is_timely_reply": 1, "refund_amount": "0.00",
      "escalated_to_appeal": 0, "had_local_complaint": 1}),
    # reply 1 s late; same-number valid CMPL exactly 720 h before receive_time counts; flags copied
    (r("E2", "13300000002", "0532", "2013-03-10 10:00:00", "2013-03-13 10:00:00", "2013-03-13 10:00:01", 0,
       local_sheet_id="S2", resp_flag=0, refund_fen=5, appeal_after_flag=1, product_line="MOB"),
     unknown_e("0532", "MOB"),
     {"is_counted": 0, "is_responsible": 0, "reply_sec": 259201, "is_timely_reply": 0, "refund_amount": "0.05",
      "escalated_to_appeal": 1, "had_local_complaint": 1}),
    # no reply; same-number CMPL at receive_time (excluded) and 720 h + 1 s before; invalid / non-CMPL inside: 0
    (r("E3", "13300000003", "0533", "2013-03-15 10:00:00", "2013-03-18 10:00:00", None, 1, appeal_after_flag=0),
     unknown_e("0533", None),
     {"is_counted": 1, "reply_sec": None, "is_timely_reply": 0, "refund_amount": "0.00", "escalated_to_appeal": 0,
      "had_local_complaint": 0}),
    # no number; local sheet an invalid CMPL → 0
    (r("E4", None, "0534", "2013-03-20 10:00:00", "2013-03-23 10:00:00", "2013-03-21 10:00:00", 0,
       local_sheet_id="S6", refund_fen=-100), unknown_e("0534", None),
     {"is_counted": 0, "reply_sec": 86400, "is_timely_reply": 1, "refund_amount": "-1.00", "escalated_to_appeal": 0,
      "had_local_complaint": 0}),
]


def expected_row(inp: dict, e: tuple, exp: dict, sha, mask) -> dict:
    """Copied values from the input, P block from the raw number, E block, and the hand-worked derived values."""
    return {**{c: inp.get(c) for c in COPIED}, "acc_nbr_hash": sha(inp["acc_nbr"]),
            "acc_nbr_mask": mask(inp["acc_nbr"]), "ref_month_id": "201302", **dict(zip(E_COLS, e, strict=True)), **exp,
            "month_id": "201303", "_batch_id": "ESCAL_201303_001"}


def test_escalation_event_m(spark, cfg, bronze_df, snapshot_df, sha, mask, expect_df, assert_schema, assert_no_raw,
                            assert_rows_equal):
    salt = cfg.env.pii_salt
    subs = snapshot_df([("201302", "P1", sha("13300000001"), *SNAP_E1)])
    h2, h3 = sha("13300000002"), sha("13300000003")
    complaints = spark.createDataFrame([
        ("S1", "CMPL", 1, None, "2012-12-01 00:00:00"),
        ("S2", "CONSULT", 1, None, "2013-03-09 00:00:00"),
        ("S3", "CMPL", 1, h2, "2013-02-08 10:00:00"),   # exactly 720 h before E2's receive_time
        ("S4", "CMPL", 1, h3, "2013-03-15 10:00:00"),   # at E3's receive_time: excluded
        ("S8", "CMPL", 1, h3, "2013-02-13 09:59:59"),   # 720 h + 1 s before E3's receive_time
        ("S5", "CMPL", 0, h3, "2013-03-14 10:00:00"),   # invalid
        ("S9", "SUGGEST", 1, h3, "2013-03-14 10:00:00"),  # not CMPL
        ("S6", "CMPL", 0, None, "2013-03-01 00:00:00"),  # invalid: E4's local sheet
        ("S7", "CMPL", 1, None, "2013-03-19 00:00:00"),  # no number: never matches a number
    ], CMPL_DDL).withColumn("accept_time", F.col("accept_time").cast("timestamp"))
    cur = bronze_df("ESCAL", [c[0] for c in CASES])
    out = escalation.build(cur=cur, complaints=complaints, subscribers=subs, salt=salt)

    assert_schema(out, escalation.DDL)
    assert "acc_nbr" not in out.columns
    rows = out.collect()
    assert_no_raw(rows, {c[0]["acc_nbr"] for c in CASES if c[0]["acc_nbr"]})

    expected = expect_df(escalation.DDL, [expected_row(i, e, x, sha, mask) for i, e, x in CASES])
    assert_rows_equal(spark.createDataFrame(rows, out.schema), expected)
