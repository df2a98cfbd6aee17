"""gld_refund_d 退赔分析(日) (gold.md 3.2.2): refund decisions on their decide day."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_refund_d"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """The silver refunds as they are: every grain column is already a non-NULL silver column."""
    return {"refund": silver["slv_refund_event_d"]}
