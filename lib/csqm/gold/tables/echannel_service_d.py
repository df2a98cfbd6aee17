"""gld_echannel_service_d 电子渠道服务分析(日) (gold.md 3.2.6): e-channel visits, sessions, users and transactions."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_echannel_service_d"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """L = every e-channel log row."""
    return {"echannel": silver["slv_echannel_contact_d"]}
