"""slv_points_exch_d 积分兑换订单明细 (silver.md §15): one row per exch_id, number hashed, cost and success derived."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import fen_to_yuan, flag, pii_block, to_ddl, yyyymm, yyyymmdd

TABLE = "slv_points_exch_d"
KEY = ("exch_id",)
PARTITION = "day_id"
DDL = (
    # key + copied
    "exch_id STRING, cust_id STRING, city_code STRING, exch_channel STRING, gift_id STRING, gift_cat STRING, "
    "qty BIGINT, points_used BIGINT, order_time TIMESTAMP, exch_status STRING, finish_time TIMESTAMP, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # derived
    "month_id STRING, cost_amt DECIMAL(18,2), is_success TINYINT, "
    "day_id STRING, _batch_id STRING"
)


def _derive(df: DataFrame) -> DataFrame:
    """Order date keys, the exchange cost in yuan (missing cost = 0) and the success flag."""
    return df.withColumns({
        "day_id": yyyymmdd("order_time"),
        "month_id": yyyymm("order_time"),
        "cost_amt": fen_to_yuan(F.coalesce(F.col("cost_fen"), F.lit(0))),
        "is_success": flag(F.col("exch_status") == "SUCCESS"),
    })


def build(*, cur: DataFrame, salt: str) -> DataFrame:
    """Points exchange orders from the current state of brz_pts_exch."""
    out = cur.transform(pii_block, "acc_nbr", "acc_nbr", salt).transform(_derive)
    return to_ddl(out, DDL)
