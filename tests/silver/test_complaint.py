"""slv_complaint_event_d (silver.md §2) on literal CS_SHEET rows: status flags, limits, reply, 30-day repeats,
refunds."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from csqm.silver.common import threshold_seed
from csqm.silver.tables import complaint, refund

N3 = "053182345678"  # a number without a snapshot row
COPIED = ("sheet_id", "sheet_type", "prod_inst_id", "accept_time", "accept_channel", "accept_staff_id", "cmpl_phen_l1",
          "cmpl_phen_l2", "urgent_level", "dispatch_time", "first_contact_time", "finish_time", "sheet_status",
          "callback_result", "related_fault_id")
FMT = "%Y-%m-%d %H:%M:%S"


def refunds(expect_df):
    """slv_refund_event_d rows: only APPROVED + CMPL count (SH01: 10.00 + 0.05; SH23 is a CONSULT sheet)."""
    rows = [("A1", "APPROVED", "CMPL", "SH01", "10.00"), ("A2", "APPROVED", "CMPL", "SH01", "0.05"),
            ("A3", "REJECTED", "CMPL", "SH02", "99.00"), ("A4", "APPROVED", "FAULT", "SH02", "5.00"),
            ("A5", "APPLIED", "CMPL", "SH02", "7.00"), ("A6", "APPROVED", "CMPL", "SH23", "1.00")]
    cols = ("adj_id", "adj_status", "related_type", "related_id", "amount")
    return expect_df(refund.DDL, [dict(zip(cols, r, strict=True)) for r in rows])


def plus(ts: str, **delta: float) -> str:
    """A timestamp string shifted by a timedelta."""
    return (dt.datetime.strptime(ts, FMT) + dt.timedelta(**delta)).strftime(FMT)


def test_complaint_events(spark, cfg, bronze_df, subscribers_201302, sha, mask, expect_df, assert_schema,
                          assert_rows_equal, assert_no_raw):
    salt, subs = cfg.env.pii_salt, subscribers_201302
    n1, n2 = subs.n1, subs.n2
    base = {"sheet_type": "CMPL", "city_code": "0531", "accept_channel": "HOTLINE", "cmpl_phen_l1": "NET",
            "urgent_level": "NORMAL", "valid_flag": 1, "sheet_status": "OPEN", "update_time": "2013-03-31 23:00:00"}
    t5 = "2013-03-05 10:00:00"
    rows = [
        # --- repeats by number n1: SH02 exactly 720 h after SH01 -> counts. SH01: prod P1, own product_line FIX
        {**base, "sheet_id": "SH01", "prod_inst_id": "P1", "acc_nbr": n1, "product_line": "FIX",
         "accept_time": "2013-03-01 08:00:00"},
        {**base, "sheet_id": "SH02", "acc_nbr": n1, "accept_time": "2013-03-31 08:00:00"},
        # --- n2: 720 h + 1 s -> not counted (matched by number to P2)
        {**base, "sheet_id": "SH10", "acc_nbr": n2, "city_code": "0532", "accept_time": "2013-03-01 08:00:00"},
        {**base, "sheet_id": "SH11", "acc_nbr": n2, "city_code": "0532", "accept_time": "2013-03-31 08:00:01"},
        # --- N3 (no snapshot): same accept_time tie broken by sheet_id; invalid, CONSULT and CANCELLED rows neither
        # count nor get a count
        {**base, "sheet_id": "SH20", "acc_nbr": N3, "accept_time": "2013-03-10 12:00:00"},
        {**base, "sheet_id": "SH21", "acc_nbr": N3, "accept_time": "2013-03-10 12:00:00"},
        {**base, "sheet_id": "SH22", "acc_nbr": N3, "accept_time": "2013-03-10 12:00:00", "valid_flag": 0},
        {**base, "sheet_id": "SH23", "acc_nbr": N3, "accept_time": "2013-03-10 12:00:00", "sheet_type": "CONSULT"},
        {**base, "sheet_id": "SH25", "acc_nbr": N3, "accept_time": "2013-03-11 12:00:00", "sheet_status": "CANCELLED"},
        {**base, "sheet_id": "SH24", "acc_nbr": N3, "accept_time": "2013-03-12 12:00:00"},
        # --- no number: subject C:<enriched cust_id>. SH30 gets C1 from P1, SH31 has own C1; SH01 (number) is another
        # subject
        {**base, "sheet_id": "SH30", "prod_inst_id": "P1", "accept_time": "2013-03-15 09:00:00"},
        {**base, "sheet_id": "SH31", "cust_id": "C1", "accept_time": "2013-03-16 09:00:00"},
        # --- no subject at all -> 0, never paired
        {**base, "sheet_id": "SH40", "accept_time": "2013-03-15 09:00:00"},
        {**base, "sheet_id": "SH41", "accept_time": "2013-03-15 10:00:00"},
        # --- status and durations (no subject)
        # SH50: finished exactly at the NORMAL 48 h limit; dispatched; first contact exactly at the reply due time
        {**base, "sheet_id": "SH50", "accept_time": t5, "sheet_status": "FINISHED", "finish_time": plus(t5, hours=48),
         "dispatch_time": plus(t5, hours=1), "first_contact_time": plus(t5, hours=24)},
        # SH51: URGENT 24 h, net 86401 s -> late; first contact 1 s after due -> late
        {**base, "sheet_id": "SH51", "accept_time": t5, "urgent_level": "URGENT", "sheet_status": "ARCHIVED",
         "finish_time": plus(t5, hours=24, seconds=1), "suspend_sec": 0, "dispatch_time": plus(t5, hours=1),
         "first_contact_time": plus(t5, hours=24, seconds=1)},
        # SH52: first-contact solved (no dispatch): reply timeliness NULL; suspension > duration -> net clipped at 0
        {**base, "sheet_id": "SH52", "accept_time": t5, "sheet_status": "FINISHED", "finish_time": plus(t5, minutes=10),
         "suspend_sec": 3600},
        # SH53: FINISHED without finish_time -> not finished, not FCS; no first contact -> reply 0
        {**base, "sheet_id": "SH53", "accept_time": t5, "sheet_status": "FINISHED"},
        # SH54: OPEN with a finish_time -> not finished; URGENT; responsible and supervised; replied in time
        {**base, "sheet_id": "SH54", "accept_time": t5, "urgent_level": "URGENT", "finish_time": plus(t5, hours=2),
         "suspend_sec": 100, "resp_flag": 1, "supervise_flag": 1, "first_contact_time": plus(t5, hours=1)},
        # SH55: 50 h minus 2 h suspension = 48 h -> timely; resp 0, supervise 0
        {**base, "sheet_id": "SH55", "accept_time": t5, "sheet_status": "FINISHED", "finish_time": plus(t5, hours=50),
         "suspend_sec": 7200, "resp_flag": 0, "supervise_flag": 0, "dispatch_time": plus(t5, hours=1)},
        # SH56: accepted before every threshold's valid_from -> limits, due time and timeliness NULL
        {**base, "sheet_id": "SH56", "accept_time": "2009-12-31 23:00:00", "sheet_status": "FINISHED",
         "finish_time": "2010-01-01 01:00:00", "dispatch_time": "2010-01-01 00:00:00"},
        # --- geography exception: P2 is 0532, the sheet says 0531 -> county/urban_rural not borrowed
        {**base, "sheet_id": "SH60", "prod_inst_id": "P2", "accept_time": "2013-03-20 09:00:00"},
    ]
    cur = bronze_df("CS_SHEET", rows, "20130331")
    thresholds = threshold_seed(spark)
    out = complaint.build(cur=cur, subscribers=subs.df, thresholds=thresholds, refunds=refunds(expect_df),
                          salt=salt).cache()

    def unk(r: dict) -> dict:
        return {**subs.unknown, "cust_id": r.get("cust_id"), "city_code": r["city_code"],
                "product_line": r.get("product_line") or "UNK"}

    def exp(r: dict, snap: dict, **kw) -> dict:
        acc, accept = r.get("acc_nbr"), r["accept_time"]
        due = plus(accept, hours=24)
        return {**{k: r.get(k) for k in COPIED}, "acc_nbr_hash": sha(acc), "acc_nbr_mask": mask(acc),
                "ref_month_id": "201302", **snap, "finish_day_id": None, "suspend_sec": r.get("suspend_sec") or 0,
                "is_valid": 1, "is_finished": 0, "is_first_contact_solved": 0, "net_proc_sec": None,
                "net_proc_hours": None,
                "proc_limit_hours": Decimal("48.00") if r["urgent_level"] == "NORMAL" else Decimal("24.00"),
                "is_timely_proc": None, "reply_limit_hours": Decimal("24.00"), "reply_due_time": due,
                "reply_due_day_id": due[:10].replace("-", ""), "is_timely_reply": 0,
                "is_responsible": r.get("resp_flag"), "is_supervised": r.get("supervise_flag") or 0,
                "is_repeat_30d": 0, "repeat_cnt_30d": 0, "refund_flag": 0, "refund_amount": Decimal("0.00"),
                "day_id": accept[:10].replace("-", ""), "_batch_id": "CS_SHEET_20130331_001", **kw}

    s = {r["sheet_id"]: r for r in rows}
    n3 = {"is_valid": 0, "is_repeat_30d": None, "repeat_cnt_30d": None}
    expected = expect_df(complaint.DDL, [
        exp(s["SH01"], {**subs.snap1, "product_line": "FIX"}, refund_flag=1, refund_amount=Decimal("10.05")),
        exp(s["SH02"], subs.snap1, is_repeat_30d=1, repeat_cnt_30d=1),
        exp(s["SH10"], subs.snap2),
        exp(s["SH11"], subs.snap2),
        exp(s["SH20"], unk(s["SH20"])),
        exp(s["SH21"], unk(s["SH21"]), is_repeat_30d=1, repeat_cnt_30d=1),
        exp(s["SH22"], unk(s["SH22"]), **n3),
        exp(s["SH23"], unk(s["SH23"]), is_repeat_30d=None, repeat_cnt_30d=None, refund_flag=1,
            refund_amount=Decimal("1.00")),
        exp(s["SH25"], unk(s["SH25"]), **n3),
        exp(s["SH24"], unk(s["SH24"]), is_repeat_30d=1, repeat_cnt_30d=2),
        exp(s["SH30"], subs.snap1),
        exp(s["SH31"], unk(s["SH31"]), is_repeat_30d=1, repeat_cnt_30d=1),
        exp(s["SH40"], unk(s["SH40"])),
        exp(s["SH41"], unk(s["SH41"])),
        exp(s["SH50"], unk(s["SH50"]), finish_day_id="20130307", is_finished=1, net_proc_sec=172800,
            net_proc_hours=Decimal("48.00"), is_timely_proc=1, is_timely_reply=1),
        exp(s["SH51"], unk(s["SH51"]), finish_day_id="20130306", is_finished=1, net_proc_sec=86401,
            net_proc_hours=Decimal("24.00"), is_timely_proc=0, is_timely_reply=0),
        exp(s["SH52"], unk(s["SH52"]), finish_day_id="20130305", is_finished=1, is_first_contact_solved=1,
            net_proc_sec=0, net_proc_hours=Decimal("0.00"), is_timely_proc=1, is_timely_reply=None),
        exp(s["SH53"], unk(s["SH53"])),
        exp(s["SH54"], unk(s["SH54"]), is_timely_reply=1),
        exp(s["SH55"], unk(s["SH55"]), finish_day_id="20130307", is_finished=1, net_proc_sec=172800,
            net_proc_hours=Decimal("48.00"), is_timely_proc=1),
        exp(s["SH56"], unk(s["SH56"]), ref_month_id="200911", finish_day_id="20100101", is_finished=1,
            net_proc_sec=7200, net_proc_hours=Decimal("2.00"), proc_limit_hours=None, reply_limit_hours=None,
            reply_due_time=None, reply_due_day_id=None, is_timely_reply=None),
        exp(s["SH60"], {**subs.snap2, "city_code": "0531", "county_code": "999999", "urban_rural": "UNK"}),
    ])
    assert_schema(out, complaint.DDL)
    assert_rows_equal(out, expected)
    assert_no_raw(out.collect(), (n1, n2, N3))
    out.unpersist()
