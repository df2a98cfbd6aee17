"""slv_refund_event_d (silver.md §10) on literal BILL_ADJ rows: decision, 72 h limit bounds, NONE, subject,
enrichment."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from chispa import assert_df_equality
from csqm.silver.common import threshold_seed
from csqm.silver.tables import refund, subscriber
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

SUBS_BASE = {"acct_id": "A1", "cert_type": "ID", "cust_segment": "PUB", "cust_segment_l2": "PUB_HOME",
             "vip_level": "GOLD", "pay_type": "POST", "offer_id": "O1", "offer_type": "SINGLE",
             "open_date": "2010-01-01", "status": "ACTIVE", "tenure_months": 40, "active_flag": 1, "real_name_flag": 1}
SNAP1 = {"cust_id": "C1", "city_code": "0531", "county_code": "370102", "urban_rural": "U", "product_line": "BB",
         "cust_segment": "PUB", "cust_segment_l2": "PUB_HOME", "vip_level": "GOLD", "pay_type": "POST",
         "offer_id": "O1", "offer_type": "SINGLE", "tenure_months": 40}
SNAP2 = {**SNAP1, "cust_id": "C2", "city_code": "0532", "county_code": "370202", "urban_rural": "R",
         "product_line": "MOB"}
UNKNOWN = {"cust_id": None, "city_code": "9999", "county_code": "999999", "urban_rural": "UNK", "product_line": "UNK",
           "cust_segment": "UNK", "cust_segment_l2": "UNK", "vip_level": "UNK", "pay_type": "UNK", "offer_id": "UNK",
           "offer_type": "UNK", "tenure_months": None}
N1, N2, N3 = "13300000001", "13300000002", "053182345678"


def expect(spark, ddl: str, rows: list[dict]) -> DataFrame:
    """Expected frame from dicts of strings, cast to the DDL types in the session zone (like bronze_df)."""
    fields = StructType.fromDDL(ddl).fields
    raw = spark.createDataFrame([tuple(None if r.get(f.name) is None else str(r[f.name]) for f in fields)
                                 for r in rows],
                                ", ".join(f"`{f.name}` STRING" for f in fields))
    return raw.select(*[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in fields])


def subscribers(spark, bronze_df, salt: str) -> DataFrame:
    """slv_subscriber_m of 201302 built from SUBS rows: P1 (0531, BB, U) and P2 (0532, MOB, R)."""
    rows = [{**SUBS_BASE, **SNAP1, "prod_inst_id": "P1", "acc_nbr": N1},
            {**SUBS_BASE, **SNAP2, "prod_inst_id": "P2", "acc_nbr": N2}]
    return subscriber.build(cur=bronze_df("SUBS", rows, "201302"), prev=spark.createDataFrame([], subscriber.DDL),
                            salt=salt)


def test_refund_events(spark, cfg, bronze_df):
    salt = cfg.env.pii_salt

    def h(v: str | None) -> str | None:
        return None if v is None else hashlib.sha256((salt + v).encode("utf-8")).hexdigest()

    base = {"acct_id": "AC", "refund_type": "COMP", "reason_l1": "SVC_FAIL", "amount_fen": 12345,
            "apply_time": "2013-03-10 10:00:00", "approve_level": "CITY", "update_time": "2013-03-20 00:00:00"}
    rows = [
        # R1: approved exactly 72 h (259200 s) after apply -> timely; by prod P1, same city -> full geography
        {**base, "adj_id": "R1", "prod_inst_id": "P1", "acc_nbr": N1, "city_code": "0531", "adj_status": "APPROVED",
         "decide_time": "2013-03-13 10:00:00", "related_type": "CMPL", "related_id": "SH1"},
        # R2: rejected 259201 s after -> not timely; related_type NULL -> NONE; own city differs from P2's -> geography
        # exception; own cust_id and product_line win
        {**base, "adj_id": "R2", "prod_inst_id": "P2", "acc_nbr": N2, "cust_id": "CX", "city_code": "0533",
         "product_line": "FIX", "adj_status": "REJECTED", "decide_time": "2013-03-13 10:00:01", "amount_fen": 1},
        # R3: applied (not decided) though decide_time is set; no snapshot match -> unknown members, own values kept;
        # no cust_id -> refund_subject = acc_nbr_hash
        {**base, "adj_id": "R3", "prod_inst_id": "P404", "acc_nbr": N3, "city_code": "0534", "product_line": "FIX",
         "adj_status": "APPLIED", "decide_time": "2013-03-11 10:00:00", "related_type": "FAULT", "related_id": "F1"},
        # R4: approved without decide_time -> not decided; no prod_inst_id -> matched by number (P1)
        {**base, "adj_id": "R4", "acc_nbr": N1, "city_code": "0531", "adj_status": "APPROVED"},
        # R5: nothing to identify the subject -> refund_subject NULL
        {**base, "adj_id": "R5", "city_code": "0535", "adj_status": "CANCELLED", "approve_level": None},
        # R6: inverted times -> negative decide_sec, kept and timely; first day of the month -> ref 201302
        {**base, "adj_id": "R6", "prod_inst_id": "P2", "city_code": "0532", "adj_status": "APPROVED",
         "apply_time": "2013-03-01 00:00:00", "decide_time": "2013-02-28 23:59:00"},
        # R7: applied in February -> ref_month_id 201301, which has no snapshot
        {**base, "adj_id": "R7", "prod_inst_id": "P1", "acc_nbr": N1, "city_code": "0531", "adj_status": "APPROVED",
         "apply_time": "2013-02-28 23:59:59", "decide_time": "2013-03-01 00:00:00"},
    ]
    cur = bronze_df("BILL_ADJ", rows, "20130320")
    out = refund.build(cur=cur, subscribers=subscribers(spark, bronze_df, salt), thresholds=threshold_seed(spark),
                       salt=salt).cache()

    def exp(r: dict, snap: dict, **kw) -> dict:
        copied = {k: r.get(k) for k in ("adj_id", "acct_id", "refund_type", "reason_l1", "apply_time", "approve_level",
                                         "decide_time", "adj_status", "related_id")}
        acc = r.get("acc_nbr")
        return {**copied, "acc_nbr_hash": h(acc), "acc_nbr_mask": acc and acc[:3] + "****" + acc[-4:],
                "ref_month_id": "201302", **snap, "decide_day_id": None, "amount": Decimal("123.45"),
                "related_type": r.get("related_type") or "NONE", "is_decided": 0, "decide_sec": None,
                "decide_limit_hours": Decimal("72.00"), "is_timely_decide": None, "refund_subject": snap["cust_id"],
                "day_id": r["apply_time"][:10].replace("-", ""), "_batch_id": "BILL_ADJ_20130320_001", **kw}

    r = {x["adj_id"]: x for x in rows}
    geo_foreign = {**SNAP2, "cust_id": "CX", "city_code": "0533", "county_code": "999999", "urban_rural": "UNK",
                   "product_line": "FIX"}
    expected = expect(spark, refund.DDL, [
        exp(r["R1"], SNAP1, decide_day_id="20130313", is_decided=1, decide_sec=259200, is_timely_decide=1),
        exp(r["R2"], geo_foreign, decide_day_id="20130313", is_decided=1, decide_sec=259201, is_timely_decide=0,
            amount=Decimal("0.01")),
        exp(r["R3"], {**UNKNOWN, "city_code": "0534", "product_line": "FIX"}, refund_subject=h(N3)),
        exp(r["R4"], SNAP1),
        exp(r["R5"], {**UNKNOWN, "city_code": "0535"}),
        exp(r["R6"], SNAP2, decide_day_id="20130228", is_decided=1, decide_sec=-60, is_timely_decide=1),
        exp(r["R7"], {**UNKNOWN, "city_code": "0531"}, ref_month_id="201301", decide_day_id="20130301", is_decided=1,
            decide_sec=1, is_timely_decide=1, refund_subject=h(N1)),
    ])
    assert out.columns == [f.name for f in StructType.fromDDL(refund.DDL).fields]
    assert_df_equality(out, expected, ignore_row_order=True, ignore_column_order=False, ignore_nullable=True)

    leaked = [(c, v) for rec in out.collect() for c, v in rec.asDict().items()
              if isinstance(v, str) and any(n in v for n in (N1, N2, N3))]
    assert not leaked
    out.unpersist()
