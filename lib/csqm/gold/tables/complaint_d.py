"""gld_complaint_d 投诉分析(日) (gold.md 3.2.1): complaints and consultations by accept channel."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_complaint_d"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """channel_type = accept_channel; the user base is the subscriber snapshot."""
    return {"complaint": silver["slv_complaint_event_d"].withColumnRenamed("accept_channel", "channel_type"),
            "subscriber": silver["slv_subscriber_m"]}
