"""Gold job (README §10.2, gold.md §0, operations.md §7): the theme summaries from current silver, within each
table's horizon, recomputing only the partitions that silver's changes can affect, writing only those that differ.

Affected partitions: every partition from the earliest silver partition changed since gold's last run (a day; the
first day of a changed month) up to the horizon, plus the days the horizon moved over. Outcomes are dated after
arrivals and MTD sums, backlogs, 30-day and year-to-date windows only look forward, so nothing before the earliest
change can move; nothing later is skipped. A table whose manual inputs changed is rebuilt in full."""
from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from csqm import audit, io
from csqm.config import Config
from csqm.errors import UsageError
from csqm.gold import engine
from csqm.gold.catalog import GoldTable
from csqm.months import between, shift
from csqm.pipeline.silver import AUDIT_COLS, CHANGES, write_changed
from csqm.pipeline.silver_incremental import read_watermark, save_watermark

CONSUMER = "gold"
# silver.md §0.6: the interfaces each silver table is loaded from (they make a daily gold table's horizon)
SILVER_FEEDS: dict[str, tuple[str, ...]] = {
    "slv_fault_event_d": ("FLT_TICKET",), "slv_complaint_event_d": ("CS_SHEET",), "slv_appeal_event_m": ("APPEAL",),
    "slv_escalation_event_m": ("ESCAL",), "slv_provision_order_d": ("SP_ORDER",),
    "slv_provision_step_d": ("SP_STEP",), "slv_contact_event_d": ("CC_CALL", "HALL_QUEUE", "EC_LOG"),
    "slv_echannel_contact_d": ("EC_LOG",), "slv_newuser_sms_callback_d": ("SMS_CALLBACK",),
    "slv_refund_event_d": ("BILL_ADJ",), "slv_proactive_task_d": ("OB_TASK",), "slv_subscriber_m": ("SUBS",),
    "slv_points_txn_d": ("PTS_TXN",), "slv_points_exch_d": ("PTS_EXCH",), "slv_points_balance_m": ("PTS_BAL",),
}
MONTH_CLOSE = ("SUBS", "PTS_BAL", "APPEAL", "ESCAL")   # HM: the latest month all four are loaded for


def module_of(table: str):
    """gld_<name> is built by csqm.gold.tables.<name>."""
    return importlib.import_module(f"csqm.gold.tables.{table[4:]}")


@dataclass(frozen=True)
class _Shim:
    """What write_changed needs of a table module."""

    TABLE: str
    PARTITION: str
    DDL: str


class MissingInput(UsageError, KeyError):
    """An input table that does not exist yet (a KeyError, so `.get()` treats an optional manual table as absent)."""

    def __str__(self) -> str:
        return str(self.args[0])


class SilverReader(Mapping[str, DataFrame]):
    """Silver (and manual) tables as they stand, read once per run, audit columns dropped."""

    def __init__(self, spark: SparkSession, cfg: Config):
        self.spark, self.cfg, self._cache, self._firsts = spark, cfg, {}, {}

    def __getitem__(self, table: str) -> DataFrame:
        if table not in self._cache:
            if not io.table_exists(self.spark, self.cfg, table):
                raise MissingInput(f"gold needs {table}, which does not exist yet: run silver (or upload it) first")
            df = io.read(self.spark, self.cfg, table)
            self._cache[table] = df.drop(*[c for c in (*AUDIT_COLS, "_batch_id") if c in df.columns])
        return self._cache[table]

    def first_partition(self, table: str) -> str | None:
        """The smallest day_id / month_id of a silver table (None if it is empty or missing), computed once."""
        if table not in self._firsts:
            col = "month_id" if table.endswith("_m") else "day_id"
            exists = io.table_exists(self.spark, self.cfg, table)
            self._firsts[table] = self[table].agg(F.min(col)).first()[0] if exists else None
        return self._firsts[table]

    def earliest_date(self, table: str, parts: list[str]) -> str | None:
        """The earliest business date (any ..day_id column) of the rows in these partitions of a daily silver table:
        an outcome dated before its arrival partition (inverted source times) is recomputed too."""
        if not table.endswith("_d") or not io.table_exists(self.spark, self.cfg, table):
            return None
        key = (table, tuple(sorted(set(parts))))
        if key not in self._firsts:
            df = self[table]
            cols = [c for c in df.columns if c.endswith("day_id")]
            self._firsts[key] = df.where(F.col("day_id").isin(list(key[1]))).agg(
                F.least(*[F.min(c) for c in cols]) if len(cols) > 1 else F.min(cols[0])).first()[0]
        return self._firsts[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cache)

    def __len__(self) -> int:
        return len(self._cache)


# ------------------------------------------------------------------ horizon (gold.md §0)
def loaded_dates(spark: SparkSession, cfg: Config) -> dict[str, list[str]]:
    """ifcode -> data dates of its currently LOADED batches, sorted."""
    if not io.table_exists(spark, cfg, "ops_batch_log"):
        return {}
    rows = (io.read(spark, cfg, "ops_batch_log", "status = 'LOADED'").groupBy("ifcode")
            .agg(F.sort_array(F.collect_set("data_date")).alias("d")).collect())
    return {r.ifcode: list(r.d) for r in rows}


@dataclass(frozen=True)
class Horizon:
    """H (day or month) and where backlogs start (L0, or the first source month); None = nothing loaded."""

    last: str | None
    backlog_from: str | None


def horizon(cfg: Config, t: GoldTable, loaded: Mapping[str, list[str]]) -> Horizon:
    feeds = {c for s in t.sources for c in SILVER_FEEDS.get(s, ())}
    if t.period == "D":
        days = [d for c in feeds if cfg.interface(c).freq == "D" for d in loaded.get(c, [])]
        return Horizon(max(days), min(days)) if days else Horizon(None, None)
    closed = set.intersection(*[set(loaded.get(c, [])) for c in MONTH_CLOSE])
    firsts = [min(loaded[c])[:6] for c in feeds if loaded.get(c)]
    return Horizon(max(closed) if closed else None, min(firsts) if firsts else None)


def cutoff(cfg: Config, last: str, period: str) -> str:
    """Gold retention (operations.md §3) counted back from the horizon: older partitions are never written."""
    first = shift(last[:6], -(cfg.retention.online_months["gold"] - 1))
    return first + ("01" if period == "D" else "")


def span(first: str, last: str, period: str) -> list[str]:
    """Every day (yyyymmdd) or month (yyyymm) from first to last."""
    if period == "M":
        return between(first, last)
    d0, d1 = (dt.datetime.strptime(x, "%Y%m%d").date() for x in (first, last))
    return [(d0 + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range((d1 - d0).days + 1)]


def _as_period(p: str, period: str) -> str:
    """A changed partition (day or month) as the first affected partition of a table of this period."""
    if period == "M":
        return p[:6]
    return p if len(p) == 8 else p + "01"


def _earliest(t: GoldTable, silver: SilverReader) -> str | None:
    """The earliest partition of the table's silver sources (objects accepted before L0 count on their days)."""
    firsts = [silver.first_partition(s) for s in t.sources if s.startswith("slv_")]
    firsts = [_as_period(v, t.period) for v in firsts if v]
    return min(firsts) if firsts else None


# ------------------------------------------------------------------ one run
@dataclass
class Plan:
    table: GoldTable
    parts: list[str]
    full: bool
    reason: str
    horizon: Horizon


def _changes_since(spark: SparkSession, cfg: Config, version: int | None) -> DataFrame | None:
    """ops_changed_partition rows added after `version` (None: everything); None if the table does not exist.

    The table only grows, by one append per silver or gold run, so the rows added after `version` are those of the
    runs that appended after it: selected by run_id, whose file statistics let Delta skip every other run's file
    (the table is never pruned). Should a commit after `version` be anything else, the two versions are compared."""
    if not io.table_exists(spark, cfg, CHANGES):
        return None
    cols = ("table_name", "partition")
    now = io.read(spark, cfg, CHANGES)
    if version is None:
        return now.select(*cols)
    runs = _appending_runs(spark, cfg, version)
    if runs is not None:
        return now.where(F.col("run_id").isin(runs) if runs else F.lit(False)).select(*cols)
    return now.select(*cols).exceptAll(io.read(spark, cfg, CHANGES, version=version).select(*cols))


def _appending_runs(spark: SparkSession, cfg: Config, version: int) -> list[str] | None:
    """The run ids of the commits after `version` when every one of them is a tagged append still in the log."""
    commits = io.commits_after(spark, cfg, CHANGES, version)
    if len(commits) != io.latest_version(spark, cfg, CHANGES) - version:
        return None
    if any(c["operation"] != "WRITE" or c["mode"] != "Append" or not c["run_id"] for c in commits):
        return None
    return sorted({c["run_id"] for c in commits})


def manual_versions(spark: SparkSession, cfg: Config, tables: list[GoldTable]) -> dict[str, int]:
    """Current versions of the manual and dimension tables the given gold tables read."""
    return io.latest_versions(spark, cfg, sorted({s for t in tables for s in t.sources
                                                  if s.startswith(("man_", "dim_"))}))


def plan_runs(spark: SparkSession, cfg: Config, tables: list[GoldTable], silver: SilverReader,
              full: bool, span_: tuple[str, str] | None, manual: Mapping[str, int]) -> list[Plan]:
    """Which partitions of each table to recompute, and why (`manual`: versions of its man_/dim_ inputs)."""
    loaded, wm = loaded_dates(spark, cfg), read_watermark(spark, cfg, CONSUMER)
    try:
        changes = _changes_since(spark, cfg, wm.get(CHANGES))
        changed_rows = changes.distinct().collect() if changes is not None else []
    except Exception as e:  # the watermark version can no longer be read (VACUUM / log retention)
        full, changed_rows = True, []
        why = f"changes since version {wm.get(CHANGES)} can no longer be read ({type(e).__name__})"
    else:
        why = ""
    touched: dict[str, list[str]] = {}
    for r in changed_rows:
        touched.setdefault(r.table_name, []).append(r.partition)
    plans = []
    for t in tables:
        h = horizon(cfg, t, loaded)
        if h.last is None:
            plans.append(Plan(t, [], False, "no horizon: its interfaces have no loaded batch", h))
            continue
        lo = cutoff(cfg, h.last, t.period)
        reason = why or ("full refresh" if full else "")
        if not reason and f"horizon:{t.name}" not in wm:
            reason = "first run"
        moved = [s for s in t.sources if s in manual and wm.get(f"{t.name}:{s}") != manual[s]]
        if not reason and moved:
            reason = f"{', '.join(moved)} changed"
        if span_:
            first, last = (_as_period(x, t.period) for x in span_)
            plans.append(Plan(t, span(max(first, lo), min(last, h.last), t.period), False,
                              f"range {span_[0]}..{span_[1]}", h))
        elif reason:
            first = _earliest(t, silver)
            parts = span(max(first, lo), h.last, t.period) if first and first <= h.last else []
            plans.append(Plan(t, parts, True, reason, h))
        else:
            hits = [_as_period(p, t.period) for s in t.sources if s in touched
                    for p in (min(touched[s]), silver.earliest_date(s, touched[s])) if p]
            prev = str(wm[f"horizon:{t.name}"])
            if h.last > prev:
                hits.append(span(prev, h.last, t.period)[1])
            first = min(hits) if hits else None
            parts = span(max(first, lo), h.last, t.period) if first and first <= h.last else []
            plans.append(Plan(t, parts, False, f"{len(hits)} changed input partitions" if hits else "no change", h))
    return plans


def build(cfg: Config, t: GoldTable, silver: Mapping[str, DataFrame], parts: list[str], h: Horizon) -> DataFrame:
    """The table's rows for the given partitions (pure but for reading silver through the mapping)."""
    module = module_of(t.name)
    w = engine.Window(tuple(parts), h.last, h.backlog_from)
    return engine.compute(t, populations(cfg, module, silver, parts), w, getattr(module, "finish", None))


def populations(cfg: Config, module, silver: Mapping[str, DataFrame], parts: Sequence[str]) -> dict[str, DataFrame]:
    """A table module's populations for the partitions being built; a module that needs configuration values or the
    partitions (to read only the source months they need) declares params(cfg, parts)."""
    kw = module.params(cfg, parts) if hasattr(module, "params") else {}
    return module.sources(silver, **kw)


def seed_dim_metric(spark: SparkSession, cfg: Config, run: audit.Run) -> None:
    """dim_metric is seeded from the catalog (gold.md §0): all of it while empty, later only the metric codes it
    lacks (a release that adds metrics); rows already there, uploaded or seeded, are never overwritten."""
    from csqm.gold.catalog import dim_metric_rows
    from csqm.manual.seed import seed_metrics

    rows = spark.createDataFrame(dim_metric_rows(cfg.section("metrics")),
                                 "metric_code STRING, name_cn STRING, gold_table STRING, kind STRING, scale STRING, "
                                 "unit STRING, date_basis STRING")
    v = seed_metrics(spark, cfg, rows, run.meta)
    if v is None:
        missing = rows.join(io.read(spark, cfg, "dim_metric").select("metric_code"), "metric_code", "left_anti")
        if not missing.isEmpty():
            v = seed_metrics(spark, cfg, missing, run.meta, only_if_empty=False)
    if v is not None:
        run.committed("dim_metric", v)


def run_gold(spark: SparkSession, cfg: Config, run: audit.Run, log: Callable[[str], None] = print,
             tables: list[str] | None = None, full_refresh: bool = False,
             span_: tuple[str, str] | None = None) -> dict[str, list[str]]:
    """Bring gold up to date with silver; returns the partitions written per table."""
    catalog = cfg.section("metrics")
    seed_dim_metric(spark, cfg, run)
    chosen = [catalog.table(n) for n in tables] if tables else list(catalog.tables.values())
    silver = SilverReader(spark, cfg)
    pinned, manual = io.latest_versions(spark, cfg, [CHANGES]), manual_versions(spark, cfg, chosen)
    plans = plan_runs(spark, cfg, chosen, silver, full_refresh or bool(tables), span_, manual)
    written: dict[str, list[str]] = {}
    marks: dict[str, int] = {}
    def one(p: Plan) -> tuple[Plan, list[str], audit.Run, float]:
        """Build and write one table on its own Run copy (same run_id), merged below: threads share no counters."""
        t0, mine = time.time(), replace(run, versions={}, rows_out=0)
        parts: list[str] = []
        if p.parts:
            df = build(cfg, p.table, silver, p.parts, p.horizon)
            shim = _Shim(p.table.name, p.table.partition, engine.ddl_of(p.table))
            parts = write_changed(spark, cfg, mine, shim, df, None if p.full else p.parts)
        return p, parts, mine, time.time() - t0

    with ThreadPoolExecutor(max_workers=cfg.env.gold_parallelism, thread_name_prefix="gold") as pool:
        for p, parts, mine, secs in pool.map(one, plans):
            t = p.table
            written[t.name] = parts
            run.versions.update(mine.versions)
            run.rows_out += mine.rows_out
            if p.horizon.last:
                marks[f"horizon:{t.name}"] = int(p.horizon.last)
            log(f"  {t.name:<28} {'FULL' if p.full else 'INCR'} ({p.reason}) {len(p.parts):>4} computed "
                f"{len(parts):>4} written  {secs:5.1f}s")
    _record(spark, cfg, run, written)
    marks.update({f"{p.table.name}:{s}": v for p in plans for s, v in manual.items() if s in p.table.sources})
    if CHANGES in pinned and not span_:
        marks[CHANGES] = pinned[CHANGES]
    save_watermark(spark, cfg, run, marks, read_watermark(spark, cfg, CONSUMER), CONSUMER)
    return written


def _record(spark: SparkSession, cfg: Config, run: audit.Run, written: dict[str, list[str]]) -> None:
    """Gold partitions this run rewrote go to ops_changed_partition too (lineage, dq)."""
    from csqm.pipeline.silver import _record_changes

    _record_changes(spark, cfg, run, {t: p for t, p in written.items() if p})
