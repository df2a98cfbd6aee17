"""gld_points_customer_m 积分客户分析(月) (gold.md 3.2.18): points customers, exchange penetration and dormancy."""
from __future__ import annotations

from collections.abc import Mapping

from csqm.gold.months import shift_month
from csqm.gold.tables.points_user_topic_m import KEY, customers, exchanges
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TABLE = "gld_points_customer_m"
DORMANT_MONTHS = 12     # M and the 11 months before it: [first day of M − 11 months, B(M))


def _exchanged_within(exch: DataFrame) -> DataFrame:
    """(month M, customer) pairs with a successful exchange ordered in M or one of the 11 months before it."""
    months = exch.where(F.col("is_success") == 1).select(*KEY).distinct()
    covered = months.withColumn("_n", F.explode(F.sequence(F.lit(0), F.lit(DORMANT_MONTHS - 1))))
    return (covered.select(shift_month("month_id", F.col("_n")).alias("month_id"), "cust_id").distinct()
            .withColumn("ex_12m", F.lit(1)))


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """customers = K with cust_segment = cust_seg_code, ex = EX(c) and ex_12m (a success in the last 12 months)."""
    exch = silver["slv_points_exch_d"]
    k = (customers(silver["slv_points_balance_m"]).join(exchanges(exch).select(*KEY, "ex"), KEY, "left")
         .join(_exchanged_within(exch), KEY, "left"))
    return {"customers": k.withColumns({"ex": F.coalesce("ex", F.lit(0)), "ex_12m": F.coalesce("ex_12m", F.lit(0))})}
