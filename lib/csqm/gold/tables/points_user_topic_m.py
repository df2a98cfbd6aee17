"""gld_points_user_topic_m 积分兑换与用户专题分析(月) (gold.md 3.2.15): points customers with their billing, tenure,
churn and exchanges. Also the customer population K shared with gld_points_customer_m (3.2.18)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from csqm.gold.months import rekeyed, shift_month
from csqm.months import shift
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TABLE = "gld_points_user_topic_m"
KEY = ["month_id", "cust_id"]


def customers(balance: DataFrame) -> DataFrame:
    """K: one row per (month, customer) of slv_points_balance_m with its customer-level values and Σ expire_ye_points
    over the customer's rows of the month. Silver sets the customer-level values alike on all of them (§13), so they
    are grouping keys: a hash aggregate, where a min() of strings would sort every balance row of the months."""
    return balance.groupBy(
        *KEY, F.col("cust_city_code").alias("city_code"), F.col("cust_vip_level").alias("vip_level"),
        F.col("cust_seg_code").alias("cust_segment"), "points_band", "cust_total_balance").agg(
        F.sum("expire_ye_points").alias("expire_ye_points"))


def exchanges(exch: DataFrame) -> DataFrame:
    """Per (month, customer) with a successful exchange order that month: ex = 1 and Σ points_used."""
    return exch.where(F.col("is_success") == 1).groupBy(*KEY).agg(
        F.lit(1).alias("ex"), F.sum("points_used").alias("exch_points"))


def _arrived(subs: DataFrame) -> DataFrame:
    """A(c, m) and A(c, prev(m)) per (month, customer) in one aggregation: a_m = 1, Σ bill_amt and max tenure_months
    of the customer's arrived instances in m, a_prev = 1 when it had one in prev(m) (NULL: none)."""
    a = subs.where(F.col("is_arrive") == 1)
    rows = a.select(*KEY, "bill_amt", "tenure_months", F.lit(True).alias("_cur")).unionByName(
        rekeyed(a.select("month_id", "cust_id"), shift_month("month_id", 1)).select(
            *KEY, F.lit(None).alias("bill_amt"), F.lit(None).alias("tenure_months"), F.lit(False).alias("_cur")))
    cur = F.col("_cur")
    return rows.groupBy(*KEY).agg(
        F.max(F.when(cur, 1)).alias("a_m"), F.sum(F.when(cur, F.col("bill_amt"))).alias("a_bill"),
        F.max(F.when(cur, F.col("tenure_months"))).alias("a_tenure"), F.max(F.when(~cur, 1)).alias("a_prev"))


def params(cfg, parts: Sequence[str] = ()) -> dict:
    """What sources() takes: the snapshot months the partitions read (prev of the earliest through the latest), so a
    lake keeping 36 months of slv_subscriber_m is not scanned whole for the previous month's arrivals."""
    return {"months": (shift(min(parts), -1), max(parts)) if parts else None}


def sources(silver: Mapping[str, DataFrame], months: tuple[str, str] | None = None) -> dict[str, DataFrame]:
    """customers = K with exchanger_flag, exch_points, A(c, M) (a_m, a_bill, a_tenure) and A(c, prev(M)) (a_prev)."""
    subs, bal = silver["slv_subscriber_m"], silver["slv_points_balance_m"]
    if months is not None:
        subs, bal = (df.where(F.col("month_id").between(*months)) for df in (subs, bal))
    k = (customers(bal).join(exchanges(silver["slv_points_exch_d"]), KEY, "left")
         .join(_arrived(subs), KEY, "left"))
    return {"customers": k.withColumns({
        "exchanger_flag": F.when(F.col("ex") == 1, "1").otherwise("0"),
        "exch_points": F.coalesce("exch_points", F.lit(0)),
        "a_m": F.coalesce("a_m", F.lit(0)), "a_prev": F.coalesce("a_prev", F.lit(0))})}
