"""slv_points_txn_d (silver.md §14) on literal PTS_TXN rows: copied values, dates, base amount, attribution city C()."""
from __future__ import annotations

from decimal import Decimal
from functools import reduce

import pytest
from csqm.silver.common import ScopedSnapshots
from csqm.silver.tables import points_balance, points_txn
from pyspark.sql import DataFrame


def balances(bronze_df, salt: str, upto: str = "201303") -> DataFrame:
    """slv_points_balance_m of 201301..upto built from PTS_BAL rows."""
    def bal(cust: str, ptype: str, city: str) -> dict:
        return {"cust_id": cust, "points_type": ptype, "city_code": city, "cust_segment": "PUB",
                "vip_level": "GOLD", "balance": 10}

    months = {"201301": [bal("K3", "CONSUME", "0536")],
              "201302": [bal("K1", "CONSUME", "0539"), bal("K2", "REWARD_ACT", "0535")],
              "201303": [bal("K1", "REWARD_ACT", "0532"), bal("K1", "CONSUME", "0531")]}
    frames = [points_balance.build(cur=bronze_df("PTS_BAL", rows, m), salt=salt) for m, rows in months.items()
              if m <= upto]
    return reduce(DataFrame.unionByName, frames)


BASE = {"points_type": "CONSUME", "txn_type": "EARN", "points": 100, "update_time": "2013-04-01 01:00:00"}


def txn_rows() -> list[dict]:
    """PTS_TXN rows T1..T6, one per case of C()."""
    return [
        # T1: K1 has rows in M -> city of its smallest points_type (CONSUME 0531, not REWARD_ACT 0532)
        {**BASE, "txn_id": "T1", "cust_id": "K1", "txn_time": "2013-03-05 10:00:00", "earn_year": 2013,
         "base_amt_fen": 12345, "prod_inst_id": "P1"},
        # T2: K2 has no row in 201303 -> its 201302 city; last second of the month stays in March
        {**BASE, "txn_id": "T2", "cust_id": "K2", "txn_time": "2013-03-31 23:59:59", "txn_type": "REDEEM",
         "points": 30, "exch_id": "X1"},
        # T3: K3 only in 201301 (two months back) -> 9999
        {**BASE, "txn_id": "T3", "cust_id": "K3", "txn_time": "2013-03-01 00:00:00", "txn_type": "ADJUST",
         "points": -20, "base_amt_fen": -50},
        # T4: February transaction -> K1's February city
        {**BASE, "txn_id": "T4", "cust_id": "K1", "txn_time": "2013-02-28 23:59:59"},
        # T5: April, no April snapshot -> K1's March city
        {**BASE, "txn_id": "T5", "cust_id": "K1", "txn_time": "2013-04-01 00:00:00", "txn_type": "EXPIRE"},
        # T6: unknown customer -> 9999
        {**BASE, "txn_id": "T6", "cust_id": "K9", "txn_time": "2013-03-10 00:00:00"},
    ]


@pytest.mark.parametrize("scoped", [False, True], ids=["full", "scoped"])
def test_points_txn(cfg, bronze_df, expect_df, assert_schema, assert_rows_equal, scoped):
    """A scoped build (few transactions: only their customers' balance rows are read) gives the same rows."""
    rows = txn_rows()
    bal = balances(bronze_df, cfg.env.pii_salt)
    out = points_txn.build(cur=bronze_df("PTS_TXN", rows, "20130401"), balances=ScopedSnapshots(bal) if scoped else bal)

    city = {"T1": "0531", "T2": "0535", "T3": "9999", "T4": "0539", "T5": "0531", "T6": "9999"}
    base_amt = {"T1": Decimal("123.45"), "T3": Decimal("-0.50")}

    def exp(r: dict) -> dict:
        t = r["txn_time"]
        return {**r, "month_id": t[:7].replace("-", ""), "base_amt": base_amt.get(r["txn_id"]),
                "attr_city_code": city[r["txn_id"]], "day_id": t[:10].replace("-", ""),
                "_batch_id": "PTS_TXN_20130401_001"}

    expected = expect_df(points_txn.DDL, [exp(r) for r in rows])
    assert_schema(out, points_txn.DDL)
    assert_rows_equal(out, expected)


def test_recity_names_the_rows_a_new_balance_month_moves(cfg, bronze_df, expect_df, assert_rows_equal):
    # stored before the 201303 balances arrived: T1 took K1's February city, T5 (April) found no city
    cur = bronze_df("PTS_TXN", txn_rows(), "20130401")
    stored = points_txn.build(cur=cur, balances=balances(bronze_df, cfg.env.pii_salt, upto="201302"))
    got = points_txn.recity(stored, balances(bronze_df, cfg.env.pii_salt))
    # T2 keeps K2's February city (no March row), T3/T6 stay 9999, T4 is February
    assert_rows_equal(got, expect_df("txn_id STRING", [("T1",), ("T5",)]))


def test_recity_names_every_transaction_of_a_moved_customer_month_once(cfg, bronze_df, expect_df, assert_rows_equal):
    """C() is worked out per (customer, month): K1's two March transactions both move, each named once."""
    more = [*txn_rows(), {**BASE, "txn_id": "T7", "cust_id": "K1", "txn_time": "2013-03-20 08:00:00"}]
    cur = bronze_df("PTS_TXN", more, "20130401")
    stored = points_txn.build(cur=cur, balances=balances(bronze_df, cfg.env.pii_salt, upto="201302"))
    got = points_txn.recity(stored, balances(bronze_df, cfg.env.pii_salt))
    assert_rows_equal(got, expect_df("txn_id STRING", [("T1",), ("T5",), ("T7",)]))
