"""The monthly gold tables (gold.md 3.2.9–3.2.13, gld_escalation_m) from literal silver rows, against hand-computed
metrics: month boundaries (objects dated exactly at B(M)), den = 0, user bases that create no rows, end-of-month
backlogs at the boundary, the December baseline and the year-to-date reset, and a late outcome that moves a count
from one month to the next."""
from __future__ import annotations

from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql.types import DecimalType

D0 = Decimal("0.00")


def _check(got, gold_rows, catalog, table: str, expected: list[dict]) -> None:
    """Compare with the expected sparse rows; money columns not given are 0.00 (not 0)."""
    t = catalog.table(table)
    from csqm.gold.engine import schema_of

    money = [f.name for f in schema_of(t).fields if isinstance(f.dataType, DecimalType)]
    rows = [{**{c: D0 for c in money}, **r} for r in expected]
    assert_df_equality(got, gold_rows(table, rows), ignore_row_order=True, ignore_nullable=True)


# ------------------------------------------------------------------ 3.2.10 gld_subscriber_profile_m
PROFILE = {"city_code": "0531", "county_code": "370102", "urban_rural": "U", "product_line": "MOB",
           "cust_segment": "PUB", "vip_level": "NORMAL", "pay_type": "POST", "tenure_band": "T12_24"}


def test_subscriber_profile(gold, gold_rows, silver_df, catalog):
    s = {**PROFILE, "month_id": "201301", "is_arrive": 1, "is_new": 0, "is_churn": 0, "is_active": 0,
         "real_name_flag": 0, "bill_amt": "0.00", "status": "ACTIVE"}
    gold_key = {**PROFILE, "vip_level": "GOLD"}
    subs = silver_df("slv_subscriber_m", [
        {**s, "prod_inst_id": "1", "is_new": 1, "is_active": 1, "real_name_flag": 1, "bill_amt": "50.00"},
        {**s, "prod_inst_id": "2", "status": "SUSP_ARREARS"},                      # in service, billed 0
        {**s, "prod_inst_id": "3", "is_arrive": 0, "is_churn": 1, "status": "REMOVED", "bill_amt": "10.00"},
        {**s, **gold_key, "prod_inst_id": "4", "month_id": "201302", "is_arrive": 0, "is_churn": 1,
         "status": "REMOVED", "real_name_flag": 1},                                # no user in service: den 0
        {**s, "prod_inst_id": "1", "month_id": "201303"},                          # outside the window
    ])
    got = gold("gld_subscriber_profile_m", {"slv_subscriber_m": subs}, ["201301", "201302"])
    _check(got, gold_rows, catalog, "gld_subscriber_profile_m", [
        {**PROFILE, "month_id": "201301", "sub_arrive_users": 2, "sub_new_users": 1, "sub_churn_users": 1,
         "sub_billed_users": 1, "sub_active_users": 1, "sub_arrears_stop_users": 1, "sub_bill_amt": Decimal("50.00"),
         "sub_real_name_num": 1, "sub_real_name_den": 2, "sub_real_name_rate": 0.5},
        {**gold_key, "month_id": "201302", "sub_churn_users": 1},
    ])


# ------------------------------------------------------------------ 3.2.9 gld_package_user_m
PKG = {"city_code": "0531", "product_line": "MOB", "cust_segment": "PUB", "offer_id": "O1", "offer_type": "SINGLE"}


def test_package_users_and_complaints_per_offer(gold, gold_rows, silver_df, catalog):
    s = {**PKG, "month_id": "201301", "is_arrive": 1, "is_new": 0, "is_churn": 0, "is_offer_migrated_in": 0}
    subs = silver_df("slv_subscriber_m", [
        {**s, "prod_inst_id": "1", "is_new": 1, "bill_amt": "120.00", "offer_fee": "99.00"},     # over the fee
        {**s, "prod_inst_id": "2", "bill_amt": "80.00", "offer_fee": "99.00", "is_offer_migrated_in": 1},
        {**s, "prod_inst_id": "3", "bill_amt": "50.00"},                                        # no fee: not over
        {**s, "prod_inst_id": "4", "is_arrive": 0, "is_churn": 1, "bill_amt": "0.00"},
    ])
    vc = {**PKG, "sheet_type": "CMPL", "is_valid": 1}
    o2 = {**PKG, "offer_id": "O2"}
    cmpl = silver_df("slv_complaint_event_d", [
        {**vc, "sheet_id": "c1", "day_id": "20130101"},
        {**vc, "sheet_id": "c2", "day_id": "20130131"},
        {**vc, "sheet_id": "c3", "day_id": "20130201"},                 # February: no snapshot, den 0
        {**vc, **o2, "sheet_id": "c4", "day_id": "20130110"},           # an offer with no users: a row, den 0
        {**vc, "sheet_id": "c5", "day_id": "20130110", "sheet_type": "CONSULT"},
        {**vc, "sheet_id": "c6", "day_id": "20130110", "is_valid": 0},
    ])
    got = gold("gld_package_user_m", {"slv_subscriber_m": subs, "slv_complaint_event_d": cmpl}, ["201301", "201302"])
    _check(got, gold_rows, catalog, "gld_package_user_m", [
        {**PKG, "month_id": "201301", "pkg_arrive_users": 3, "pkg_new_users": 1, "pkg_churn_users": 1,
         "pkg_arpu_num": Decimal("250.00"), "pkg_arpu_den": 3, "pkg_arpu_rate": 250 / 3, "pkg_over_pkg_num": 1,
         "pkg_over_pkg_den": 3, "pkg_over_pkg_rate": 1 / 3, "pkg_migrate_in": 1, "pkg_cmpl_per_10k_num": 2,
         "pkg_cmpl_per_10k_den": 3, "pkg_cmpl_per_10k_rate": 2 / 3 * 1e4},
        {**PKG, "month_id": "201302", "pkg_cmpl_per_10k_num": 1},
        {**o2, "month_id": "201301", "pkg_cmpl_per_10k_num": 1},
    ])


# ------------------------------------------------------------------ 3.2.11 gld_provision_step_m
STEP = {"city_code": "0531", "order_type": "NEW", "product_line": "BB", "step_code": "OUTSIDE"}


def test_provision_steps_and_month_end_backlog(gold, gold_rows, silver_df, catalog):
    s = {**STEP, "order_id": "o1", "order_is_cancelled": 0}
    steps = silver_df("slv_provision_step_d", [
        # ends exactly at B(Jan): open at B(Jan), done in February
        {**s, "step_seq": 1, "start_time": "2013-01-10 10:00:00", "day_id": "20130110",
         "end_time": "2013-02-01 00:00:00", "end_day_id": "20130201", "step_sec": 1864800, "is_overtime": 1,
         "is_return": 0},
        {**s, "step_seq": 2, "start_time": "2013-01-20 00:00:00", "day_id": "20130120",
         "end_time": "2013-01-25 00:00:00", "end_day_id": "20130125", "step_sec": 432000, "is_overtime": 0,
         "is_return": 1},
        {**s, "step_seq": 3, "start_time": "2013-01-05 08:00:00", "day_id": "20130105",
         "end_time": "2013-01-05 09:00:00", "end_day_id": "20130105", "step_sec": 3600, "is_return": 0},  # no limit
        {**s, "step_seq": 4, "start_time": "2013-01-31 23:00:00", "day_id": "20130131"},            # never ends
        {**s, "order_id": "o2", "step_seq": 1, "start_time": "2013-01-15 00:00:00", "day_id": "20130115",
         "order_is_cancelled": 1, "order_end_time": "2013-02-10 00:00:00"},          # order cancelled in February
        {**s, "order_id": "o3", "step_seq": 1, "start_time": "2013-01-16 00:00:00", "day_id": "20130116",
         "order_is_cancelled": 1},                                                   # cancelled, time unknown
    ])
    got = gold("gld_provision_step_m", {"slv_provision_step_d": steps}, ["201301", "201302", "201303"],
               backlog_from="201301")
    _check(got, gold_rows, catalog, "gld_provision_step_m", [
        {**STEP, "month_id": "201301", "step_in_cnt": 6, "step_done_cnt": 2, "step_hours_num": 435600,
         "step_hours_den": 2, "step_hours_rate": 60.5, "step_overtime_den": 1, "step_overtime_rate": 0.0,
         "step_return_num": 1, "step_return_den": 2, "step_return_rate": 0.5, "step_backlog": 3},
        {**STEP, "month_id": "201302", "step_done_cnt": 1, "step_hours_num": 1864800, "step_hours_den": 1,
         "step_hours_rate": 518.0, "step_overtime_num": 1, "step_overtime_den": 1, "step_overtime_rate": 1.0,
         "step_return_den": 1, "step_return_rate": 0.0, "step_backlog": 1},
        {**STEP, "month_id": "201303", "step_backlog": 1},
    ])


# ------------------------------------------------------------------ 3.2.12 gld_process_control_m
CITY = {"city_code": "0531", "product_line": "BB"}


def _process_silver(silver_df, c1_finish: str = "2013-01-11 08:00:00") -> dict:
    vc = {**CITY, "sheet_type": "CMPL", "is_valid": 1}
    vf = {**CITY, "is_valid": 1, "is_dup_24h": 0}
    o = {**CITY, "is_completed": 0, "is_cancelled": 0}
    cb = {**CITY, "task_type": "CALLBACK", "is_cancelled": 0}
    return {
        "slv_complaint_event_d": silver_df("slv_complaint_event_d", [
            {**vc, "sheet_id": "c1", "accept_time": "2013-01-10 08:00:00", "day_id": "20130110", "is_finished": 1,
             "finish_time": c1_finish, "finish_day_id": c1_finish[:10].replace("-", ""), "net_proc_sec": 86400,
             "proc_limit_hours": "48.00", "is_timely_proc": 1},
            {**vc, "sheet_id": "c2", "accept_time": "2013-01-30 00:00:00", "day_id": "20130130", "is_finished": 0,
             "proc_limit_hours": "24.00"},                                     # due 01-31 00:00: overdue at B(Jan)
            {**vc, "sheet_id": "c3", "accept_time": "2013-01-30 00:00:00", "day_id": "20130130",
             "sheet_type": "CONSULT"}]),
        "slv_fault_event_d": silver_df("slv_fault_event_d", [
            {**vf, "fault_id": "f1", "accept_time": "2013-01-31 20:00:00", "day_id": "20130131", "is_closed": 1,
             "close_time": "2013-02-01 00:00:00", "close_day_id": "20130201", "net_repair_sec": 14400,
             "time_limit_hours": "24.00", "is_timely": 1},                    # closed exactly at B(Jan)
            {**vf, "fault_id": "f2", "accept_time": "2013-01-31 21:00:00", "day_id": "20130131", "is_dup_24h": 1}]),
        "slv_provision_order_d": silver_df("slv_provision_order_d", [
            {**o, "order_id": "o1", "order_type": "NEW", "accept_time": "2013-01-05 10:00:00", "day_id": "20130105",
             "is_completed": 1, "complete_time": "2013-01-06 10:00:00", "complete_day_id": "20130106",
             "net_sec": 86400},                                               # no limit: timely flag NULL
            {**o, "order_id": "o2", "order_type": "MOVE", "accept_time": "2013-01-20 00:00:00", "day_id": "20130120",
             "is_cancelled": 1},                                              # cancel time unknown: never open
            {**o, "order_id": "o3", "order_type": "MOVE", "accept_time": "2013-01-25 09:00:00", "day_id": "20130125",
             "is_cancelled": 1, "cancel_time": "2013-02-03 00:00:00", "time_limit_hours": "72.00"},
            {**o, "order_id": "o4", "order_type": "REMOVE", "accept_time": "2013-01-25 09:00:00",
             "day_id": "20130125"}]),
        "slv_appeal_event_m": silver_df("slv_appeal_event_m", [
            {**CITY, "appeal_id": "a1", "month_id": "201301", "is_counted": 1, "transfer_time": "2013-01-15 10:00:00",
             "reply_time": "2013-01-16 10:00:00", "reply_sec": 86400, "is_timely_reply": 1,
             "reply_deadline": "2013-01-20 00:00:00"},
            {**CITY, "appeal_id": "a2", "month_id": "201301", "is_counted": 0, "transfer_time": "2013-01-15 10:00:00"},
            {**CITY, "appeal_id": "a3", "month_id": "201301", "is_counted": 1, "transfer_time": "2013-01-28 10:00:00",
             "is_timely_reply": 0, "reply_deadline": "2013-02-05 00:00:00"}]),
        "slv_escalation_event_m": silver_df("slv_escalation_event_m", [
            {**CITY, "escal_id": "e1", "month_id": "201302", "is_counted": 1, "receive_time": "2013-02-02 10:00:00",
             "reply_time": "2013-02-03 10:00:00", "reply_sec": 86400, "is_timely_reply": 0,
             "reply_deadline": "2013-02-03 00:00:00"}]),
        "slv_proactive_task_d": silver_df("slv_proactive_task_d", [
            {**cb, "task_id": "t1", "trigger_time": "2013-01-31 22:00:00", "exec_time": "2013-02-01 01:00:00",
             "cb_sec": 10800, "cb_limit_hours": "2.00", "is_cb_timely": 0, "day_id": "20130201"},  # due = B(Jan)
            {**cb, "task_id": "t2", "day_id": "20130110"},                                        # no trigger
            {**cb, "task_id": "t3", "task_type": "CARE_CALL", "trigger_time": "2013-01-10 00:00:00",
             "day_id": "20130110"},
            {**cb, "task_id": "t4", "is_cancelled": 1, "trigger_time": "2013-01-10 00:00:00", "day_id": "20130110"}]),
    }


def _pc(kind: str, month: str, **v) -> dict:
    return {**CITY, "process_type": kind, "month_id": month, **v}


def _done(n: int, timely: int | None, secs: int) -> dict:
    """n objects done in the month, all with a timely flag unless None, with net seconds summed."""
    t = {} if timely is None else {"pc_timely_num": timely, "pc_timely_den": n, "pc_timely_rate": timely / n}
    return {"pc_done_cnt": n, **t, "pc_hours_num": secs, "pc_hours_den": n, "pc_hours_rate": secs / n / 3600}


def test_process_control_union_outcomes_and_backlog(gold, gold_rows, silver_df, catalog):
    got = gold("gld_process_control_m", _process_silver(silver_df), ["201301", "201302"], backlog_from="201301")
    _check(got, gold_rows, catalog, "gld_process_control_m", [
        _pc("CMPL", "201301", pc_arrive_cnt=2, **_done(1, 1, 86400), pc_backlog=1, pc_overdue_backlog=1),
        _pc("CMPL", "201302", pc_backlog=1, pc_overdue_backlog=1),
        _pc("FAULT", "201301", pc_arrive_cnt=1, pc_backlog=1),                # due 02-01 20:00: not overdue
        _pc("FAULT", "201302", **_done(1, 1, 14400)),
        _pc("INSTALL", "201301", pc_arrive_cnt=1, **_done(1, None, 86400)),    # timely den 0: rate NULL
        _pc("MOVE", "201301", pc_arrive_cnt=2, pc_backlog=1, pc_overdue_backlog=1),
        _pc("APPEAL", "201301", pc_arrive_cnt=2, **_done(1, 1, 86400), pc_backlog=1),
        _pc("APPEAL", "201302", pc_backlog=1, pc_overdue_backlog=1),          # deadline 02-05 < B(Feb)
        _pc("ESCAL", "201302", pc_arrive_cnt=1, **_done(1, 0, 86400)),
        _pc("CALLBACK", "201301", pc_arrive_cnt=1, pc_backlog=1),             # due exactly B(Jan): not overdue
        _pc("CALLBACK", "201302", **_done(1, 0, 10800)),
    ])


def test_process_control_late_finish_moves_to_the_next_month(gold, silver_df):
    """The same complaint finished later (current silver state) is done in February only and open at B(Jan)."""
    late = _process_silver(silver_df, c1_finish="2013-02-04 08:00:00")
    silver = {t: silver_df(t, []) for t in late} | {"slv_complaint_event_d": late["slv_complaint_event_d"].where(
        "sheet_id = 'c1'")}
    got = gold("gld_process_control_m", silver, ["201301", "201302"], backlog_from="201301")
    assert sorted((r.month_id, r.process_type, r.pc_arrive_cnt, r.pc_done_cnt, r.pc_backlog) for r in got.collect()) \
        == [("201301", "CMPL", 1, 0, 1), ("201302", "CMPL", 0, 1, 0)]


# ------------------------------------------------------------------ 3.2.13 gld_retention_m
def _sub(pid: str, month: str, line: str, pay: str, seg: str, vip: str, bill: str, arrive: int, **v) -> dict:
    return {"prod_inst_id": pid, "month_id": month, "city_code": "0531", "product_line": line, "pay_type": pay,
            "cust_segment": seg, "vip_level": vip, "bill_amt": bill, "is_arrive": arrive,
            "is_churn": 1 - arrive, **v}


def _ret(month: str, line: str, groups: str, **v) -> list[dict]:
    return [{"month_id": month, "city_code": "0531", "product_line": line, "retention_group": g, **v}
            for g in groups.split()]


def _r(code: str, num, den, scale: float = 1) -> dict:
    """A ratio's three columns; the rate as the engine computes it (double num / den × scale, NULL when den = 0)."""
    rate = None if not den else float(num) / float(den) * scale
    return {f"{code}_num": num, f"{code}_den": den, f"{code}_rate": rate}


def test_retention_baseline_churn_ytd_and_renewal(gold, gold_rows, silver_df, catalog, cfg):
    from csqm.gold.tables.retention_m import params

    assert params(cfg)["high"] == Decimal("100.00")                     # conf/retention.yaml
    assert params(cfg, ["201302", "201301"])["months"] == ("201212", "201302")
    subs = silver_df("slv_subscriber_m", [
        _sub("i1", "201211", "BB", "POST", "PUB", "NORMAL", "10.00", 1),
        # BASE (December): i1 exactly at the HIGH threshold, i2 a VIP; i3 not in service; i4 vanishes in January
        _sub("i1", "201212", "BB", "POST", "PUB", "NORMAL", "100.00", 1, agreement_exp_date="2013-01-15"),
        _sub("i2", "201212", "BB", "PRE", "GOV", "GOLD", "30.00", 1, agreement_exp_date="2013-01-20"),
        _sub("i3", "201212", "MOB", "POST", "PUB", "NORMAL", "99.99", 0),
        _sub("i4", "201212", "MOB", "PRE", "PUB", "NORMAL", "0.00", 1),
        _sub("i1", "201301", "BB", "POST", "PUB", "NORMAL", "80.00", 1, agreement_exp_date="2014-01-15"),  # renewed
        _sub("i2", "201301", "BB", "PRE", "GOV", "GOLD", "0.00", 0, agreement_exp_date="2013-01-20"),      # churned
        _sub("i1", "201302", "BB", "POST", "PUB", "NORMAL", "90.00", 1, agreement_exp_date="2014-01-15"),
    ])
    got = gold("gld_retention_m", {"slv_subscriber_m": subs}, ["201212", "201301", "201302"])
    d = Decimal
    jan_i1 = {**_r("ret_users", 1, 1), **_r("ret_rev", d("80.00"), d("100.00")), **_r("ret_churn_m", 0, 1),
              **_r("ret_churn_ytd", 0, 1), **_r("ret_bb_renew", 1, 1)}
    jan_i2 = {**_r("ret_users", 0, 1), **_r("ret_rev", D0, d("30.00")), **_r("ret_churn_m", 1, 1),
              **_r("ret_churn_ytd", 1, 1), **_r("ret_bb_renew", 0, 1)}
    feb_i1 = {**_r("ret_users", 1, 1), **_r("ret_rev", d("90.00"), d("100.00"))}
    feb_i2 = {**_r("ret_users", 0, 1), **_r("ret_rev", D0, d("30.00")), **_r("ret_churn_ytd", 1, 1)}
    i4 = {**_r("ret_users", 0, 1), **_r("ret_rev", D0, D0), **_r("ret_churn_ytd", 0, 1)}   # REV den 0: rate NULL
    expected = [
        # December 2012: no 2011 baseline; PREV = November's i1 (10.00: not HIGH)
        *_ret("201212", "BB", "ALL POST PUB", **_r("ret_churn_m", 0, 1), **_r("ret_churn_ytd", 0, 1)),
        # January: BASE = PREV = {i1, i2}; i1 retained and renewed, i2 churned; YTD restarts (December not added)
        *_ret("201301", "BB", "ALL", **_r("ret_users", 1, 2), **_r("ret_rev", d("80.00"), d("130.00")),
              **_r("ret_churn_m", 1, 2), **_r("ret_churn_ytd", 1, 2), **_r("ret_bb_renew", 1, 2)),
        *_ret("201301", "BB", "POST PUB HIGH", **jan_i1),
        *_ret("201301", "BB", "PRE GOV VIP", **jan_i2),
        *_ret("201301", "MOB", "ALL PRE PUB", **i4, **_r("ret_churn_m", 0, 1)),   # no January row: not churned
        # February: PREV = January's i1 (80.00: not HIGH); YTD = January + February
        *_ret("201302", "BB", "ALL", **_r("ret_users", 1, 2), **_r("ret_rev", d("90.00"), d("130.00")),
              **_r("ret_churn_m", 0, 1), **_r("ret_churn_ytd", 1, 3)),
        *_ret("201302", "BB", "POST PUB", **feb_i1, **_r("ret_churn_m", 0, 1), **_r("ret_churn_ytd", 0, 2)),
        *_ret("201302", "BB", "HIGH", **feb_i1, **_r("ret_churn_ytd", 0, 1)),
        *_ret("201302", "BB", "PRE GOV VIP", **feb_i2),
        *_ret("201302", "MOB", "ALL PRE PUB", **i4),
    ]
    _check(got, gold_rows, catalog, "gld_retention_m", expected)
    # February alone reads only December 2012..February 2013 of the snapshots (not November), and gives the same rows
    feb = gold("gld_retention_m", {"slv_subscriber_m": subs}, ["201302"])
    _check(feb, gold_rows, catalog, "gld_retention_m", [r for r in expected if r["month_id"] == "201302"])
    from csqm.gold.tables.retention_m import sources
    read = sources({"slv_subscriber_m": subs}, **params(cfg, ["201302"]))["prev"]
    assert {r.month_id for r in read.select("month_id").distinct().collect()} == {"201301", "201302"}
    base = sources({"slv_subscriber_m": subs}, **params(cfg, ["201302"]))["base"]
    assert {r.month_id for r in base.select("month_id").distinct().collect()} == {"201302"}


def test_retention_groups_are_aggregated_together(gold, silver_df):
    """BASE, PREV and YTD (three metric groups) go through one aggregation on the grain: no full join of per-group
    aggregates (one shuffle each and one per join before)."""
    subs = silver_df("slv_subscriber_m", [_sub("i1", "201212", "BB", "POST", "PUB", "NORMAL", "1.00", 1),
                                          _sub("i1", "201301", "BB", "POST", "PUB", "NORMAL", "1.00", 1)])
    plan = gold("gld_retention_m", {"slv_subscriber_m": subs}, ["201301"])._jdf.queryExecution().optimizedPlan()
    assert "FullOuter" not in plan.toString()


def _sort_merge_joins(spark, src: dict) -> dict[str, int]:
    """Sort-merge joins in each population's plan, with nothing broadcast unless the code says so."""
    from csqm.io import spark_conf

    with spark_conf(spark, "spark.sql.autoBroadcastJoinThreshold", "-1"):
        return {k: df._jdf.queryExecution().executedPlan().toString().count("SortMergeJoin") for k, df in src.items()}


def test_retention_matches_only_base_rows_by_shuffle(spark, silver_df, cfg):
    """PREV and the year-to-date sums take the churned and renewing M rows by broadcast: of the three populations only
    BASE joins two whole snapshot months (at SF1, 20 M rows each) by sort-merge."""
    from csqm.gold.tables.retention_m import params, sources

    subs = silver_df("slv_subscriber_m", [_sub("i1", "201212", "BB", "POST", "PUB", "NORMAL", "1.00", 1),
                                          _sub("i1", "201301", "BB", "POST", "PUB", "NORMAL", "1.00", 1)])
    src = sources({"slv_subscriber_m": subs}, **params(cfg, ["201301"]))
    assert _sort_merge_joins(spark, src) == {"base": 1, "prev": 0, "ytd": 0}


def test_retention_broadcasts_only_a_few_months_of_churn(spark, silver_df, cfg):
    """Past gold.broadcast_months (4: December..March) the churned and renewing rows are not broadcast: a November
    run reads twelve months of them, a full refresh up to 36 (at SF1 ~0.2 M churned rows a month). Then PREV
    joins by sort-merge four times (the churn match, again under the renewals it selects, the renewals' semi-join
    and their match) and the year-to-date once (the churn match)."""
    from csqm.gold.tables.retention_m import params, sources

    assert cfg.env.gold_broadcast_months == 4
    assert [params(cfg, [m])["broadcast"] for m in ("201301", "201303", "201304", "201311")] == [
        True, True, False, False]
    assert params(cfg, ["201212", "201301"])["broadcast"] is False     # from December 2011: 14 months
    subs = silver_df("slv_subscriber_m", [_sub("i1", "201212", "BB", "POST", "PUB", "NORMAL", "1.00", 1),
                                          _sub("i1", "201311", "BB", "POST", "PUB", "NORMAL", "1.00", 1)])
    src = sources({"slv_subscriber_m": subs}, **params(cfg, ["201311"]))
    assert _sort_merge_joins(spark, src) == {"base": 1, "prev": 4, "ytd": 1}


# ------------------------------------------------------------------ gld_escalation_m
def test_escalation_counts_user_base_and_complaint_ratio(gold, gold_rows, silver_df, catalog):
    bb, mob = {"city_code": "0531", "product_line": "BB"}, {"city_code": "0531", "product_line": "MOB"}
    appeals = silver_df("slv_appeal_event_m", [
        {**bb, "appeal_id": "a1", "month_id": "201301", "appeal_cat_l1": "NET", "is_counted": 1, "is_timely_reply": 1,
         "is_responsible": 1, "had_local_complaint": 0, "compensation_amount": "12.50"},
        {**bb, "appeal_id": "a2", "month_id": "201301", "appeal_cat_l1": "NET", "is_counted": 1, "is_timely_reply": 0,
         "is_responsible": 0, "had_local_complaint": 1, "compensation_amount": "0.00"},
        {**bb, "appeal_id": "a3", "month_id": "201301", "appeal_cat_l1": "NET", "is_counted": 0, "is_timely_reply": 1,
         "compensation_amount": "99.00"}])
    escal = silver_df("slv_escalation_event_m", [
        {**bb, "escal_id": "e1", "month_id": "201301", "escal_level": "PROV", "is_counted": 1, "is_timely_reply": 1,
         "had_local_complaint": 1, "refund_amount": "5.00"},                   # responsibility unknown
        {**mob, "escal_id": "e2", "month_id": "201302", "escal_level": "GOV", "is_counted": 1, "is_timely_reply": 0,
         "is_responsible": 0, "had_local_complaint": 0, "refund_amount": "0.00"}])
    subs = silver_df("slv_subscriber_m", [{**bb, "month_id": "201301", "prod_inst_id": str(i), "is_arrive": 1}
                                          for i in range(3)]
                     + [{**bb, "month_id": "201301", "prod_inst_id": "9", "is_arrive": 0}])
    vc = {"sheet_type": "CMPL", "is_valid": 1}
    cmpl = silver_df("slv_complaint_event_d", [
        {**bb, **vc, "sheet_id": "c1", "day_id": "20130101"}, {**bb, **vc, "sheet_id": "c2", "day_id": "20130131"},
        {**bb, **vc, "sheet_id": "c3", "day_id": "20130201"},                 # February: no BB row, creates none
        {**bb, **vc, "sheet_id": "c4", "day_id": "20130115", "sheet_type": "CONSULT"},
        {**mob, **vc, "sheet_id": "c5", "day_id": "20130110"},                # January MOB: lookups create no rows
        {**mob, **vc, "sheet_id": "c6", "day_id": "20130210"}])
    got = gold("gld_escalation_m", {"slv_appeal_event_m": appeals, "slv_escalation_event_m": escal,
                                    "slv_subscriber_m": subs, "slv_complaint_event_d": cmpl}, ["201301", "201302"])

    def esc(key, month, kind, cat, n, timely, resp, local, amt, users, vcs) -> dict:
        return {**key, "month_id": month, "esc_kind": kind, "esc_cat": cat, "esc_cnt": n,
                **_r("esc_per_million", n, users, 1e6), **_r("esc_ratio", n, vcs, 1000),
                **_r("esc_timely_reply", timely, n), **_r("esc_resp_share", resp, n),
                **_r("esc_prior_local", local, n), "esc_refund_amt": Decimal(amt)}

    _check(got, gold_rows, catalog, "gld_escalation_m", [
        esc(bb, "201301", "APPEAL", "NET", 2, 1, 1, 1, "12.50", 3, 2),
        esc(bb, "201301", "ESCAL", "PROV", 1, 1, 0, 1, "5.00", 3, 2),
        esc(mob, "201302", "ESCAL", "GOV", 1, 0, 0, 0, "0.00", 0, 1),         # no February users: rate NULL
    ])
