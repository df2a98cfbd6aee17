"""gld_fault_d 客户障碍分析(日) (gold.md 3.2.4): fault reports, repairs, the user-based report rate and the backlog."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TABLE = "gld_fault_d"


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """fault_cause_l1 NULL -> 'NA' (a grain column); a fault leaves the backlog at close_time once closed."""
    f = silver["slv_fault_event_d"]
    return {"fault": f.withColumns({
                "fault_cause_l1": F.coalesce(F.col("fault_cause_l1"), F.lit("NA")),
                "leave_time": F.when(F.col("is_closed") == 1, F.col("close_time"))}),
            "subscriber": silver["slv_subscriber_m"]}
