"""gld_provision_step_m 开通工单环节历史分析(月) (gold.md 3.2.11): steps entered, completed and open at month end."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

TABLE = "gld_provision_step_m"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """P = every step row; its order attributes (or the no-order members) are already on the silver row."""
    return {"step": silver["slv_provision_step_d"]}
