"""Month shifts of gold populations: a row of month m counted under another month (the next one, or each month of
the next year)."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType


def shift_month(month_id: str, n: int | Column) -> Column:
    """The yyyymm column month_id plus n months (date arithmetic on each row: for a few rows, see rekeyed)."""
    return F.date_format(F.add_months(F.to_date(F.concat(F.col(month_id), F.lit("01")), "yyyyMMdd"), n), "yyyyMM")


def rekeyed(df: DataFrame, to: Column) -> DataFrame:
    """df's rows keyed to other months: once for each value of `to` (a column or an array over month_id) that their
    month maps to. The map is worked out on the few distinct months of df and broadcast, so no row of a 20 M-row
    snapshot month runs date arithmetic or array functions (SF1: docs/bench.md, session 16)."""
    pairs = df.select("month_id").distinct().withColumn("_to", to)
    if isinstance(pairs.schema["_to"].dataType, ArrayType):
        pairs = pairs.withColumn("_to", F.explode("_to"))
    return df.join(F.broadcast(pairs), "month_id").drop("month_id").withColumnRenamed("_to", "month_id")
