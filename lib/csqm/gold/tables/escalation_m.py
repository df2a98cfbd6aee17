"""gld_escalation_m 越级申诉/越级投诉分析(月) (gold.md): counted appeals and escalations in one population Q."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

TABLE = "gld_escalation_m"
Q_COLS = ("month_id", "city_code", "product_line", "esc_kind", "esc_cat", "is_timely_reply", "is_responsible",
          "had_local_complaint", "amount")


def _q(df: DataFrame, kind: str, cat: str, amount: str) -> DataFrame:
    """One side of Q: counted rows of the month, with their kind, category and money in common names."""
    return (df.where(F.col("is_counted") == 1)
            .withColumns({"esc_kind": F.lit(kind), "esc_cat": F.col(cat), "amount": F.col(amount)})
            .select(*Q_COLS))


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """Q = counted appeals (category appeal_cat_l1) ∪ counted escalations (category escal_level); user base and valid
    complaints for the looked-up denominators."""
    q = _q(silver["slv_appeal_event_m"], "APPEAL", "appeal_cat_l1", "compensation_amount").unionByName(
        _q(silver["slv_escalation_event_m"], "ESCAL", "escal_level", "refund_amount"))
    return {"q": q, "subscriber": silver["slv_subscriber_m"], "complaint": silver["slv_complaint_event_d"]}
