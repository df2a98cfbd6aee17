"""csqm.gold.months: re-keying snapshot rows to other months through the map of their distinct months."""
from chispa import assert_df_equality
from csqm.gold.months import rekeyed, shift_month
from pyspark.sql import functions as F


def test_rekeyed_to_the_next_month_and_to_each_month_of_an_array(spark):
    rows = spark.createDataFrame([("201212", "a"), ("201212", "b"), ("201301", "a")], "month_id STRING, k STRING")
    nxt = rekeyed(rows, shift_month("month_id", 1)).select("month_id", "k")
    assert_df_equality(nxt, spark.createDataFrame([("201301", "a"), ("201301", "b"), ("201302", "a")],
                                                  "month_id STRING, k STRING"), ignore_row_order=True)
    # an array target: each row once per month it maps to; a month mapping to an empty array drops its rows
    year = F.when(F.col("month_id") == "201212", F.array(F.lit("201301"), F.lit("201302"))).otherwise(
        F.array().cast("array<string>"))
    spread = rekeyed(rows, year).select("month_id", "k")
    assert_df_equality(spread, spark.createDataFrame(
        [("201301", "a"), ("201301", "b"), ("201302", "a"), ("201302", "b")], "month_id STRING, k STRING"),
        ignore_row_order=True)
