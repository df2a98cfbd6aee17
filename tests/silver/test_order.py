"""slv_provision_order_d (silver.md §5) on one literal frame of hand-worked cases: status / end_time, access_type,
ORDER_COMPLETE limits (NEW urban 72 h vs rural 120 h, CHG none), appointment, step counts and _batch_id, PII."""
from __future__ import annotations

from csqm.silver.common import SNAPSHOT_COLUMNS as E_COLS
from csqm.silver.common import threshold_seed
from csqm.silver.tables import order

COPIED = ("order_id", "cust_order_id", "order_type", "prod_inst_id", "accept_time", "accept_channel", "appoint_time",
          "arrive_time", "complete_time", "cancel_time", "order_status", "install_team_id", "callback_result")
SNAP_P1 = dict(zip(E_COLS, ("C1", "0531", "370102", "U", "BB", "PUB", "PUB_HOME", "GOLD", "POST", "OF1", "SINGLE", 30),
                   strict=True))


def unknown_e(row: dict) -> dict:
    """E block of an unmatched order: own values (cust_id, geography, product, offer), else the unknown members."""
    return {"cust_id": row.get("cust_id"), "city_code": row["city_code"],
            "county_code": row.get("county_code") or "999999", "urban_rural": row.get("urban_rural") or "UNK",
            "product_line": row["product_line"], **{c: "UNK" for c in E_COLS[5:9]},
            "offer_id": row.get("offer_id") or "UNK", "offer_type": "UNK", "tenure_months": None}


def r(oid: str, otype: str, status: str, acc: str, ur: str | None = "U", **kw) -> dict:
    """One SP_ORDER input row (times as strings); BB, city 0531 by default."""
    return {"order_id": oid, "order_type": otype, "acc_nbr": f"1890000{oid[1:].zfill(4)}", "city_code": "0531",
            "urban_rural": ur, "product_line": "BB", "accept_time": acc, "accept_channel": "HALL",
            "order_status": status, "update_time": acc, **kw}


def done(day: str, net: int, hrs: str, timely: int | None, limit: str | None, susp: int = 0) -> dict:
    """Expected block of a completed order."""
    return {"complete_day_id": day, "suspend_sec": susp, "is_completed": 1, "is_cancelled": 0, "net_sec": net,
            "net_hours": hrs, "time_limit_hours": limit, "is_timely": timely}


NOT_DONE = {"complete_day_id": None, "suspend_sec": 0, "is_completed": 0, "is_cancelled": 0, "end_time": None,
            "net_sec": None, "net_hours": None, "is_timely": None}
CASES = [  # (input row, expected derived values; step_cnt/return_cnt 0 and own _batch_id unless given)
    # NEW urban: exactly 72 h is timely; access_type NULL → OTH; 3 current steps, 2 returns; a later step batch wins;
    # matched by prod_inst_id (same city): own county/offer_id NULL → the snapshot's
    (r("O1", "NEW", "COMPLETED", "2013-03-01 08:00:00", complete_time="2013-03-04 08:00:00", prod_inst_id="P1",
       install_fee_fen=12345, _batch_id="SP_ORDER_20130301_001"),
     {**done("20130304", 259200, "72.00", 1, "72.00"), "end_time": "2013-03-04 08:00:00", "access_type": "OTH",
      "install_fee": "123.45", "step_cnt": 3, "return_cnt": 2, "_batch_id": "SP_STEP_20130303_001",
      "E": SNAP_P1}),
    # NEW rural → 120 h: 121 h − 1 h suspension = exactly 120 h; own offer_id and cust_id kept
    (r("O2", "NEW", "COMPLETED", "2013-03-01 08:00:00", "R", complete_time="2013-03-06 09:00:00", suspend_sec=3600,
       access_type="FTTH", install_fee_fen=0, offer_id="OFX", cust_id="CX"),
     {**done("20130306", 432000, "120.00", 1, "120.00", susp=3600), "end_time": "2013-03-06 09:00:00",
      "access_type": "FTTH", "install_fee": "0.00"}),
    # NEW urban: 72 h + 1 s is late; same data date, the step batch has the higher seq → it wins
    (r("O3", "NEW", "COMPLETED", "2013-03-02 08:00:00", complete_time="2013-03-05 08:00:01",
       _batch_id="SP_ORDER_20130302_001"),
     {**done("20130305", 259201, "72.00", 0, "72.00"), "end_time": "2013-03-05 08:00:01", "access_type": "OTH",
      "step_cnt": 1, "return_cnt": 0, "_batch_id": "SP_STEP_20130302_002"}),
    # CHG has no threshold row → limit and is_timely NULL; older step batch (higher seq) loses to the order's date
    (r("O4", "CHG", "COMPLETED", "2013-03-02 08:00:00", complete_time="2013-03-02 09:00:00", access_type="LAN",
       _batch_id="SP_ORDER_20130302_001"),
     {**done("20130302", 3600, "1.00", None, None), "end_time": "2013-03-02 09:00:00", "access_type": "LAN",
      "step_cnt": 1, "return_cnt": 1, "_batch_id": "SP_ORDER_20130302_001"}),
    # cancelled: end_time = cancel_time, no outcome; the limit is still looked up
    (r("O5", "NEW", "CANCELLED", "2013-03-02 08:00:00", cancel_time="2013-03-03 10:00:00"),
     {**NOT_DONE, "is_cancelled": 1, "end_time": "2013-03-03 10:00:00", "time_limit_hours": "72.00",
      "access_type": "OTH"}),
    # open: appointment kept exactly on time; one second late; appoint without arrive → NULL
    (r("O6", "MOVE", "OPEN", "2013-03-01 08:00:00", appoint_time="2013-03-02 10:00:00",
       arrive_time="2013-03-02 10:00:00"),
     {**NOT_DONE, "time_limit_hours": "72.00", "access_type": "OTH", "is_appoint_on_time": 1}),
    (r("O7", "MOVE", "OPEN", "2013-03-01 08:00:00", "R", appoint_time="2013-03-02 10:00:00",
       arrive_time="2013-03-02 10:00:01"),
     {**NOT_DONE, "time_limit_hours": "120.00", "access_type": "OTH", "is_appoint_on_time": 0}),
    (r("O8", "DEL", "OPEN", "2013-03-01 08:00:00", appoint_time="2013-03-02 10:00:00"),
     {**NOT_DONE, "access_type": "OTH"}),
    # COMPLETED without complete_time is not completed; no number → NULL hash and mask
    (r("O9", "NEW", "COMPLETED", "2013-03-01 08:00:00", acc_nbr=None),
     {**NOT_DONE, "time_limit_hours": "72.00", "access_type": "OTH"}),
    # NEW with urban_rural UNK (no own value, no snapshot) → the NEW default row, 72 h
    (r("O10", "NEW", "COMPLETED", "2013-03-01 08:00:00", None, complete_time="2013-03-04 16:00:00"),
     {**done("20130304", 288000, "80.00", 0, "72.00"), "end_time": "2013-03-04 16:00:00", "access_type": "OTH"}),
]
STEPS = [  # order_id, step_seq, return_flag, _batch_id (O99 has no order: it creates no row)
    ("O1", 1, 0, "SP_STEP_20130301_001"), ("O1", 2, 1, "SP_STEP_20130303_001"), ("O1", 3, 1, "SP_STEP_20130302_004"),
    ("O3", 1, 0, "SP_STEP_20130302_002"), ("O4", 1, 1, "SP_STEP_20130301_005"), ("O99", 1, 1, "SP_STEP_20130309_001"),
]


def expected_row(inp: dict, exp: dict, sha, mask) -> dict:
    """Copied values from the input, P block from the raw number, E block, and the hand-worked derived values."""
    e = exp.get("E") or unknown_e(inp)
    return {**{c: inp.get(c) for c in COPIED}, "acc_nbr_hash": sha(inp["acc_nbr"]),
            "acc_nbr_mask": mask(inp["acc_nbr"]), "ref_month_id": "201302", **e, "step_cnt": 0, "return_cnt": 0,
            "_batch_id": inp.get("_batch_id", "SP_ORDER_20130101_001"), **{k: v for k, v in exp.items() if k != "E"},
            "day_id": inp["accept_time"][:10].replace("-", "")}


def test_provision_order_d(spark, cfg, bronze_df, snapshot_df, sha, mask, expect_df, assert_schema, assert_no_raw,
                           assert_rows_equal):
    salt = cfg.env.pii_salt
    cur = bronze_df("SP_ORDER", [c[0] for c in CASES])
    steps = bronze_df("SP_STEP", [
        {"order_id": o, "step_seq": s, "step_code": "DISPATCH", "start_time": "2013-03-01 09:00:00", "return_flag": f,
         "update_time": "2013-03-01 09:00:00", "_batch_id": b, "day_id": b.split("_")[-2]} for o, s, f, b in STEPS])
    subs = snapshot_df([("201302", "P1", sha("19900000001"), *SNAP_P1.values())])
    out = order.build(cur=cur, steps_cur=steps, subscribers=subs, thresholds=threshold_seed(spark), salt=salt)

    assert_schema(out, order.DDL)
    assert "acc_nbr" not in out.columns
    rows = out.collect()
    assert_no_raw(rows, {c[0]["acc_nbr"] for c in CASES if c[0]["acc_nbr"]})

    expected = expect_df(order.DDL, [expected_row(i, e, sha, mask) for i, e in CASES])
    assert_rows_equal(spark.createDataFrame(rows, out.schema), expected)
