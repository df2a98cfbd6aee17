"""slv_points_balance_m (silver.md §13) on literal PTS_BAL rows: customer attributes, total balance, bands, PII."""
from __future__ import annotations

from csqm.silver.tables import points_balance

N1, N2 = "13300000001", "1234567"


def test_points_balance_snapshot(cfg, bronze_df, sha, expect_df, assert_schema, assert_rows_equal, assert_no_raw):
    salt = cfg.env.pii_salt

    def bal(cust: str, ptype: str, city: str, seg: str, vip: str, b: int, **kw) -> dict:
        return {"cust_id": cust, "points_type": ptype, "city_code": city, "cust_segment": seg, "vip_level": vip,
                "balance": b, **kw}

    rows = [
        # K1: CONSUME is the smallest type -> its city/segment/vip; total 300 + 200 + 0 = 500
        bal("K1", "REWARD_ACT", "0532", "GOV", "SILVER", 200, expire_ye_points=50),
        bal("K1", "CONSUME", "0531", "PUB", "GOLD", 300, main_acc_nbr=N1),
        bal("K1", "REWARD_TENURE", "0533", "PUB", "NORMAL", 0, main_acc_nbr=N2),
        # K2: REWARD_MOB < REWARD_TENURE; total 499
        bal("K2", "REWARD_TENURE", "0535", "PUB", "NORMAL", 0),
        bal("K2", "REWARD_MOB", "0534", "GOV", "DIAMOND", 499),
        # K3: REWARD_ACT < REWARD_MOB; total 1
        bal("K3", "REWARD_MOB", "0537", "PUB", "NORMAL", 0),
        bal("K3", "REWARD_ACT", "0536", "PUB", "SILVER", 1),
        # band edges
        bal("K4", "CONSUME", "0538", "PUB", "NORMAL", 0), bal("K5", "CONSUME", "0538", "PUB", "NORMAL", -10),
        bal("K6", "CONSUME", "0538", "PUB", "NORMAL", 1999), bal("K7", "CONSUME", "0538", "PUB", "NORMAL", 2000),
        bal("K8", "CONSUME", "0538", "PUB", "NORMAL", 4999), bal("K9", "CONSUME", "0538", "PUB", "NORMAL", 5000),
    ]
    out = points_balance.build(cur=bronze_df("PTS_BAL", rows, "201303"), salt=salt).cache()

    cust = {"K1": ("0531", "PUB", "GOLD", 500, "P500_1999"), "K2": ("0534", "GOV", "DIAMOND", 499, "P1_499"),
            "K3": ("0536", "PUB", "SILVER", 1, "P1_499"), "K4": ("0538", "PUB", "NORMAL", 0, "P0"),
            "K5": ("0538", "PUB", "NORMAL", -10, "P0"), "K6": ("0538", "PUB", "NORMAL", 1999, "P500_1999"),
            "K7": ("0538", "PUB", "NORMAL", 2000, "P2000_4999"), "K8": ("0538", "PUB", "NORMAL", 4999, "P2000_4999"),
            "K9": ("0538", "PUB", "NORMAL", 5000, "P5000P")}
    masks = {N1: "133****0001", N2: "****", None: None}

    def exp(r: dict) -> dict:
        c = cust[r["cust_id"]]
        return {**r, "acc_nbr_hash": sha(r.get("main_acc_nbr")), "acc_nbr_mask": masks[r.get("main_acc_nbr")],
                "expire_ye_points": r.get("expire_ye_points") or 0, "cust_city_code": c[0], "cust_seg_code": c[1],
                "cust_vip_level": c[2], "cust_total_balance": c[3], "points_band": c[4], "month_id": "201303",
                "_batch_id": "PTS_BAL_201303_001"}

    expected = expect_df(points_balance.DDL, [exp(r) for r in rows])
    assert_schema(out, points_balance.DDL)
    assert_rows_equal(out, expected)
    assert_no_raw(out.collect(), (N1, N2))
    out.unpersist()
