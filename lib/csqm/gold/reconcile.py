"""Reconciliation identities RC01–RC10 (gold.md, operations.md §6 DQ04): checked after every gold run on the
partitions it wrote and by `csqm dq`; an ERROR identity that fails stops the run, naming identity, partition and both
sides.

Each identity is a query that returns its violations as rows (table_name, partition, observed, expected, detail);
an identity whose tables do not exist yet is skipped."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce

from csqm import io
from csqm.config import Config
from csqm.errors import JobFailed
from csqm.quality.result import DqOutcome
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

MAX_LISTED = 20          # violations reported per identity (the count is always given)


@dataclass(frozen=True)
class Scope:
    spark: SparkSession
    cfg: Config
    days: tuple[str, ...]
    months: tuple[str, ...]

    def gold(self, table: str) -> DataFrame | None:
        """The checked partitions of a gold table (None if it does not exist or none are in scope)."""
        part = "month_id" if table.endswith("_m") else "day_id"
        parts = self.months if part == "month_id" else self.days
        if not parts or not io.table_exists(self.spark, self.cfg, table):
            return None
        listed = ", ".join(f"'{p}'" for p in parts)
        return io.read(self.spark, self.cfg, table, f"{part} IN ({listed})")

    def table(self, table: str) -> DataFrame | None:
        return io.read(self.spark, self.cfg, table) if io.table_exists(self.spark, self.cfg, table) else None


def _v(df: DataFrame, table: str, partition: Column, observed: Column, expected: Column, detail: Column) -> DataFrame:
    return df.select(F.lit(table).alias("table_name"), partition.alias("partition"),
                     observed.cast("string").alias("observed"), expected.cast("string").alias("expected"),
                     detail.alias("detail"))


def _part(col: str) -> Column:
    return F.concat(F.lit(f"{col}="), F.col(col))


def _key(*cols: str) -> Column:
    return F.concat_ws(" ", *[F.concat(F.lit(f"{c}="), F.col(c)) for c in cols])


# ------------------------------------------------------------------ identities
def rc01(s: Scope) -> DataFrame | None:
    """Points ledger balances, for months whose PTS_TXN batches are loaded for every day."""
    pv, log = s.gold("gld_points_value_m"), s.table("ops_batch_log")
    if pv is None or log is None:
        return None
    days = log.where("ifcode = 'PTS_TXN' AND status = 'LOADED'").select(F.substring("data_date", 1, 6).alias("m"),
                                                                          "data_date").distinct()
    full = (days.groupBy("m").agg(F.count("*").alias("n"))
            .where(F.col("n") == F.dayofmonth(F.last_day(F.to_date(F.concat("m", F.lit("01")), "yyyyMMdd"))))
            .select(F.col("m").alias("month_id")))
    bad = pv.join(full, "month_id").where("pv_recon_diff != 0")
    return _v(bad, "gld_points_value_m", _part("month_id"), F.col("pv_close_bal"),
              F.expr("pv_open_bal + pv_earned - pv_redeemed - pv_expired + pv_adjusted"),
              F.concat(_key("city_code", "points_type"), F.lit(" close vs open+earned-redeemed-expired+adjusted")))


def rc02(s: Scope) -> DataFrame | None:
    """Arrived users agree between the profile, the package table and silver."""
    prof, pkg, sub = s.gold("gld_subscriber_profile_m"), s.gold("gld_package_user_m"), s.table("slv_subscriber_m")
    if prof is None or pkg is None or sub is None:
        return None
    a = prof.groupBy("month_id").agg(F.sum("sub_arrive_users").alias("a"))
    b = pkg.groupBy("month_id").agg(F.sum("pkg_arrive_users").alias("b"))
    c = sub.where("is_arrive = 1").groupBy("month_id").agg(F.count("*").alias("c"))
    j = a.join(b, "month_id", "full").join(c, "month_id", "left").na.fill(0, ["a", "b", "c"])
    bad = j.where("a != b OR b != c")
    return _v(bad, "gld_subscriber_profile_m", _part("month_id"), F.col("a"),
              F.concat_ws(" / ", F.col("b").cast("string"), F.col("c").cast("string")),
              F.lit("Σ sub_arrive_users vs Σ pkg_arrive_users / slv_subscriber_m arrived rows"))


def rc03(s: Scope) -> DataFrame | None:
    """Hotline funnel: 15 s ≤ 20 s ≤ answered ≤ requested ≤ inbound."""
    h = s.gold("gld_hotline_10000_d")
    if h is None:
        return None
    chain = ["hl_sl15_num", "hl_sl20_num", "hl_agent_ans_num", "hl_agent_req_cnt", "hl_inbound_cnt"]
    bad = h.where(" OR ".join(f"{a} > {b}" for a, b in zip(chain, chain[1:], strict=False)))
    return _v(bad, "gld_hotline_10000_d", _part("day_id"), F.concat_ws(" <= ", *[F.col(c).cast("string")
                                                                                  for c in chain]),
              F.lit(" <= ".join(chain)), _key("city_code", "skill_group", "vip_level"))


def rc04(s: Scope) -> DataFrame | None:
    """Complaints of a month agree between the daily table, process control and the escalation ratio."""
    pc = s.gold("gld_process_control_m")
    cmpl = s.table("gld_complaint_d")
    if pc is None or cmpl is None:
        return None
    keys = ["month_id", "city_code", "product_line"]
    daily = (cmpl.withColumn("month_id", F.substring("day_id", 1, 6)).where(F.col("month_id").isin(list(s.months)))
             .groupBy(*keys).agg(F.sum("cmpl_cnt").alias("daily")))
    proc = pc.where("process_type = 'CMPL'").groupBy(*keys).agg(F.sum("pc_arrive_cnt").alias("proc"))
    j = daily.join(proc, keys, "inner")
    esc = s.gold("gld_escalation_m")
    bad = _v(j.where("daily != proc"), "gld_process_control_m", _part("month_id"), F.col("proc"), F.col("daily"),
             F.concat(_key("city_code", "product_line"), F.lit(" pc_arrive_cnt(CMPL) vs Σ gld_complaint_d.cmpl_cnt")))
    if esc is not None:
        e = esc.select(*keys, "esc_ratio_den").join(daily, keys, "inner").where("esc_ratio_den != daily")
        bad = bad.unionByName(_v(e, "gld_escalation_m", _part("month_id"), F.col("esc_ratio_den"), F.col("daily"),
                                 F.concat(_key("city_code", "product_line"),
                                          F.lit(" esc_ratio_den vs Σ gld_complaint_d.cmpl_cnt"))))
    return bad


def _subset(m) -> bool:
    """num ⊆ den: both count sets of the same population (the engine ANDs the den filter into the num)."""
    return all(p.expr is None and p.lookup is None and p.value is None for p in (m.num, m.den))


def rc05(s: Scope) -> DataFrame | None:
    """Every stored ratio: rate = num/den × scale, NULL iff den = 0; num ≤ den where num ⊆ den."""
    frames = []
    for t in s.cfg.section("metrics").tables.values():
        df = s.gold(t.name)
        if df is None:
            continue
        fails = []
        for m in (m for m in t.metrics if m.kind == "RATIO"):
            c = m.code.lower()
            num, den, rate = (F.col(f"{c}_{x}") for x in ("num", "den", "rate"))
            want = (num.cast("double") / den.cast("double") * F.lit(m.scale_mult) if m.scale_div == 1
                    else num.cast("double") / den.cast("double") / F.lit(m.scale_div))
            ok = F.when(den == 0, rate.isNull()).otherwise(
                rate.isNotNull() & (F.abs(rate - want) <= F.lit(1e-9) * F.greatest(F.lit(1.0), F.abs(want))))
            if _subset(m):
                ok = ok & (num <= den)
            fails.append(F.when(~F.coalesce(ok, F.lit(False)), F.lit(m.code)))
        if not fails:
            continue
        bad = df.withColumn("_f", F.concat_ws(",", *fails)).where(F.col("_f") != "")
        frames.append(_v(bad, t.name, _part(t.partition), F.col("_f"), F.lit("rate = num/den×scale, num ≤ den"),
                         F.concat_ws(" ", *[F.concat(F.lit(f"{g}="), F.col(g)) for g in t.grain[1:]])))
    return reduce(DataFrame.unionByName, frames) if frames else None


def rc06(s: Scope) -> DataFrame | None:
    """Average-duration dens equal the closed/completed counts."""
    out = []
    f = s.gold("gld_fault_d")
    if f is not None:
        bad = f.where("flt_repair_hours_den != flt_closed_cnt OR flt_timely_den > flt_closed_cnt")
        out.append(_v(bad, "gld_fault_d", _part("day_id"), F.concat_ws(" / ", F.col("flt_repair_hours_den").cast(
            "string"), F.col("flt_timely_den").cast("string")), F.col("flt_closed_cnt"),
            F.lit("flt_repair_hours_den = flt_closed_cnt, flt_timely_den <= flt_closed_cnt")))
    o = s.gold("gld_install_move_d")
    if o is not None:
        bad = o.where("ord_hours_den != ord_complete_cnt")
        out.append(_v(bad, "gld_install_move_d", _part("day_id"), F.col("ord_hours_den"), F.col("ord_complete_cnt"),
                      F.lit("ord_hours_den = ord_complete_cnt")))
    return reduce(DataFrame.unionByName, out) if out else None


def rc07(s: Scope) -> DataFrame | None:
    """Channel share dens are the city's total contacts."""
    c = s.gold("gld_channel_service_d")
    if c is None:
        return None
    tot = c.groupBy("day_id", "city_code").agg(F.sum("contact_cnt").alias("tot"))
    bad = c.join(tot, ["day_id", "city_code"]).where("channel_share_den != tot")
    return _v(bad, "gld_channel_service_d", _part("day_id"), F.col("channel_share_den"), F.col("tot"),
              F.concat(_key("city_code", "channel_type", "channel_id", "contact_purpose"),
                       F.lit(" channel_share_den vs Σ contact_cnt of the city")))


def rc08(s: Scope) -> DataFrame | None:
    """Satisfaction dens are the valid count; satisfied + dissatisfied never exceed it."""
    m = s.gold("gld_satisfaction_m")
    if m is None:
        return None
    bad = m.where("csat_den != sat_valid_cnt OR dsat_den != sat_valid_cnt OR csat_num + dsat_num > sat_valid_cnt")
    return _v(bad, "gld_satisfaction_m", _part("month_id"),
              F.concat_ws(" / ", *[F.col(c).cast("string") for c in ("csat_den", "dsat_den", "csat_num", "dsat_num")]),
              F.col("sat_valid_cnt"), _key("city_code", "touchpoint", "survey_source"))


def rc09(s: Scope) -> DataFrame | None:
    """Fault backlog flows: backlog(D) = backlog(D−1) + reports(D) − closed(D) per city (WARN)."""
    f = s.table("gld_fault_d")
    if f is None or not s.days:
        return None
    city = f.groupBy("day_id", "city_code").agg(*[F.sum(c).alias(c) for c in ("flt_backlog", "flt_report_cnt",
                                                                               "flt_closed_cnt")])
    prev = city.select(F.date_format(F.date_add(F.to_date("day_id", "yyyyMMdd"), 1), "yyyyMMdd").alias("day_id"),
                       "city_code", F.col("flt_backlog").alias("prev"))
    j = city.where(F.col("day_id").isin(list(s.days))).join(prev, ["day_id", "city_code"])
    bad = j.where("flt_backlog != prev + flt_report_cnt - flt_closed_cnt AND prev > 0")
    want = F.expr("prev + flt_report_cnt - flt_closed_cnt")
    return _v(bad, "gld_fault_d", _part("day_id"), F.col("flt_backlog"), want,
              F.concat(_key("city_code"), F.lit(" backlog vs previous + reports − closed")))


def rc10(s: Scope) -> DataFrame | None:
    """Points redeemed by exchange orders equal the ledger's redemptions, province-wide (WARN)."""
    px, pv = s.gold("gld_points_exchange_m"), s.gold("gld_points_value_m")
    if px is None or pv is None:
        return None
    a = px.groupBy("month_id").agg(F.sum("px_points").alias("a"))
    b = pv.groupBy("month_id").agg(F.sum("pv_redeemed").alias("b"))
    bad = a.join(b, "month_id").where("a != b")
    return _v(bad, "gld_points_exchange_m", _part("month_id"), F.col("a"), F.col("b"),
              F.lit("Σ px_points vs Σ pv_redeemed (province)"))


IDENTITIES: dict[str, tuple[str, Callable[[Scope], DataFrame | None]]] = {
    "RC01": ("ERROR", rc01), "RC02": ("ERROR", rc02), "RC03": ("ERROR", rc03), "RC04": ("ERROR", rc04),
    "RC05": ("ERROR", rc05), "RC06": ("ERROR", rc06), "RC07": ("ERROR", rc07), "RC08": ("ERROR", rc08),
    "RC09": ("WARN", rc09), "RC10": ("WARN", rc10),
}


def check(spark: SparkSession, cfg: Config, days: Sequence[str], months: Sequence[str],
          only: Sequence[str] | None = None) -> list[DqOutcome]:
    """Every identity over the given gold partitions: one outcome per violation (at most MAX_LISTED per identity,
    the last one saying how many more), or one passing outcome per identity checked."""
    s = Scope(spark, cfg, tuple(sorted(set(days))), tuple(sorted({*months})))
    out: list[DqOutcome] = []
    for rule, (severity, fn) in IDENTITIES.items():
        if only and rule not in only:
            continue
        bad = fn(s)
        if bad is None:
            continue
        rows = bad.limit(MAX_LISTED + 1).collect()
        if not rows:
            out.append(DqOutcome(rule, "gold", "", severity, True, "0 violations", "0 violations"))
            continue
        for r in rows[:MAX_LISTED]:
            out.append(DqOutcome(rule, r.table_name, r.partition, severity, False, r.observed or "NULL",
                                 r.expected or "NULL", r.detail or ""))
        if len(rows) > MAX_LISTED:
            out.append(DqOutcome(rule, rows[0].table_name, "", severity, False, f"> {MAX_LISTED} violations",
                                 "0 violations", f"{bad.count()} violations in all"))
    return out


def enforce(spark: SparkSession, cfg: Config, written: dict[str, list[str]],
            log: Callable[[str], None] = print) -> list[DqOutcome]:
    """After a gold run: check the partitions it wrote; WARN identities are printed, an ERROR one fails the run."""
    days = [p for t, ps in written.items() if t.endswith("_d") for p in ps]
    months = sorted({p for t, ps in written.items() if t.endswith("_m") for p in ps} | {d[:6] for d in days})
    if not days and not months:
        return []
    outcomes = check(spark, cfg, days, months)
    for o in outcomes:
        if not o.passed:
            log(f"  {o.severity} {o.message()}")
    errors = [o for o in outcomes if o.failed_error]
    if errors:
        raise JobFailed("reconciliation failed: " + "; ".join(o.message() for o in errors[:5])
                        + (f"; and {len(errors) - 5} more" if len(errors) > 5 else ""))
    log(f"  reconciliation RC01–RC10: {sum(o.passed for o in outcomes)} identities hold, "
        f"{sum(not o.passed for o in outcomes)} warnings")
    return outcomes
