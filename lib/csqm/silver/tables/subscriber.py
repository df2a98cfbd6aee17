"""slv_subscriber_m 用户产品实例月快照 (silver.md §12): the SUBS month-end snapshot of month M, PII hashed,
flags derived."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import fen_to_yuan, flag, pii_block, prev_month_id, rows_of_months, to_ddl, yyyymm

TABLE = "slv_subscriber_m"
KEY = ("month_id", "prod_inst_id")
PARTITION = "month_id"
DDL = (
    # key (month_id is the partition column, placed last) + copied
    "prod_inst_id STRING, cust_id STRING, acct_id STRING, cert_type STRING, city_code STRING, county_code STRING, "
    "urban_rural STRING, product_line STRING, cust_segment STRING, cust_segment_l2 STRING, vip_level STRING, "
    "pay_type STRING, open_date DATE, remove_date DATE, status STRING, tenure_months BIGINT, agreement_exp_date DATE, "
    # P block
    "acc_nbr_hash STRING, acc_nbr_mask STRING, cert_nbr_hash STRING, cert_nbr_mask STRING, "
    # derived
    "offer_id STRING, offer_type STRING, offer_fee DECIMAL(18,2), bill_amt DECIMAL(18,2), tenure_band STRING, "
    "is_arrive TINYINT, is_new TINYINT, is_churn TINYINT, is_active TINYINT, real_name_flag TINYINT, "
    "prev_offer_id STRING, is_offer_migrated_in TINYINT, "
    "month_id STRING, _batch_id STRING"
)

ARRIVE_STATUSES = ("ACTIVE", "SUSP_ARREARS", "SUSP_REQ")
PREV_COLS = ("month_id", "prod_inst_id", "offer_id", "is_arrive")   # what prev(M) lends month M


def tenure_band(tenure_months: Column) -> Column:
    """README §4.2 tenure bands; negative CRM tenure falls into T00_12, a missing one is UNK."""
    t = tenure_months
    return (F.when(t.isNull(), F.lit("UNK")).when(t < 12, F.lit("T00_12")).when(t < 24, F.lit("T12_24"))
            .when(t < 36, F.lit("T24_36")).when(t < 60, F.lit("T36_60")).otherwise(F.lit("T60P")))


def _in_month(col: str) -> Column:
    """A DATE inside the snapshot month (README §5.4 half-open month)."""
    return yyyymm(col) == F.col("month_id")


def _derive(df: DataFrame) -> DataFrame:
    """Per-row derived columns of §12 (everything except the previous-month comparison)."""
    return df.withColumns({
        "offer_id": F.coalesce(F.col("offer_id"), F.lit("UNK")),
        "offer_type": F.coalesce(F.col("offer_type"), F.lit("UNK")),
        "offer_fee": fen_to_yuan("offer_fee_fen"),
        "bill_amt": fen_to_yuan(F.coalesce(F.col("bill_amt_fen"), F.lit(0))),
        "tenure_band": tenure_band(F.col("tenure_months")),
        "is_arrive": flag(F.col("status").isin(*ARRIVE_STATUSES)),
        "is_new": flag(_in_month("open_date")),
        "is_churn": flag((F.col("status") == "REMOVED") & _in_month("remove_date")),
        "is_active": F.col("active_flag"),
    })


def offers(cur: DataFrame) -> DataFrame:
    """What a month lends the next one (offer_id, is_arrive per instance) straight from its brz_subs rows: the same
    values a full build derives, without hashing PII or joining a month before it."""
    return cur.transform(_derive).select(*PREV_COLS)


def lending(prev: DataFrame, cur: DataFrame) -> DataFrame:
    """The rows of prev that a month of cur can borrow from (those of prev(M)): a broadcast semi-join on month_id, so
    the scan of a stored snapshot table is pruned to those months at run time instead of shuffling every month."""
    return rows_of_months(prev, cur.select(prev_month_id("month_id").alias("month_id")))


def _with_prev_offer(df: DataFrame, prev: DataFrame | None) -> DataFrame:
    """prev_offer_id from the same instance in prev(M) only when it was an arriving user there (prev: PREV_COLS of
    slv_subscriber_m rows or of offers(); None when no month before those of df is known)."""
    if prev is None:  # nothing to borrow: no join (it would shuffle every row of the months for no match)
        return df.withColumn("prev_offer_id", F.lit(None).cast("string"))
    p = (lending(prev, df).where(F.col("is_arrive") == 1)
         .select(F.col("month_id").alias("__p_m"), F.col("prod_inst_id").alias("__p_k"),
                 F.col("offer_id").alias("prev_offer_id")))
    cond = (F.col("__p_m") == prev_month_id("month_id")) & (F.col("__p_k") == F.col("prod_inst_id"))
    return df.join(p, cond, how="left").drop("__p_m", "__p_k")


def _migration(df: DataFrame) -> DataFrame:
    """Offer migration needs two known, different offers and an arriving user."""
    moved = ((F.col("is_arrive") == 1) & F.col("prev_offer_id").isNotNull() & (F.col("prev_offer_id") != "UNK")
             & (F.col("offer_id") != "UNK") & (F.col("prev_offer_id") != F.col("offer_id")))
    return df.withColumn("is_offer_migrated_in", flag(moved))


def build(*, cur: DataFrame, prev: DataFrame | None, salt: str) -> DataFrame:
    """Month M snapshot from brz_subs rows of M (one per prod_inst_id) and slv_subscriber_m of prev(M) (None: no
    snapshot of prev(M) is known). The join to prev(M) shuffles every row of the month, so it comes first, while a
    row holds its numbers rather than their hashes and masks."""
    out = (cur.transform(_with_prev_offer, prev)
           .transform(pii_block, "acc_nbr", "acc_nbr", salt)
           .transform(pii_block, "cert_nbr", "cert_nbr", salt)
           .transform(_derive)
           .transform(_migration))
    return to_ddl(out, DDL)
