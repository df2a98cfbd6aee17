"""slv_echannel_contact_d 电子渠道服务接触事件宽表 (silver.md §8): one row per EC_LOG row."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import E_DDL, Snapshots, enrich, fen_to_yuan, flag, pii_block, to_ddl, with_ref_month, yyyymmdd

TABLE = "slv_echannel_contact_d"
KEY = ("elog_id",)
PARTITION = "day_id"
DDL = (
    "elog_id STRING, session_id STRING, channel_type STRING, visit_time TIMESTAMP, func_code STRING, "
    "func_cat STRING, fail_reason STRING, resp_ms BIGINT, rating STRING, client_os STRING, "
    "login_flag TINYINT, is_trans TINYINT, is_success TINYINT, pay_amount DECIMAL(18,2), is_online_cs TINYINT, "
    "cs_solved TINYINT, is_new_register TINYINT, "
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    f"{E_DDL}, "
    "day_id STRING, _batch_id STRING"
)

_OWN_E = ("city_code",)
_TRANS_CATS = ("TRANS", "PAY", "EXCH")


def _derive(cur: DataFrame) -> DataFrame:
    """Row flags and money of §8: transaction / online-CS classification, cs_solved only where it applies."""
    online_cs = F.col("func_cat") == "ONLINE_CS"
    return (cur.withColumn("is_trans", flag(F.col("func_cat").isin(*_TRANS_CATS)))
            .withColumn("is_success", F.col("result_flag"))
            .withColumn("pay_amount", fen_to_yuan("pay_amt_fen"))
            .withColumn("is_online_cs", flag(online_cs))
            .withColumn("cs_solved", F.when(online_cs, F.col("cs_solved_flag")))
            .withColumn("is_new_register", F.col("new_register_flag"))
            .withColumn("day_id", yyyymmdd("visit_time")))


def build(*, cur: DataFrame, subscribers: Snapshots, salt: str) -> DataFrame:
    """Current EC_LOG rows with derived flags, P on acc_nbr and E (own city_code) from the prev. month-end snapshot."""
    out = pii_block(_derive(cur), "acc_nbr", salt=salt).transform(with_ref_month, "visit_time")
    out = enrich(out, subscribers, _OWN_E)
    return to_ddl(out, DDL)
