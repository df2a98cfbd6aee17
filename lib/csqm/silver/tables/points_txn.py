"""slv_points_txn_d 积分流水明细 (silver.md §14): one row per txn_id, attributed to a city by the customer rule C()."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import fen_to_yuan, prev_month_id, to_ddl, yyyymm, yyyymmdd

TABLE = "slv_points_txn_d"
KEY = ("txn_id",)
PARTITION = "day_id"
UNKNOWN_CITY = "9999"
DDL = (
    # key + copied
    "txn_id STRING, cust_id STRING, points_type STRING, txn_type STRING, points BIGINT, txn_time TIMESTAMP, "
    "earn_year BIGINT, prod_inst_id STRING, exch_id STRING, "
    # derived
    "month_id STRING, base_amt DECIMAL(18,2), attr_city_code STRING, "
    "day_id STRING, _batch_id STRING"
)


def _customer_city(df: DataFrame, balances: DataFrame) -> DataFrame:
    """One cust_city_code per (month, customer) of the months df's rows need (M and prev(M)); the city is the same on
    all of a customer's rows of a month. Other months are not read: the balance table keeps 36 of them."""
    months = df.select(F.col("month_id").alias("__m")).distinct()
    wanted = months.select(F.col("__m").alias("month_id")).unionByName(
        months.select(prev_month_id("__m").alias("month_id"))).distinct()
    return (balances.join(F.broadcast(wanted), "month_id", "left_semi")
            .groupBy("month_id", "cust_id").agg(F.min("cust_city_code").alias("city")))


def _as(city: DataFrame, alias: str) -> DataFrame:
    return city.select(*[F.col(c).alias(f"{alias}_{c}") for c in city.columns])


def _attr_city(df: DataFrame, balances: DataFrame) -> DataFrame:
    """C(cust_id, M): the customer's city in M, else in prev(M), else 9999 (silver.md §13)."""
    city = _customer_city(df, balances)  # one aggregate, joined twice
    cur_m, prev_m = _as(city, "__cm"), _as(city, "__pm")
    on_cur = (F.col("__cm_month_id") == F.col("month_id")) & (F.col("__cm_cust_id") == F.col("cust_id"))
    on_prev = (F.col("__pm_month_id") == prev_month_id("month_id")) & (F.col("__pm_cust_id") == F.col("cust_id"))
    return (df.join(cur_m, on_cur, how="left").join(prev_m, on_prev, how="left")
            .withColumn("attr_city_code", F.coalesce(F.col("__cm_city"), F.col("__pm_city"), F.lit(UNKNOWN_CITY)))
            .drop(*cur_m.columns, *prev_m.columns))


def recity(stored: DataFrame, balances: DataFrame) -> DataFrame:
    """Keys of stored rows whose attr_city_code C() gives otherwise on these balances: after a PTS_BAL month arrives
    (silver.md §13) only those rows change, not every transaction of M and M+1."""
    was = stored.select(*KEY, "cust_id", "month_id", F.col("attr_city_code").alias("__was"))
    return (was.transform(_attr_city, balances)
            .where(~F.col("attr_city_code").eqNullSafe(F.col("__was"))).select(*KEY))


def build(*, cur: DataFrame, balances: DataFrame) -> DataFrame:
    """Points transactions from the current state of brz_pts_txn and slv_points_balance_m of M and prev(M)."""
    out = (cur.withColumns({"day_id": yyyymmdd("txn_time"), "month_id": yyyymm("txn_time"),
                            "base_amt": fen_to_yuan("base_amt_fen")})
           .transform(_attr_city, balances))
    return to_ddl(out, DDL)
