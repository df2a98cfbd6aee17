"""gld_package_user_m 套餐用户分析(月) (gold.md 3.2.9): users, revenue and complaints per offer."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_package_user_m"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """S = the subscriber snapshot; complaints keep their own (enriched) offer and segment values as their key."""
    return {"subscriber": silver["slv_subscriber_m"], "complaint": silver["slv_complaint_event_d"]}
