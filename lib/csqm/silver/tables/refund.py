"""slv_refund_event_d 退赔事件明细 (silver.md §10): one row per adj_id, enriched, decision timeliness derived."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    enrich,
    fen_to_yuan,
    lookup_threshold,
    pii_block,
    seconds_between,
    to_ddl,
    with_ref_month,
    within_limit,
    yyyymmdd,
)

TABLE = "slv_refund_event_d"
KEY = ("adj_id",)
PARTITION = "day_id"
E_OWN = ("cust_id", "city_code", "product_line")
DDL = (
    # key + copied
    "adj_id STRING, acct_id STRING, refund_type STRING, reason_l1 STRING, apply_time TIMESTAMP, approve_level STRING, "
    "decide_time TIMESTAMP, adj_status STRING, related_id STRING, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # E block
    f"{E_DDL}, "
    # derived
    "decide_day_id STRING, amount DECIMAL(18,2), related_type STRING, is_decided TINYINT, decide_sec BIGINT, "
    "decide_limit_hours DECIMAL(10,2), is_timely_decide TINYINT, refund_subject STRING, "
    "day_id STRING, _batch_id STRING"
)


def _decision(df: DataFrame) -> DataFrame:
    """Decided = approved/rejected with a decide time; only then a (possibly negative) decide duration."""
    decided = F.col("adj_status").isin("APPROVED", "REJECTED") & F.col("decide_time").isNotNull()
    return df.withColumns({
        "is_decided": decided.cast("tinyint"),
        "decide_sec": F.when(decided, seconds_between("decide_time", "apply_time")),
        "decide_day_id": F.when(decided, yyyymmdd("decide_time")),
    })


def _timeliness(df: DataFrame) -> DataFrame:
    """is_timely_decide exists only for decided rows whose limit is known."""
    ok = (F.col("is_decided") == 1) & F.col("decide_limit_hours").isNotNull()
    return df.withColumn("is_timely_decide", F.when(ok, within_limit("decide_sec", "decide_limit_hours")))


def _values(df: DataFrame) -> DataFrame:
    """Money, related type member NONE, the distinct-count subject and the business date."""
    return df.withColumns({
        "amount": fen_to_yuan("amount_fen"),
        "related_type": F.coalesce(F.col("related_type"), F.lit("NONE")),
        "refund_subject": F.coalesce(F.col("cust_id"), F.col("acc_nbr_hash")),
        "day_id": yyyymmdd("apply_time"),
    })


def build(*, cur: DataFrame, subscribers: Snapshots, thresholds: DataFrame, salt: str) -> DataFrame:
    """Refund events from the current state of brz_bill_adj, enriched from the previous month-end snapshot."""
    out = (cur.transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .transform(with_ref_month, "apply_time")
           .transform(enrich, subscribers, E_OWN)
           .transform(lookup_threshold, thresholds, "REFUND_DECIDE", out_limit="decide_limit_hours",
                      date_col="apply_time", product_line="product_line")
           .transform(_decision)
           .transform(_timeliness)
           .transform(_values))
    return to_ddl(out, DDL)
