"""slv_newuser_sms_callback_d (silver.md §9) on a handful of hand-made SMS_CALLBACK rows."""
from __future__ import annotations

import pytest
from csqm.silver.tables import newuser

N1, N2, N3 = "13300000001", "13300000002", "13300000003"
CERT = "37010219800101123X"
TEXT = "满意 张三 13399999999"


@pytest.fixture(scope="module")
def out(cfg, bronze_df, snapshot_df, sha):
    salt = cfg.env.pii_salt

    def row(cid, prod, nbr, status, code, plan="2013-02-04", **kw):
        return {"callback_id": cid, "prod_inst_id": prod, "acc_nbr": nbr, "city_code": "0531", "product_line": "MOB",
                "open_date": "2013-02-01", "real_name_flag": 1, "plan_date": plan, "send_status": status,
                "send_time": None if status == "PENDING" else plan + " 09:00:00", "reply_code": code,
                "reply_time": None if code is None else plan + " 09:30:00",
                "reply_text": None if code is None else TEXT,
                "update_time": plan + " 10:00:00", **kw}

    cur = bronze_df("SMS_CALLBACK", [
        row("K1", "P01", N1, "OK", "1", cert_nbr=CERT, cust_id="CU1", open_channel_id="CH1", dev_staff_id="D1",
            follow_up_result="OK"),
        row("K2", "P02", N1, "OK", "9", city_code="0532", product_line="BB", offer_id="OFX"),
        row("K3", "P03", N2, "OK", None, real_name_flag=0),
        row("K4", "P04", N3, "FAIL", "1"),
        row("K5", "P05", N3, "PENDING", "4", plan="2013-03-01", cust_id="CU5", offer_id="OFN", day_id="20130301"),
    ], data_date="20130204")
    subs = snapshot_df([
        ("201301", "P01", sha(N1), "C01", "0531", "370102", "U", "MOB", "PUB", "PUB_IND", "SILVER", "PRE", "OF1",
         "SINGLE", 30),
    ])
    df = newuser.build(cur=cur, subscribers=subs, salt=salt).cache()
    yield df
    df.unpersist()


def test_schema_no_reply_text_no_raw_pii(out, assert_schema, assert_no_raw):
    assert_schema(out, newuser.DDL)
    assert (newuser.TABLE, newuser.KEY, newuser.PARTITION) == ("slv_newuser_sms_callback_d", ("callback_id",), "day_id")
    assert not {"reply_text", "acc_nbr", "cert_nbr"} & set(out.columns)
    rows = out.collect()
    assert len(rows) == 5
    assert_no_raw(rows, (N1, N2, N3, CERT, TEXT, "张三"))


def test_copied_and_reply_flags(out, expect_df, assert_rows_equal):
    cols = ["callback_id", "prod_inst_id", "open_date", "open_channel_id", "dev_staff_id", "plan_date", "send_time",
            "send_status", "reply_time", "reply_code", "follow_up_result", "real_name_flag", "is_sent", "is_replied",
            "is_valid_reply", "is_satisfied", "day_id", "_batch_id"]
    n, b = None, "SMS_CALLBACK_20130204_001"
    od, pd, st, rt = "2013-02-01", "2013-02-04", "2013-02-04 09:00:00", "2013-02-04 09:30:00"
    assert_rows_equal(out.select(*cols), expect_df(newuser.DDL, cols=cols, rows=[
        ("K1", "P01", od, "CH1", "D1", pd, st, "OK", rt, "1", "OK", 1, 1, 1, 1, 1, "20130204", b),
        ("K2", "P02", od, n, n, pd, st, "OK", rt, "9", n, 1, 1, 1, 0, 0, "20130204", b),      # 9 = invalid reply
        ("K3", "P03", od, n, n, pd, st, "OK", n, n, n, 0, 1, 0, 0, 0, "20130204", b),         # no reply
        ("K4", "P04", od, n, n, pd, st, "FAIL", rt, "1", n, 1, 0, 0, 0, 1, "20130204", b),    # satisfied = code 1 only
        ("K5", "P05", od, n, n, "2013-03-01", n, "PENDING", "2013-03-01 09:30:00", "4", n, 1, 0, 0, 0, 0, "20130301",
         "SMS_CALLBACK_20130301_001"),
    ]))


def test_pii_and_enrichment(out, sha, expect_df, assert_rows_equal):
    cols = ["callback_id", "acc_nbr_hash", "acc_nbr_mask", "cert_nbr_hash", "cert_nbr_mask", "ref_month_id", "cust_id",
            "city_code", "county_code", "urban_rural", "product_line", "vip_level", "offer_id", "tenure_months"]
    n3 = (sha(N3), "133****0003", None, None)
    assert_rows_equal(out.select(*cols), expect_df(newuser.DDL, cols=cols, rows=[
        ("K1", sha(N1), "133****0001", sha(CERT), "370****123X", "201301", "CU1", "0531", "370102", "U", "MOB",
         "SILVER", "OF1", 30),
        # P02 not in the snapshot -> by number (P01); own city 0532 differs: no county / urban_rural from it
        ("K2", sha(N1), "133****0001", None, None, "201301", "C01", "0532", "999999", "UNK", "BB", "SILVER", "OFX",
         30),
        ("K3", sha(N2), "133****0002", None, None, "201301", None, "0531", "999999", "UNK", "MOB", "UNK", "UNK", None),
        ("K4", *n3, "201301", None, "0531", "999999", "UNK", "MOB", "UNK", "UNK", None),
        ("K5", *n3, "201302", "CU5", "0531", "999999", "UNK", "MOB", "UNK", "OFN", None),
    ]))
