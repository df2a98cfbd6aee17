"""gld_retention_m 客户保有率分析(月) (gold.md 3.2.13): retention against last December's snapshot, churn of the
previous month's users (monthly and year to date) and broadband renewals, per retention group.

The HIGH group threshold is retention.high_value_yuan of conf/retention.yaml, handed over by params(cfg, parts)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from csqm.gold.months import rekeyed, shift_month
from csqm.months import between, shift
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_retention_m"
GRAIN = ("city_code", "product_line", "retention_group")
VIP = ("DIAMOND", "GOLD", "SILVER")


def params(cfg, parts: Sequence[str] = ()) -> dict:
    """What sources() takes: the HIGH threshold (元; a row with bill_amt >= it is HIGH) from the configuration, the
    snapshot months the partitions need (from December of the year before the earliest, its BASE and the PREV of
    every month its year-to-date sums cover, through the latest; slv_subscriber_m keeps 36 months) and the first and
    last partition themselves; and whether those months are few enough to broadcast their churned and renewing rows
    (the profile's gold.broadcast_months: a November run reads twelve months, a full refresh up to 36)."""
    months = (shift(min(parts)[:4] + "01", -1), max(parts)) if parts else None
    targets = (min(parts), max(parts)) if parts else None
    few = months is not None and len(between(*months)) <= cfg.env.gold_broadcast_months
    return {"high": Decimal(str(cfg.retention.high_value_yuan)), "months": months, "targets": targets,
            "broadcast": few}


def groups(high: Decimal) -> Column:
    """Every retention group a snapshot row may belong to (ALL, its pay type, its segment, VIP, HIGH); NULL where it
    does not (_per_group drops those)."""
    return F.array(F.lit("ALL"), F.when(F.col("pay_type").isin("POST", "PRE"), F.col("pay_type")),
                   F.when(F.col("cust_segment").isin("GOV", "PUB"), F.col("cust_segment")),
                   F.when(F.col("vip_level").isin(*VIP), F.lit("VIP")),
                   F.when(F.col("bill_amt") >= F.lit(high).cast("decimal(18,2)"), F.lit("HIGH")))


def _months(expr: str) -> Column:
    """month ids (yyyymm) from an SQL array of (year, month number) built over the row's month_id."""
    return F.expr(f"transform({expr}, k -> concat(string(k.y), lpad(string(k.m), 2, '0')))")


def _in_m(s: DataFrame) -> DataFrame:
    """The snapshot of the month a BASE row is matched to (by prod_inst_id), as m_* columns."""
    return s.select("month_id", "prod_inst_id", F.col("is_arrive").alias("m_is_arrive"),
                    F.col("bill_amt").alias("m_bill_amt"))


def _per_group(df: DataFrame, high: Decimal) -> DataFrame:
    """One row per retention group of the row (groups are not additive); applied after the match to the M row, so
    the join shuffles each snapshot row once, not once per group."""
    return df.withColumn("retention_group", F.explode(groups(high))).where(F.col("retention_group").isNotNull())


def base(s: DataFrame, high: Decimal, targets: tuple[str, str] | None = None) -> DataFrame:
    """BASE rows (December, in service) once for each month M of the next year (only the months within targets,
    when given: a month-end run needs one, not twelve copies of a 20 M-row December), matched to their M row."""
    year = _months("transform(sequence(1, 12), i -> named_struct('y', int(substr(month_id, 1, 4)) + 1, 'm', i))")
    if targets is not None:
        year = F.filter(year, lambda m: m.between(*targets))
    dec = rekeyed(s.where("is_arrive = 1 AND substr(month_id, 5, 2) = '12'"), year)
    return _per_group(dec.join(_in_m(s), ["month_id", "prod_inst_id"], "left"), high)


def _hinted(df: DataFrame, broadcast: bool) -> DataFrame:
    """df marked for broadcast when its months are few; otherwise left to Spark (a sort-merge join at volume)."""
    return F.broadcast(df) if broadcast else df


def _lenders(s: DataFrame, broadcast: bool) -> DataFrame:
    """PREV rows: rows of prev(M) in service, keyed to M (the next month), with m_is_churn = 1 when their
    prod_inst_id churned in M (else NULL). The instances that churn in a month are a small share of it, so over a
    few months they are broadcast instead of shuffling two 20 M-row months to match them."""
    churned = s.where("is_churn = 1").select("month_id", "prod_inst_id", F.lit(1).alias("m_is_churn"))
    lenders = rekeyed(s.where("is_arrive = 1"), shift_month("month_id", 1))
    return lenders.join(_hinted(churned, broadcast), ["month_id", "prod_inst_id"], "left")


def _renewals(p: DataFrame, s: DataFrame, broadcast: bool) -> DataFrame:
    """PREV rows with m_is_arrive and m_agreement_exp_date of their M row for the broadband agreements expiring in M
    (RET_BB_RENEW's rows, a small share: broadcast over a few months); NULL on the other rows, which no metric reads
    them on."""
    exp = F.col("agreement_exp_date")
    in_m = (F.year(exp) * 100 + F.month(exp)) == F.col("month_id").cast("int")
    due = p.where((F.col("product_line") == "BB") & in_m).select("month_id", "prod_inst_id")
    m = s.join(_hinted(due, broadcast), ["month_id", "prod_inst_id"], "left_semi").select(
        "month_id", "prod_inst_id", F.col("is_arrive").alias("m_is_arrive"),
        F.col("agreement_exp_date").alias("m_agreement_exp_date"))
    return p.join(_hinted(m, broadcast), ["month_id", "prod_inst_id"], "left")


def ytd(p: DataFrame) -> DataFrame:
    """RET_CHURN_M's num and den of each month m, per key, repeated on every month M from m to December of its
    year, so the engine's sums over M are the sums over January..M."""
    per_m = p.groupBy("month_id", *GRAIN).agg(F.count(F.lit(1)).alias("prev_users"),
                                               F.count(F.when(F.col("m_is_churn") == 1, 1)).alias("churned"))
    later = _months("transform(sequence(int(substr(month_id, 5, 2)), 12), "
                    "i -> named_struct('y', int(substr(month_id, 1, 4)), 'm', i))")
    return per_m.withColumn("month_id", F.explode(later))


def sources(silver: Mapping[str, DataFrame], high: Decimal, months: tuple[str, str] | None = None,
            targets: tuple[str, str] | None = None, broadcast: bool = False) -> dict[str, DataFrame]:
    """base (RET_USERS, RET_REV), prev (RET_CHURN_M, RET_BB_RENEW) and ytd (RET_CHURN_YTD); grain values and groups
    come from the BASE / PREV row. months: the first and last snapshot month to read; targets: the first and last
    partition built (None: all). Only BASE is matched to its M rows by shuffle; PREV needs the few M rows that
    churned or renew, broadcast when `broadcast` (params: when the months read are few)."""
    s = silver["slv_subscriber_m"]
    if months is not None:
        s = s.where(F.col("month_id").between(*months))
    p = _lenders(s, broadcast)
    if months is not None:  # the last month's rows lend to the month after it, which is not built
        p = p.where(F.col("month_id") <= months[1])
    return {"base": base(s, high, targets), "prev": _per_group(_renewals(p, s, broadcast), high),
            "ytd": ytd(_per_group(p, high))}
