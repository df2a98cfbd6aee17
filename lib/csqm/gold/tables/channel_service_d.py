"""gld_channel_service_d 渠道服务分析(日) (gold.md 3.2.5): contacts of every channel and their shares of the city."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_channel_service_d"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """C = every contact; the group totals of the shares are looked up over the same population."""
    return {"contact": silver["slv_contact_event_d"]}
