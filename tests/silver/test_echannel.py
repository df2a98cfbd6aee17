"""slv_echannel_contact_d (silver.md §8) on a handful of hand-made EC_LOG rows."""
from __future__ import annotations

from decimal import Decimal

import pytest
from csqm.silver.tables import echannel

N1, N2 = "13300000001", "053188880002"


@pytest.fixture(scope="module")
def out(cfg, bronze_df, snapshot_df, sha):
    salt = cfg.env.pii_salt

    def row(elog, cat, visit, city, **kw):
        return {"elog_id": elog, "session_id": "S" + elog, "channel_type": "APP", "city_code": city, "login_flag": 1,
                "visit_time": visit, "func_code": "F" + elog, "func_cat": cat, "new_register_flag": 0,
                "client_os": "iOS 6.1", "update_time": visit, **kw}

    cur = bronze_df("EC_LOG", [
        row("L1", "TRANS", "2013-02-10 10:00:00", "0531", acc_nbr=N1, result_flag=1, cs_solved_flag=1, resp_ms=120,
            rating="1"),
        row("L2", "PAY", "2013-02-10 11:00:00", "0532", result_flag=0, pay_amt_fen=12345, fail_reason="余额不足",
            login_flag=0, new_register_flag=1),
        row("L3", "EXCH", "2013-02-10 12:00:00", "0533", acc_nbr=N2, result_flag=1, pay_amt_fen=-5),
        row("L4", "ONLINE_CS", "2013-02-10 13:00:00", "0534", acc_nbr=N2, cs_solved_flag=1),
        row("L5", "ONLINE_CS", "2013-02-10 14:00:00", "0535", rating="3"),
        row("L6", "QUERY", "2013-03-01 00:00:00", "0536", acc_nbr=N1, cs_solved_flag=0, pay_amt_fen=100,
            day_id="20130301"),
    ], data_date="20130210")
    subs = snapshot_df([
        ("201301", "P01", sha(N1), "C01", "0531", "370102", "U", "MOB", "PUB", "PUB_IND", "SILVER", "PRE", "OF1",
         "SINGLE", 30),
        ("201302", "P01", sha(N1), "C01", "0531", "370102", "U", "MOB", "PUB", "PUB_IND", "GOLD", "PRE", "OF1",
         "SINGLE", 31),
    ])
    df = echannel.build(cur=cur, subscribers=subs, salt=salt).cache()
    yield df
    df.unpersist()


def test_schema_and_no_raw_number(out, assert_schema, assert_no_raw):
    assert_schema(out, echannel.DDL)
    assert (echannel.TABLE, echannel.KEY, echannel.PARTITION) == ("slv_echannel_contact_d", ("elog_id",), "day_id")
    rows = out.collect()
    assert len(rows) == 6
    assert not [v for r in rows for v in r if any(n in str(v) for n in (N1, N2))]


def test_copied_and_derived(out, expect_df, assert_rows_equal):
    cols = ["elog_id", "session_id", "channel_type", "visit_time", "func_code", "func_cat", "fail_reason", "resp_ms",
            "rating", "client_os", "login_flag", "is_trans", "is_success", "pay_amount", "is_online_cs", "cs_solved",
            "is_new_register", "day_id", "_batch_id"]
    n, os_, b = None, "iOS 6.1", "EC_LOG_20130210_001"
    assert_rows_equal(out.select(*cols), expect_df(echannel.DDL, cols=cols, rows=[
        ("L1", "SL1", "APP", "2013-02-10 10:00:00", "FL1", "TRANS", n, 120, "1", os_, 1, 1, 1, n, 0, n, 0, "20130210",
         b),
        ("L2", "SL2", "APP", "2013-02-10 11:00:00", "FL2", "PAY", "余额不足", n, n, os_, 0, 1, 0, Decimal("123.45"),
         0, n, 1, "20130210", b),
        ("L3", "SL3", "APP", "2013-02-10 12:00:00", "FL3", "EXCH", n, n, n, os_, 1, 1, 1, Decimal("-0.05"), 0, n, 0,
         "20130210", b),
        ("L4", "SL4", "APP", "2013-02-10 13:00:00", "FL4", "ONLINE_CS", n, n, n, os_, 1, 0, n, n, 1, 1, 0, "20130210",
         b),
        ("L5", "SL5", "APP", "2013-02-10 14:00:00", "FL5", "ONLINE_CS", n, n, "3", os_, 1, 0, n, n, 1, n, 0, "20130210",
         b),
        ("L6", "SL6", "APP", "2013-03-01 00:00:00", "FL6", "QUERY", n, n, n, os_, 1, 0, n, Decimal("1.00"), 0, n, 0,
         "20130301", "EC_LOG_20130301_001"),
    ]))


def test_pii_and_enrichment(out, sha, expect_df, assert_rows_equal):
    cols = ["elog_id", "acc_nbr_hash", "acc_nbr_mask", "ref_month_id", "cust_id", "city_code", "county_code",
            "urban_rural", "product_line", "vip_level", "offer_id", "tenure_months"]
    unk = ("999999", "UNK", "UNK", "UNK", "UNK", None)
    assert_rows_equal(out.select(*cols), expect_df(echannel.DDL, cols=cols, rows=[
        ("L1", sha(N1), "133****0001", "201301", "C01", "0531", "370102", "U", "MOB", "SILVER", "OF1", 30),
        ("L2", None, None, "201301", None, "0532", *unk),
        ("L3", sha(N2), "053****0002", "201301", None, "0533", *unk),   # number not in the snapshot
        ("L4", sha(N2), "053****0002", "201301", None, "0534", *unk),
        ("L5", None, None, "201301", None, "0535", *unk),
        # own city 0536 differs from the snapshot's 0531: no county / urban_rural from it
        ("L6", sha(N1), "133****0001", "201302", "C01", "0536", "999999", "UNK", "MOB", "GOLD", "OF1", 31),
    ]))
