"""Helpers for the data-science notebooks (notebooks/*.ipynb): open the lake an environment variable names, roll gold
up with the catalog's rules, compute the hotline calibers by hour, and explain a KPI's change between versions, so a
notebook holds only calls and plots, never a copy of a caliber."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from csqm.config import PROJECT_ROOT, Config, load_config

LAKE_ENV = "CSQM_LAKE_ROOT"            # default: the demo lake data/demo/lake
MASTER_ENV = "CSQM_SPARK_MASTER"       # e.g. local[1] for a small machine
SHUFFLE_ENV = "CSQM_SHUFFLE_PARTITIONS"
DEMO_LAKE = PROJECT_ROOT / "data" / "demo" / "lake"


def open_lake(lake_root: str | None = None):
    """(spark, cfg) for the lake given (or $CSQM_LAKE_ROOT, or the demo lake); $CSQM_SPARK_MASTER and
    $CSQM_SHUFFLE_PARTITIONS shrink the session for a laptop or a test."""
    from csqm.session import get_spark

    root = lake_root or os.environ.get(LAKE_ENV) or str(DEMO_LAKE)
    cfg = load_config(overrides={"lake_root": root})
    env = cfg.env
    if os.environ.get(MASTER_ENV):
        env = replace(env, master=os.environ[MASTER_ENV])
    n = os.environ.get(SHUFFLE_ENV)
    extra = {"spark.ui.enabled": "false"}
    if n:
        extra.update({"spark.sql.shuffle.partitions": n, "spark.default.parallelism": n,
                      "spark.databricks.delta.snapshotPartitions": "1", "spark.sql.adaptive.enabled": "false"})
    return get_spark(env, extra), replace(cfg, env=env)


def rows(df, limit: int | None = None) -> list[dict]:
    """A small frame as a list of dicts (the notebooks do not need pandas)."""
    return [r.asDict() for r in (df.limit(limit) if limit else df).collect()]


def days_of(spark, cfg: Config, table: str) -> list[str]:
    """The partitions (day_id / month_id) a gold table holds, sorted."""
    from csqm import io

    t = cfg.section("metrics").table(table)
    if not io.table_exists(spark, cfg, table):
        return []
    return sorted(r[0] for r in io.read(spark, cfg, table).select(t.partition).distinct().collect())


def rolled(spark, cfg: Config, table: str, keep: Sequence[str], where: str | None = None, version: int | None = None):
    """A gold table (optionally filtered, optionally as of a version) rolled up to `keep` by the gold.md rules."""
    from csqm import io
    from csqm.gold.rollup import rollup

    t = cfg.section("metrics").table(table)
    return rollup(io.read(spark, cfg, table, where, version=version), t, list(keep))


def complaints_by_city_phenomenon(spark, cfg: Config, first: str, last: str):
    """Complaint counts per city and phenomenon (cmpl_phen_l1) over [first, last] (gld_complaint_d)."""
    return rolled(spark, cfg, "gld_complaint_d", ["city_code", "cmpl_phen_l1"],
                  f"day_id BETWEEN '{first}' AND '{last}'").select("city_code", "cmpl_phen_l1", "cmpl_cnt")


def daily_series(spark, cfg: Config, table: str, code: str, by: str | None = None) -> dict[str, list[tuple]]:
    """{group: [(day_id, value), ...]} of one metric per day (and per `by`, e.g. city_code), by the roll-up rules."""
    m = next(m for m in cfg.section("metrics").table(table).metrics if m.code == code)
    col = f"{code.lower()}_rate" if m.kind == "RATIO" else code.lower()
    keep = ["day_id", by] if by else ["day_id"]
    out: dict[str, list[tuple]] = {}
    for r in rolled(spark, cfg, table, keep).select(*keep, col).orderBy(*keep).collect():
        out.setdefault(r[by] if by else "全省", []).append((r.day_id, r[col]))
    return out


def escalations_by_city(spark, cfg: Config):
    """gld_escalation_m per month, city and escalation kind; None while no month has closed (no table yet)."""
    from csqm import io

    if not io.table_exists(spark, cfg, "gld_escalation_m"):
        return None
    return rolled(spark, cfg, "gld_escalation_m", ["month_id", "city_code", "esc_kind"])


def hotline_by_hour(spark, cfg: Config, first: str, last: str):
    """The 10000-hotline calibers of gld_hotline_10000_d computed per hour of the call start and city over
    [first, last]: the same catalog entries and engine, with call_hour added to the grain, then summed over days.
    Repeat-call rate = 1 − HL_FCR (calls answered and followed by another call within 48 h)."""
    from pyspark.sql import functions as F

    from csqm import io
    from csqm.gold import engine
    from csqm.gold.rollup import rollup
    from csqm.gold.tables import hotline_10000_d as hl

    t = cfg.section("metrics").table(hl.TABLE)
    silver = io.read(spark, cfg, "slv_contact_event_d", f"day_id BETWEEN '{first}' AND '{last}'")
    pop = {k: v.withColumn("call_hour", F.date_format("start_time", "HH")) for k, v in
           hl.sources({"slv_contact_event_d": silver}).items()}
    by_hour = replace(t, grain=("day_id", "city_code", "call_hour"))
    parts = tuple(r[0] for r in silver.select("day_id").distinct().orderBy("day_id").collect())
    df = engine.compute(by_hour, pop, engine.Window(parts, last, None))
    out = rollup(df, by_hour, ["call_hour", "city_code"])
    return out.select("call_hour", "city_code", "hl_inbound_cnt", "hl_sl20_rate", "hl_asa_rate",
                      (1 - F.col("hl_fcr_rate")).alias("repeat_rate"), "hl_fcr_num", "hl_fcr_den")


def republished(spark, cfg: Config, table: str) -> list[str]:
    """Partitions of a table written by more than one run (ops_changed_partition), i.e. changed after their first
    publication, sorted; empty when every partition was written once."""
    from pyspark.sql import functions as F

    from csqm import io

    if not io.table_exists(spark, cfg, "ops_changed_partition"):
        return []
    part = F.regexp_extract("partition", r"(\d{6,8})$", 1)
    df = (io.read(spark, cfg, "ops_changed_partition").where(F.col("table_name") == table)
          .groupBy(part.alias("p")).agg(F.countDistinct("run_id").alias("runs")).where("runs > 1"))
    return sorted(r.p for r in df.collect())


def published_vs_now(spark, cfg: Config, table: str, where: str):
    """(first version holding the partition, latest version, per-key/metric differences, the runs that committed
    the versions in between): "the KPI as first published versus today, and why it changed"."""
    from csqm import io, timetravel

    hist = rows(timetravel.versions(spark, cfg, table).select("version", "timestamp", "operation", "run_id", "job"))
    first = next(h["version"] for h in sorted(hist, key=lambda h: h["version"])
                 if not io.read(spark, cfg, table, where, version=h["version"]).isEmpty())
    latest = max(h["version"] for h in hist)
    diff = timetravel.compare_versions(spark, cfg, table, first, None, where)
    later = [h for h in hist if h["version"] > first]
    return first, latest, diff, later, runs_of([h["run_id"] for h in later if h["run_id"]], spark, cfg)


def runs_of(run_ids: Sequence[str], spark, cfg: Config) -> list[dict]:
    """ops_run_audit rows of these runs: job, data date, parameters, status (why a version was written)."""
    from pyspark.sql import functions as F

    from csqm import io

    if not run_ids or not io.table_exists(spark, cfg, "ops_run_audit"):
        return []
    df = io.read(spark, cfg, "ops_run_audit").where(F.col("run_id").isin(list(run_ids)))
    return rows(df.select("run_id", "job_name", "data_date", "params", "status", "start_ts").orderBy("start_ts"))


def plot_series(series: dict[str, list[tuple]], title: str, ylabel: str, highlight: str | None = None):
    """A matplotlib figure with one line per group (the highlighted one thick)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name, pts in series.items():
        xs, ys = [p[0][4:] for p in pts], [p[1] for p in pts]
        ax.plot(xs, ys, marker="o", linewidth=2.5 if name == highlight else 1, label=name)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if len(series) <= 20:
        ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    plt.close(fig)          # shown once, as the cell's value, not again by the inline backend
    return fig


def plot_bars(labels: Sequence[str], values: Sequence[float | None], title: str, ylabel: str):
    """A bar chart (e.g. per hour)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3))
    ax.bar(list(labels), [0 if v is None else v for v in values])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    plt.close(fig)
    return fig


__all__ = ["open_lake", "rows", "days_of", "rolled", "complaints_by_city_phenomenon", "daily_series",
           "escalations_by_city", "hotline_by_hour", "republished", "published_vs_now", "runs_of", "plot_series",
           "plot_bars"]
