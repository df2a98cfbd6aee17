"""Silver job: build the 15 silver tables from bronze in the build order of silver.md §0.6, write what changed."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from csqm import audit, io
from csqm.config import Config
from csqm.silver import common
from csqm.silver.tables import (
    appeal,
    complaint,
    contact,
    echannel,
    escalation,
    fault,
    newuser,
    order,
    points_balance,
    points_exch,
    points_txn,
    proactive,
    refund,
    step,
    subscriber,
)

THRESHOLDS = "dim_kpi_threshold"
BULLETIN = "man_appeal_bulletin"
BULLETIN_DDL = ("month_id STRING, appeal_id STRING, appeal_org STRING, city_code STRING, bulletin_ref STRING, "
                "entered_by STRING, entered_at TIMESTAMP, source_file STRING")
CHANGES = "ops_changed_partition"
CHANGES_DDL = "table_name STRING, partition STRING, run_id STRING, _load_ts TIMESTAMP"
AUDIT_COLS = ("_run_id", "_load_ts")
# a build of at most this many keys (an incremental scope) or bronze rows (a full build) is small: its key sets are
# broadcast and it enriches from the snapshot rows its events match; a bigger one (a month re-enriched after a late
# snapshot, a backlog of days) is joined by shuffle and joins every snapshot row of the months it refers to. A day of
# e-channel sessions at SF1 (1.18 M keys) is small: broadcast, its build took 50 s against 136 s (docs/bench.md)
SMALL_SCOPE_KEYS = 2_000_000


@dataclass
class SilverInputs:
    """Everything the builders read: current bronze state per interface, dims, manual tables, built silver.

    scope, when set, restricts the table being built to the keys an incremental run recomputes
    (csqm.pipeline.silver_incremental): cur() is then the current state of those keys only (over ALL batches of
    each key), and kept() the stored rows outside the scope."""

    spark: SparkSession
    cfg: Config
    salt: str
    built: dict[str, DataFrame] = field(default_factory=dict)
    scope: Any = None
    few_events: bool = False  # a full build whose bronze rows are few (build_full)
    _cur: dict[str, DataFrame] = field(default_factory=dict)

    def bronze(self, ifcode: str) -> DataFrame:
        spec = self.cfg.interface(ifcode)
        if not io.table_exists(self.spark, self.cfg, spec.table):
            from csqm.bronze.schemas import bronze_ddl

            return self.spark.createDataFrame([], StructType.fromDDL(bronze_ddl(spec)))
        return io.read(self.spark, self.cfg, spec.table)

    def cur(self, ifcode: str) -> DataFrame:
        """Current state per key over all loaded batches (sources.md §1.5); monthly: the snapshot rows."""
        spec = self.cfg.interface(ifcode)
        if self.scope is not None:
            return self.scope.current(spec, self.bronze(ifcode))
        if ifcode not in self._cur:
            df = self.bronze(ifcode)
            if spec.freq == "D":
                df = common.current_state(df, spec.key)
            self._cur[ifcode] = df
        return self._cur[ifcode]

    def kept(self, module) -> DataFrame:
        """Stored rows of the table being built that stay as they are (none in a full build)."""
        if self.scope is not None:
            return self.scope.kept(module)
        return _empty(self, module.DDL)

    def snapshots(self, table: str) -> common.Snapshots:
        """A built monthly snapshot table; a build scoped to few keys gets it marked so that it reads only the rows
        its events match."""
        snapshots = self.built[table]
        small = self.scope.small if self.scope is not None else self.few_events
        return common.ScopedSnapshots(snapshots) if small else snapshots

    def bronze_rows(self, ifcodes: Sequence[str]) -> int:
        """Rows of these interfaces' bronze tables (Delta counts them from its log): at least a full build's events."""
        return sum(self.bronze(c).count() for c in ifcodes)

    def subscribers(self) -> common.Snapshots:
        """slv_subscriber_m for enrichment."""
        return self.snapshots(subscriber.TABLE)

    def thresholds(self) -> DataFrame:
        return io.read(self.spark, self.cfg, THRESHOLDS)

    def bulletin(self) -> DataFrame:
        return io.read(self.spark, self.cfg, BULLETIN)


def _subscribers(i: SilverInputs) -> DataFrame:
    # prev_offer_id of M needs only offer_id/is_arrive of prev(M): from the bronze rows of the months being built,
    # from the stored table for the months outside an incremental run's scope
    cur = i.cur("SUBS")
    prev = subscriber.offers(cur).unionByName(i.kept(subscriber).select(*subscriber.PREV_COLS))
    # the first month of a lake, or after a gap, lends nothing: one probe instead of a join of the whole month
    return subscriber.build(cur=cur, prev=None if subscriber.lending(prev, cur).isEmpty() else prev, salt=i.salt)


def _empty(i: SilverInputs, ddl: str) -> DataFrame:
    return i.spark.createDataFrame([], StructType.fromDDL(ddl))


# Build order of silver.md §0.6; each entry: table module and how its inputs are wired.
BUILDERS: list[tuple[object, Callable[[SilverInputs], DataFrame]]] = [
    (subscriber, _subscribers),
    (refund, lambda i: refund.build(cur=i.cur("BILL_ADJ"), subscribers=i.subscribers(),
                                    thresholds=i.thresholds(), salt=i.salt)),
    (complaint, lambda i: complaint.build(cur=i.cur("CS_SHEET"), subscribers=i.subscribers(),
                                          thresholds=i.thresholds(), refunds=i.built["slv_refund_event_d"],
                                          salt=i.salt)),
    (fault, lambda i: fault.build(cur=i.cur("FLT_TICKET"), subscribers=i.subscribers(),
                                  thresholds=i.thresholds(), complaints=i.built["slv_complaint_event_d"],
                                  salt=i.salt)),
    (order, lambda i: order.build(cur=i.cur("SP_ORDER"), steps_cur=i.cur("SP_STEP"),
                                  subscribers=i.subscribers(), thresholds=i.thresholds(), salt=i.salt)),
    (step, lambda i: step.build(cur=i.cur("SP_STEP"), orders=i.built["slv_provision_order_d"])),
    (contact, lambda i: contact.build(calls=i.cur("CC_CALL"), halls=i.cur("HALL_QUEUE"), elogs=i.cur("EC_LOG"),
                                      subscribers=i.subscribers(), salt=i.salt)),
    (echannel, lambda i: echannel.build(cur=i.cur("EC_LOG"), subscribers=i.subscribers(),
                                        salt=i.salt)),
    (newuser, lambda i: newuser.build(cur=i.cur("SMS_CALLBACK"), subscribers=i.subscribers(),
                                      salt=i.salt)),
    (proactive, lambda i: proactive.build(cur=i.cur("OB_TASK"), subscribers=i.subscribers(),
                                          thresholds=i.thresholds(), complaints=i.built["slv_complaint_event_d"],
                                          salt=i.salt)),
    (appeal, lambda i: appeal.build(cur=i.cur("APPEAL"), bulletin=i.bulletin(),
                                    complaints=i.built["slv_complaint_event_d"],
                                    subscribers=i.subscribers(), salt=i.salt)),
    (escalation, lambda i: escalation.build(cur=i.cur("ESCAL"), complaints=i.built["slv_complaint_event_d"],
                                            subscribers=i.subscribers(), salt=i.salt)),
    (points_balance, lambda i: points_balance.build(cur=i.cur("PTS_BAL"), salt=i.salt)),
    (points_txn, lambda i: points_txn.build(cur=i.cur("PTS_TXN"),
                                            balances=i.snapshots(points_balance.TABLE))),
    (points_exch, lambda i: points_exch.build(cur=i.cur("PTS_EXCH"), salt=i.salt)),
]


def ensure_reference(spark: SparkSession, cfg: Config, run: audit.Run) -> None:
    """dim_kpi_threshold, dim_city and dim_code are seeded from conf/ at deployment (here: the first silver run of a
    new lake); man_appeal_bulletin starts empty (operations.md §1)."""
    from csqm.manual.seed import seed_reference

    seed_reference(spark, cfg, run)  # only tables still empty: uploads are never overwritten
    io.ensure_table(spark, cfg, BULLETIN, StructType.fromDDL(BULLETIN_DDL), (), run.meta)


def _fingerprint(df: DataFrame, part: str) -> dict[str, tuple[int, int]]:
    """Per partition: rows and an order-free checksum of the content (audit columns left out)."""
    cols = [c for c in df.columns if c not in AUDIT_COLS]
    agg = (df.groupBy(part).agg(F.count(F.lit(1)).alias("n"),
                                F.sum(F.xxhash64(*cols).cast("decimal(38,0)")).alias("h")).collect())
    return {r[part]: (int(r.n), int(r.h)) for r in agg}


def write_changed(spark: SparkSession, cfg: Config, run: audit.Run, module, new: DataFrame,
                  only: list[str] | None = None) -> list[str]:
    """Replace only the partitions whose content differs from what is stored; return them (for gold).
    only: compare just these partitions (new holds no other), leaving the rest of the table alone; without it (a full
    rebuild) stored partitions older than the earliest new one are kept."""
    table, part = module.TABLE, module.PARTITION
    schema = StructType.fromDDL(f"{module.DDL}, _run_id STRING, _load_ts TIMESTAMP")
    io.ensure_table(spark, cfg, table, schema, [part], run.meta)
    stored = io.read(spark, cfg, table)
    if only is not None:
        if not only:
            return []
        stored = stored.where(F.col(part).isin(only))
    old = _fingerprint(stored, part)
    if not old:
        return _write_all(spark, cfg, run, module, new, only)
    new = new.persist(StorageLevel.DISK_ONLY)  # a full build of a month of SUBS is millions of rows: not in the heap
    try:
        fresh = _fingerprint(new, part)
        if only is None and fresh:
            # a rebuild from what is online keeps the partitions older than its earliest one (bronze keeps 13
            # months, monthly silver and gold 36: retired sources must not take their results with them)
            old = {p: v for p, v in old.items() if p >= min(fresh)}
        changed = sorted(p for p in set(old) | set(fresh) if old.get(p) != fresh.get(p))
        if changed and not any(p in fresh for p in changed):
            run.committed(table, io.delete_rows(spark, cfg, table, _in_parts(part, changed), run.meta))
        elif changed:
            out = _audited(new.where(F.col(part).isin(changed)), run)
            run.committed(table, io.replace_where(out, cfg, table, _in_parts(part, changed), run.meta))
            run.rows_out += sum(fresh.get(p, (0, 0))[0] for p in changed)
        return changed
    finally:
        new.unpersist()


def _in_parts(part: str, parts: list[str]) -> str:
    """The predicate of a write or delete of these partitions."""
    listed = ", ".join(f"'{p}'" for p in parts)
    return f"{part} IN ({listed})"


def _audited(df: DataFrame, run: audit.Run) -> DataFrame:
    """Rows as written: the build plus the run's audit columns (AUDIT_COLS)."""
    return df.select("*", F.lit(run.run_id).alias("_run_id"), F.lit(audit.now()).cast("timestamp").alias("_load_ts"))


def _write_all(spark: SparkSession, cfg: Config, run: audit.Run, module, new: DataFrame,
               only: list[str] | None) -> list[str]:
    """write_changed when nothing is stored to compare with (a new table, a new month): every partition of new is
    new, so it is written in one pass, without caching and fingerprinting it first; returns its partitions."""
    table, part = module.TABLE, module.PARTITION
    where = "true" if only is None else _in_parts(part, only)
    before = io.latest_version(spark, cfg, table)
    version, rows = io.replace_where_counted(_audited(new, run), cfg, table, where, run.meta)
    if version == before:  # no row, no commit
        return []
    run.committed(table, version)
    run.rows_out += rows
    return io.commit_partitions(spark, cfg, table, version, part)


def run_silver(spark: SparkSession, cfg: Config, run: audit.Run, log: Callable[[str], None] = print,
               tables: list[str] | None = None, full_refresh: bool = False) -> dict[str, list[str]]:
    """Bring silver up to date; returns table -> changed partitions (also recorded in ops_changed_partition).

    Default: incremental (csqm.pipeline.silver_incremental): only the keys the batches loaded since the last
    run can affect are recomputed; the first run, and full_refresh, rebuild every table from all of bronze.
    tables: rebuild just these tables in full (the others are built in memory as their inputs, not written);
    the watermark is left alone, so the next incremental run rebuilds them and their dependents in full."""
    ensure_reference(spark, cfg, run)
    if tables:
        return _run_tables(spark, cfg, run, log, tables)
    from csqm.pipeline.silver_incremental import run_incremental

    return run_incremental(spark, cfg, run, log, full_refresh=full_refresh)


def build_full(inputs: SilverInputs, build: Callable[[SilverInputs], DataFrame],
               ifcodes: Sequence[str] = ()) -> DataFrame:
    """A table from all of bronze (no scope). When its interfaces' bronze rows are few (a monthly interface of a few
    hundred rows, a lake's first days) it enriches as a small scope does, from the snapshot rows its events match,
    instead of shuffling every snapshot row of the months they refer to (20 M at SF1)."""
    inputs.scope = None
    inputs.few_events = bool(ifcodes) and inputs.bronze_rows(ifcodes) <= SMALL_SCOPE_KEYS
    try:
        return build(inputs)
    finally:
        inputs.few_events = False


def _run_tables(spark: SparkSession, cfg: Config, run: audit.Run, log: Callable[[str], None],
                tables: list[str]) -> dict[str, list[str]]:
    """Full build of every table in build order, writing only the named ones."""
    from csqm.pipeline.silver_incremental import NEEDS

    inputs = SilverInputs(spark, cfg, cfg.env.pii_salt)
    changed: dict[str, list[str]] = {}
    for module, build in BUILDERS:
        t0 = time.time()
        df = build_full(inputs, build, NEEDS[module.TABLE].bronze)
        inputs.built[module.TABLE] = df
        if module.TABLE not in tables:
            continue
        parts = write_changed(spark, cfg, run, module, df)
        inputs.built[module.TABLE] = io.read(spark, cfg, module.TABLE).drop(*AUDIT_COLS)
        changed[module.TABLE] = parts
        log(f"  {module.TABLE:<28} {len(parts):>4} partitions changed  {time.time() - t0:5.1f}s")
    _record_changes(spark, cfg, run, changed)
    return changed


def _record_changes(spark: SparkSession, cfg: Config, run: audit.Run, changed: dict[str, list[str]]) -> None:
    """ops_changed_partition: which silver partitions this run rewrote, so gold recomputes only those."""
    rows = [(t, p, run.run_id, audit.now()) for t, ps in changed.items() for p in ps]
    io.ensure_table(spark, cfg, CHANGES, StructType.fromDDL(CHANGES_DDL), (), run.meta)
    if rows:
        io.append(spark.createDataFrame(rows, StructType.fromDDL(CHANGES_DDL)), cfg, CHANGES, run.meta)
