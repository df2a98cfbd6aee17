"""slv_appeal_event_m 客户越级申诉事件宽表 (silver.md §3): the bureau appeals of month M, enriched, bulletin-counted.

Also home of the had_local_complaint rule, which slv_escalation_event_m (§4) applies with receive_time."""
from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    enrich,
    fen_to_yuan,
    flag,
    pii_block,
    prev_month_id,
    seconds_between,
    to_ddl,
)

TABLE = "slv_appeal_event_m"
KEY = ("month_id", "appeal_id")
PARTITION = "month_id"
E_OWN = ("city_code", "product_line")
LOCAL_COMPLAINT_WINDOW_SEC = 720 * 3600
DDL = (
    # key (month_id is the partition column, placed last) + copied
    "appeal_id STRING, appeal_org STRING, appeal_way STRING, bureau_receive_time TIMESTAMP, "
    "transfer_time TIMESTAMP, appeal_cat_l1 STRING, appeal_cat_l2 STRING, local_sheet_id STRING, "
    "reply_deadline TIMESTAMP, reply_time TIMESTAMP, result_code STRING, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # E block
    f"{E_DDL}, "
    # derived
    "src_counted_flag TINYINT, is_counted TINYINT, is_responsible TINYINT, reply_sec BIGINT, "
    "is_timely_reply TINYINT, compensation_amount DECIMAL(18,2), is_customer_satisfied TINYINT, "
    "had_local_complaint TINYINT, "
    "month_id STRING, _batch_id STRING"
)


def with_had_local_complaint(df: DataFrame, complaints: DataFrame, time_col: str, key: Sequence[str],
                             out: str = "had_local_complaint") -> DataFrame:
    """out = 1 iff local_sheet_id is a valid CMPL sheet, or a valid CMPL of the same number was accepted in
    [time_col − 720 h, time_col); else 0 (silver.md §3, and §4 with receive_time). One place for both tables."""
    key = list(key)
    cmpl = complaints.where((F.col("is_valid") == 1) & (F.col("sheet_type") == "CMPL"))
    ev = df.select(*key, "local_sheet_id", "acc_nbr_hash", F.col(time_col).alias("__lc_t"))
    sheets = cmpl.select(F.col("sheet_id").alias("__lc_sid")).distinct()
    by_sheet = ev.join(sheets, F.col("local_sheet_id") == F.col("__lc_sid"), how="inner").select(*key)
    nbrs = cmpl.where(F.col("acc_nbr_hash").isNotNull()).select(F.col("acc_nbr_hash").alias("__lc_h"),
                                                                 F.col("accept_time").alias("__lc_a"))
    gap = seconds_between("__lc_t", "__lc_a")  # accept in [t − N, t)  <=>  0 < t − accept <= N
    by_nbr = ev.join(nbrs, (F.col("acc_nbr_hash") == F.col("__lc_h")) & (gap > 0)
                     & (gap <= F.lit(LOCAL_COMPLAINT_WINDOW_SEC)), how="inner").select(*key)
    hits = by_sheet.unionByName(by_nbr).distinct().withColumn("__lc_hit", F.lit(1))
    return (df.join(hits, on=key, how="left")
            .withColumn(out, F.coalesce(F.col("__lc_hit"), F.lit(0)).cast("tinyint"))
            .drop("__lc_hit"))


def _counted(df: DataFrame, bulletin: DataFrame) -> DataFrame:
    """is_counted: the bureau bulletin's list when the month has one (listed → 1, else 0), else the source flag."""
    months = bulletin.select(F.col("month_id").alias("__b_m")).distinct()
    listed = bulletin.select(F.col("month_id").alias("__bl_m"), F.col("appeal_id").alias("__bl_id")).distinct()
    in_list = flag(F.col("__bl_id").isNotNull())
    return (df.join(months, F.col("month_id") == F.col("__b_m"), how="left")
            .join(listed, (F.col("month_id") == F.col("__bl_m")) & (F.col("appeal_id") == F.col("__bl_id")),
                  how="left")
            .withColumns({"src_counted_flag": F.col("counted_flag"),
                          "is_counted": F.when(F.col("__b_m").isNotNull(), in_list).otherwise(F.col("counted_flag"))})
            .drop("__b_m", "__bl_m", "__bl_id"))


def _derive(df: DataFrame) -> DataFrame:
    """Reply duration and timeliness against the bureau deadline, compensation in yuan, copied flags."""
    return df.withColumns({
        "is_responsible": F.col("resp_flag"),
        "reply_sec": seconds_between("reply_time", "transfer_time"),
        "is_timely_reply": flag(F.col("reply_time") <= F.col("reply_deadline")),
        "compensation_amount": fen_to_yuan(F.coalesce(F.col("comp_amt_fen"), F.lit(0))),
        "is_customer_satisfied": F.col("satisfied_flag"),
    })


def build(*, cur: DataFrame, bulletin: DataFrame, complaints: DataFrame, subscribers: Snapshots,
          salt: str) -> DataFrame:
    """Appeals of one month from brz_appeal, enriched from prev(M), counted per the bulletin, linked to complaints."""
    out = (cur.transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .withColumn("ref_month_id", prev_month_id("month_id"))
           .transform(enrich, subscribers, E_OWN)
           .transform(_counted, bulletin)
           .transform(_derive)
           .transform(with_had_local_complaint, complaints, "transfer_time", KEY))
    return to_ddl(out, DDL)
