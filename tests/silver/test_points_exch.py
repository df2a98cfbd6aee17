"""slv_points_exch_d (silver.md §15) on literal PTS_EXCH rows: copied values, dates, cost, success, PII."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from chispa import assert_df_equality
from csqm.silver.tables import points_exch
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

N1, N2 = "13300000001", "1234567"


def expect(spark, ddl: str, rows: list[dict]) -> DataFrame:
    """Expected frame from dicts of strings, cast to the DDL types in the session zone (like bronze_df)."""
    fields = StructType.fromDDL(ddl).fields
    raw = spark.createDataFrame([tuple(None if r.get(f.name) is None else str(r[f.name]) for f in fields)
                                 for r in rows],
                                ", ".join(f"`{f.name}` STRING" for f in fields))
    return raw.select(*[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in fields])


def test_points_exch(spark, cfg, bronze_df):
    salt = cfg.env.pii_salt

    def h(v: str | None) -> str | None:
        return None if v is None else hashlib.sha256((salt + v).encode("utf-8")).hexdigest()

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
        return {**r, "acc_nbr_hash": h(r.get("acc_nbr")), "acc_nbr_mask": masks[r.get("acc_nbr")],
                "month_id": t[:7].replace("-", ""), "cost_amt": cost[r["exch_id"]],
                "is_success": int(r["exch_status"] == "SUCCESS"), "day_id": t[:10].replace("-", ""),
                "_batch_id": "PTS_EXCH_20130401_001"}

    expected = expect(spark, points_exch.DDL, [exp(r) for r in rows])
    assert out.columns == [f.name for f in StructType.fromDDL(points_exch.DDL).fields]
    assert_df_equality(out, expected, ignore_row_order=True, ignore_column_order=False, ignore_nullable=True)

    leaked = [(c, v) for rec in out.collect() for c, v in rec.asDict().items()
              if isinstance(v, str) and any(n in v for n in (N1, N2))]
    assert not leaked
    out.unpersist()
