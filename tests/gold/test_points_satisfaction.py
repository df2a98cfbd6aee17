"""gld_satisfaction_m and the four points tables from literal silver (and manual) rows, against hand-computed rows:
every INSTANT touchpoint and the THIRD survey rows, the CSAT target's fallback order, a missing manual table read
as empty, month boundaries (an outcome dated into the next month counts there only), den = 0, group-total and
user-base style denominators, the ledger's opening balance under the customer's current city, the month that has
no opening snapshot, and the 12-month dormancy window at its edges."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from csqm.gold.tables.satisfaction_m import SURVEY_DDL, TARGET_DDL
from csqm.pipeline.gold import MissingInput


def _eq(got, expected):
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


# ------------------------------------------------------------------ gld_satisfaction_m
@pytest.fixture(scope="module")
def sat_silver(silver_df):
    """One or more events per INSTANT touchpoint, plus events that must not count."""
    bb = {"product_line": "BB", "city_code": "0531", "is_completed": 1}
    vc = {"city_code": "0531", "is_valid": 1, "sheet_type": "CMPL"}
    return {
        "slv_provision_order_d": silver_df("slv_provision_order_d", [
            {**bb, "order_id": "o1", "order_type": "NEW", "complete_day_id": "20130115", "callback_result": "SAT"},
            {**bb, "order_id": "o2", "order_type": "MOVE", "complete_day_id": "20130131", "callback_result": "DISSAT"},
            # accepted in January, completed on 1 February: counts in February only
            {**bb, "order_id": "o3", "order_type": "NEW", "day_id": "20130130", "complete_day_id": "20130201",
             "callback_result": "NEUTRAL"},
            {**bb, "order_id": "o4", "order_type": "NEW", "complete_day_id": "20130110", "callback_result": "NOREACH"},
            {**bb, "order_id": "o5", "order_type": "NEW", "complete_day_id": "20130110", "callback_result": "SAT",
             "product_line": "MOB"},
            {**bb, "order_id": "o6", "order_type": "DEL", "complete_day_id": "20130110", "callback_result": "SAT"},
            {**bb, "order_id": "o7", "order_type": "NEW", "is_completed": 0, "callback_result": "SAT"},
        ]),
        "slv_fault_event_d": silver_df("slv_fault_event_d", [
            {"fault_id": "f1", "product_line": "BB", "city_code": "0532", "is_valid": 1, "is_closed": 1,
             "close_day_id": "20130120", "callback_result": "SAT"},
            {"fault_id": "f2", "product_line": "BB", "city_code": "0532", "is_valid": 0, "is_closed": 1,
             "close_day_id": "20130120", "callback_result": "DISSAT"},
            {"fault_id": "f3", "product_line": "BB", "city_code": "0532", "is_valid": 1, "is_closed": 0,
             "callback_result": "DISSAT"},
        ]),
        "slv_complaint_event_d": silver_df("slv_complaint_event_d", [
            {**vc, "sheet_id": "c1", "finish_day_id": "20130105", "callback_result": "NEUTRAL"},
            {**vc, "sheet_id": "c2", "sheet_type": "CONSULT", "finish_day_id": "20130105", "callback_result": "SAT"},
            {**vc, "sheet_id": "c3", "callback_result": "SAT"},                       # not finished
        ]),
        "slv_contact_event_d": silver_df("slv_contact_event_d", [
            {"contact_id": "h1", "channel_type": "HOTLINE", "city_code": "0531", "day_id": "20130103", "rating": "1"},
            {"contact_id": "h2", "channel_type": "HOTLINE", "city_code": "0531", "day_id": "20130131", "rating": "3"},
            {"contact_id": "h3", "channel_type": "HOTLINE", "city_code": "0531", "day_id": "20130103"},
            {"contact_id": "h4", "channel_type": "HALL", "city_code": "0533", "day_id": "20130103", "rating": "2"},
            {"contact_id": "h5", "channel_type": "HOTLINE", "city_code": "0534", "day_id": "20130103"},  # no row
            {"contact_id": "h6", "channel_type": "WEB", "city_code": "0531", "day_id": "20130103", "rating": "1"},
        ]),
        "slv_echannel_contact_d": silver_df("slv_echannel_contact_d", [
            {"elog_id": "e1", "channel_type": "APP", "city_code": "0531", "day_id": "20130131", "rating": "2"},
            {"elog_id": "e2", "channel_type": "APP", "city_code": "0531", "day_id": "20130201", "rating": "1"},
            {"elog_id": "e3", "channel_type": "SMS", "city_code": "0531", "day_id": "20130131", "rating": "1"},
        ]),
        "slv_newuser_sms_callback_d": silver_df("slv_newuser_sms_callback_d", [
            {"callback_id": "n1", "city_code": "0535", "day_id": "20130102", "is_replied": 1, "reply_code": "1"},
            {"callback_id": "n2", "city_code": "0535", "day_id": "20130102", "is_replied": 1, "reply_code": "2"},
            {"callback_id": "n3", "city_code": "0535", "day_id": "20130102", "is_replied": 1, "reply_code": "3"},
            {"callback_id": "n4", "city_code": "0535", "day_id": "20130102", "is_replied": 0, "reply_code": "1"},
        ]),
    }


@pytest.fixture(scope="module")
def sat_manual(spark):
    d = Decimal
    survey = spark.createDataFrame([
        ("201301", "0000", "OVERALL", 100, 80, 15, 5, d("88.50")),
        ("201301", "0000", "HOTLINE", 200, 150, 30, 20, None),
        ("201301", "0531", "BB_INSTALL", 10, 9, 0, 1, d("90.00")),
        ("201212", "0531", "BB_INSTALL", 10, 1, 0, 9, d("10.00")),                # outside the window
    ], SURVEY_DDL)
    target = spark.createDataFrame([
        ("2013", "0531", "CSAT", "BB_INSTALL", d("0.9")), ("2013", "0531", "CSAT", "*", d("0.85")),
        ("2013", "0000", "CSAT", "HOTLINE", d("0.8")), ("2013", "0000", "CSAT", "*", d("0.75")),
        ("2013", "0532", "DSAT", "*", d("0.01")), ("2012", "0532", "CSAT", "*", d("0.5")),
    ], TARGET_DDL)
    return {"man_third_party_survey": survey, "man_kpi_target": target}


def _sat(month, city, tp, src, valid, sat, dissat, target, score=None):
    """An expected satisfaction row: counts, both rates, the score and the target with its gap."""
    csat = sat / valid
    return {"month_id": month, "city_code": city, "touchpoint": tp, "survey_source": src, "sat_valid_cnt": valid,
            "csat_num": sat, "csat_den": valid, "csat_rate": csat, "dsat_num": dissat, "dsat_den": valid,
            "dsat_rate": dissat / valid, "sat_score": score, "sat_target": target,
            "sat_gap": None if target is None else csat - target}


def test_satisfaction_instant_third_and_target_fallback(gold, gold_rows, sat_silver, sat_manual):
    got = gold("gld_satisfaction_m", {**sat_silver, **sat_manual}, ["201301", "201302"])
    i, t = "INSTANT", "THIRD"
    expected = [
        _sat("201301", "0531", "BB_INSTALL", i, 2, 1, 1, 0.9),                   # (city, touchpoint)
        _sat("201302", "0531", "BB_INSTALL", i, 1, 0, 0, 0.9),                   # o3 in February only
        _sat("201301", "0532", "BB_REPAIR", i, 1, 1, 0, 0.75),                   # (0000, *)
        _sat("201301", "0531", "CMPL", i, 1, 0, 0, 0.85),                        # (city, *)
        _sat("201301", "0531", "HOTLINE", i, 2, 1, 1, 0.85),                     # (city, *) before (0000, HOTLINE)
        _sat("201301", "0533", "HALL", i, 1, 0, 0, 0.75),
        _sat("201301", "0531", "APP", i, 1, 0, 0, 0.85),
        _sat("201302", "0531", "APP", i, 1, 1, 0, 0.85),
        _sat("201301", "0535", "NEWUSER_SMS", i, 2, 1, 1, 0.75),                 # reply 3 and unsent: not valid
        _sat("201301", "0000", "OVERALL", t, 100, 80, 5, 0.75, 88.5),            # province row looks up 0000
        _sat("201301", "0000", "HOTLINE", t, 200, 150, 20, 0.8),
        _sat("201301", "0531", "BB_INSTALL", t, 10, 9, 1, 0.9, 90.0),
    ]
    _eq(got, gold_rows("gld_satisfaction_m", expected))


def test_satisfaction_without_manual_tables(gold, sat_silver):
    """A fresh lake has no man_* table (the gold reader raises MissingInput for it): no THIRD rows, every target
    (and gap) NULL, INSTANT rows unchanged."""

    class FreshLake(Mapping):
        """Like csqm.pipeline.gold.SilverReader: Mapping.get() turns MissingInput (a KeyError) into None."""

        def __getitem__(self, table):
            if table not in sat_silver:
                raise MissingInput(f"gold needs {table}, which does not exist yet")
            return sat_silver[table]

        def __iter__(self):
            return iter(sat_silver)

        def __len__(self):
            return len(sat_silver)

    got = gold("gld_satisfaction_m", FreshLake(), ["201301", "201302"]).collect()
    assert {(r.month_id, r.city_code, r.touchpoint, r.survey_source) for r in got} == {
        ("201301", "0531", "BB_INSTALL", "INSTANT"), ("201302", "0531", "BB_INSTALL", "INSTANT"),
        ("201301", "0532", "BB_REPAIR", "INSTANT"), ("201301", "0531", "CMPL", "INSTANT"),
        ("201301", "0531", "HOTLINE", "INSTANT"), ("201301", "0533", "HALL", "INSTANT"),
        ("201301", "0531", "APP", "INSTANT"), ("201302", "0531", "APP", "INSTANT"),
        ("201301", "0535", "NEWUSER_SMS", "INSTANT")}
    assert all(r.sat_target is None and r.sat_gap is None and r.sat_score is None for r in got)
    assert sum(r.sat_valid_cnt for r in got) == 12


# ------------------------------------------------------------------ points: shared customer rows
def _bal(month, cust, ptype, balance, city, vip, seg, total, band, expire=0):
    return {"month_id": month, "cust_id": cust, "points_type": ptype, "balance": balance, "city_code": city,
            "cust_city_code": city, "cust_vip_level": vip, "cust_seg_code": seg, "cust_total_balance": total,
            "points_band": band, "expire_ye_points": expire}


def _exch(xid, cust, status, time, points=0, city="0531", channel="HALL", cat="BILL", cost="0.00"):
    return {"exch_id": xid, "cust_id": cust, "exch_status": status, "is_success": int(status == "SUCCESS"),
            "order_time": time, "month_id": time[:4] + time[5:7], "points_used": points, "city_code": city,
            "exch_channel": channel, "gift_cat": cat, "cost_amt": cost}


def test_points_user_topic(gold, gold_rows, silver_df):
    bal = silver_df("slv_points_balance_m", [
        _bal("201301", "k1", "CONSUME", 200, "0531", "GOLD", "PUB", 200, "P1_499"),
        _bal("201302", "k1", "CONSUME", 300, "0531", "GOLD", "PUB", 600, "P500_1999"),
        _bal("201302", "k1", "REWARD_MOB", 300, "0531", "GOLD", "PUB", 600, "P500_1999"),
        _bal("201302", "k2", "CONSUME", 0, "0531", "GOLD", "PUB", 0, "P0"),
        _bal("201302", "k3", "CONSUME", 100, "0532", "NORMAL", "PUB", 100, "P1_499"),
    ])
    exch = silver_df("slv_points_exch_d", [
        _exch("x1", "k1", "SUCCESS", "2013-02-01 00:00:00", 100),
        _exch("x2", "k1", "SUCCESS", "2013-02-28 23:59:59", 50),
        _exch("x3", "k2", "FAILED", "2013-02-10 10:00:00", 70),
        _exch("x4", "k3", "SUCCESS", "2013-01-31 23:59:59", 30),
        _exch("x5", "k9", "SUCCESS", "2013-02-10 10:00:00", 999),                 # not a balance customer
    ])
    sub = {"is_arrive": 1, "bill_amt": "0.00"}
    subs = silver_df("slv_subscriber_m", [
        {**sub, "month_id": "201301", "prod_inst_id": "p1", "cust_id": "k1", "bill_amt": "10.00", "tenure_months": 9},
        {**sub, "month_id": "201302", "prod_inst_id": "p1", "cust_id": "k1", "bill_amt": "50.00", "tenure_months": 10},
        {**sub, "month_id": "201302", "prod_inst_id": "p2", "cust_id": "k1", "bill_amt": "20.50", "tenure_months": 30},
        {**sub, "month_id": "201302", "prod_inst_id": "p3", "cust_id": "k1", "bill_amt": "99.00", "tenure_months": 99,
         "is_arrive": 0},
        {**sub, "month_id": "201301", "prod_inst_id": "p4", "cust_id": "k2", "tenure_months": 5},
        {**sub, "month_id": "201302", "prod_inst_id": "p4", "cust_id": "k2", "tenure_months": 6, "is_arrive": 0},
    ])
    got = gold("gld_points_user_topic_m", {"slv_points_balance_m": bal, "slv_points_exch_d": exch,
                                            "slv_subscriber_m": subs}, ["201301", "201302"])
    d = Decimal
    expected = [
        # January: A(k1, 201212) unknown (no snapshot) -> churn den 0; x4 is k3's, and k3 is not in K of January
        {"month_id": "201301", "city_code": "0531", "vip_level": "GOLD", "points_band": "P1_499",
         "exchanger_flag": "0", "pu_cust_cnt": 1, "pu_balance": 200, "pu_arpu_num": d("10.00"), "pu_arpu_den": 1,
         "pu_arpu_rate": 10.0, "pu_tenure_num": 9, "pu_tenure_den": 1, "pu_tenure_rate": 9.0, "pu_exch_points_den": 1,
         "pu_exch_points_rate": 0.0},
        # k1: two arrived instances (p3 not arrived), max tenure 30, exchanges on the first and last second of Feb
        {"month_id": "201302", "city_code": "0531", "vip_level": "GOLD", "points_band": "P500_1999",
         "exchanger_flag": "1", "pu_cust_cnt": 1, "pu_balance": 600, "pu_arpu_num": d("70.50"), "pu_arpu_den": 1,
         "pu_arpu_rate": 70.5, "pu_tenure_num": 30, "pu_tenure_den": 1, "pu_tenure_rate": 30.0, "pu_churn_den": 1,
         "pu_churn_rate": 0.0, "pu_exch_points_num": 150, "pu_exch_points_den": 1, "pu_exch_points_rate": 150.0},
        # k2: arrived in January, not in February -> churned; a failed exchange is no exchange
        {"month_id": "201302", "city_code": "0531", "vip_level": "GOLD", "points_band": "P0", "exchanger_flag": "0",
         "pu_cust_cnt": 1, "pu_balance": 0, "pu_arpu_num": d("0.00"), "pu_churn_num": 1, "pu_churn_den": 1,
         "pu_churn_rate": 1.0, "pu_exch_points_den": 1, "pu_exch_points_rate": 0.0},
        # k3: no subscriber rows at all; its January exchange does not count in February
        {"month_id": "201302", "city_code": "0532", "vip_level": "NORMAL", "points_band": "P1_499",
         "exchanger_flag": "0", "pu_cust_cnt": 1, "pu_balance": 100, "pu_arpu_num": d("0.00"),
         "pu_exch_points_den": 1, "pu_exch_points_rate": 0.0},
    ]
    _eq(got, gold_rows("gld_points_user_topic_m", expected))


def test_points_exchange_with_channel_share(gold, gold_rows, silver_df):
    jan = "2013-01-15 10:00:00"
    exch = silver_df("slv_points_exch_d", [
        _exch("e1", "k1", "SUCCESS", jan, 100, cost="1.50"), _exch("e2", "k1", "SUCCESS", jan, 200, cost="2.50"),
        _exch("e3", "k2", "FAILED", jan, 50), _exch("e4", "k3", "PENDING", jan, 10),
        _exch("e5", "k2", "SUCCESS", jan, 1000, channel="APP", cat="GOODS", cost="10.00"),
        _exch("e6", "k2", "CANCELLED", jan, 5, channel="APP", cat="GOODS"),
        _exch("e7", "k4", "CANCELLED", jan, 5, city="0532", channel="WEB"),
        _exch("e8", "k1", "SUCCESS", "2013-02-01 00:00:00", 40, cost="0.40"),
    ])
    got = gold("gld_points_exchange_m", {"slv_points_exch_d": exch}, ["201301", "201302"])
    d = Decimal
    hall = {"month_id": "201301", "city_code": "0531", "exch_channel": "HALL", "gift_cat": "BILL"}
    expected = [
        {**hall, "px_order_cnt": 4, "px_success_num": 2, "px_success_den": 3, "px_success_rate": 2 / 3,
         "px_cust_cnt": 1, "px_points": 300, "px_cost_amt": d("4.00"), "px_avg_points_num": 300,
         "px_avg_points_den": 2, "px_avg_points_rate": 150.0, "px_channel_share_num": 2,
         "px_channel_share_den": 3, "px_channel_share_rate": 2 / 3},
        {**hall, "exch_channel": "APP", "gift_cat": "GOODS", "px_order_cnt": 2, "px_success_num": 1,
         "px_success_den": 1, "px_success_rate": 1.0, "px_cust_cnt": 1, "px_points": 1000, "px_cost_amt": d("10.00"),
         "px_avg_points_num": 1000, "px_avg_points_den": 1, "px_avg_points_rate": 1000.0,
         "px_channel_share_num": 1, "px_channel_share_den": 3, "px_channel_share_rate": 1 / 3},
        # only a cancelled order: every den 0, rates NULL
        {**hall, "city_code": "0532", "exch_channel": "WEB", "px_order_cnt": 1, "px_cost_amt": d("0.00")},
        {**hall, "month_id": "201302", "px_order_cnt": 1, "px_success_num": 1, "px_success_den": 1,
         "px_success_rate": 1.0, "px_cust_cnt": 1, "px_points": 40, "px_cost_amt": d("0.40"),
         "px_avg_points_num": 40, "px_avg_points_den": 1, "px_avg_points_rate": 40.0, "px_channel_share_num": 1,
         "px_channel_share_den": 1, "px_channel_share_rate": 1.0},
    ]
    _eq(got, gold_rows("gld_points_exchange_m", expected))


def _txn(tid, cust, ptype, ttype, points, city, month="201301", base=None):
    return {"txn_id": tid, "cust_id": cust, "points_type": ptype, "txn_type": ttype, "points": points,
            "attr_city_code": city, "month_id": month, "day_id": month + "15", "base_amt": base}


def test_points_value_ledger(gold, gold_rows, silver_df):
    g = ("GOLD", "PUB")
    bal = silver_df("slv_points_balance_m", [
        _bal("201212", "c1", "CONSUME", 1000, "0531", *g, 1500, "P500_1999"),
        _bal("201212", "c1", "REWARD_MOB", 500, "0531", *g, 1500, "P500_1999"),
        _bal("201212", "c2", "CONSUME", 200, "0532", *g, 200, "P1_499"),        # moves to 0531 in January
        _bal("201212", "c3", "CONSUME", 100, "0533", *g, 100, "P1_499"),        # has no January row
        _bal("201301", "c1", "CONSUME", 1150, "0531", *g, 1600, "P500_1999"),
        _bal("201301", "c1", "REWARD_MOB", 450, "0531", *g, 1600, "P500_1999"),
        _bal("201301", "c2", "CONSUME", 200, "0531", *g, 200, "P1_499"),
        _bal("201303", "c1", "CONSUME", 1150, "0531", *g, 1150, "P500_1999"),  # no February snapshot
    ])
    txn = silver_df("slv_points_txn_d", [
        _txn("t1", "c1", "CONSUME", "EARN", 300, "0531", base="30.00"),
        _txn("t2", "c1", "CONSUME", "EARN", 50, "0531"),                         # no base: not in PV_PER_YUAN
        _txn("t3", "c1", "CONSUME", "REDEEM", 200, "0531"),
        _txn("t4", "c1", "REWARD_MOB", "EARN", 20, "0531", base="5.00"),         # not CONSUME: num = den = 0
        _txn("t5", "c1", "REWARD_MOB", "EXPIRE", 100, "0531"),
        _txn("t6", "c1", "REWARD_MOB", "ADJUST", 30, "0531"),
        _txn("t7", "c1", "CONSUME", "EARN", 7, "0531", month="201212"),          # first snapshot month: no table
        _txn("t8", "c1", "CONSUME", "EARN", 7, "0531", month="201302"),          # February: no snapshot
        _txn("t9", "c1", "CONSUME", "EARN", 7, "0531", month="201303"),          # March: no February snapshot
    ])
    got = gold("gld_points_value_m", {"slv_points_balance_m": bal, "slv_points_txn_d": txn},
               ["201212", "201301", "201302", "201303"])
    d, k = Decimal, {"month_id": "201301", "city_code": "0531", "points_type": "CONSUME"}
    expected = [
        # open = c1 1000 + c2 200 (under its January city); 1350 = 1200 + 350 − 200
        {**k, "pv_open_bal": 1200, "pv_earned": 350, "pv_redeemed": 200, "pv_close_bal": 1350, "pv_redeem_num": 200,
         "pv_redeem_den": 1550, "pv_redeem_rate": 200 / 1550, "pv_expire_den": 1200, "pv_expire_rate": 0.0,
         "pv_per_yuan_num": d("300.00"), "pv_per_yuan_den": d("30.00"), "pv_per_yuan_rate": 10.0},
        # 450 = 500 + 20 − 100 + 30
        {**k, "points_type": "REWARD_MOB", "pv_open_bal": 500, "pv_earned": 20, "pv_expired": 100, "pv_adjusted": 30,
         "pv_close_bal": 450, "pv_redeem_den": 520, "pv_redeem_rate": 0.0, "pv_expire_num": 100,
         "pv_expire_den": 500, "pv_expire_rate": 0.2, "pv_per_yuan_num": d("0.00"), "pv_per_yuan_den": d("0.00")},
        # c3 left with 100 points and no ledger movement: the difference shows
        {**k, "city_code": "0533", "pv_open_bal": 100, "pv_recon_diff": -100, "pv_redeem_den": 100,
         "pv_redeem_rate": 0.0, "pv_expire_den": 100, "pv_expire_rate": 0.0, "pv_per_yuan_num": d("0.00"),
         "pv_per_yuan_den": d("0.00")},
    ]
    _eq(got, gold_rows("gld_points_value_m", expected))


def test_points_customer_dormancy_window(gold, gold_rows, silver_df):
    g = ("0531", "GOLD", "GOV")
    bal = silver_df("slv_points_balance_m", [
        _bal("201301", "d2", "CONSUME", 800, *g, 800, "P500_1999", expire=80),
        _bal("201302", "d1", "CONSUME", 600, *g, 600, "P500_1999", expire=100),
        _bal("201302", "d2", "CONSUME", 500, *g, 800, "P500_1999", expire=50),
        _bal("201302", "d2", "REWARD_MOB", 300, *g, 800, "P500_1999", expire=30),
        _bal("201302", "d3", "CONSUME", 0, *g, 0, "P0"),
        _bal("201302", "d4", "CONSUME", 0, *g, 0, "P0"),
        _bal("201302", "d5", "CONSUME", 500, *g, 500, "P500_1999"),
    ])
    exch = silver_df("slv_points_exch_d", [
        _exch("x1", "d1", "SUCCESS", "2012-03-01 00:00:00"),        # first instant of February's window
        _exch("x2", "d2", "SUCCESS", "2012-02-29 23:59:59"),        # inside January's window, before February's
        _exch("x3", "d3", "SUCCESS", "2013-02-05 10:00:00"),
        _exch("x4", "d5", "FAILED", "2013-02-05 10:00:00"),
    ])
    got = gold("gld_points_customer_m", {"slv_points_balance_m": bal, "slv_points_exch_d": exch},
               ["201301", "201302"])
    k = {"month_id": "201302", "city_code": "0531", "vip_level": "GOLD", "cust_segment": "GOV",
         "points_band": "P500_1999"}
    expected = [
        {**k, "month_id": "201301", "pcu_cust_cnt": 1, "pcu_points_cust_cnt": 1, "pcu_exch_penetration_den": 1,
         "pcu_exch_penetration_rate": 0.0, "pcu_avg_balance_num": 800, "pcu_avg_balance_den": 1,
         "pcu_avg_balance_rate": 800.0, "pcu_expiring_pts": 80},
        # d1, d2, d5 (balance exactly 500); dormant: d2 (last success before the window) and d5 (failed only)
        {**k, "pcu_cust_cnt": 3, "pcu_points_cust_cnt": 3, "pcu_exch_penetration_den": 3,
         "pcu_exch_penetration_rate": 0.0, "pcu_avg_balance_num": 1900, "pcu_avg_balance_den": 3,
         "pcu_avg_balance_rate": 1900 / 3, "pcu_dormant_cnt": 2, "pcu_expiring_pts": 180},
        # d3 exchanged with a zero balance (in the penetration den through EX), d4 in no ratio set
        {**k, "points_band": "P0", "pcu_cust_cnt": 2, "pcu_exch_penetration_num": 1, "pcu_exch_penetration_den": 1,
         "pcu_exch_penetration_rate": 1.0, "pcu_avg_balance_den": 2, "pcu_avg_balance_rate": 0.0},
    ]
    _eq(got, gold_rows("gld_points_customer_m", expected))
