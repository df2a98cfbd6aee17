"""slv_provision_step_d (silver.md §6) on one literal frame of hand-worked cases: step_sec clipped at 0, overtime at
and over the limit, open steps, order attributes and the unknown members when the order is missing."""
from __future__ import annotations

from csqm.silver.tables import step
from pyspark.sql import functions as F

ORDERS_DDL = ("order_id STRING, city_code STRING, county_code STRING, urban_rural STRING, product_line STRING, "
              "order_type STRING, end_time STRING, is_cancelled TINYINT")
COPIED = ("order_id", "step_seq", "step_code", "handler_dept", "start_time", "end_time")
O1 = {"city_code": "0532", "county_code": "370202", "urban_rural": "R", "product_line": "FIX", "order_type": "NEW",
      "order_end_time": "2013-03-05 10:00:00", "order_is_cancelled": 0}
O2 = {"city_code": "0531", "county_code": "999999", "urban_rural": "UNK", "product_line": "BB", "order_type": "MOVE",
      "order_end_time": "2013-03-02 08:00:00", "order_is_cancelled": 1}
O3 = {"city_code": "0533", "county_code": "370302", "urban_rural": "U", "product_line": "BB", "order_type": "CHG",
      "order_end_time": None, "order_is_cancelled": 0}
NONE = {"city_code": "9999", "county_code": "999999", "urban_rural": "UNK", "product_line": "UNK", "order_type": "UNK",
        "order_end_time": None, "order_is_cancelled": 0}


def r(oid: str, seq: int, start: str, end: str | None, limit: int | None, ret: int = 0) -> dict:
    """One SP_STEP input row (times as strings)."""
    return {"order_id": oid, "step_seq": seq, "step_code": "OUTSIDE", "handler_dept": "D1", "start_time": start,
            "end_time": end, "limit_min": limit, "return_flag": ret, "update_time": start}


CASES = [  # (input row, expected derived values incl. the order attributes)
    # 90 min against 60 min → overtime
    (r("O1", 1, "2013-03-01 09:00:00", "2013-03-01 10:30:00", 60),
     {"step_sec": 5400, "step_hours": "1.50", "step_limit_sec": 3600, "is_overtime": 1, **O1}),
    # inverted times → step_sec clipped at 0; a returned step
    (r("O1", 2, "2013-03-01 12:00:00", "2013-03-01 11:00:00", 10, ret=1),
     {"step_sec": 0, "step_hours": "0.00", "step_limit_sec": 600, "is_overtime": 0, "is_return": 1, **O1}),
    # exactly at the limit is not overtime
    (r("O1", 3, "2013-03-01 13:00:00", "2013-03-01 13:30:00", 30),
     {"step_sec": 1800, "step_hours": "0.50", "step_limit_sec": 1800, "is_overtime": 0, **O1}),
    # open step: no duration, no overtime; cancelled order's end_time and flag
    (r("O2", 1, "2013-03-01 09:00:00", None, 120), {"step_limit_sec": 7200, **O2}),
    # across midnight, no limit → overtime NULL
    (r("O2", 2, "2013-03-01 23:00:00", "2013-03-02 01:00:00", None), {"step_sec": 7200, "step_hours": "2.00", **O2}),
    # open order: order_end_time NULL
    (r("O3", 1, "2013-03-03 09:00:00", "2013-03-03 09:00:59", 1),
     {"step_sec": 59, "step_hours": "0.02", "step_limit_sec": 60, "is_overtime": 0, **O3}),
    # no order → unknown members, end NULL, cancelled 0
    (r("O99", 1, "2013-03-04 09:00:00", "2013-03-04 09:01:01", 1),
     {"step_sec": 61, "step_hours": "0.02", "step_limit_sec": 60, "is_overtime": 1, **NONE}),
]


def expected_row(inp: dict, exp: dict) -> dict:
    """Copied values from the input and the hand-worked derived values."""
    end = inp["end_time"]
    return {**{c: inp.get(c) for c in COPIED}, "end_day_id": end and end[:10].replace("-", ""), "is_return": 0,
            **exp, "day_id": inp["start_time"][:10].replace("-", ""), "_batch_id": "SP_STEP_20130101_001"}


def test_provision_step_d(spark, bronze_df, expect_df, assert_schema, assert_rows_equal):
    cur = bronze_df("SP_STEP", [c[0] for c in CASES])
    orders = (spark.createDataFrame([
        ("O1", "0532", "370202", "R", "FIX", "NEW", "2013-03-05 10:00:00", 0),
        ("O2", "0531", "999999", "UNK", "BB", "MOVE", "2013-03-02 08:00:00", 1),
        ("O3", "0533", "370302", "U", "BB", "CHG", None, 0),
        ("O4", "0533", "370302", "U", "BB", "NEW", None, 0),  # an order without steps adds no row
    ], ORDERS_DDL).withColumn("end_time", F.col("end_time").cast("timestamp")))
    out = step.build(cur=cur, orders=orders)

    assert_schema(out, step.DDL)
    expected = expect_df(step.DDL, [expected_row(i, e) for i, e in CASES])
    assert_rows_equal(out, expected)
