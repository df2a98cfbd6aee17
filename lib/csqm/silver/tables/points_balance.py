"""slv_points_balance_m 积分余额月快照 (silver.md §13): one row per (month, customer, points type)
with customer totals."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from csqm.silver.common import pii_block, to_ddl

TABLE = "slv_points_balance_m"
KEY = ("month_id", "cust_id", "points_type")
PARTITION = "month_id"
DDL = (
    # key (month_id is the partition column, placed last) + copied
    "cust_id STRING, points_type STRING, city_code STRING, cust_segment STRING, vip_level STRING, balance BIGINT, "
    # P block (from main_acc_nbr, silver.md §0.2)
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # derived
    "expire_ye_points BIGINT, cust_city_code STRING, cust_seg_code STRING, cust_vip_level STRING, "
    "cust_total_balance BIGINT, points_band STRING, "
    "month_id STRING, _batch_id STRING"
)


def points_band(balance: Column) -> Column:
    """README §4.2 points bands from a customer's total balance (b <= 0 is P0)."""
    b = balance
    return (F.when(b.isNull(), F.lit("UNK")).when(b <= 0, F.lit("P0")).when(b <= 499, F.lit("P1_499"))
            .when(b <= 1999, F.lit("P500_1999")).when(b <= 4999, F.lit("P2000_4999")).otherwise(F.lit("P5000P")))


def _customer(df: DataFrame) -> DataFrame:
    """Customer attributes from the row with the smallest points_type, and the customer's total balance."""
    w = Window.partitionBy("month_id", "cust_id")
    first = F.min(F.struct(F.col("points_type").alias("t"), F.col("city_code").alias("c"),
                           F.col("cust_segment").alias("s"), F.col("vip_level").alias("v"))).over(w)
    return (df.withColumns({"__first": first, "cust_total_balance": F.sum("balance").over(w)})
            .withColumns({"cust_city_code": F.col("__first.c"), "cust_seg_code": F.col("__first.s"),
                          "cust_vip_level": F.col("__first.v"),
                          "points_band": points_band(F.col("cust_total_balance")),
                          "expire_ye_points": F.coalesce(F.col("expire_ye_points"), F.lit(0).cast("bigint"))})
            .drop("__first"))


def build(*, cur: DataFrame, salt: str) -> DataFrame:
    """Month M balances from the brz_pts_bal rows of M (a full snapshot, one row per customer and points type)."""
    out = (cur.transform(pii_block, "main_acc_nbr", "acc_nbr", salt)
           .transform(_customer))
    return to_ddl(out, DDL)
