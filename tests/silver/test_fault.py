"""slv_fault_event_d (silver.md §1) on one literal frame of many hand-worked cases: status, net repair, limits
(operations.md §2 examples), exact 24 h / 720 h window bounds, prev_fault_id choice, complaint link, PII."""
from __future__ import annotations

from csqm.silver.common import SNAPSHOT_COLUMNS as E_COLS
from csqm.silver.common import threshold_seed
from csqm.silver.tables import fault

CMPL_DDL = "sheet_id STRING, sheet_type STRING, is_valid TINYINT, related_fault_id STRING"
COPIED = ("fault_id", "prod_inst_id", "accept_time", "accept_channel", "fault_phen_l1", "dispatch_time",
          "appoint_time", "arrive_time", "close_time", "fault_cause_l1", "ticket_status", "maint_team_id",
          "callback_result", "callback_time")


def unknown_e(row: dict) -> dict:
    """E block of an unmatched event: own values, else the unknown members."""
    return {"cust_id": None, "city_code": row["city_code"], "county_code": row.get("county_code") or "999999",
            "urban_rural": row.get("urban_rural") or "UNK", "product_line": row["product_line"],
            **{c: "UNK" for c in E_COLS[5:11]}, "tenure_months": None}


SNAP_P1 = dict(zip(E_COLS, ("C1", "0531", "370102", "U", "BB", "PUB", "PUB_HOME", "GOLD", "POST", "OF1", "SINGLE", 30),
                   strict=True))
SNAP_P11 = dict(zip(E_COLS, ("C11", "0531", "370181", "R", "FIX", "PUB", "PUB_IND", "NORMAL", "PRE", "UNK", "UNK", 5),
                    strict=True))


def r(fid: str, nbr: str, acc: str, status: str, close: str | None = None, pl: str = "BB", ur: str | None = "U",
      **kw) -> dict:
    """One FLT_TICKET input row (times as strings); BB urban by default."""
    return {"fault_id": fid, "acc_nbr": nbr, "city_code": "0531", "product_line": pl, "urban_rural": ur,
            "accept_time": acc, "accept_channel": "HOTLINE", "fault_phen_l1": "NO_NET", "close_time": close,
            "ticket_status": status, "update_time": acc, **kw}


OPEN_OUT = {"close_day_id": None, "suspend_sec": 0, "is_valid": 1, "is_closed": 0, "net_repair_sec": None,
            "net_repair_hours": None, "is_timely": None, "is_reg_overdue": None, "is_user_cause": 0}
INVALID_W = {"is_valid": 0, "is_dup_24h": None, "is_repeat_30d": None, "prev_fault_id": None}
W0 = {"is_dup_24h": 0, "is_repeat_30d": 0, "prev_fault_id": None}


def closed(close_day: str, net: int, hrs: str, timely: int, overdue: int, susp: int = 0, user: int = 0) -> dict:
    """Expected status block of a closed valid ticket."""
    return {"close_day_id": close_day, "suspend_sec": susp, "is_valid": 1, "is_closed": 1, "net_repair_sec": net,
            "net_repair_hours": hrs, "is_timely": timely, "is_reg_overdue": overdue, "is_user_cause": user}


BB_U = {"time_limit_hours": "24.00", "reg_limit_hours": "48.00"}
CASES = [  # (input row, expected derived values; E block = unknown members unless "E" is given)
    # closed on a later day, suspension 1 h subtracted: 25 h − 1 h = exactly 24 h; MOB rural → 48 (score 8 beats 1);
    # REG has no MOB row → rural 72. Own geography/product win over the snapshot (P1) which fills the rest.
    (r("F01", "13300000001", "2013-03-01 08:00:00", "CLOSED", "2013-03-02 09:00:00", "MOB", "R", county_code="370112",
       prod_inst_id="P1", suspend_sec=3600, fault_cause_l1="USER", day_id="20130302",
       _batch_id="FLT_TICKET_20130302_002"),
     {**closed("20130302", 86400, "24.00", 1, 0, susp=3600, user=1), "time_limit_hours": "48.00",
      "reg_limit_hours": "72.00", **W0, "to_complaint_flag": 1,
      "E": {**SNAP_P1, "county_code": "370112", "urban_rural": "R", "product_line": "MOB"}}),
    # DL → 4 h: 4 h + 1 s is late; REG urban 48; TERM is a user cause; suspend NULL → 0
    (r("F02", "13300000002", "2013-03-01 10:00:00", "CLOSED", "2013-03-01 14:00:01", "DL", fault_cause_l1="TERM"),
     {**closed("20130301", 14401, "4.00", 0, 0, user=1), "time_limit_hours": "4.00", "reg_limit_hours": "48.00",
      **W0}),
    # FIX rural → 48; REG rural 72 h + 1 s → overdue
    (r("F03", "13300000003", "2013-03-01 00:00:00", "CLOSED", "2013-03-04 00:00:01", "FIX", "R",
       fault_cause_l1="LINE"),
     {**closed("20130304", 259201, "72.00", 0, 1), "time_limit_hours": "48.00", "reg_limit_hours": "72.00", **W0}),
    # BB with urban_rural UNK (no own value, no snapshot) → catch-all 24; exactly 86400 s is timely; short number mask
    (r("F04", "ab12345", "2013-03-05 08:00:00", "CLOSED", "2013-03-06 08:00:00", ur=None),
     {**closed("20130306", 86400, "24.00", 1, 0), **BB_U, **W0, "to_complaint_flag": 1}),
    # 86401 s is not timely
    (r("F05", "13300000005", "2013-03-05 08:00:00", "CLOSED", "2013-03-06 08:00:01"),
     {**closed("20130306", 86401, "24.00", 0, 0), **BB_U, **W0}),
    # open; and CLOSED without close_time → not closed; limits still looked up, outcome flags NULL
    (r("F06", "13300000006", "2013-03-05 09:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    (r("F07", "13300000007", "2013-03-05 09:00:00", "CLOSED"), {**OPEN_OUT, **BB_U, **W0}),
    # suspension longer than the span → net clipped at 0
    (r("F10", "13300000010", "2013-03-07 10:00:00", "CLOSED", "2013-03-07 11:00:00", suspend_sec=7200),
     {**closed("20130307", 0, "0.00", 1, 0, susp=7200), **BB_U, **W0}),
    # urban_rural NULL filled by the number's snapshot (R) → the lookup uses the enriched value:
    # FIX rural 48, 47 h timely
    (r("F11", "13300000011", "2013-03-08 00:00:00", "CLOSED", "2013-03-09 23:00:00", "FIX", None),
     {**closed("20130309", 169200, "47.00", 1, 0), "time_limit_hours": "48.00", "reg_limit_hours": "72.00", **W0,
      "E": {**SNAP_P11, "product_line": "FIX"}}),
    # dup 24 h: exactly 24 h later is a duplicate
    (r("F20A", "13300000020", "2013-03-10 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    (r("F20B", "13300000020", "2013-03-11 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0, "is_dup_24h": 1}),
    # 24 h + 1 s is not; an invalid fault inside the window neither counts nor gets flags
    (r("F21A", "13300000021", "2013-03-10 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    (r("F21X", "13300000021", "2013-03-11 00:00:00", "CANCELLED"), {**OPEN_OUT, **BB_U, **INVALID_W}),
    (r("F21B", "13300000021", "2013-03-11 10:00:01", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    # same accept_time: the smaller fault_id is the earlier; a TEST ticket before them is ignored
    (r("F22T", "13300000022", "2013-03-12 09:00:00", "TEST"), {**OPEN_OUT, **BB_U, **INVALID_W}),
    (r("F22A", "13300000022", "2013-03-12 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    (r("F22B", "13300000022", "2013-03-12 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0, "is_dup_24h": 1}),
    # repeat 30 d: a close exactly 720 h before the accept counts (2013-02-01 10:00 + 30 d = 2013-03-03 10:00)
    (r("F23A", "13300000023", "2013-02-01 08:00:00", "CLOSED", "2013-02-01 10:00:00"),
     {**closed("20130201", 7200, "2.00", 1, 0), **BB_U, **W0}),
    (r("F23B", "13300000023", "2013-03-03 10:00:00", "OPEN"),
     {**OPEN_OUT, **BB_U, "is_dup_24h": 0, "is_repeat_30d": 1, "prev_fault_id": "F23A"}),
    # 720 h + 1 s before does not
    (r("F24A", "13300000024", "2013-02-01 08:00:00", "CLOSED", "2013-02-01 09:59:59"),
     {**closed("20130201", 7199, "2.00", 1, 0), **BB_U, **W0}),
    (r("F24B", "13300000024", "2013-03-03 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    # a close_time equal to the accept_time does not count (upper bound exclusive)
    (r("F25A", "13300000025", "2013-02-27 08:00:00", "CLOSED", "2013-03-02 08:00:00"),
     {**closed("20130302", 259200, "72.00", 0, 1), **BB_U, **W0}),
    (r("F25B", "13300000025", "2013-03-02 08:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    # prev_fault_id = the g with the greatest (close_time, fault_id): F26B and F26C close together → F26C
    (r("F26A", "13300000026", "2013-02-27 08:00:00", "CLOSED", "2013-03-01 10:00:00"),
     {**closed("20130301", 180000, "50.00", 0, 1), **BB_U, **W0}),
    (r("F26B", "13300000026", "2013-03-02 10:00:00", "CLOSED", "2013-03-05 10:00:00"),
     {**closed("20130305", 259200, "72.00", 0, 1), **BB_U, "is_dup_24h": 0, "is_repeat_30d": 1,
      "prev_fault_id": "F26A"}),
    (r("F26C", "13300000026", "2013-03-04 09:00:00", "CLOSED", "2013-03-05 10:00:00"),
     {**closed("20130305", 90000, "25.00", 0, 0), **BB_U, "is_dup_24h": 0, "is_repeat_30d": 1,
      "prev_fault_id": "F26A"}),
    (r("F26D", "13300000026", "2013-03-10 10:00:00", "OPEN"),
     {**OPEN_OUT, **BB_U, "is_dup_24h": 0, "is_repeat_30d": 1, "prev_fault_id": "F26C"}),
    # a closed fault that is itself a 24 h duplicate is not a g
    (r("F27A", "13300000027", "2013-03-01 08:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
    (r("F27B", "13300000027", "2013-03-01 20:00:00", "CLOSED", "2013-03-02 08:00:00"),
     {**closed("20130302", 43200, "12.00", 1, 0), **BB_U, **W0, "is_dup_24h": 1}),
    (r("F27C", "13300000027", "2013-03-10 10:00:00", "OPEN"), {**OPEN_OUT, **BB_U, **W0}),
]


def expected_row(inp: dict, exp: dict, sha, mask) -> dict:
    """Copied values from the input, P block from the raw number, E block, and the hand-worked derived values."""
    e = exp.get("E") or unknown_e(inp)
    acc = inp["accept_time"]
    return {**{c: inp.get(c) for c in COPIED}, "acc_nbr_hash": sha(inp["acc_nbr"]),
            "acc_nbr_mask": mask(inp["acc_nbr"]), "ref_month_id": "201302" if acc[5:7] == "03" else "201301", **e,
            "to_complaint_flag": 0, **{k: v for k, v in exp.items() if k != "E"},
            "day_id": acc[:10].replace("-", ""), "_batch_id": inp.get("_batch_id", "FLT_TICKET_20130101_001")}


def test_fault_event_d(spark, cfg, bronze_df, snapshot_df, sha, mask, expect_df, assert_schema, assert_no_raw,
                       assert_rows_equal):
    salt = cfg.env.pii_salt
    cur = bronze_df("FLT_TICKET", [c[0] for c in CASES])
    subs = snapshot_df([
        ("201302", "P1", sha("19900000001"), *SNAP_P1.values()),
        ("201302", "P11", sha("13300000011"), *SNAP_P11.values()),
    ])
    complaints = spark.createDataFrame([
        ("S1", "CMPL", 1, "F01"), ("S2", "CONSULT", 1, "F02"), ("S3", "CMPL", 0, "F03"),
        ("S4", "CMPL", 1, "F04"), ("S5", "CMPL", 1, "F04"), ("S6", "CMPL", 1, None),
    ], CMPL_DDL)
    out = fault.build(cur=cur, subscribers=subs, thresholds=threshold_seed(spark), complaints=complaints, salt=salt)

    assert_schema(out, fault.DDL)
    assert "acc_nbr" not in out.columns
    rows = out.collect()  # the one Spark action of the build
    assert_no_raw(rows, {c[0]["acc_nbr"] for c in CASES})

    expected = expect_df(fault.DDL, [expected_row(i, e, sha, mask) for i, e in CASES])
    assert_rows_equal(spark.createDataFrame(rows, out.schema), expected)
