"""slv_provision_order_d 客户服务开通事件宽表 (silver.md §5): one row per order_id, enriched, limits, step counts."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    batch_order,
    enrich,
    fen_to_yuan,
    flag,
    hours,
    lookup_threshold,
    net_seconds,
    pii_block,
    to_ddl,
    with_ref_month,
    within_limit,
    yyyymmdd,
)

TABLE = "slv_provision_order_d"
KEY = ("order_id",)
PARTITION = "day_id"
E_OWN = ("cust_id", "city_code", "county_code", "urban_rural", "product_line", "offer_id")
DDL = (
    # key + copied
    "order_id STRING, cust_order_id STRING, order_type STRING, prod_inst_id STRING, accept_time TIMESTAMP, "
    "accept_channel STRING, appoint_time TIMESTAMP, arrive_time TIMESTAMP, complete_time TIMESTAMP, "
    "cancel_time TIMESTAMP, order_status STRING, install_team_id STRING, callback_result STRING, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # E block
    f"{E_DDL}, "
    # derived
    "complete_day_id STRING, access_type STRING, suspend_sec BIGINT, is_completed TINYINT, is_cancelled TINYINT, "
    "end_time TIMESTAMP, net_sec BIGINT, net_hours DECIMAL(10,2), time_limit_hours DECIMAL(10,2), "
    "is_timely TINYINT, is_appoint_on_time TINYINT, install_fee DECIMAL(18,2), step_cnt INT, return_cnt INT, "
    "day_id STRING, _batch_id STRING"
)


def _steps(df: DataFrame, steps_cur: DataFrame) -> DataFrame:
    """Step and return counts of the order's current-state SP_STEP rows, and the most recent batch
    over order + steps (on equal data date and seq the order's own batch wins)."""
    per_order = (steps_cur.groupBy(F.col("order_id").alias("__st_id"))
                 .agg(F.count(F.lit(1)).alias("__st_cnt"), F.sum("return_flag").alias("__st_ret"),
                      F.max(batch_order("_batch_id", 0)).alias("__st_batch")))
    latest = F.greatest(batch_order("_batch_id", 1), F.col("__st_batch"))
    return (df.join(per_order, F.col("order_id") == F.col("__st_id"), how="left")
            .withColumns({"step_cnt": F.coalesce(F.col("__st_cnt"), F.lit(0)).cast("int"),
                          "return_cnt": F.coalesce(F.col("__st_ret"), F.lit(0)).cast("int"),
                          "_batch_id": latest["b"]})
            .drop("__st_id", "__st_cnt", "__st_ret", "__st_batch"))


def _status(df: DataFrame) -> DataFrame:
    """Completion / cancellation, the backlog end time, the net install duration and the appointment check."""
    completed = (F.col("order_status") == "COMPLETED") & F.col("complete_time").isNotNull()
    cancelled = F.col("order_status") == "CANCELLED"
    net = F.when(completed, net_seconds("complete_time", "accept_time", "suspend_sec"))
    both = F.col("appoint_time").isNotNull() & F.col("arrive_time").isNotNull()
    return df.withColumns({
        "day_id": yyyymmdd("accept_time"),
        "complete_day_id": F.when(completed, yyyymmdd("complete_time")),
        "access_type": F.coalesce(F.col("access_type"), F.lit("OTH")),
        "suspend_sec": F.coalesce(F.col("suspend_sec"), F.lit(0).cast("bigint")),
        "is_completed": flag(completed),
        "is_cancelled": flag(cancelled),
        "end_time": F.when(completed, F.col("complete_time")).when(cancelled, F.col("cancel_time")),
        "net_sec": net,
        "net_hours": hours(net),
        "is_appoint_on_time": F.when(both, (F.col("arrive_time") <= F.col("appoint_time")).cast("tinyint")),
        "install_fee": fen_to_yuan("install_fee_fen"),
    })


def _limits(df: DataFrame, thresholds: DataFrame) -> DataFrame:
    """Completion limit by ENRICHED product_line / urban_rural and the order type on the accept date; completed only."""
    df = df.transform(lookup_threshold, thresholds, "ORDER_COMPLETE", out_limit="time_limit_hours",
                      date_col="accept_time", product_line="product_line", order_type="order_type",
                      urban_rural="urban_rural")
    ok = (F.col("is_completed") == 1) & F.col("time_limit_hours").isNotNull()
    return df.withColumn("is_timely", F.when(ok, within_limit("net_sec", "time_limit_hours")))


def build(*, cur: DataFrame, steps_cur: DataFrame, subscribers: Snapshots, thresholds: DataFrame,
          salt: str) -> DataFrame:
    """Orders from the current state of brz_sp_order (+ current brz_sp_step rows), enriched, with limits and counts."""
    out = (cur.transform(_steps, steps_cur)
           .transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .transform(with_ref_month, "accept_time")
           .transform(enrich, subscribers, E_OWN)
           .transform(_status)
           .transform(_limits, thresholds))
    return to_ddl(out, DDL)
