"""slv_points_txn_d 积分流水明细 (silver.md §14): one row per txn_id, attributed to a city by the customer rule C()."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import ScopedSnapshots, Snapshots, fen_to_yuan, prev_month_id, to_ddl, yyyymm, yyyymmdd

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


def _customer_city(df: DataFrame, balances: Snapshots) -> DataFrame:
    """One cust_city_code per (month, customer), for the months df's rows need (M and prev(M)); a scoped build (few
    transactions) reads only its customers' rows.

    cust_city_code is a customer-level column of slv_points_balance_m (every row of a customer's month carries the
    one from the row with the smallest points_type), so the distinct (month, customer, city) rows are one per
    (month, customer): a hash aggregate, where min() of a string would sort millions of rows. Other months are not
    read: the balance table keeps 36 of them."""
    scoped = isinstance(balances, ScopedSnapshots)
    rows = balances.df if scoped else balances
    months = df.select(F.col("month_id").alias("__m")).distinct()
    wanted = months.select(F.col("__m").alias("month_id")).unionByName(
        months.select(prev_month_id("__m").alias("month_id"))).distinct()
    rows = rows.join(F.broadcast(wanted), "month_id", "left_semi")
    if scoped:
        rows = rows.join(F.broadcast(df.select("cust_id").distinct()), "cust_id", "left_semi")
    return rows.select("month_id", "cust_id", F.col("cust_city_code").alias("city")).distinct()


def _as(city: DataFrame, alias: str) -> DataFrame:
    return city.select(*[F.col(c).alias(f"{alias}_{c}") for c in city.columns])


def _attr_city(df: DataFrame, balances: Snapshots) -> DataFrame:
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
    (silver.md §13) only those rows change, not every transaction of M and M+1. C() depends on the customer and the
    month only, so it is worked out once per stored (customer, month, city), not once per transaction."""
    pairs = ["cust_id", "month_id"]
    was = stored.select(*pairs, F.col("attr_city_code").alias("__was")).distinct()
    moved = (was.transform(_attr_city, balances)
             .where(~F.col("attr_city_code").eqNullSafe(F.col("__was"))).select(*pairs))
    return stored.join(moved, pairs, "left_semi").select(*KEY)


def build(*, cur: DataFrame, balances: Snapshots) -> DataFrame:
    """Points transactions from the current state of brz_pts_txn and slv_points_balance_m of M and prev(M)."""
    out = (cur.withColumns({"day_id": yyyymmdd("txn_time"), "month_id": yyyymm("txn_time"),
                            "base_amt": fen_to_yuan("base_amt_fen")})
           .transform(_attr_city, balances))
    return to_ddl(out, DDL)
