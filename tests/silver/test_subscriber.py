"""slv_subscriber_m (silver.md §12) on a handful of literal SUBS rows: flags, tenure bands, offer migration, PII."""
from __future__ import annotations

from decimal import Decimal

from csqm.silver.tables import subscriber

BASE = {"cust_id": "C1", "acct_id": "A1", "cert_type": "ID", "city_code": "0531", "county_code": "370102",
        "urban_rural": "U", "product_line": "BB", "cust_segment": "PUB", "cust_segment_l2": "PUB_HOME",
        "vip_level": "GOLD", "pay_type": "POST", "offer_type": "SINGLE", "open_date": "2010-01-01",
        "status": "ACTIVE", "active_flag": 1, "real_name_flag": 1}


def test_subscriber_snapshot(spark, cfg, bronze_df, sha, expect_df, assert_schema, assert_rows_equal, assert_no_raw):
    salt = cfg.env.pii_salt

    def subs(pid: str, **kw) -> dict:
        return {**BASE, "prod_inst_id": pid, "acc_nbr": f"1331234{pid[1:]:0>4}", **kw}

    empty = spark.createDataFrame([], subscriber.DDL)
    jan = subscriber.build(cur=bronze_df("SUBS", [subs("S8", offer_id="O1")], "201301"), prev=empty, salt=salt)
    feb_rows = [subs("S1", offer_id="O1"), subs("S2", offer_id="O1"), subs("S3", offer_id="O1", status="SUSP_REQ"),
                subs("S4", offer_id="O1", status="REMOVED", remove_date="2013-02-10"),
                subs("S6", offer_id="O1"), subs("S7", offer_id=None)]
    prev = subscriber.build(cur=bronze_df("SUBS", feb_rows, "201302"), prev=empty, salt=salt).unionByName(jan)
    mar_rows = [
        # S1: arriving, offer changed O1 -> O2; tenure 11; both PII fields; money
        subs("S1", offer_id="O2", tenure_months=11, offer_fee_fen=5900, bill_amt_fen=12345,
             cert_nbr="37010219800101123X", agreement_exp_date="2014-06-30"),
        # S2: same offer; tenure 12; bill NULL -> 0; offer_fee NULL stays NULL; short number -> ****
        subs("S2", offer_id="O1", status="SUSP_ARREARS", tenure_months=12, acc_nbr="1234567", active_flag=0),
        # S3: own offer NULL -> UNK: no migration; tenure 59
        subs("S3", offer_id=None, offer_type=None, status="SUSP_REQ", tenure_months=59, real_name_flag=0),
        # S4: prev row not arriving -> prev_offer_id NULL; tenure 60
        subs("S4", offer_id="O3", tenure_months=60),
        # S5: new in March (first day), no prev row; negative tenure
        subs("S5", offer_id="O2", tenure_months=-3, open_date="2013-03-01"),
        # S6: churned in March: not arriving, so no migration although the offer differs; tenure 24
        subs("S6", offer_id="O2", status="REMOVED", remove_date="2013-03-31", tenure_months=24),
        # S7: prev offer UNK -> kept as prev_offer_id, no migration; open last day of prev month -> not new
        subs("S7", offer_id="O5", tenure_months=36, open_date="2013-02-28"),
        # S8: only a 201301 row (not prev(M)) -> no prev; opened on the last day of M; tenure 23
        subs("S8", offer_id="O2", tenure_months=23, open_date="2013-03-31"),
    ]
    cur = bronze_df("SUBS", mar_rows, "201303")
    out = subscriber.build(cur=cur, prev=prev, salt=salt).cache()

    def row(r: dict, **kw) -> dict:
        base = {k: r.get(k) for k in r if k not in ("acc_nbr", "cert_nbr", "offer_fee_fen", "bill_amt_fen")}
        mask = None if r.get("cert_nbr") is None else r["cert_nbr"][:3] + "****" + r["cert_nbr"][-4:]
        acc = r["acc_nbr"]
        return {**base, "acc_nbr_hash": sha(acc),
                "acc_nbr_mask": acc[:3] + "****" + acc[-4:] if len(acc) >= 8 else "****",
                "cert_nbr_hash": sha(r.get("cert_nbr")), "cert_nbr_mask": mask, "offer_id": r.get("offer_id") or "UNK",
                "offer_type": r.get("offer_type") or "UNK", "bill_amt": Decimal("0.00"), "is_active": r["active_flag"],
                "is_new": 0, "is_churn": 0, "is_arrive": 1, "is_offer_migrated_in": 0, "month_id": "201303",
                "_batch_id": "SUBS_201303_001", **kw}

    s = {r["prod_inst_id"]: r for r in mar_rows}
    expected = expect_df(subscriber.DDL, [
        row(s["S1"], tenure_band="T00_12", offer_fee=Decimal("59.00"), bill_amt=Decimal("123.45"),
            prev_offer_id="O1", is_offer_migrated_in=1),
        row(s["S2"], tenure_band="T12_24", prev_offer_id="O1"),
        row(s["S3"], tenure_band="T36_60", prev_offer_id="O1"),
        row(s["S4"], tenure_band="T60P"),
        row(s["S5"], tenure_band="T00_12", is_new=1),
        row(s["S6"], tenure_band="T24_36", is_arrive=0, is_churn=1, prev_offer_id="O1"),
        row(s["S7"], tenure_band="T36_60", prev_offer_id="UNK"),
        row(s["S8"], tenure_band="T12_24", is_new=1),
    ])
    assert_schema(out, subscriber.DDL)
    assert_rows_equal(out, expected)
    # the pipeline's prev: offers() of the bronze months, no full build of them
    lent = subscriber.offers(bronze_df("SUBS", feb_rows, "201302")).unionByName(
        subscriber.offers(bronze_df("SUBS", [subs("S8", offer_id="O1")], "201301")))
    assert_rows_equal(subscriber.build(cur=cur, prev=lent, salt=salt), expected)

    raw = {r[k] for r in mar_rows for k in ("acc_nbr", "cert_nbr") if r.get(k)}
    assert_no_raw(out.collect(), raw)
    out.unpersist()


def test_prev_is_read_only_for_the_month_before_and_none_lends_nothing(spark, cfg, bronze_df, tmp_path,
                                                                       assert_rows_equal):
    """prev(M) alone is read from a stored snapshot table (the file of an older month is deleted behind Delta's back:
    a scan of it would fail); prev=None builds what a prev without that month builds."""
    salt = cfg.env.pii_salt
    row = {**BASE, "prod_inst_id": "S1", "acc_nbr": "13312340001", "offer_id": "O1"}
    empty = spark.createDataFrame([], subscriber.DDL)
    path = str(tmp_path / "slv_subscriber_m")
    for m in ("201301", "201302"):
        subscriber.build(cur=bronze_df("SUBS", [row], m), prev=empty, salt=salt).write.format("delta") \
            .mode("append").partitionBy("month_id").save(path)
    for f in (tmp_path / "slv_subscriber_m" / "month_id=201301").glob("*.parquet"):
        f.unlink()
    cur = bronze_df("SUBS", [{**row, "offer_id": "O2"}], "201303")
    stored = spark.read.format("delta").load(path).select(*subscriber.PREV_COLS)
    out = subscriber.build(cur=cur, prev=stored, salt=salt)
    assert [(r.prev_offer_id, r.is_offer_migrated_in) for r in out.collect()] == [("O1", 1)]
    assert subscriber.lending(stored, bronze_df("SUBS", [row], "201305")).isEmpty()
    april = bronze_df("SUBS", [row], "201304")
    assert_rows_equal(subscriber.build(cur=april, prev=None, salt=salt),
                      subscriber.build(cur=april, prev=stored.where("month_id = '201302'"), salt=salt))
