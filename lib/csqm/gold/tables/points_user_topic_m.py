"""gld_points_user_topic_m 积分兑换与用户专题分析(月) (gold.md 3.2.15): points customers with their billing, tenure,
churn and exchanges. Also the customer population K shared with gld_points_customer_m (3.2.18)."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_points_user_topic_m"
KEY = ["month_id", "cust_id"]


def shift_month(month_id: str, n: int | Column) -> Column:
    """The yyyymm column month_id plus n months."""
    return F.date_format(F.add_months(F.to_date(F.concat(F.col(month_id), F.lit("01")), "yyyyMMdd"), n), "yyyyMM")


def customers(balance: DataFrame) -> DataFrame:
    """K: one row per (month, customer) of slv_points_balance_m with its customer-level values (equal on all of the
    customer's rows of a month; min only makes the pick explicit) and Σ expire_ye_points over those rows."""
    return balance.groupBy(*KEY).agg(
        F.min("cust_city_code").alias("city_code"), F.min("cust_vip_level").alias("vip_level"),
        F.min("cust_seg_code").alias("cust_segment"), F.min("points_band").alias("points_band"),
        F.min("cust_total_balance").alias("cust_total_balance"), F.sum("expire_ye_points").alias("expire_ye_points"))


def exchanges(exch: DataFrame) -> DataFrame:
    """Per (month, customer) with a successful exchange order that month: ex = 1 and Σ points_used."""
    return exch.where(F.col("is_success") == 1).groupBy(*KEY).agg(
        F.lit(1).alias("ex"), F.sum("points_used").alias("exch_points"))


def _arrived(subs: DataFrame) -> DataFrame:
    """A(c, m) per (month, customer): a_m = 1, Σ bill_amt, max tenure_months of the customer's arrived instances."""
    return subs.where(F.col("is_arrive") == 1).groupBy(*KEY).agg(
        F.lit(1).alias("a_m"), F.sum("bill_amt").alias("a_bill"), F.max("tenure_months").alias("a_tenure"))


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """customers = K with exchanger_flag, exch_points, A(c, M) (a_m, a_bill, a_tenure) and A(c, prev(M)) (a_prev)."""
    arrived = _arrived(silver["slv_subscriber_m"])
    prev = arrived.select(shift_month("month_id", 1).alias("month_id"), "cust_id", F.col("a_m").alias("a_prev"))
    k = (customers(silver["slv_points_balance_m"]).join(exchanges(silver["slv_points_exch_d"]), KEY, "left")
         .join(arrived, KEY, "left").join(prev, KEY, "left"))
    return {"customers": k.withColumns({
        "exchanger_flag": F.when(F.col("ex") == 1, "1").otherwise("0"),
        "exch_points": F.coalesce("exch_points", F.lit(0)),
        "a_m": F.coalesce("a_m", F.lit(0)), "a_prev": F.coalesce("a_prev", F.lit(0))})}
