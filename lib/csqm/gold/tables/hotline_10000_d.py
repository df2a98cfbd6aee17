"""gld_hotline_10000_d 10000号服务分析(日) (gold.md 3.2.7): 10000 calls, agent service levels and satisfaction."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TABLE = "gld_hotline_10000_d"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """H = the HOTLINE contacts."""
    return {"hotline": silver["slv_contact_event_d"].where(F.col("channel_type") == "HOTLINE")}
