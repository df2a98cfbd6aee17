"""gld_install_move_d 客户装移服务分析(日) (gold.md 3.2.3): NEW and MOVE orders, their outcomes and backlog."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TABLE = "gld_install_move_d"


def leave_time(completed: str, complete_time: str, cancelled: str, cancel_time: str, start: str):
    """When an order stops being open: completion, or cancellation (at once if its cancel time is unknown)."""
    return F.least(F.when(F.col(completed) == 1, F.col(complete_time)),
                   F.when(F.col(cancelled) == 1, F.coalesce(F.col(cancel_time), F.col(start))))


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """O = orders of type NEW or MOVE, with the time each leaves the backlog."""
    o = silver["slv_provision_order_d"].where(F.col("order_type").isin("NEW", "MOVE"))
    return {"order": o.withColumn("leave_time", leave_time("is_completed", "complete_time", "is_cancelled",
                                                           "cancel_time", "accept_time"))}
