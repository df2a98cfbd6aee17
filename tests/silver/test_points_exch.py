"""slv_points_exch_d (silver.md §15) on literal PTS_EXCH rows: copied values, dates, cost, success, PII."""
from __future__ import annotations

from decimal import Decimal

from csqm.silver.tables import points_exch

N1, N2 = "13300000001", "1234567"


def test_points_exch(cfg, bronze_df, sha, expect_df, assert_schema, assert_rows_equal, assert_no_raw):
    salt = cfg.env.pii_salt

    base = {"cust_id": "K1", "city_code": "0531", "exch_channel": "MALL", "gift_id": "G1", "gift_cat": "GOODS",
            "qty": 1, "points_used": 500, "update_time": "2013-04-01 01:00:00"}
    rows = [
        # E1: success; cost in fen; last second of March stays in March
        {**base, "exch_id": "E1", "acc_nbr": N1, "cost_fen": 1234, "order_time": "2013-03-31 23:59:59",
         "exch_status": "SUCCESS", "finish_time": "2013-04-01 00:00:05"},
        # E2: failed; cost NULL -> 0; no number
        {**base, "exch_id": "E2", "order_time": "2013-04-01 00:00:00", "exch_status": "FAILED", "qty": 3,
         "points_used": 0, "exch_channel": "HALL", "city_code": "0532"},
        # E3: pending; short number -> ****
        {**base, "exch_id": "E3", "acc_nbr": N2, "cost_fen": 5, "order_time": "2013-03-01 00:00:00",
         "exch_status": "PENDING", "gift_cat": "BILL"},
        # E4: cancelled
        {**base, "exch_id": "E4", "order_time": "2013-02-28 23:59:59", "exch_status": "CANCELLED", "cost_fen": 0},
    ]
    out = points_exch.build(cur=bronze_df("PTS_EXCH", rows, "20130401"), salt=salt).cache()

    masks = {N1: "133****0001", N2: "****", None: None}
    cost = {"E1": Decimal("12.34"), "E2": Decimal("0.00"), "E3": Decimal("0.05"), "E4": Decimal("0.00")}

    def exp(r: dict) -> dict:
        t = r["order_time"]
        return {**r, "acc_nbr_hash": sha(r.get("acc_nbr")), "acc_nbr_mask": masks[r.get("acc_nbr")],
                "month_id": t[:7].replace("-", ""), "cost_amt": cost[r["exch_id"]],
                "is_success": int(r["exch_status"] == "SUCCESS"), "day_id": t[:10].replace("-", ""),
                "_batch_id": "PTS_EXCH_20130401_001"}

    expected = expect_df(points_exch.DDL, [exp(r) for r in rows])
    assert_schema(out, points_exch.DDL)
    assert_rows_equal(out, expected)
    assert_no_raw(out.collect(), (N1, N2))
    out.unpersist()
