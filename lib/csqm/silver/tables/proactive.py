"""slv_proactive_task_d 主动服务任务明细 (silver.md §11): one row per outbound task, with callback timeliness and
complaints that followed the service."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    enrich,
    flag,
    lookup_threshold,
    pii_block,
    seconds_between,
    to_ddl,
    with_ref_month,
    within_limit,
    yyyymmdd,
)

TABLE = "slv_proactive_task_d"
KEY = ("task_id",)
PARTITION = "day_id"
DDL = (
    "task_id STRING, task_type STRING, task_scene STRING, ob_channel STRING, prod_inst_id STRING, plan_date DATE, "
    "trigger_ref_id STRING, trigger_time TIMESTAMP, exec_time TIMESTAMP, result_code STRING, task_status STRING, "
    "is_cancelled TINYINT, is_executed TINYINT, is_reached TINYINT, cb_sec BIGINT, cb_limit_hours DECIMAL(10,2), "
    "is_cb_timely TINYINT, cmpl_within_7d TINYINT, "
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    f"{E_DDL}, "
    "day_id STRING, _batch_id STRING"
)

_OWN_E = ("city_code", "product_line")
_CMPL_WINDOW_SEC = 168 * 3600


def _is_callback() -> Column:
    """cb_sec and cb_limit_hours exist only for CALLBACK tasks."""
    return F.col("task_type") == "CALLBACK"


def _derive(cur: DataFrame) -> DataFrame:
    """Status flags and the callback interval of §11 (a plain difference: negative kept, silver.md §0.1)."""
    executed = F.col("exec_time").isNotNull()
    return (cur.withColumn("is_cancelled", flag(F.col("task_status") == "CANCELLED"))
            .withColumn("is_executed", flag(executed))
            .withColumn("is_reached", flag(executed & (F.col("reach_flag") == 1)))
            .withColumn("cb_sec", F.when(_is_callback(), seconds_between("exec_time", "trigger_time")))
            .withColumn("day_id", yyyymmdd("plan_date")))


def _callback_limit(df: DataFrame, thresholds: DataFrame) -> DataFrame:
    """cb_limit_hours = L(CALLBACK, enriched product_line, –, –, –, plan_date) for CALLBACK; timely on exact seconds."""
    out = lookup_threshold(df, thresholds, "CALLBACK", out_limit="cb_limit_hours", date_col="plan_date",
                           product_line="product_line")
    limit = F.when(_is_callback(), F.col("cb_limit_hours"))
    timely = F.when(F.col("cb_sec").isNotNull() & limit.isNotNull(), within_limit("cb_sec", limit))
    return out.withColumn("cb_limit_hours", limit).withColumn("is_cb_timely", timely)


def _cmpl_within_7d(tasks: DataFrame, complaints: DataFrame) -> DataFrame:
    """1 iff a valid CMPL of the same number was accepted in (exec_time, exec_time + 168 h]; reached + numbered only."""
    applies = (F.col("is_reached") == 1) & F.col("acc_nbr_hash").isNotNull()
    probe = tasks.where(applies).select(F.col("task_id").alias("__t_id"), F.col("acc_nbr_hash").alias("__t_h"),
                                        F.col("exec_time").alias("__t_exec"))
    cmpl = (complaints.where((F.col("is_valid") == 1) & (F.col("sheet_type") == "CMPL"))
            .select(F.col("acc_nbr_hash").alias("__c_h"), F.col("accept_time").alias("__c_t")))
    after = seconds_between("__c_t", "__t_exec")
    hits = (probe.join(cmpl, (F.col("__t_h") == F.col("__c_h")) & (after > 0) & (after <= _CMPL_WINDOW_SEC),
                       how="inner")
            .groupBy("__t_id").agg(F.max(F.lit(1)).alias("__hit")))
    return (tasks.join(hits, F.col("task_id") == F.col("__t_id"), how="left")
            .withColumn("cmpl_within_7d", F.when(applies, F.coalesce(F.col("__hit"), F.lit(0))))
            .drop("__t_id", "__hit"))


def build(*, cur: DataFrame, subscribers: Snapshots, thresholds: DataFrame, complaints: DataFrame,
          salt: str) -> DataFrame:
    """Current OB_TASK rows with P, E (own city_code, product_line), the CALLBACK limit and the 7-day complaint flag."""
    out = pii_block(_derive(cur), "acc_nbr", salt=salt).transform(with_ref_month, "plan_date")
    # the flag joins the tasks back to their own probe: before enrichment, or the plan joins the snapshot twice
    out = _cmpl_within_7d(out, complaints)
    out = enrich(out, subscribers, _OWN_E)
    return to_ddl(_callback_limit(out, thresholds), DDL)
