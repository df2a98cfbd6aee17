"""slv_complaint_event_d 客户投诉咨询事件宽表 (silver.md §2): one row per sheet_id, enriched, limits, repeats,
refunds."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    count_earlier_within,
    enrich,
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

TABLE = "slv_complaint_event_d"
KEY = ("sheet_id",)
PARTITION = "day_id"
E_OWN = ("cust_id", "city_code", "product_line")
REPEAT_WINDOW_SEC = 720 * 3600
DDL = (
    # key + copied
    "sheet_id STRING, sheet_type STRING, prod_inst_id STRING, accept_time TIMESTAMP, accept_channel STRING, "
    "accept_staff_id STRING, cmpl_phen_l1 STRING, cmpl_phen_l2 STRING, urgent_level STRING, dispatch_time TIMESTAMP, "
    "first_contact_time TIMESTAMP, finish_time TIMESTAMP, sheet_status STRING, callback_result STRING, "
    "related_fault_id STRING, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # E block
    f"{E_DDL}, "
    # derived
    "finish_day_id STRING, suspend_sec BIGINT, is_valid TINYINT, is_finished TINYINT, "
    "is_first_contact_solved TINYINT, net_proc_sec BIGINT, net_proc_hours DECIMAL(10,2), "
    "proc_limit_hours DECIMAL(10,2), is_timely_proc TINYINT, reply_limit_hours DECIMAL(10,2), "
    "reply_due_time TIMESTAMP, reply_due_day_id STRING, is_timely_reply TINYINT, is_responsible TINYINT, "
    "is_supervised TINYINT, is_repeat_30d TINYINT, repeat_cnt_30d INT, refund_flag TINYINT, "
    "refund_amount DECIMAL(18,2), "
    "day_id STRING, _batch_id STRING"
)


def _status(df: DataFrame) -> DataFrame:
    """Validity, finish and first-contact resolution, and the net processing duration of finished sheets."""
    finished = F.col("sheet_status").isin("FINISHED", "ARCHIVED") & F.col("finish_time").isNotNull()
    net = F.when(finished, net_seconds("finish_time", "accept_time", "suspend_sec"))
    return df.withColumns({
        "day_id": yyyymmdd("accept_time"),
        "suspend_sec": F.coalesce(F.col("suspend_sec"), F.lit(0).cast("bigint")),
        "is_valid": flag((F.col("valid_flag") == 1) & (F.col("sheet_status") != "CANCELLED")),
        "is_finished": finished.cast("tinyint"),
        "is_first_contact_solved": (finished & F.col("dispatch_time").isNull()).cast("tinyint"),
        "finish_day_id": F.when(finished, yyyymmdd("finish_time")),
        "net_proc_sec": net,
        "net_proc_hours": hours(net),
        "is_responsible": F.col("resp_flag"),
        "is_supervised": F.coalesce(F.col("supervise_flag"), F.lit(0).cast("tinyint")),
    })


def _limits(df: DataFrame, thresholds: DataFrame) -> DataFrame:
    """Processing and reply limits by the enriched product_line and the sheet's urgency, on the accept date."""
    return (df.transform(lookup_threshold, thresholds, "CMPL_PROC", out_limit="proc_limit_hours",
                         date_col="accept_time", product_line="product_line", urgent_level="urgent_level")
            .transform(lookup_threshold, thresholds, "CMPL_REPLY", out_limit="reply_limit_hours",
                       date_col="accept_time", product_line="product_line", urgent_level="urgent_level"))


def _timeliness(df: DataFrame) -> DataFrame:
    """Timely processing (finished sheets with a limit) and timely first reply (not for first-contact-solved sheets)."""
    proc_ok = (F.col("is_finished") == 1) & F.col("proc_limit_hours").isNotNull()
    limit_sec = (F.col("reply_limit_hours") * F.lit(3600)).cast("bigint")  # hundredths of an hour = whole 36 s
    due = F.timestamp_seconds(F.unix_seconds(F.col("accept_time")) + limit_sec)
    replied = flag(F.col("first_contact_time") <= F.col("reply_due_time"))
    reply_na = (F.col("is_first_contact_solved") == 1) | F.col("reply_due_time").isNull()
    return (df.withColumns({
        "is_timely_proc": F.when(proc_ok, within_limit("net_proc_sec", "proc_limit_hours")),
        "reply_due_time": due,
        "reply_due_day_id": yyyymmdd(due),
    }).withColumn("is_timely_reply", F.when(~reply_na, replied)))


def _repeats(df: DataFrame) -> DataFrame:
    """30-day repeat count over valid CMPL sheets of the same subject (number, else enriched customer)."""
    valid_cmpl = (F.col("is_valid") == 1) & (F.col("sheet_type") == "CMPL")
    subject = F.coalesce(F.col("acc_nbr_hash"), F.concat(F.lit("C:"), F.col("cust_id")))
    return (df.withColumn("__subject", subject)
            .transform(count_earlier_within, "__subject", "accept_time", "sheet_id", REPEAT_WINDOW_SEC,
                       "repeat_cnt_30d", valid_cmpl, applies=valid_cmpl, null_partition=0)
            .withColumn("is_repeat_30d", (F.col("repeat_cnt_30d") > 0).cast("tinyint"))
            .drop("__subject"))


def _refunds(df: DataFrame, refunds: DataFrame) -> DataFrame:
    """Approved refunds that name this sheet as their CMPL: a flag and the exact sum of their amounts."""
    per_sheet = (refunds.where((F.col("adj_status") == "APPROVED") & (F.col("related_type") == "CMPL"))
                 .groupBy(F.col("related_id").alias("__r_sheet"))
                 .agg(F.sum("amount").alias("__r_amount")))
    return (df.join(per_sheet, F.col("sheet_id") == F.col("__r_sheet"), how="left")
            .withColumns({"refund_flag": flag(F.col("__r_sheet").isNotNull()),
                          "refund_amount": F.coalesce(F.col("__r_amount"), F.lit(0))})
            .drop("__r_sheet", "__r_amount"))


def build(*, cur: DataFrame, subscribers: Snapshots, thresholds: DataFrame, refunds: DataFrame,
          salt: str) -> DataFrame:
    """Complaint/consult sheets from the current state of brz_cs_sheet, enriched, with limits, repeats and refunds."""
    out = (cur.transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .transform(with_ref_month, "accept_time")
           .transform(enrich, subscribers, E_OWN)
           .transform(_status)
           .transform(_limits, thresholds)
           .transform(_timeliness)
           .transform(_repeats)
           .transform(_refunds, refunds))
    return to_ddl(out, DDL)
