"""gld_points_value_m 积分分值分析(月) (gold.md 3.2.17): the points ledger per city and points type, opening balance +
flows = closing balance, for months whose own and previous balance snapshots are both loaded."""
from __future__ import annotations

from collections.abc import Mapping

from csqm.gold.months import rekeyed, shift_month
from csqm.gold.tables.points_user_topic_m import KEY
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_points_value_m"


def _with_opening(balance: DataFrame) -> DataFrame:
    """Months M with balance rows of M and of prev(M): the first snapshot month has no opening balance."""
    present = balance.select("month_id").distinct()
    return present.join(present.select(shift_month("month_id", 1).alias("month_id")), "month_id")


def _ledger(kind: str, df: DataFrame, city: Column) -> DataFrame:
    """Rows of one ledger kind in the common columns; the amounts a source lacks are NULL."""
    amounts = {"txn_type": "string", "points": "bigint", "balance": "bigint", "base_amt": "decimal(18,2)"}
    return df.select("month_id", city.alias("city_code"), "points_type", F.lit(kind).alias("kind"),
                     *[F.col(c) if c in df.columns else F.lit(None).cast(t).alias(c) for c, t in amounts.items()])


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """ledger = CLOSE (BAL_M) ∪ OPEN (BAL_P dated M) ∪ TX rows, each under city C(cust_id, M) (silver §13), kept
    only for months with an opening balance."""
    bal, txn = silver["slv_points_balance_m"], silver["slv_points_txn_d"]
    # C(c, M) when c has a row in M: alike on all of c's rows of M (silver §13), so distinct rows, not a min() of
    # strings (a sort of every balance row)
    city = bal.select(*KEY, F.col("cust_city_code").alias("_c")).distinct()
    opening = rekeyed(bal, shift_month("month_id", 1)).join(city, KEY, "left")
    ledger = (_ledger("CLOSE", bal, F.col("cust_city_code"))
              .unionByName(_ledger("OPEN", opening, F.coalesce("_c", "cust_city_code")))
              .unionByName(_ledger("TX", txn, F.col("attr_city_code"))))
    return {"ledger": ledger.join(F.broadcast(_with_opening(bal)), "month_id", "left_semi")}
