"""gld_retention_m 客户保有率分析(月) (gold.md 3.2.13): retention against last December's snapshot, churn of the
previous month's users (monthly and year to date) and broadband renewals, per retention group.

The HIGH group threshold is retention.high_value_yuan of conf/retention.yaml, handed over by params(cfg, parts)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from csqm.months import shift
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_retention_m"
GRAIN = ("city_code", "product_line", "retention_group")
VIP = ("DIAMOND", "GOLD", "SILVER")


def params(cfg, parts: Sequence[str] = ()) -> dict:
    """What sources() takes: the HIGH threshold (元; a row with bill_amt >= it is HIGH) from the configuration, and the
    snapshot months the partitions need: from December of the year before the earliest (its BASE, and the PREV of
    every month its year-to-date sums cover) through the latest. slv_subscriber_m keeps 36 months."""
    months = (shift(min(parts)[:4] + "01", -1), max(parts)) if parts else None
    return {"high": Decimal(str(cfg.retention.high_value_yuan)), "months": months}


def groups(high: Decimal) -> Column:
    """Every retention group a snapshot row belongs to (ALL, its pay type, its segment, VIP, HIGH)."""
    g = F.array(F.lit("ALL"), F.when(F.col("pay_type").isin("POST", "PRE"), F.col("pay_type")),
                F.when(F.col("cust_segment").isin("GOV", "PUB"), F.col("cust_segment")),
                F.when(F.col("vip_level").isin(*VIP), F.lit("VIP")),
                F.when(F.col("bill_amt") >= F.lit(high).cast("decimal(18,2)"), F.lit("HIGH")))
    return F.filter(g, lambda x: x.isNotNull())


def _months(expr: str) -> Column:
    """month ids (yyyymm) from an SQL array of (year, month number) built over the row's month_id."""
    return F.expr(f"transform({expr}, k -> concat(string(k.y), lpad(string(k.m), 2, '0')))")


def _in_m(s: DataFrame) -> DataFrame:
    """The snapshot of the month a row is matched to (by prod_inst_id), as m_* columns."""
    return s.select("month_id", "prod_inst_id", F.col("is_arrive").alias("m_is_arrive"),
                    F.col("is_churn").alias("m_is_churn"), F.col("bill_amt").alias("m_bill_amt"),
                    F.col("agreement_exp_date").alias("m_agreement_exp_date"))


def _per_group(df: DataFrame, high: Decimal) -> DataFrame:
    """One row per retention group of the row (groups are not additive); applied after the match to the M row, so
    the join shuffles each snapshot row once, not once per group."""
    return df.withColumn("retention_group", F.explode(groups(high)))


def base(s: DataFrame, high: Decimal) -> DataFrame:
    """BASE rows (December, in service) once for each month M of the next year, matched to their M row."""
    dec = s.where("is_arrive = 1 AND substr(month_id, 5, 2) = '12'").withColumn("month_id", _months(
        "transform(sequence(1, 12), i -> named_struct('y', int(substr(month_id, 1, 4)) + 1, 'm', i))"))
    dec = dec.withColumn("month_id", F.explode("month_id"))
    return _per_group(dec.join(_in_m(s), ["month_id", "prod_inst_id"], "left"), high)


def prev(s: DataFrame, high: Decimal) -> DataFrame:
    """PREV(M): rows of prev(M) in service, keyed to M (the next month) and matched to their M row."""
    nxt = F.date_format(F.add_months(F.to_date(F.concat("month_id", F.lit("01")), "yyyyMMdd"), 1), "yyyyMM")
    p = s.where("is_arrive = 1").withColumn("month_id", nxt)
    return _per_group(p.join(_in_m(s), ["month_id", "prod_inst_id"], "left"), high)


def ytd(p: DataFrame) -> DataFrame:
    """RET_CHURN_M's num and den of each month m, per key, repeated on every month M from m to December of its
    year, so the engine's sums over M are the sums over January..M."""
    per_m = p.groupBy("month_id", *GRAIN).agg(F.count(F.lit(1)).alias("prev_users"),
                                               F.count(F.when(F.col("m_is_churn") == 1, 1)).alias("churned"))
    later = _months("transform(sequence(int(substr(month_id, 5, 2)), 12), "
                    "i -> named_struct('y', int(substr(month_id, 1, 4)), 'm', i))")
    return per_m.withColumn("month_id", F.explode(later))


def sources(silver: Mapping[str, DataFrame], high: Decimal,
            months: tuple[str, str] | None = None) -> dict[str, DataFrame]:
    """base (RET_USERS, RET_REV), prev (RET_CHURN_M, RET_BB_RENEW) and ytd (RET_CHURN_YTD); grain values and groups
    come from the BASE / PREV row. months: the first and last snapshot month to read (None: all)."""
    s = silver["slv_subscriber_m"]
    if months is not None:
        s = s.where(F.col("month_id").between(*months))
    p = prev(s, high)
    return {"base": base(s, high), "prev": p, "ytd": ytd(p)}
