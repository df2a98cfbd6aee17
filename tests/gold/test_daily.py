"""The daily service gold tables (gold.md 3.2.2, 3.2.4–3.2.8) from literal silver rows, against hand-computed rows:
outcomes on their decide/close day, DCNT within a row, MTD fault rate on the previous month's user base across a month
boundary, the fault backlog at the day boundary, group-total shares, den = 0, the T ∪ N proactive population, and late
updates that move an object to another day (it then counts on the new day only)."""
from __future__ import annotations

from decimal import Decimal

from chispa import assert_df_equality
from csqm.pipeline.gold import span


def _eq(got, expected):
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def _by_day(df, col: str, **key) -> dict[str, int]:
    """{day_id: value of col} over the rows matching key."""
    return {r.day_id: r[col] for r in df.collect() if all(r[k] == v for k, v in key.items())}


# ------------------------------------------------------------------ gld_refund_d
RKEY = {"city_code": "0531", "product_line": "MOB", "refund_type": "REFUND", "reason_l1": "BILL_ERR",
        "related_type": "NONE"}


def _refunds(silver_df, r1_decided: str):
    def dec(day):
        return {"decide_day_id": day, "is_decided": 1}

    return silver_df("slv_refund_event_d", [
        {**RKEY, **dec(r1_decided), "adj_id": "r1", "adj_status": "APPROVED", "amount": "10.50",
         "refund_subject": "cu1", "is_timely_decide": 1, "day_id": "20130102"},
        {**RKEY, **dec("20130103"), "adj_id": "r2", "adj_status": "APPROVED", "amount": "4.50",
         "refund_subject": "cu1", "is_timely_decide": 0, "day_id": "20130102"},    # same customer: DCNT 1
        {**RKEY, **dec("20130103"), "adj_id": "r3", "adj_status": "REJECTED", "amount": "99.00",
         "refund_subject": "cu3", "day_id": "20130103"},                            # no limit: timely NULL
        {**RKEY, "adj_id": "r4", "adj_status": "APPLIED", "amount": "1.00", "is_decided": 0, "day_id": "20130103"},
        {**RKEY, **dec("20130201"), "adj_id": "r5", "adj_status": "APPROVED", "amount": "7.00",
         "refund_subject": "cu2", "related_type": "CMPL", "day_id": "20130131"},
    ])


def test_refund_decisions_on_their_decide_day(gold, gold_rows, silver_df):
    got = gold("gld_refund_d", {"slv_refund_event_d": _refunds(silver_df, "20130103")}, span("20130102", "20130201",
                                                                                               "D"))
    expected = [
        {**RKEY, "day_id": "20130103", "refund_cnt": 2, "refund_amt": Decimal("15.00"), "refund_cust_cnt": 1,
         "refund_avg_num": Decimal("15.00"), "refund_avg_den": 2, "refund_avg_rate": 7.5,
         "refund_reject_num": 1, "refund_reject_den": 3, "refund_reject_rate": 1 / 3,
         "refund_timely_num": 1, "refund_timely_den": 2, "refund_timely_rate": 0.5},
        {**RKEY, "day_id": "20130201", "related_type": "CMPL", "refund_cnt": 1, "refund_amt": Decimal("7.00"),
         "refund_cust_cnt": 1, "refund_avg_num": Decimal("7.00"), "refund_avg_den": 1, "refund_avg_rate": 7.0,
         "refund_reject_den": 1, "refund_reject_rate": 0.0},                        # timely den 0: rate NULL
    ]
    _eq(got, gold_rows("gld_refund_d", expected))


def test_refund_redecided_later_counts_on_the_new_day_only(gold, silver_df):
    got = gold("gld_refund_d", {"slv_refund_event_d": _refunds(silver_df, "20130105")}, span("20130103", "20130105",
                                                                                               "D"))
    assert _by_day(got, "refund_cnt", **RKEY) == {"20130103": 1, "20130105": 1}
    assert _by_day(got, "refund_amt", **RKEY) == {"20130103": Decimal("4.50"), "20130105": Decimal("10.50")}
    assert _by_day(got, "refund_reject_den", **RKEY) == {"20130103": 2, "20130105": 1}


# ------------------------------------------------------------------ gld_fault_d
GEO = {"city_code": "0531", "county_code": "053101", "urban_rural": "URBAN", "product_line": "BB"}
GEO2 = {"city_code": "0532", "county_code": "053201", "urban_rural": "RURAL", "product_line": "MOB"}
VF = {"is_valid": 1, "is_dup_24h": 0}


def _faults(silver_df, f1_close: str):
    def closed(t, sec, **flags):
        return {"ticket_status": "CLOSED", "is_closed": 1, "close_time": t, "close_day_id": t[:10].replace("-", ""),
                "net_repair_sec": sec, **flags}

    return silver_df("slv_fault_event_d", [
        {**GEO, **VF, "fault_id": "f1", "accept_time": "2013-01-30 10:00:00", "day_id": "20130130",
         "is_repeat_30d": 1, "to_complaint_flag": 0, **closed(f1_close, 36000, is_timely=1, is_reg_overdue=0)},
        {**GEO, **VF, "fault_id": "f2", "accept_time": "2013-01-31 09:00:00", "day_id": "20130131",
         "fault_cause_l1": "LINE", "ticket_status": "OPEN", "is_closed": 0, "is_repeat_30d": 0,
         "to_complaint_flag": 1},
        {**GEO, "fault_id": "f3", "is_valid": 1, "is_dup_24h": 1, "accept_time": "2013-01-31 10:00:00",
         "day_id": "20130131", "is_closed": 0},                                    # duplicate: not VF
        {**GEO, "fault_id": "f4", "is_valid": 0, "accept_time": "2013-01-31 11:00:00", "day_id": "20130131",
         "is_closed": 0},                                                          # cancelled: not VF
        {**GEO, **VF, "fault_id": "f5", "accept_time": "2013-02-01 08:00:00", "day_id": "20130201",
         "is_repeat_30d": 0, "to_complaint_flag": 0, **closed("2013-02-03 10:00:00", 180000, is_reg_overdue=1)},
        {**GEO2, **VF, "fault_id": "f6", "accept_time": "2013-02-02 09:00:00", "day_id": "20130202",
         "fault_cause_l1": "USER", "is_repeat_30d": 0, "to_complaint_flag": 0,
         **closed("2013-02-02 15:00:00", 21600, is_timely=0, is_reg_overdue=0)},
    ])


def _fault_silver(silver_df, f1_close="2013-02-01 00:00:00"):
    users = [{**GEO, "month_id": m, "prod_inst_id": f"{m}-{i}", "is_arrive": 1}
             for m, n in (("201212", 4), ("201301", 2)) for i in range(n)]
    users.append({**GEO, "month_id": "201212", "prod_inst_id": "gone", "is_arrive": 0})
    return {"slv_fault_event_d": _faults(silver_df, f1_close), "slv_subscriber_m": silver_df("slv_subscriber_m", users)}


def test_fault_mtd_rate_outcomes_and_backlog(gold, gold_rows, silver_df):
    got = gold("gld_fault_d", _fault_silver(silver_df), span("20130130", "20130203", "D"), backlog_from="20130131")
    na, line, user = {**GEO, "fault_cause_l1": "NA"}, {**GEO, "fault_cause_l1": "LINE"}, {**GEO2, "fault_cause_l1":
                                                                                              "USER"}

    def per100(num, den):
        return {"flt_report_per_100_num": num, "flt_report_per_100_den": den,
                "flt_report_per_100_rate": num / den * 100 if den else None}

    def arrival(repeat, to_cmpl):
        return {"flt_report_cnt": 1, "flt_repeat_num": repeat, "flt_repeat_den": 1, "flt_repeat_rate": float(repeat),
                "flt_to_cmpl_num": to_cmpl, "flt_to_cmpl_den": 1, "flt_to_cmpl_rate": float(to_cmpl)}

    def repair(sec, **more):
        return {"flt_closed_cnt": 1, "flt_repair_hours_num": sec, "flt_repair_hours_den": 1,
                "flt_repair_hours_rate": sec / 1 / 3600, **more}

    expected = [
        # f1 open at B(0130) but 0130 is before L0: backlog 0
        {**na, "day_id": "20130130", **arrival(1, 0), **per100(1, 4)},
        # f1 closed exactly at B(0131) = 2013-02-01 00:00:00: still in the 0131 backlog (close_time >= B)
        {**na, "day_id": "20130131", **per100(1, 4), "flt_backlog": 1},
        # February: MTD restarts, the user base is January's (2 users)
        {**na, "day_id": "20130201", **arrival(0, 0), **per100(1, 2),
         **repair(36000, flt_timely_num=1, flt_timely_den=1, flt_timely_rate=1.0), "flt_backlog": 1},
        {**na, "day_id": "20130202", **per100(1, 2), "flt_backlog": 1},
        {**na, "day_id": "20130203", **per100(1, 2), **repair(180000, flt_reg_overdue_cnt=1)},  # timely den 0
        {**line, "day_id": "20130131", **arrival(0, 1), **per100(1, 4), "flt_backlog": 1},
        *[{**line, "day_id": d, **per100(0, 2), "flt_backlog": 1} for d in span("20130201", "20130203", "D")],
        # no users under GEO2: per-100 rate NULL; opened and closed inside 0202: never in a backlog
        {**user, "day_id": "20130202", **arrival(0, 0), **per100(1, 0),
         **repair(21600, flt_timely_num=0, flt_timely_den=1, flt_timely_rate=0.0)},
        {**user, "day_id": "20130203", **per100(1, 0)},
    ]
    _eq(got, gold_rows("gld_fault_d", expected))


def test_fault_closed_later_moves_its_close_and_stays_in_the_backlog(gold, silver_df):
    got = gold("gld_fault_d", _fault_silver(silver_df, f1_close="2013-02-02 08:00:00"),
               span("20130131", "20130203", "D"), backlog_from="20130131")
    na = {**GEO, "fault_cause_l1": "NA"}
    assert _by_day(got, "flt_closed_cnt", **na) == {"20130131": 0, "20130201": 0, "20130202": 1, "20130203": 1}
    assert _by_day(got, "flt_backlog", **na) == {"20130131": 1, "20130201": 2, "20130202": 1, "20130203": 0}


# ------------------------------------------------------------------ gld_channel_service_d
def _contacts(silver_df, e2_day: str):
    def c(cid, city, ch, ch_id, purpose, day="20130105", success=1, abandon=0, **more):
        return {"contact_id": cid, "city_code": city, "channel_type": ch, "channel_id": ch_id,
                "contact_purpose": purpose, "day_id": day, "is_success": success, "is_abandon": abandon, **more}

    return silver_df("slv_contact_event_d", [
        c("h1", "0531", "HALL", "H01", "TRANS", hall_wait_sec=1300, hall_serve_sec=600, rating="1"),
        c("h2", "0531", "HALL", "H01", "TRANS", success=0, abandon=1),
        c("h3", "0531", "HALL", "H01", "QUERY", hall_wait_sec=1200, hall_serve_sec=300, rating="3"),  # not > 20 min
        c("c1", "0531", "HOTLINE", "10000", "CONSULT", rating="2"),
        c("e1", "0531", "APP", "APP", "TRANS"),
        c("c2", "0532", "HOTLINE", "10000", "QUERY", success=0, abandon=1),
        c("e2", "0531", "APP", "APP", "TRANS", day=e2_day),
    ])


def test_channel_shares_of_the_city_and_hall_times(gold, gold_rows, silver_df):
    got = gold("gld_channel_service_d", {"slv_contact_event_d": _contacts(silver_df, "20130106")},
               ["20130105", "20130106"])

    def key(day, city, ch, ch_id, purpose):
        return {"day_id": day, "city_code": city, "channel_type": ch, "channel_id": ch_id, "contact_purpose": purpose}

    def base(cnt, share_den, success, abandon):
        return {"contact_cnt": cnt, "channel_share_num": cnt, "channel_share_den": share_den,
                "channel_share_rate": cnt / share_den, "contact_success_num": success, "contact_success_den": cnt,
                "contact_success_rate": success / cnt, "contact_abandon_num": abandon, "contact_abandon_den": cnt,
                "contact_abandon_rate": abandon / cnt}

    def trans(num, den):
        return {"trans_share_num": num, "trans_share_den": den, "trans_share_rate": num / den}

    expected = [   # 0531 on 0105: 5 contacts, 3 of them TRANS
        {**key("20130105", "0531", "HALL", "H01", "TRANS"), **base(2, 5, 1, 1), **trans(2, 3),
         "hall_wait_sec_num": 1300, "hall_wait_sec_den": 1, "hall_wait_sec_rate": 1300.0,
         "hall_wait_over20m_num": 1, "hall_wait_over20m_den": 1, "hall_wait_over20m_rate": 1.0,
         "hall_serve_sec_num": 600, "hall_serve_sec_den": 1, "hall_serve_sec_rate": 600.0,
         "contact_sat_num": 1, "contact_sat_den": 1, "contact_sat_rate": 1.0},
        {**key("20130105", "0531", "HALL", "H01", "QUERY"), **base(1, 5, 1, 0),     # not TRANS: trans share 0/0
         "hall_wait_sec_num": 1200, "hall_wait_sec_den": 1, "hall_wait_sec_rate": 1200.0,
         "hall_wait_over20m_den": 1, "hall_wait_over20m_rate": 0.0,
         "hall_serve_sec_num": 300, "hall_serve_sec_den": 1, "hall_serve_sec_rate": 300.0,
         "contact_sat_den": 1, "contact_sat_rate": 0.0},
        {**key("20130105", "0531", "HOTLINE", "10000", "CONSULT"), **base(1, 5, 1, 0), "contact_sat_den": 1,
         "contact_sat_rate": 0.0},
        {**key("20130105", "0531", "APP", "APP", "TRANS"), **base(1, 5, 1, 0), **trans(1, 3)},
        {**key("20130105", "0532", "HOTLINE", "10000", "QUERY"), **base(1, 1, 0, 1)},
        {**key("20130106", "0531", "APP", "APP", "TRANS"), **base(1, 1, 1, 0), **trans(1, 1)},
    ]
    _eq(got, gold_rows("gld_channel_service_d", expected))


def test_channel_session_starting_earlier_moves_to_that_day(gold, silver_df):
    got = gold("gld_channel_service_d", {"slv_contact_event_d": _contacts(silver_df, "20130105")},
               ["20130105", "20130106"])
    app = {"city_code": "0531", "channel_type": "APP"}
    assert _by_day(got, "contact_cnt", **app) == {"20130105": 2}
    assert _by_day(got, "trans_share_den", **app) == {"20130105": 4}
    assert _by_day(got, "channel_share_den", **app) == {"20130105": 6}


# ------------------------------------------------------------------ gld_echannel_service_d
def _elogs(silver_df, l8_day: str):
    def log(lid, cat, session, hash_=None, login=1, day="20130105", ch="APP", **more):
        return {"elog_id": lid, "city_code": "0531", "channel_type": ch, "func_cat": cat, "session_id": session,
                "acc_nbr_hash": hash_, "login_flag": login, "day_id": day, "is_new_register": 0,
                "is_trans": int(cat in ("TRANS", "PAY", "EXCH")), "is_online_cs": int(cat == "ONLINE_CS"), **more}

    return silver_df("slv_echannel_contact_d", [
        log("l1", "PAY", "s1", "hA", is_success=1, pay_amount="30.00", resp_ms=100),
        log("l2", "PAY", "s1", "hA", is_success=0, pay_amount="20.00", resp_ms=300),   # failed: not paid
        log("l3", "PAY", "s2", None, is_success=1, pay_amount="5.50"),                # no number: no user
        log("l4", "PAY", "s3", "hB", login=0),                                         # not logged in; no result
        log("l5", "ONLINE_CS", "s4", "hA", rating="1", cs_solved=1, is_new_register=1),
        log("l6", "ONLINE_CS", "s4", "hA", rating="2", cs_solved=0),
        log("l7", "ONLINE_CS", "s5", None, login=0),
        log("l8", "LOGIN", "s1", "hA", ch="WEB", day=l8_day),                         # s1 again, other channel
    ])


def test_echannel_distinct_counts_payments_and_online_service(gold, gold_rows, silver_df):
    got = gold("gld_echannel_service_d", {"slv_echannel_contact_d": _elogs(silver_df, "20130104")},
               ["20130104", "20130105"])
    k = {"day_id": "20130105", "city_code": "0531", "channel_type": "APP"}
    expected = [
        {**k, "func_cat": "PAY", "ec_visit_cnt": 4, "ec_session_cnt": 3, "ec_login_user_cnt": 1,
         "ec_trans_success_num": 2, "ec_trans_success_den": 3, "ec_trans_success_rate": 2 / 3,
         "ec_pay_amt": Decimal("35.50"), "ec_resp_ms_num": 400, "ec_resp_ms_den": 2, "ec_resp_ms_rate": 200.0},
        {**k, "func_cat": "ONLINE_CS", "ec_visit_cnt": 3, "ec_session_cnt": 2, "ec_login_user_cnt": 1,
         "ec_new_reg_cnt": 1, "ec_pay_amt": Decimal("0.00"), "ec_ocs_sat_num": 1, "ec_ocs_sat_den": 2,
         "ec_ocs_sat_rate": 0.5, "ec_ocs_fcr_num": 1, "ec_ocs_fcr_den": 2, "ec_ocs_fcr_rate": 0.5},
        {**k, "day_id": "20130104", "channel_type": "WEB", "func_cat": "LOGIN", "ec_visit_cnt": 1,
         "ec_session_cnt": 1, "ec_login_user_cnt": 1, "ec_pay_amt": Decimal("0.00")},
    ]
    _eq(got, gold_rows("gld_echannel_service_d", expected))


def test_echannel_visit_time_corrected_counts_on_the_new_day_only(gold, silver_df):
    got = gold("gld_echannel_service_d", {"slv_echannel_contact_d": _elogs(silver_df, "20130105")},
               ["20130104", "20130105"])
    assert _by_day(got, "ec_visit_cnt", channel_type="WEB") == {"20130105": 1}


# ------------------------------------------------------------------ gld_hotline_10000_d
def _calls(silver_df, c6_day: str):
    def call(cid, day="20130105", sg="SG1", vip="GOLD", ch="HOTLINE", **more):
        return {"contact_id": cid, "channel_type": ch, "city_code": "0531", "skill_group": sg, "vip_level": vip,
                "day_id": day, **more}

    answered = {"is_agent_req": 1, "is_agent_ans": 1, "is_ivr_self_done": 0}
    return silver_df("slv_contact_event_d", [
        call("c1", **answered, queue_sec=10, ring_sec=5, is_ans_15s=1, is_ans_20s=1, talk_sec=100, hold_sec=20,
             acw_sec=30, is_repeat_48h=0, rating="1"),
        call("c2", **answered, queue_sec=14, ring_sec=4, is_ans_15s=0, is_ans_20s=1, talk_sec=200, hold_sec=0,
             acw_sec=10, is_repeat_48h=1, rating="3"),
        call("c3", is_agent_req=1, is_agent_ans=0, is_ivr_self_done=0, queue_sec=30, ring_sec=0, is_ans_15s=0,
             is_ans_20s=0, is_abandon=1),
        call("c4", is_agent_req=0, is_agent_ans=0, is_ivr_self_done=1, rating="2"),
        call("c5", is_agent_req=0, is_agent_ans=0, is_ivr_self_done=0),
        call("q1", ch="HALL", sg="NA", vip="UNK", rating="1"),                          # not a 10000 call
        call("c6", day=c6_day, sg="NA", vip="UNK", is_agent_req=1, is_agent_ans=0, is_ivr_self_done=0,
             queue_sec=40, ring_sec=0, is_ans_15s=0, is_ans_20s=0, is_abandon=1),
    ])


def test_hotline_service_levels_and_averages(gold, gold_rows, silver_df):
    got = gold("gld_hotline_10000_d", {"slv_contact_event_d": _calls(silver_df, "20130106")},
               ["20130105", "20130106"])

    def r(name, num, den):
        return {f"{name}_num": num, f"{name}_den": den, f"{name}_rate": num / den if den else None}

    expected = [
        {"day_id": "20130105", "city_code": "0531", "skill_group": "SG1", "vip_level": "GOLD",
         "hl_inbound_cnt": 5, "hl_agent_req_cnt": 3, **r("hl_agent_ans", 2, 3), **r("hl_sl20", 2, 3),
         **r("hl_sl15", 1, 3), **r("hl_asa", 33, 2), **r("hl_aht", 360, 2), **r("hl_self_service", 1, 3),
         **r("hl_fcr", 1, 2), **r("hl_sat", 1, 3)},
        # only an unanswered agent request: the answered-call averages have den 0
        {"day_id": "20130106", "city_code": "0531", "skill_group": "NA", "vip_level": "UNK", "hl_inbound_cnt": 1,
         "hl_agent_req_cnt": 1, **r("hl_agent_ans", 0, 1), **r("hl_sl20", 0, 1), **r("hl_sl15", 0, 1)},
    ]
    _eq(got, gold_rows("gld_hotline_10000_d", expected))
    rows = got.collect()       # RC03 on every row
    assert all(x.hl_sl15_num <= x.hl_sl20_num <= x.hl_agent_ans_num <= x.hl_agent_req_cnt <= x.hl_inbound_cnt
               for x in rows) and len(rows) == 2


def test_hotline_call_redated_counts_on_the_new_day_only(gold, silver_df):
    got = gold("gld_hotline_10000_d", {"slv_contact_event_d": _calls(silver_df, "20130105")},
               ["20130105", "20130106"])
    assert _by_day(got, "hl_inbound_cnt", skill_group="NA") == {"20130105": 1}


# ------------------------------------------------------------------ gld_proactive_service_d
def _proactive(silver_df, t2_day: str):
    def task(tid, typ, scene, day="20130105", executed=1, reached=1, **more):
        return {"task_id": tid, "task_type": typ, "task_scene": scene, "ob_channel": "OUTCALL", "city_code": "0531",
                "product_line": "MOB", "day_id": day, "is_cancelled": 0, "is_executed": executed,
                "is_reached": reached, **more}

    def sms(cid, send_time="2013-01-05 10:00:00", sent=1, replied=1, valid=1, code=None):
        return {"callback_id": cid, "city_code": "0531", "product_line": "MOB", "day_id": "20130105",
                "send_time": send_time, "is_sent": sent, "is_replied": replied, "is_valid_reply": valid,
                "reply_code": code}

    tasks = silver_df("slv_proactive_task_d", [
        task("t1", "CARE_CALL", "BIRTHDAY", result_code="SAT", cmpl_within_7d=0),     # not a CALLBACK: no CB_SAT
        task("t2", "CARE_CALL", "BIRTHDAY", day=t2_day, reached=0),
        task("t3", "CARE_CALL", "BIRTHDAY", is_cancelled=1),                             # cancelled: not T
        task("t4", "CALLBACK", "REPAIR", result_code="SAT", is_cb_timely=1, cmpl_within_7d=1),
        task("t5", "CALLBACK", "REPAIR", result_code="REFUSED", is_cb_timely=0, cmpl_within_7d=0),
        task("t6", "CALLBACK", "REPAIR", executed=0, reached=0),
    ])
    news = silver_df("slv_newuser_sms_callback_d", [
        sms("n1", code="1"), sms("n2", code="3"), sms("n3", valid=0, code="9"),
        sms("n4", sent=0, replied=0, valid=0),                                          # sending failed
        sms("n5", send_time=None, sent=0, replied=0, valid=0),                          # not sent yet
    ])
    return {"slv_proactive_task_d": tasks, "slv_newuser_sms_callback_d": news}


def test_proactive_tasks_and_new_user_callbacks(gold, gold_rows, silver_df):
    got = gold("gld_proactive_service_d", _proactive(silver_df, "20130105"), ["20130105"])
    k = {"day_id": "20130105", "city_code": "0531", "product_line": "MOB"}

    def r(name, num, den):
        return {f"{name}_num": num, f"{name}_den": den, f"{name}_rate": num / den if den else None}

    expected = [
        {**k, "proactive_type": "CARE_CALL", "task_scene": "BIRTHDAY", "ob_channel": "OUTCALL", "pro_task_cnt": 2,
         **r("pro_exec", 2, 2), **r("pro_reach", 1, 2), **r("pro_cmpl_7d", 0, 1)},
        {**k, "proactive_type": "CALLBACK", "task_scene": "REPAIR", "ob_channel": "OUTCALL", "pro_task_cnt": 3,
         **r("pro_exec", 2, 3), **r("pro_reach", 2, 2), **r("pro_cb_timely", 1, 2), **r("pro_cb_sat", 1, 1),
         **r("pro_cmpl_7d", 1, 2)},
        # N: a CALLBACK too, but no T-only metric counts it
        {**k, "proactive_type": "CALLBACK", "task_scene": "NEWUSER", "ob_channel": "SMS", "pro_task_cnt": 5,
         **r("pro_exec", 4, 5), **r("pro_reach", 3, 4), **r("nu_reply", 3, 3), **r("nu_sat", 1, 2),
         **r("nu_not_self", 1, 2), **r("nu_tariff_untold", 0, 2)},
    ]
    _eq(got, gold_rows("gld_proactive_service_d", expected))


def test_proactive_task_replanned_counts_on_the_new_day_only(gold, silver_df):
    got = gold("gld_proactive_service_d", _proactive(silver_df, "20130106"), ["20130105", "20130106"])
    care = {"proactive_type": "CARE_CALL"}
    assert _by_day(got, "pro_task_cnt", **care) == {"20130105": 1, "20130106": 1}
    assert _by_day(got, "pro_reach_den", **care) == {"20130105": 1, "20130106": 1}
    assert _by_day(got, "pro_reach_num", **care) == {"20130105": 1, "20130106": 0}


def test_a_lookup_aggregates_only_the_periods_the_window_joins_to(catalog):
    """CMPL_PER_10K's denominator: users of prev(month(D)); a day-keyed lookup is left unrestricted."""
    from dataclasses import replace

    from csqm.gold.engine import _lookup_periods

    t, m = catalog.metric("CMPL_PER_10K")
    lk = m.den.lookup
    assert _lookup_periods(t, lk, ("20121231", "20130101", "20130131")) == ["201211", "201212"]
    assert _lookup_periods(t, replace(lk, shift="same"), ("20130101", "20130201")) == ["201301", "201302"]
    assert _lookup_periods(t, replace(lk, date="day_id"), ("20130101",)) is None
