"""slv_contact_event_d (silver.md §7) on tiny hand-made calls, hall tickets and e-channel sessions."""
from __future__ import annotations

import pytest
from csqm.silver.tables import contact
from pyspark.sql import functions as F

N1, N2, N3, N4, N5, N6, N9, NX = ("13300000001", "13300000002", "13300000003", "053188880004", "13300000005",
                                  "13300000006", "13300000009", "13300000099")
RAW = (N1, N2, N3, N4, N5, N6, N9, NX)


def call(cid, nbr, start, *, req=None, ans=None, queue=None, ring=None, stage="AGENT", ivr=0, **kw) -> dict:
    return {"call_id": cid, "caller_no": nbr, "called_no": "10000", "call_start_time": start, "ivr_self_flag": ivr,
            "agent_req_time": req, "answer_time": ans, "queue_sec": queue, "ring_sec": ring,
            "release_time": start[:11] + "23:59:59", "release_stage": stage, "update_time": start, **kw}


def answered(cid, nbr, ans_time, **kw) -> dict:
    start = ans_time[:11] + "00:00:01"
    return call(cid, nbr, start, req=start, ans=ans_time, queue=5, ring=5, **kw)


@pytest.fixture(scope="module")
def out(spark, cfg, bronze_df, snapshot_df, sha):
    salt = cfg.env.pii_salt
    calls = bronze_df("CC_CALL", [
        call("c01", N9, "2013-02-05 08:00:00", ivr=1, stage="IVR"),                       # IVR self-done
        call("c02", N1, "2013-02-05 09:59:00", req="2013-02-05 09:59:30", ans="2013-02-05 10:00:00", queue=15, ring=5,
             city_code="0532", vip_level="GOLD", service_type="QUERY", hold_sec=3, agent_id="A1", skill_group="SG1",
             outsource_flag=1, transfer_cnt=2, rating="1", related_sheet_id="S1"),       # 20 s; repeat at exactly 48 h
        call("c03", N1, "2013-02-07 09:59:00", ivr=1, req="2013-02-07 09:59:40", ans="2013-02-07 10:00:00", queue=16,
             ring=5, talk_sec=100, acw_sec=20),                                             # 21 s
        call("c04", N1, "2013-02-06 12:00:00", req="2013-02-06 12:00:10", stage="QUEUE", talk_sec=7),  # abandon
        call("c05", N2, "2013-02-08 08:00:00", queue=3, stage="IVR", service_type="CMPL"),  # never asked for an agent
        answered("c06", N2, "2013-02-10 08:00:00"),
        answered("c07", N2, "2013-02-12 08:00:01"),                                         # 48 h + 1 s after c06
        answered("c08", N3, "2013-02-15 09:00:00"), answered("c09", N3, "2013-02-15 09:00:00"),  # tie -> contact_id
        answered("c10", None, "2013-02-15 09:00:00"),                                       # no number
    ], data_date="20130215")
    halls = bronze_df("HALL_QUEUE", [
        {"ticket_id": "T1", "hall_id": "H01", "city_code": "0531", "county_code": "370103", "acc_nbr": N2,
         "biz_type": "TRANS", "take_time": "2013-02-11 09:00:00", "call_time": "2013-02-11 09:10:00",
         "finish_time": "2013-02-11 09:25:30", "staff_id": "ST1", "ticket_status": "DONE", "rating": "2",
         "update_time": "2013-02-11 09:25:30"},
        {"ticket_id": "T2", "hall_id": "H02", "city_code": "0535", "biz_type": "QUERY",
         "take_time": "2013-02-11 10:00:00", "ticket_status": "ABANDON", "update_time": "2013-02-11 10:30:00"},
        {"ticket_id": "T3", "hall_id": "H03", "city_code": "0536", "county_code": "370702", "acc_nbr": NX,
         "biz_type": "PAY", "take_time": "2013-02-11 11:00:00", "call_time": "2013-02-11 10:59:50",
         "finish_time": "2013-02-11 10:59:40", "ticket_status": "DONE", "update_time": "2013-02-11 11:00:00"},
    ], data_date="20130211")

    def ec(elog, ch, sid, visit, cat, day, **kw):
        return {"elog_id": elog, "session_id": sid, "channel_type": ch, "login_flag": 1, "visit_time": visit,
                "func_cat": cat, "new_register_flag": 0, "update_time": visit, "day_id": day, **kw}

    elogs = bronze_df("EC_LOG", [
        ec("E01", "WEB", "S1", "2013-02-20 23:59:00", "QUERY", "20130220", city_code="0533", result_flag=1,
           rating="3", _batch_id="EC_LOG_20130220_003", _file_seq=3),
        ec("E02", "WEB", "S1", "2013-02-21 00:05:00", "PAY", "20130221", city_code="0534", result_flag=0, acc_nbr=N4),
        ec("E04", "APP", "S1", "2013-02-20 10:00:00", "ONLINE_CS", "20130220", city_code="0531", result_flag=1,
           acc_nbr=N6, rating="1"),
        ec("E03", "APP", "S1", "2013-02-20 10:00:00", "LOGIN", "20130220", city_code="0532", acc_nbr=N5, rating="2",
           _batch_id="EC_LOG_20130220_002", _file_seq=2),
        ec("E05", "WEB", "S2", "2013-02-22 12:00:00", "EXCH", "20130222", city_code="0537", result_flag=1),
    ])
    subs = snapshot_df([
        ("201301", "P01", sha(N1), "C01", "0531", "370102", "U", "MOB", "PUB", "PUB_IND", "SILVER", "PRE", "OF1",
         "SINGLE", 30),
        ("201302", "P01", sha(N1), "C01X", "0531", "370102", "U", "MOB", "PUB", "PUB_IND", "GOLD", "PRE", "OF1",
         "SINGLE", 31),
        ("201301", "P02", sha(N2), "C02", "0531", "370103", "R", "BB", "GOV", "GOV_SME", "NORMAL", "POST", "OF2",
         "BUNDLE", 12),
        ("201301", "P04", sha(N4), "C04", "0533", "370302", "U", "FIX", "PUB", "PUB_HOME", "GOLD", "POST", "OF4",
         "SINGLE", 80),
        ("201301", "P09", sha(N9), "C09", "0532", "370202", "U", "MOB", "PUB", "PUB_IND", "DIAMOND", "POST", "OF9",
         "SINGLE", 5),
    ])
    df = contact.build(calls=calls, halls=halls, elogs=elogs, subscribers=subs, salt=salt).cache()
    yield df
    df.unpersist()


def test_schema_key_and_no_raw_number(out, assert_schema, assert_no_raw):
    assert_schema(out, contact.DDL)
    assert contact.TABLE == "slv_contact_event_d" and contact.KEY == ("contact_id",) and contact.PARTITION == "day_id"
    rows = out.collect()
    assert len({r.contact_id for r in rows}) == len(rows) == 16
    assert_no_raw(rows, RAW)


def test_hotline_flags_durations_and_repeat_48h(out, expect_df, assert_rows_equal):
    cols = ["contact_id", "contact_purpose", "is_success", "is_ivr_self_done", "is_agent_req", "queue_sec", "ring_sec",
            "is_agent_ans", "is_ans_15s", "is_ans_20s", "is_abandon", "abandon_stage", "talk_sec", "hold_sec",
            "acw_sec", "skill_group", "is_repeat_48h"]
    n = None
    actual = out.where(F.col("channel_type") == "HOTLINE").select(*cols)
    assert_rows_equal(actual, expect_df(contact.DDL, cols=cols, rows=[
        ("CC:c01", "OTH", 1, 1, 0, n, n, 0, n, n, 0, n, n, n, n, "NA", n),
        ("CC:c02", "QUERY", 1, 0, 1, 15, 5, 1, 0, 1, 0, n, 0, 3, 0, "SG1", 1),
        ("CC:c03", "OTH", 1, 0, 1, 16, 5, 1, 0, 0, 0, n, 100, 0, 20, "NA", 0),
        ("CC:c04", "OTH", 0, 0, 1, 0, 0, 0, 0, 0, 1, "QUEUE", n, n, n, "NA", n),
        ("CC:c05", "CMPL", 0, 0, 0, n, n, 0, n, n, 0, n, n, n, n, "NA", n),
        ("CC:c06", "OTH", 1, 0, 1, 5, 5, 1, 1, 1, 0, n, 0, 0, 0, "NA", 0),
        ("CC:c07", "OTH", 1, 0, 1, 5, 5, 1, 1, 1, 0, n, 0, 0, 0, "NA", 0),
        ("CC:c08", "OTH", 1, 0, 1, 5, 5, 1, 1, 1, 0, n, 0, 0, 0, "NA", 1),
        ("CC:c09", "OTH", 1, 0, 1, 5, 5, 1, 1, 1, 0, n, 0, 0, 0, "NA", 0),
        ("CC:c10", "OTH", 1, 0, 1, 5, 5, 1, 1, 1, 0, n, 0, 0, 0, "NA", 0),
    ]))


def test_hall_and_echannel_sessions(out, expect_df, assert_rows_equal):
    cols = ["contact_id", "channel_type", "channel_id", "start_time", "end_time", "day_id", "contact_purpose",
            "is_success", "is_abandon", "is_agent_req", "is_ans_20s", "agent_id", "skill_group", "rating",
            "is_repeat_48h", "hall_wait_sec", "hall_serve_sec", "_batch_id"]
    n = None
    actual = out.where(F.col("channel_type") != "HOTLINE").select(*cols)
    assert_rows_equal(actual, expect_df(contact.DDL, cols=cols, rows=[
        ("HQ:T1", "HALL", "H01", "2013-02-11 09:00:00", "2013-02-11 09:25:30", "20130211", "TRANS", 1, 0, n, n, "ST1",
         "NA", "2", n, 600, 930, "HALL_QUEUE_20130211_001"),
        ("HQ:T2", "HALL", "H02", "2013-02-11 10:00:00", n, "20130211", "QUERY", 0, 1, n, n, n, "NA", n, n, n, n,
         "HALL_QUEUE_20130211_001"),
        ("HQ:T3", "HALL", "H03", "2013-02-11 11:00:00", "2013-02-11 10:59:40", "20130211", "PAY", 1, 0, n, n, n, "NA",
         n, n, -10, -10, "HALL_QUEUE_20130211_001"),
        # PAY outranks QUERY; only the PAY row decides is_success; rating of the last rated row; date beats seq
        ("EC:WEB:S1", "WEB", "WEB", "2013-02-20 23:59:00", "2013-02-21 00:05:00", "20130220", "PAY", 0, 0, n, n, n,
         "NA", "3", n, n, n, "EC_LOG_20130221_001"),
        # same visit_time: E03 is the first row (number, city), E04 the last (rating); same date -> greater seq
        ("EC:APP:S1", "APP", "APP", "2013-02-20 10:00:00", "2013-02-20 10:00:00", "20130220", "CONSULT", 1, 0, n, n,
         n, "NA", "1", n, n, n, "EC_LOG_20130220_002"),
        ("EC:WEB:S2", "WEB", "WEB", "2013-02-22 12:00:00", "2013-02-22 12:00:00", "20130222", "TRANS", 1, 0, n, n, n,
         "NA", n, n, n, n, "EC_LOG_20130222_001"),
    ]))


def test_pii_and_enrichment(out, sha, expect_df, assert_rows_equal):
    cols = ["contact_id", "acc_nbr_hash", "acc_nbr_mask", "ref_month_id", "cust_id", "city_code", "county_code",
            "urban_rural", "product_line", "vip_level", "tenure_months"]
    n1 = (sha(N1), "133****0001", "201301", "C01")
    n2 = (sha(N2), "133****0002", "201301", "C02", "0531", "370103", "R", "BB", "NORMAL", 12)
    unk = ("999999", "UNK", "UNK", "UNK", None)
    assert_rows_equal(out.select(*cols), expect_df(contact.DDL, cols=cols, rows=[
        ("CC:c01", sha(N9), "133****0009", "201301", "C09", "0532", "370202", "U", "MOB", "DIAMOND", 5),
        ("CC:c02", *n1, "0532", "999999", "UNK", "MOB", "GOLD", 30),      # own city differs: no foreign county
        ("CC:c03", *n1, "0531", "370102", "U", "MOB", "SILVER", 30),
        ("CC:c04", *n1, "0531", "370102", "U", "MOB", "SILVER", 30),
        ("CC:c05", *n2), ("CC:c06", *n2), ("CC:c07", *n2),
        ("CC:c08", sha(N3), "133****0003", "201301", None, "9999", *unk),
        ("CC:c09", sha(N3), "133****0003", "201301", None, "9999", *unk),
        ("CC:c10", None, None, "201301", None, "9999", *unk),
        ("HQ:T1", *n2),
        ("HQ:T2", None, None, "201301", None, "0535", *unk),
        ("HQ:T3", sha(NX), "133****0099", "201301", None, "0536", "370702", "UNK", "UNK", "UNK", None),
        ("EC:WEB:S1", sha(N4), "053****0004", "201301", "C04", "0533", "370302", "U", "FIX", "GOLD", 80),
        ("EC:APP:S1", sha(N5), "133****0005", "201301", None, "0532", *unk),
        ("EC:WEB:S2", None, None, "201301", None, "0537", *unk),
    ]))


def test_an_incremental_scope_within_the_48h_reach_gives_the_full_build(spark, cfg, bronze_df, snapshot_df,
                                                                         assert_rows_equal):
    """A new answered call flips is_repeat_48h of the number's call answered 46 h before it; the forward closure takes
    that call and the later one, not the older history (c1, c2, c3), and merging its rebuild into the stored rows gives
    what a full build gives."""
    from csqm.silver import scope as sc

    old = [answered("c1", N1, "2013-02-01 08:00:00"), answered("c2", N1, "2013-02-03 07:00:00"),
           answered("c3", N1, "2013-02-09 08:00:00"), answered("c4", N1, "2013-02-09 12:00:00"),
           answered("c6", N1, "2013-02-12 09:00:00"), answered("c9", N2, "2013-02-11 10:00:00")]
    new = [answered("c5", N1, "2013-02-11 10:00:00")]
    subs = snapshot_df([])
    halls, elogs = bronze_df("HALL_QUEUE", []), bronze_df("EC_LOG", [])

    def build(calls: list[dict]):
        return contact.build(calls=bronze_df("CC_CALL", calls, data_date="20130212"), halls=halls, elogs=elogs,
                             subscribers=subs, salt=cfg.env.pii_salt)

    stored, full = build(old), build(old + new)
    seeds = spark.createDataFrame([("CC:c5",)], "contact_id STRING")
    scope = sc.subject_closure(seeds, ["contact_id"], lambda: F.col("acc_nbr_hash"), stored, build(new),
                               forward=contact.FORWARD_WINDOW)
    ids = sorted(r.contact_id for r in scope.collect())
    assert ids == ["CC:c4", "CC:c5", "CC:c6"]
    rebuilt = build([c for c in old + new if f"CC:{c['call_id']}" in ids])
    merged = stored.join(scope, "contact_id", "left_anti").unionByName(rebuilt)
    assert_rows_equal(merged, full)
    flag = lambda df: df.where(F.col("contact_id") == "CC:c4").first().is_repeat_48h  # noqa: E731
    assert (flag(stored), flag(full)) == (0, 1)
