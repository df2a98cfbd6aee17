"""slv_newuser_sms_callback_d 新入网用户短信回访清单 (silver.md §9): one row per SMS callback."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from csqm.silver.common import enrich, pii_block, with_ref_month, yyyymmdd

TABLE = "slv_newuser_sms_callback_d"
KEY = ("callback_id",)
PARTITION = "day_id"
DDL = (
    "callback_id STRING, prod_inst_id STRING, open_date DATE, open_channel_id STRING, dev_staff_id STRING, "
    "plan_date DATE, send_time TIMESTAMP, send_status STRING, reply_time TIMESTAMP, reply_code STRING, "
    "follow_up_result STRING, "
    "real_name_flag TINYINT, is_sent TINYINT, is_replied TINYINT, is_valid_reply TINYINT, is_satisfied TINYINT, "
    "acc_nbr_hash STRING, acc_nbr_mask STRING, cert_nbr_hash STRING, cert_nbr_mask STRING, "
    "ref_month_id STRING, cust_id STRING, city_code STRING, county_code STRING, urban_rural STRING, "
    "product_line STRING, cust_segment STRING, cust_segment_l2 STRING, vip_level STRING, pay_type STRING, "
    "offer_id STRING, offer_type STRING, tenure_months BIGINT, "
    "day_id STRING, _batch_id STRING"
)

_OWN_E = ("cust_id", "city_code", "product_line", "offer_id")
_VALID_REPLIES = ("1", "2", "3", "4")


def _flag(cond: Column) -> Column:
    """A 0/1 TINYINT flag of a predicate; a NULL predicate (unknown input) counts as not met."""
    return F.when(cond, F.lit(1)).otherwise(F.lit(0)).cast("tinyint")


def _derive(cur: DataFrame) -> DataFrame:
    """Send / reply flags of §9; reply_text (free text, may hold personal data) is dropped first (bronze only)."""
    sent = F.col("send_status") == "OK"
    replied = sent & F.col("reply_code").isNotNull()
    return (cur.drop("reply_text")
            .withColumn("is_sent", _flag(sent))
            .withColumn("is_replied", _flag(replied))
            .withColumn("is_valid_reply", _flag(replied & F.col("reply_code").isin(*_VALID_REPLIES)))
            .withColumn("is_satisfied", _flag(F.col("reply_code") == "1"))
            .withColumn("day_id", yyyymmdd("plan_date")))


def build(*, cur: DataFrame, subscribers: DataFrame, salt: str) -> DataFrame:
    """Current SMS_CALLBACK rows with reply flags, P on acc_nbr and cert_nbr, E from the previous month-end snapshot."""
    out = pii_block(_derive(cur), "acc_nbr", salt=salt)
    out = pii_block(out, "cert_nbr", prefix="cert_nbr", salt=salt).transform(with_ref_month, "plan_date")
    out = enrich(out, subscribers, _OWN_E)
    return out.select(*[F.col(f.name).cast(f.dataType) for f in T.StructType.fromDDL(DDL).fields])
