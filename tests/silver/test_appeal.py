"""slv_appeal_event_m (silver.md §3) on two months of hand-worked cases: bulletin present (listed → 1, not → 0) vs
absent (counted_flag), reply at / after the deadline, local complaint by sheet id and by number at the exact 720 h
bounds, compensation NULL → 0, enrichment from prev(M), PII."""
from __future__ import annotations

from csqm.silver.common import SNAPSHOT_COLUMNS as E_COLS
from csqm.silver.tables import appeal
from pyspark.sql import functions as F

CMPL_DDL = "sheet_id STRING, sheet_type STRING, is_valid TINYINT, acc_nbr_hash STRING, accept_time STRING"
BULLETIN_DDL = "month_id STRING, appeal_id STRING, appeal_org STRING, city_code STRING, bulletin_ref STRING"
COPIED = ("appeal_id", "appeal_org", "appeal_way", "bureau_receive_time", "transfer_time", "appeal_cat_l1",
          "appeal_cat_l2", "local_sheet_id", "reply_deadline", "reply_time", "result_code")
SNAP_A1 = ("C1", "0531", "370102", "U", "BB", "PUB", "PUB_HOME", "GOLD", "POST", "OF1", "SINGLE", 30)
SNAP_A2 = ("C2", "0531", "370103", "R", "MOB", "GOV", "GOV_SME", "NORMAL", "PRE", "OF2", "BUNDLE", 5)
SNAP_B1 = ("C3", "0532", "370202", "U", "FIX", "PUB", "PUB_IND", "SILVER", "POST", "UNK", "UNK", 70)


def unknown_e(city: str, pl: str | None) -> tuple:
    """E block of an unmatched appeal: own city / product, else the unknown members."""
    return (None, city, "999999", "UNK", pl or "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", None)


def r(aid: str, month: str, nbr: str | None, city: str, transfer: str, deadline: str, reply: str | None,
      counted: int, **kw) -> dict:
    """One APPEAL input row of month `month` (times as strings)."""
    return {"appeal_id": aid, "appeal_org": "SDCA", "appeal_way": "PHONE", "acc_nbr": nbr, "city_code": city,
            "transfer_time": transfer, "appeal_cat_l1": "SVC", "counted_flag": counted, "reply_deadline": deadline,
            "reply_time": reply, "month_id": month, **kw}


CASES = [  # (input row, E block, expected derived values)
    # 201303 has a bulletin listing A1 and A3: A1 listed → 1 despite counted_flag 0; reply exactly at the deadline;
    # local_sheet_id is a valid CMPL sheet; compensation NULL → 0; matched by number (own city, no own product)
    (r("A1", "201303", "13300000001", "0531", "2013-03-05 10:00:00", "2013-03-20 10:00:00", "2013-03-20 10:00:00",
       0, local_sheet_id="S1", resp_flag=1, result_code="MEDIATED"), SNAP_A1,
     {"src_counted_flag": 0, "is_counted": 1, "is_responsible": 1, "reply_sec": 1296000, "is_timely_reply": 1,
      "compensation_amount": "0.00", "had_local_complaint": 1}),
    # not listed → 0 despite counted_flag 1; reply 1 s late; local sheet is a CONSULT, but a valid CMPL of the same
    # number exactly 720 h before transfer counts; snapshot of another city lends no county / urban_rural
    (r("A2", "201303", "13300000002", "0532", "2013-03-10 10:00:00", "2013-03-25 10:00:00", "2013-03-25 10:00:01",
       1, local_sheet_id="S2", product_line="BB", comp_amt_fen=12345, satisfied_flag=1),
     ("C2", "0532", "999999", "UNK", "BB", "GOV", "GOV_SME", "NORMAL", "PRE", "OF2", "BUNDLE", 5),
     {"src_counted_flag": 1, "is_counted": 0, "reply_sec": 1296001, "is_timely_reply": 0,
      "compensation_amount": "123.45", "is_customer_satisfied": 1, "had_local_complaint": 1}),
    # listed; no reply → 0; same-number CMPLs at transfer_time (excluded), 720 h + 1 s before, an invalid CMPL and a
    # valid CONSULT inside the window: none counts
    (r("A3", "201303", "13300000003", "0533", "2013-03-15 10:00:00", "2013-03-30 10:00:00", None, 0),
     unknown_e("0533", None),
     {"src_counted_flag": 0, "is_counted": 1, "reply_sec": None, "is_timely_reply": 0,
      "compensation_amount": "0.00", "had_local_complaint": 0}),
    # reply before transfer: negative reply_sec kept; local sheet is an invalid CMPL; no number → no number match
    (r("A4", "201303", None, "0534", "2013-03-20 10:00:00", "2013-04-04 10:00:00", "2013-03-19 10:00:00", 1,
       local_sheet_id="S6", product_line="FIX"), unknown_e("0534", "FIX"),
     {"src_counted_flag": 1, "is_counted": 0, "reply_sec": -86400, "is_timely_reply": 1,
      "compensation_amount": "0.00", "had_local_complaint": 0}),
    # 201304 has no bulletin row → counted_flag; enrichment from 201303
    (r("B1", "201304", "13300000011", "0532", "2013-04-02 10:00:00", "2013-04-17 10:00:00", None, 1,
       local_sheet_id="S1"), SNAP_B1,
     {"src_counted_flag": 1, "is_counted": 1, "reply_sec": None, "is_timely_reply": 0,
      "compensation_amount": "0.00", "had_local_complaint": 1}),
    # both a local sheet and a same-number CMPL 1 h before → still one row
    (r("B2", "201304", "13300000012", "0535", "2013-04-03 10:00:00", "2013-04-18 10:00:00", None, 0,
       local_sheet_id="S1"), unknown_e("0535", None),
     {"src_counted_flag": 0, "is_counted": 0, "reply_sec": None, "is_timely_reply": 0,
      "compensation_amount": "0.00", "had_local_complaint": 1}),
]


def expected_row(inp: dict, e: tuple, exp: dict, sha, mask) -> dict:
    """Copied values from the input, P block from the raw number, E block, and the hand-worked derived values."""
    m = inp["month_id"]
    return {**{c: inp.get(c) for c in COPIED}, "acc_nbr_hash": sha(inp["acc_nbr"]),
            "acc_nbr_mask": mask(inp["acc_nbr"]), "ref_month_id": {"201303": "201302", "201304": "201303"}[m],
            **dict(zip(E_COLS, e, strict=True)), **exp, "month_id": m, "_batch_id": f"APPEAL_{m}_001"}


def test_appeal_event_m(spark, cfg, bronze_df, snapshot_df, sha, mask, expect_df, assert_schema, assert_no_raw,
                        assert_rows_equal):
    salt = cfg.env.pii_salt
    subs = snapshot_df([
        ("201302", "PA1", sha("13300000001"), *SNAP_A1), ("201302", "PA2", sha("13300000002"), *SNAP_A2),
        ("201303", "PB1", sha("13300000011"), *SNAP_B1),
        ("201303", "PA1", sha("13300000001"), *SNAP_B1),  # not prev(201303): unused
    ])
    h2, h3 = sha("13300000002"), sha("13300000003")
    complaints = spark.createDataFrame([
        ("S1", "CMPL", 1, None, "2012-12-01 00:00:00"),
        ("S2", "CONSULT", 1, None, "2013-03-09 00:00:00"),
        ("S3", "CMPL", 1, h2, "2013-02-08 10:00:00"),   # exactly 720 h before A2's transfer
        ("S4", "CMPL", 1, h3, "2013-03-15 10:00:00"),   # at A3's transfer: excluded
        ("S8", "CMPL", 1, h3, "2013-02-13 09:59:59"),   # 720 h + 1 s before A3's transfer
        ("S5", "CMPL", 0, h3, "2013-03-14 10:00:00"),   # invalid
        ("S9", "CONSULT", 1, h3, "2013-03-14 10:00:00"),  # not CMPL
        ("S6", "CMPL", 0, None, "2013-03-01 00:00:00"),  # invalid: A4's local sheet
        ("S7", "CMPL", 1, None, "2013-03-19 00:00:00"),  # no number: never matches a number
        ("S10", "CMPL", 1, sha("13300000012"), "2013-04-03 09:00:00"),
    ], CMPL_DDL).withColumn("accept_time", F.col("accept_time").cast("timestamp"))
    bulletin = spark.createDataFrame([
        ("201303", "A1", "SDCA", "0531", "B-2013-03"), ("201303", "A3", "MIIT", "0533", "B-2013-03"),
        ("201302", "B2", "SDCA", "0535", "B-2013-02"),  # another month's list does not touch 201304
    ], BULLETIN_DDL)
    outs = [appeal.build(cur=bronze_df("APPEAL", [c[0] for c in CASES if c[0]["month_id"] == m]), bulletin=bulletin,
                         complaints=complaints, subscribers=subs, salt=salt) for m in ("201303", "201304")]
    out = outs[0].unionByName(outs[1])

    assert_schema(out, appeal.DDL)
    assert "acc_nbr" not in out.columns
    rows = out.collect()
    assert_no_raw(rows, {c[0]["acc_nbr"] for c in CASES if c[0]["acc_nbr"]})

    expected = expect_df(appeal.DDL, [expected_row(i, e, x, sha, mask) for i, e, x in CASES])
    assert_rows_equal(spark.createDataFrame(rows, out.schema), expected)
