"""slv_refund_event_d (silver.md §10) on literal BILL_ADJ rows: decision, 72 h limit bounds, NONE, subject,
enrichment."""
from __future__ import annotations

from decimal import Decimal

from csqm.silver.common import threshold_seed
from csqm.silver.tables import refund

N3 = "053182345678"  # a number without a snapshot row


def test_refund_events(spark, cfg, bronze_df, subscribers_201302, sha, mask, expect_df, assert_schema,
                        assert_rows_equal, assert_no_raw):
    salt, subs = cfg.env.pii_salt, subscribers_201302
    n1, n2 = subs.n1, subs.n2
    base = {"acct_id": "AC", "refund_type": "COMP", "reason_l1": "SVC_FAIL", "amount_fen": 12345,
            "apply_time": "2013-03-10 10:00:00", "approve_level": "CITY", "update_time": "2013-03-20 00:00:00"}
    rows = [
        # R1: approved exactly 72 h (259200 s) after apply -> timely; by prod P1, same city -> full geography
        {**base, "adj_id": "R1", "prod_inst_id": "P1", "acc_nbr": n1, "city_code": "0531", "adj_status": "APPROVED",
         "decide_time": "2013-03-13 10:00:00", "related_type": "CMPL", "related_id": "SH1"},
        # R2: rejected 259201 s after -> not timely; related_type NULL -> NONE; own city differs from P2's -> geography
        # exception; own cust_id and product_line win
        {**base, "adj_id": "R2", "prod_inst_id": "P2", "acc_nbr": n2, "cust_id": "CX", "city_code": "0533",
         "product_line": "FIX", "adj_status": "REJECTED", "decide_time": "2013-03-13 10:00:01", "amount_fen": 1},
        # R3: applied (not decided) though decide_time is set; no snapshot match -> unknown members, own values kept;
        # no cust_id -> refund_subject = acc_nbr_hash
        {**base, "adj_id": "R3", "prod_inst_id": "P404", "acc_nbr": N3, "city_code": "0534", "product_line": "FIX",
         "adj_status": "APPLIED", "decide_time": "2013-03-11 10:00:00", "related_type": "FAULT", "related_id": "F1"},
        # R4: approved without decide_time -> not decided; no prod_inst_id -> matched by number (P1)
        {**base, "adj_id": "R4", "acc_nbr": n1, "city_code": "0531", "adj_status": "APPROVED"},
        # R5: nothing to identify the subject -> refund_subject NULL
        {**base, "adj_id": "R5", "city_code": "0535", "adj_status": "CANCELLED", "approve_level": None},
        # R6: inverted times -> negative decide_sec, kept and timely; first day of the month -> ref 201302
        {**base, "adj_id": "R6", "prod_inst_id": "P2", "city_code": "0532", "adj_status": "APPROVED",
         "apply_time": "2013-03-01 00:00:00", "decide_time": "2013-02-28 23:59:00"},
        # R7: applied in February -> ref_month_id 201301, which has no snapshot
        {**base, "adj_id": "R7", "prod_inst_id": "P1", "acc_nbr": n1, "city_code": "0531", "adj_status": "APPROVED",
         "apply_time": "2013-02-28 23:59:59", "decide_time": "2013-03-01 00:00:00"},
    ]
    cur = bronze_df("BILL_ADJ", rows, "20130320")
    out = refund.build(cur=cur, subscribers=subs.df, thresholds=threshold_seed(spark), salt=salt).cache()

    def exp(r: dict, snap: dict, **kw) -> dict:
        copied = {k: r.get(k) for k in ("adj_id", "acct_id", "refund_type", "reason_l1", "apply_time", "approve_level",
                                         "decide_time", "adj_status", "related_id")}
        acc = r.get("acc_nbr")
        return {**copied, "acc_nbr_hash": sha(acc), "acc_nbr_mask": mask(acc),
                "ref_month_id": "201302", **snap, "decide_day_id": None, "amount": Decimal("123.45"),
                "related_type": r.get("related_type") or "NONE", "is_decided": 0, "decide_sec": None,
                "decide_limit_hours": Decimal("72.00"), "is_timely_decide": None, "refund_subject": snap["cust_id"],
                "day_id": r["apply_time"][:10].replace("-", ""), "_batch_id": "BILL_ADJ_20130320_001", **kw}

    r = {x["adj_id"]: x for x in rows}
    geo_foreign = {**subs.snap2, "cust_id": "CX", "city_code": "0533", "county_code": "999999", "urban_rural": "UNK",
                   "product_line": "FIX"}
    expected = expect_df(refund.DDL, [
        exp(r["R1"], subs.snap1, decide_day_id="20130313", is_decided=1, decide_sec=259200, is_timely_decide=1),
        exp(r["R2"], geo_foreign, decide_day_id="20130313", is_decided=1, decide_sec=259201, is_timely_decide=0,
            amount=Decimal("0.01")),
        exp(r["R3"], {**subs.unknown, "city_code": "0534", "product_line": "FIX"}, refund_subject=sha(N3)),
        exp(r["R4"], subs.snap1),
        exp(r["R5"], {**subs.unknown, "city_code": "0535"}),
        exp(r["R6"], subs.snap2, decide_day_id="20130228", is_decided=1, decide_sec=-60, is_timely_decide=1),
        exp(r["R7"], {**subs.unknown, "city_code": "0531"}, ref_month_id="201301", decide_day_id="20130301",
            is_decided=1, decide_sec=1, is_timely_decide=1, refund_subject=sha(n1)),
    ])
    assert_schema(out, refund.DDL)
    assert_rows_equal(out, expected)
    assert_no_raw(out.collect(), (n1, n2, N3))
    out.unpersist()
