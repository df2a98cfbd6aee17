"""What the daily monitoring report shows, gathered from the lake as small Python values: KPI values per city and
day (gold roll-ups over the trend window), targets and thresholds, the day's DQ run and batches."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from csqm import io
from csqm.config import Config
from csqm.gold.catalog import Metric
from csqm.gold.rollup import rollup

PROVINCE = "0000"


@dataclass(frozen=True)
class Kpi:
    """One metric of the report: values[(city_code, day_id)] (city '0000' = province), its goals per city."""

    metric: Metric
    table: str
    values: dict[tuple[str, str], float | None]
    threshold: float | None                  # dim_kpi_threshold.target_rate (GE)
    targets: dict[str, tuple[float, str]]    # city (or 0000) -> (target_value, GE/LE) from man_kpi_target

    def goal(self, city: str) -> tuple[float, str, str] | None:
        """(value, direction, source) the city is held against: its target, the province target, the threshold."""
        t = self.targets.get(city) or self.targets.get(PROVINCE)
        if t is not None:
            return t[0], t[1], "target"
        return (self.threshold, "GE", "threshold") if self.threshold is not None else None

    def status(self, city: str, day: str) -> str:
        """OK / MISS against the goal, NA without a goal, NODATA without a value."""
        v, g = self.values.get((city, day)), self.goal(city)
        if v is None:
            return "NODATA"
        if g is None:
            return "NA"
        return "OK" if (v >= g[0] if g[1] == "GE" else v <= g[0]) else "MISS"


@dataclass
class ReportData:
    day: str
    days: list[str]
    cities: list[tuple[str, str]]            # (city_code, 中文), the 17 cities then 0000 全省
    kpis: list[Kpi]
    dq_run: dict | None = None               # the latest dq run of the day (ops_run_audit row)
    dq: list[dict] = field(default_factory=list)
    batches: list[dict] = field(default_factory=list)
    missing_batches: list[str] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)


def window(day: str, n: int) -> list[str]:
    """The n days ending on `day`, oldest first."""
    d = dt.datetime.strptime(day, "%Y%m%d").date()
    return [(d - dt.timedelta(days=i)).strftime("%Y%m%d") for i in range(n - 1, -1, -1)]


def kpi_values(spark: SparkSession, cfg: Config, codes: list[str], days: list[str]) -> dict[str, dict]:
    """code -> {(city, day): value} over the days, cities and the province ('0000'), by the gold roll-up rules; one
    Spark job for all metrics."""
    frames = []
    for code in codes:
        t, m = cfg.section("metrics").metric(code)
        col = f"{code.lower()}_rate" if m.kind == "RATIO" else code.lower()
        if not io.table_exists(spark, cfg, t.name):
            continue
        rows = io.read(spark, cfg, t.name, f"day_id BETWEEN '{days[0]}' AND '{days[-1]}'")
        for keep in (["day_id", "city_code"], ["day_id"]):
            r = rollup(rows, t, keep)
            city = F.col("city_code") if "city_code" in keep else F.lit(PROVINCE)
            frames.append(r.select(F.lit(code).alias("code"), city.alias("city_code"), "day_id",
                                   F.col(col).cast("double").alias("v")))
    out: dict[str, dict] = {c: {} for c in codes}
    if frames:
        for r in reduce(DataFrame.unionByName, frames).collect():
            out[r.code][(r.city_code, r.day_id)] = r.v
    return out


KEYS = ("product_line", "order_type", "urgent_level", "urban_rural")


def thresholds(spark: SparkSession, cfg: Config, kpi_codes: list[str], day: str) -> dict[str, float]:
    """kpi_code -> target_rate of its most general dim_kpi_threshold row (most '*' keys) valid on day."""
    if not kpi_codes or not io.table_exists(spark, cfg, "dim_kpi_threshold"):
        return {}
    d = f"DATE '{day[:4]}-{day[4:6]}-{day[6:]}'"
    rows = io.read(spark, cfg, "dim_kpi_threshold",
                   f"kpi_code IN ({', '.join(repr(k) for k in kpi_codes)}) AND target_rate IS NOT NULL "
                   f"AND valid_from <= {d} AND (valid_to IS NULL OR valid_to >= {d})").collect()
    best = sorted(rows, key=lambda r: (-sum(r[k] == "*" for k in KEYS), *(r[k] for k in KEYS)))
    out: dict[str, float] = {}
    for r in best:
        out.setdefault(r.kpi_code, float(r.target_rate))
    return out


def targets(spark: SparkSession, cfg: Config, codes: list[str], day: str) -> dict[str, dict[str, tuple[float, str]]]:
    """metric -> city -> (target_value, direction) from man_kpi_target of year(day), dim_value '*'."""
    if not io.table_exists(spark, cfg, "man_kpi_target"):
        return {}
    out: dict[str, dict[str, tuple[float, str]]] = {}
    where = f"target_year = '{day[:4]}' AND dim_value = '*' AND metric_code IN ({', '.join(repr(c) for c in codes)})"
    for r in io.read(spark, cfg, "man_kpi_target", where).collect():
        out.setdefault(r.metric_code, {})[r.city_code] = (float(r.target_value), r.direction)
    return out


def dq_of_day(spark: SparkSession, cfg: Config, day: str) -> tuple[dict | None, list[dict]]:
    """The latest dq run for the data date and its ops_dq_result rows (failures first)."""
    if not io.table_exists(spark, cfg, "ops_run_audit"):
        return None, []
    run = (io.read(spark, cfg, "ops_run_audit", f"job_name = 'dq' AND data_date = '{day}'")
           .orderBy(F.col("start_ts").desc()).first())
    if run is None or not io.table_exists(spark, cfg, "ops_dq_result"):
        return (None if run is None else run.asDict()), []
    rows = (io.read(spark, cfg, "ops_dq_result", f"run_id = '{run.run_id}'")
            .orderBy("passed", F.col("severity"), "rule_id", "table_name", "partition").collect())
    return run.asDict(), [r.asDict() for r in rows]


def batches_of_day(spark: SparkSession, cfg: Config, day: str) -> tuple[list[dict], list[str]]:
    """ops_batch_log rows of the day (daily interfaces) and of its month (monthly ones); daily interfaces with none."""
    daily = sorted(c for c, s in cfg.interfaces.items() if s.freq == "D")
    if not io.table_exists(spark, cfg, "ops_batch_log"):
        return [], daily
    cols = ["ifcode", "data_date", "_batch_id", "status", "reason_code", "rows_total", "rows_loaded",
            "rows_quarantined", "rows_dup", "_load_ts"]
    rows = [r.asDict() for r in io.read(spark, cfg, "ops_batch_log", f"data_date IN ('{day}', '{day[:6]}')")
            .select(*cols).orderBy("ifcode", "data_date", "_batch_id").collect()]
    seen = {r["ifcode"] for r in rows if r["data_date"] == day}
    return rows, [c for c in daily if c not in seen]


def runs_of_day(spark: SparkSession, cfg: Config, day: str) -> list[dict]:
    """The job runs recorded for the data date (ops_run_audit), latest first."""
    if not io.table_exists(spark, cfg, "ops_run_audit"):
        return []
    cols = ["job_name", "status", "start_ts", "end_ts", "rows_in", "rows_out", "error_message"]
    return [r.asDict() for r in io.read(spark, cfg, "ops_run_audit", f"data_date IN ('{day}', '{day[:6]}')")
            .select(*cols).orderBy(F.col("start_ts").desc()).collect()]


def gather(spark: SparkSession, cfg: Config, day: str) -> ReportData:
    """Everything the report shows for data date `day`."""
    rc = cfg.section("report")
    codes = list(dict.fromkeys([c for c in cfg.section("metrics").headline
                                if cfg.section("metrics").metric(c)[0].period == "D"] + list(rc.extra_kpis)))
    days = window(day, rc.trend_days)
    goals = targets(spark, cfg, codes, day)
    limits = thresholds(spark, cfg, sorted({rc.thresholds[c] for c in codes if c in rc.thresholds}), day)
    values = kpi_values(spark, cfg, codes, days)
    catalog = cfg.section("metrics")
    kpis = [Kpi(catalog.metric(c)[1], catalog.metric(c)[0].name, values[c], limits.get(rc.thresholds.get(c, "")),
                goals.get(c, {})) for c in codes]
    cities = [(c.city_code, c.name_cn) for c in cfg.codes.cities] + [(PROVINCE, "全省")]
    data = ReportData(day, days, cities, kpis)
    data.dq_run, data.dq = dq_of_day(spark, cfg, day)
    data.batches, data.missing_batches = batches_of_day(spark, cfg, day)
    data.runs = runs_of_day(spark, cfg, day)
    return data
