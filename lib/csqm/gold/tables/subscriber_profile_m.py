"""gld_subscriber_profile_m 用户档案类数据汇总(月) (gold.md 3.2.10): the month-end user base, the only published
source of user-base denominators (README §6)."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_subscriber_profile_m"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """S = the subscriber snapshot rows; every grain column is a copied, non-NULL snapshot value."""
    return {"subscriber": silver["slv_subscriber_m"]}
