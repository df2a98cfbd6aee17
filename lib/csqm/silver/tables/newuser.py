"""slv_newuser_sms_callback_d 新入网用户短信回访清单 (silver.md §9): one row per SMS callback."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import E_DDL, Snapshots, enrich, flag, pii_block, to_ddl, with_ref_month, yyyymmdd

TABLE = "slv_newuser_sms_callback_d"
KEY = ("callback_id",)
PARTITION = "day_id"
DDL = (
    "callback_id STRING, prod_inst_id STRING, open_date DATE, open_channel_id STRING, dev_staff_id STRING, "
    "plan_date DATE, send_time TIMESTAMP, send_status STRING, reply_time TIMESTAMP, reply_code STRING, "
    "follow_up_result STRING, "
    "real_name_flag TINYINT, is_sent TINYINT, is_replied TINYINT, is_valid_reply TINYINT, is_satisfied TINYINT, "
    "acc_nbr_hash STRING, acc_nbr_mask STRING, cert_nbr_hash STRING, cert_nbr_mask STRING, "
    f"{E_DDL}, "
    "day_id STRING, _batch_id STRING"
)

_OWN_E = ("cust_id", "city_code", "product_line", "offer_id")
_VALID_REPLIES = ("1", "2", "3", "4")


def _derive(cur: DataFrame) -> DataFrame:
    """Send / reply flags of §9; reply_text (free text, may hold personal data) is dropped first (bronze only)."""
    sent = F.col("send_status") == "OK"
    replied = sent & F.col("reply_code").isNotNull()
    return (cur.drop("reply_text")
            .withColumn("is_sent", flag(sent))
            .withColumn("is_replied", flag(replied))
            .withColumn("is_valid_reply", flag(replied & F.col("reply_code").isin(*_VALID_REPLIES)))
            .withColumn("is_satisfied", flag(F.col("reply_code") == "1"))
            .withColumn("day_id", yyyymmdd("plan_date")))


def build(*, cur: DataFrame, subscribers: Snapshots, salt: str) -> DataFrame:
    """Current SMS_CALLBACK rows with reply flags, P on acc_nbr and cert_nbr, E from the previous month-end snapshot."""
    out = pii_block(_derive(cur), "acc_nbr", salt=salt)
    out = pii_block(out, "cert_nbr", prefix="cert_nbr", salt=salt).transform(with_ref_month, "plan_date")
    out = enrich(out, subscribers, _OWN_E)
    return to_ddl(out, DDL)
