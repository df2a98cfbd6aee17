"""DQ job (operations.md §6): run the conf/quality.yaml rules on what the runs of a date/month touched, append the
outcomes to ops_dq_result, fail the run when an ERROR rule fails."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from csqm import audit, io
from csqm.config import Config
from csqm.errors import JobFailed
from csqm.quality import checks
from csqm.quality.result import DqOutcome

TABLE = "ops_dq_result"
DQ_DDL = ("run_id STRING, rule_id STRING, table_name STRING, partition STRING, severity STRING, passed BOOLEAN, "
          "observed STRING, expected STRING, detail STRING, run_day STRING")
MAX_LISTED = 10


def silver_keys() -> dict[str, tuple[str, ...]]:
    """DQ01 keys: the KEY of every silver table module (silver.md §0.6)."""
    from csqm.pipeline.silver import BUILDERS

    return {m.TABLE: tuple(m.KEY) for m, _ in BUILDERS}


def gold_grains(cfg: Config) -> dict[str, tuple[str, ...]]:
    """DQ02 grains from the gold catalog, when the gold package is installed."""
    try:
        from csqm.gold.catalog import grains
    except ModuleNotFoundError:
        return {}
    return {t: tuple(g) for t, g in grains(cfg)}


def reconcile(spark: SparkSession, cfg: Config, days: list[str], months: list[str]) -> list[DqOutcome]:
    """DQ04: the gold reconciliation identities (csqm.gold.reconcile), when that module exists."""
    try:
        from csqm.gold.reconcile import check
    except ModuleNotFoundError:
        return []
    return list(check(spark, cfg, days, months))


def scope(spark: SparkSession, cfg: Config, date: str | None, month: str | None) -> checks.Scope:
    """Per silver/gold table: the partition of the date/month (tables of that grain) plus every partition that a run
    of that data date recorded in ops_changed_partition."""
    key, grain = (date, "_d") if date else (month, "_m")
    tables = [t for layer in ("silver", "gold") for t in io.tables_in_layer(cfg, layer)]
    parts: dict[str, set[str]] = {t: ({key} if t.endswith(grain) else set()) for t in tables}
    if io.table_exists(spark, cfg, "ops_changed_partition") and io.table_exists(spark, cfg, audit.TABLE):
        runs = io.read(spark, cfg, audit.TABLE).where(F.col("data_date") == key).select("run_id")
        for r in (io.read(spark, cfg, "ops_changed_partition").join(runs, "run_id", "left_semi")
                  .select("table_name", "partition").distinct().collect()):
            if r.table_name in parts:
                parts[r.table_name].add(r.partition)
    return checks.Scope(spark, cfg, date, month, {t: sorted(p) for t, p in parts.items()})


def _rule_outcomes(spark: SparkSession, cfg: Config, s: checks.Scope, rule) -> list[DqOutcome]:
    """One rule over the scope: one small Spark job (DQ04: the reconciliation identities)."""
    if rule.check == "reconcile":
        return reconcile(spark, cfg, [s.date] if s.date else [], [s.month] if s.month else [])
    if rule.check == "key_unique":
        df = checks.key_unique(s, rule, silver_keys())
    elif rule.check == "grain":
        df = checks.grain(s, rule, gold_grains(cfg))
    else:
        df = checks.KINDS[rule.check](s, rule)
    return [DqOutcome(rule.id, r.table_name, r.partition or "", rule.severity, bool(r.passed), r.observed or "",
                      r.expected or "", r.detail or "") for r in df.collect()]


def evaluate(spark: SparkSession, cfg: Config, s: checks.Scope) -> list[DqOutcome]:
    """Every rule of conf/quality.yaml over the scope, a few rules at a time (dq.parallelism threads, one session).

    One job per rule: a single union of every rule over every table makes a plan so large that Spark spends minutes
    analysing it. Table checks come sorted (rule, table, partition), the reconciliation identities after them."""
    rules = list(cfg.section("quality").values())
    with ThreadPoolExecutor(max_workers=cfg.env.dq_parallelism, thread_name_prefix="dq") as pool:
        per_rule = list(pool.map(lambda r: _rule_outcomes(spark, cfg, s, r), rules))
    table, recon = [], []
    for rule, got in zip(rules, per_rule, strict=True):
        (recon if rule.check == "reconcile" else table).extend(got)
    return sorted(table, key=lambda o: (o.rule_id, o.table_name, o.partition)) + recon


def write(spark: SparkSession, cfg: Config, run: audit.Run, outcomes: list[DqOutcome]) -> None:
    """Append the outcomes to ops_dq_result (partition run_day)."""
    schema = StructType.fromDDL(DQ_DDL)
    io.ensure_table(spark, cfg, TABLE, schema, ["run_day"], run.meta)
    if not outcomes:
        return
    day = run.start_ts.strftime("%Y%m%d")
    rows = [(run.run_id, o.rule_id, o.table_name, o.partition, o.severity, o.passed, o.observed, o.expected,
             o.detail, day) for o in outcomes]
    run.committed(TABLE, io.append(spark.createDataFrame(rows, schema), cfg, TABLE, run.meta))


def run_dq(spark: SparkSession, cfg: Config, run: audit.Run, date: str | None, month: str | None) -> list[DqOutcome]:
    """Evaluate, record, then raise JobFailed naming every failed ERROR rule (rule, table, partition, observed,
    expected)."""
    outcomes = evaluate(spark, cfg, scope(spark, cfg, date, month))
    write(spark, cfg, run, outcomes)
    run.rows_in, run.rows_out = len(outcomes), sum(not o.passed for o in outcomes)
    errors = [o for o in outcomes if o.failed_error]
    if errors:
        listed = "; ".join(o.message() for o in errors[:MAX_LISTED])
        more = f"; and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
        raise JobFailed(f"{len(errors)} ERROR check(s) failed: {listed}{more}")
    return outcomes


def run_dq_job(spark: SparkSession, cfg: Config, *, date: str | None, month: str | None) -> audit.Run:
    from csqm.pipeline.jobs import _audited, _print_run

    t0, found = time.time(), {}
    print(f"dq {date or month}:")

    def step(run: audit.Run) -> str:
        found["o"] = run_dq(spark, cfg, run, date, month)
        return "SUCCESS"

    run = _audited(spark, cfg, "dq", {"date": date, "month": month}, date or month, step)
    for o in found["o"]:
        if not o.passed:
            print(f"  {o.severity:<5} {o.message()}")
    _print_run(run, t0)
    return run
