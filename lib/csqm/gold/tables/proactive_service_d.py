"""gld_proactive_service_d 主动服务分析(日) (gold.md 3.2.8): outbound tasks (T) and new-user SMS callbacks (N) as one
population, so that every metric is one filter over it."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_proactive_service_d"
GRAIN = ("day_id", "city_code", "product_line", "proactive_type", "task_scene", "ob_channel")


def _flag(c: Column) -> Column:
    return F.when(c, F.lit(1)).otherwise(F.lit(0)).cast("tinyint")


def _tasks(t: DataFrame) -> DataFrame:
    """T = tasks not cancelled; executed = is_executed, reached = is_reached."""
    t = t.where(F.col("is_cancelled") == 0).withColumnRenamed("task_type", "proactive_type")
    return t.select(*GRAIN, F.lit("T").alias("pop"), _flag(F.col("is_executed") == 1).alias("is_exec"),
                    _flag(F.col("is_reached") == 1).alias("is_reach"), "is_reached", "result_code", "is_cb_timely",
                    "cmpl_within_7d")


def _newusers(n: DataFrame) -> DataFrame:
    """N = every SMS callback as a CALLBACK / NEWUSER / SMS task; executed = sent at all, reached = sent OK."""
    sent = F.col("send_time").isNotNull()
    return n.select("day_id", "city_code", "product_line", F.lit("CALLBACK").alias("proactive_type"),
                    F.lit("NEWUSER").alias("task_scene"), F.lit("SMS").alias("ob_channel"), F.lit("N").alias("pop"),
                    _flag(sent).alias("is_exec"), _flag(sent & (F.col("is_sent") == 1)).alias("is_reach"),
                    "is_sent", "is_replied", "is_valid_reply", "reply_code")


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """T ∪ N with pop = T/N and the per-row is_exec / is_reach flags of PRO_EXEC and PRO_REACH."""
    t, n = _tasks(silver["slv_proactive_task_d"]), _newusers(silver["slv_newuser_sms_callback_d"])
    return {"proactive": t.unionByName(n, allowMissingColumns=True)}
