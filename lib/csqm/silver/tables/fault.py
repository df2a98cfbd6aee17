"""slv_fault_event_d 客户障碍受理事件宽表 (silver.md §1): one row per fault_id, enriched, repair limits,
24 h / 30 day repeats."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    earlier_within,
    enrich,
    exists_other_in_range,
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

TABLE = "slv_fault_event_d"
KEY = ("fault_id",)
PARTITION = "day_id"
E_OWN = ("city_code", "county_code", "urban_rural", "product_line")
DUP_WINDOW_SEC = 24 * 3600
REPEAT_WINDOW_SEC = 720 * 3600
DDL = (
    # key + copied
    "fault_id STRING, prod_inst_id STRING, accept_time TIMESTAMP, accept_channel STRING, fault_phen_l1 STRING, "
    "dispatch_time TIMESTAMP, appoint_time TIMESTAMP, arrive_time TIMESTAMP, close_time TIMESTAMP, "
    "fault_cause_l1 STRING, ticket_status STRING, maint_team_id STRING, callback_result STRING, "
    "callback_time TIMESTAMP, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    # E block
    f"{E_DDL}, "
    # derived
    "close_day_id STRING, suspend_sec BIGINT, is_valid TINYINT, is_closed TINYINT, net_repair_sec BIGINT, "
    "net_repair_hours DECIMAL(10,2), time_limit_hours DECIMAL(10,2), is_timely TINYINT, "
    "reg_limit_hours DECIMAL(10,2), is_reg_overdue TINYINT, is_user_cause TINYINT, is_dup_24h TINYINT, "
    "is_repeat_30d TINYINT, prev_fault_id STRING, to_complaint_flag TINYINT, "
    "day_id STRING, _batch_id STRING"
)


def _status(df: DataFrame) -> DataFrame:
    """Validity, closure and the net repair duration of closed tickets (suspension excluded, clipped at 0)."""
    closed = (F.col("ticket_status") == "CLOSED") & F.col("close_time").isNotNull()
    net = F.when(closed, net_seconds("close_time", "accept_time", "suspend_sec"))
    return df.withColumns({
        "day_id": yyyymmdd("accept_time"),
        "close_day_id": F.when(closed, yyyymmdd("close_time")),
        "suspend_sec": F.coalesce(F.col("suspend_sec"), F.lit(0).cast("bigint")),
        "is_valid": flag(~F.col("ticket_status").isin("CANCELLED", "TEST")),
        "is_closed": flag(closed),
        "net_repair_sec": net,
        "net_repair_hours": hours(net),
        "is_user_cause": flag(F.col("fault_cause_l1").isin("USER", "TERM")),
    })


def _limits(df: DataFrame, thresholds: DataFrame) -> DataFrame:
    """Repair limit and regulatory limit by the ENRICHED product_line / urban_rural on the accept date; closed only."""
    df = (df.transform(lookup_threshold, thresholds, "FAULT_REPAIR", out_limit="time_limit_hours",
                       date_col="accept_time", product_line="product_line", urban_rural="urban_rural")
          .transform(lookup_threshold, thresholds, "FAULT_REPAIR_REG", out_limit="reg_limit_hours",
                     date_col="accept_time", product_line="product_line", urban_rural="urban_rural"))
    closed = F.col("is_closed") == 1
    return df.withColumns({
        "is_timely": F.when(closed & F.col("time_limit_hours").isNotNull(),
                            within_limit("net_repair_sec", "time_limit_hours")),
        # overdue = over the regulatory limit, i.e. not within it (NULL stays NULL)
        "is_reg_overdue": F.when(closed & F.col("reg_limit_hours").isNotNull(),
                                 F.lit(1) - within_limit("net_repair_sec", "reg_limit_hours")),
    })


def _repeats(df: DataFrame) -> DataFrame:
    """24 h duplicate among valid faults of the number, then the 30-day repeat over earlier closed non-duplicates."""
    valid = F.col("is_valid") == 1
    df = earlier_within(df, "acc_nbr_hash", "accept_time", "fault_id", DUP_WINDOW_SEC, "is_dup_24h", valid,
                        applies=valid)
    g = valid & (F.col("is_dup_24h") == 0) & (F.col("is_closed") == 1)
    return exists_other_in_range(df, "acc_nbr_hash", "fault_id", "accept_time", "close_time", REPEAT_WINDOW_SEC,
                                 "is_repeat_30d", g, "fault_id", "prev_fault_id", applies=valid)


def _to_complaint(df: DataFrame, complaints: DataFrame) -> DataFrame:
    """1 when a valid CMPL sheet names this fault as its related fault, else 0."""
    hit = (complaints.where((F.col("is_valid") == 1) & (F.col("sheet_type") == "CMPL")
                            & F.col("related_fault_id").isNotNull())
           .select(F.col("related_fault_id").alias("__tc_id")).distinct())
    return (df.join(hit, F.col("fault_id") == F.col("__tc_id"), how="left")
            .withColumn("to_complaint_flag", flag(F.col("__tc_id").isNotNull()))
            .drop("__tc_id"))


def build(*, cur: DataFrame, subscribers: Snapshots, thresholds: DataFrame, complaints: DataFrame,
          salt: str) -> DataFrame:
    """Fault tickets from the current state of brz_flt_ticket, enriched, with limits, repeats and the complaint link."""
    out = (cur.transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .transform(with_ref_month, "accept_time")
           .transform(enrich, subscribers, E_OWN)
           .transform(_status)
           .transform(_limits, thresholds)
           .transform(_repeats)
           .transform(_to_complaint, complaints))
    return to_ddl(out, DDL)
