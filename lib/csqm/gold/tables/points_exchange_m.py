"""gld_points_exchange_m 积分兑换分析(月) (gold.md 3.2.16): exchange orders by channel and gift category."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_points_exchange_m"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """X = the exchange orders as they are (month_id = order month, city_code as sent); the channel share's group
    total is a lookup over the same population."""
    return {"exch": silver["slv_points_exch_d"]}
