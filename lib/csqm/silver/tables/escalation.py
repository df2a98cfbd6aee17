"""slv_escalation_event_m 客户越级投诉事件宽表 (silver.md §4): the escalations received in month M, enriched."""
from __future__ import annotations

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
from csqm.silver.tables.appeal import with_had_local_complaint

TABLE = "slv_escalation_event_m"
KEY = ("month_id", "escal_id")
PARTITION = "month_id"
E_OWN = ("city_code", "product_line")
DDL = (
    # key (month_id is the partition column, placed last) + copied
    "escal_id STRING, escal_level STRING, source_org STRING, source_ref_no STRING, receive_time TIMESTAMP, "
    "cmpl_phen_l1 STRING, local_sheet_id STRING, reply_deadline TIMESTAMP, reply_time TIMESTAMP, "
    "result_code STRING, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # E block
    f"{E_DDL}, "
    # derived
    "is_counted TINYINT, is_responsible TINYINT, reply_sec BIGINT, is_timely_reply TINYINT, "
    "refund_amount DECIMAL(18,2), escalated_to_appeal TINYINT, had_local_complaint TINYINT, "
    "month_id STRING, _batch_id STRING"
)


def _derive(df: DataFrame) -> DataFrame:
    """Reply duration and timeliness against the upper level's deadline, refund in yuan, copied / defaulted flags."""
    return df.withColumns({
        "is_counted": F.col("counted_flag"),
        "is_responsible": F.col("resp_flag"),
        "reply_sec": seconds_between("reply_time", "receive_time"),
        "is_timely_reply": flag(F.col("reply_time") <= F.col("reply_deadline")),
        "refund_amount": fen_to_yuan(F.coalesce(F.col("refund_fen"), F.lit(0))),
        "escalated_to_appeal": F.coalesce(F.col("appeal_after_flag"), F.lit(0)).cast("tinyint"),
    })


def build(*, cur: DataFrame, complaints: DataFrame, subscribers: Snapshots, salt: str) -> DataFrame:
    """Escalations of one month from brz_escal, enriched from prev(M), linked to earlier local complaints."""
    out = (cur.transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .withColumn("ref_month_id", prev_month_id("month_id"))
           .transform(enrich, subscribers, E_OWN)
           .transform(_derive)
           .transform(with_had_local_complaint, complaints, "receive_time", KEY))
    return to_ddl(out, DDL)
