"""Incremental silver run (README §10.1; silver.md §0.1, §0.3.4, §0.5): apply only the bronze batches loaded since the
last successful silver run, recompute exactly the silver rows they can affect, and give the same tables as a full
rebuild.

Watermark: ops_watermark holds, for consumer 'silver', the version every bronze table, dim_kpi_threshold and
man_appeal_bulletin had at the start of the last successful run, and the version of every silver table at its end.
It is MERGEd at the end of a successful run only, so a run that fails is simply redone (applying a batch twice
changes nothing).

Each table, in build order, runs in one of two modes:
  FULL  rebuilt from all of bronze and written partition by partition (silver.write_changed), as `--full-refresh` does
        for every table. Why: first run / no watermark for the table or one of its bronze inputs; the watermark version
        of a bronze input can no longer be read; an input or the table itself was changed outside the pipeline since
        the watermark (RESTORE, a `--table` run, a run that died half-way); dim_kpi_threshold changed; or an upstream
        silver table is FULL in this run. The reason is logged.
  INCR  the scope (csqm.silver.scope: changed keys, their window neighbours, cross-table and re-enrichment keys) is
        built from the bronze current state restricted to it (bronze is read whole, filtered by key) and compared
        row by row with the stored rows of the scope. Only if rows differ is the table written, in ONE replaceWhere of
        the partitions the changes touch: changed rows in their new version (a row whose business date changed moves
        partition), vanished keys (e.g. only in a replaced batch) dropped, the other rows of those partitions written
        back as they were. Monthly tables have a month scope and replace their changed months in one replaceWhere.

Changed bronze keys of an interface = the keys of the partitions whose batches (ops_batch_log LOADED / REPLACED rows)
were loaded after the watermark, as they are now and, for a partition that already held a batch at the watermark, as
they were then (time travel: rows of a replaced batch that disappeared). Cross-table inputs use the rows that changed
upstream in THIS run (old and new values), which is why a FULL table makes its dependents FULL.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from csqm import audit, io
from csqm.config import Config, InterfaceSpec
from csqm.months import shift
from csqm.pipeline import silver
from csqm.pipeline.silver import (
    AUDIT_COLS,
    BUILDERS,
    BULLETIN,
    SMALL_SCOPE_KEYS,
    THRESHOLDS,
    SilverInputs,
    write_changed,
)
from csqm.silver import scope as sc
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

WATERMARK = "ops_watermark"
WATERMARK_DDL = "consumer STRING, source_table STRING, version BIGINT, _run_id STRING, _load_ts TIMESTAMP"
CONSUMER = "silver"
BATCH_LOG = "ops_batch_log"
# commits that never change what silver derives: housekeeping, and the retention job's partition deletes (silver keeps
# the same window, operations.md §3)
HOUSEKEEPING_OPS = frozenset({"VACUUM START", "VACUUM END", "OPTIMIZE", "SET TBLPROPERTIES"})
RETENTION_JOB = "retention"
INGEST_JOB = "ingest"
SUB = subscriber.TABLE


@dataclass(frozen=True)
class Needs:
    """What a silver table is derived from (silver.md §0.6 and each table's section)."""

    bronze: tuple[str, ...]
    silver: tuple[str, ...] = ()
    thresholds: bool = False
    bulletin: bool = False


NEEDS: dict[str, Needs] = {
    subscriber.TABLE: Needs(("SUBS",)),
    refund.TABLE: Needs(("BILL_ADJ",), (SUB,), thresholds=True),
    complaint.TABLE: Needs(("CS_SHEET",), (SUB, refund.TABLE), thresholds=True),
    fault.TABLE: Needs(("FLT_TICKET",), (SUB, complaint.TABLE), thresholds=True),
    order.TABLE: Needs(("SP_ORDER", "SP_STEP"), (SUB,), thresholds=True),
    step.TABLE: Needs(("SP_STEP",), (order.TABLE,)),
    contact.TABLE: Needs(("CC_CALL", "HALL_QUEUE", "EC_LOG"), (SUB,)),
    echannel.TABLE: Needs(("EC_LOG",), (SUB,)),
    newuser.TABLE: Needs(("SMS_CALLBACK",), (SUB,)),
    proactive.TABLE: Needs(("OB_TASK",), (SUB, complaint.TABLE), thresholds=True),
    appeal.TABLE: Needs(("APPEAL",), (SUB, complaint.TABLE), bulletin=True),
    escalation.TABLE: Needs(("ESCAL",), (SUB, complaint.TABLE)),
    points_balance.TABLE: Needs(("PTS_BAL",)),
    points_txn.TABLE: Needs(("PTS_TXN",), (points_balance.TABLE,)),
    points_exch.TABLE: Needs(("PTS_EXCH",)),
}
# bronze columns kept of a changed row besides the key (an EC_LOG row names its session)
BRONZE_EXTRA = {"EC_LOG": ("channel_type", "session_id")}
# scope columns of a daily table when they are not its key: a step is recomputed with every step of its order
SCOPE_COLS = {step.TABLE: ("order_id",)}


class NeedFull(Exception):
    """An input cannot be applied incrementally; the message says why."""


def _keep(df: DataFrame) -> DataFrame:
    """Materialise a small intermediate (key sets, row changes) and cut its lineage."""
    return df.localCheckpoint(eager=True)


def _holding(rows: DataFrame, keys: DataFrame, cols: Sequence[str], part: str) -> DataFrame:
    """rows cut to the partitions that hold a row of the (small) key set: the semi join after it then reads every
    column of those partitions alone, not of the table's whole history (docs/bench.md, session 21)."""
    found = [r[0] for r in sc.partitions_holding(rows, keys, cols, part).collect()]
    return rows.where(sc.in_values(part, found))


def _few(keys: DataFrame | None) -> bool:
    """Whether a key set derived from materialised changes may be broadcast: a backlog's are millions (58 days of
    EC_LOG at SF0.1: 6.6 M changed rows, whose broadcast ran a 2g heap out)."""
    return keys is None or keys.count() <= SMALL_SCOPE_KEYS


# ---------------------------------------------------------------- restrictions handed to the builders


@dataclass
class KeyScope:
    """Restriction of a daily table: per interface, the bronze key values (csqm.silver.scope.restricted_current)."""

    frames: dict[str, DataFrame]
    small: bool = True

    def current(self, spec: InterfaceSpec, bronze: DataFrame) -> DataFrame:
        keys = self.frames[spec.ifcode]
        if self.small and set(keys.columns) <= set(spec.key):  # every batch holding a version of a key is kept
            bronze = _holding(bronze, keys, keys.columns, spec.partition_col)
        # materialised: the build reads it more than once (its rows, and the keys enrich matches snapshots on)
        return _keep(sc.restricted_current(bronze, spec.key, keys, self.small))

    def kept(self, module) -> DataFrame:
        raise ValueError(f"{module.TABLE}: kept() is for monthly snapshots")


@dataclass
class MonthScope:
    """Restriction of a monthly table: the snapshot months rebuilt; stored rows of other months stay."""

    months: list[str]
    stored: Callable[[object], DataFrame]
    small: bool = True  # the monthly scoped tables: regulator appeals and escalations (60 a month each at SF0.01)

    def current(self, spec: InterfaceSpec, bronze: DataFrame) -> DataFrame:
        return bronze.where(F.col(spec.partition_col).isin(self.months))

    def kept(self, module) -> DataFrame:
        return self.stored(module).where(~F.col(module.PARTITION).isin(self.months))


# ---------------------------------------------------------------- versions and watermark


def pin_versions(spark: SparkSession, cfg: Config) -> dict[str, int]:
    """The version of every bronze table, dim_kpi_threshold and man_appeal_bulletin that exists at the start.

    The run reads the latest state (a time-travel read rebuilds the snapshot: seconds per read), which can only
    be newer than these versions if a batch is loaded meanwhile; recording the start versions as the watermark
    is then conservative: the next run applies that batch again, and applying a batch twice changes nothing."""
    return io.latest_versions(spark, cfg, [cfg.interface(c).table for c in cfg.interfaces] + [THRESHOLDS, BULLETIN])


def read_watermark(spark: SparkSession, cfg: Config, consumer: str = CONSUMER) -> dict[str, int]:
    if not io.table_exists(spark, cfg, WATERMARK):
        return {}
    rows = io.read(spark, cfg, WATERMARK, f"consumer = '{consumer}'").select("source_table", "version").collect()
    return {r.source_table: int(r.version) for r in rows}


def save_watermark(spark: SparkSession, cfg: Config, run: audit.Run, versions: dict[str, int],
                   stored: dict[str, int], consumer: str = CONSUMER) -> None:
    """MERGE the versions that moved (nothing is written when none did)."""
    io.ensure_table(spark, cfg, WATERMARK, StructType.fromDDL(WATERMARK_DDL), (), run.meta)
    rows = [(consumer, t, v, run.run_id, audit.now()) for t, v in sorted(versions.items()) if stored.get(t) != v]
    if rows:
        df = spark.createDataFrame(rows, StructType.fromDDL(WATERMARK_DDL))
        run.committed(WATERMARK, io.merge_upsert(df, cfg, WATERMARK, ["consumer", "source_table"], run.meta))


def _foreign(commits: list[dict], allowed_jobs: Sequence[str]) -> dict | None:
    """The first commit that may have changed content outside the jobs silver follows."""
    for c in commits:
        if c["operation"] in HOUSEKEEPING_OPS or c["job"] == RETENTION_JOB or c["job"] in allowed_jobs:
            continue
        return c
    return None


# ---------------------------------------------------------------- bronze changes


@dataclass
class BronzeDelta:
    """Batches of one interface loaded after the watermark: their partitions, and (daily) the key + extra columns of
    those partitions' rows now and at the watermark version, materialised; rows None when nothing changed."""

    parts: list[str]
    rows: DataFrame | None = None


# ---------------------------------------------------------------- the run


@dataclass
class IncrementalRun:
    spark: SparkSession
    cfg: Config
    run: audit.Run
    log: Callable[[str], None]
    full_refresh: bool
    pins: dict[str, int] = field(default_factory=dict)
    wm: dict[str, int] = field(default_factory=dict)
    start: dict[str, int] = field(default_factory=dict)          # silver table -> version at the start
    inputs: SilverInputs | None = None
    full: dict[str, str] = field(default_factory=dict)           # tables rebuilt in full, with the reason
    changes: dict[str, DataFrame] = field(default_factory=dict)  # daily INCR tables: row changes written
    months: dict[str, list[str]] = field(default_factory=dict)   # monthly tables: months changed this run
    _deltas: dict[str, BronzeDelta | NeedFull] = field(default_factory=dict)
    _stored: dict[str, DataFrame] = field(default_factory=dict)
    _log_rows: list | None = None

    # ------------------------------------------------------------ inputs
    def stored(self, module) -> DataFrame:
        """The table as it stood at the start of the run (audit columns dropped)."""
        t = module.TABLE
        if t not in self._stored:
            self._stored[t] = io.read(self.spark, self.cfg, t).drop(*AUDIT_COLS)  # not yet written by this run
        return self._stored[t]

    def _batch_log(self) -> list:
        if self._log_rows is None:
            self._log_rows = [] if not io.table_exists(self.spark, self.cfg, BATCH_LOG) else (
                io.read(self.spark, self.cfg, BATCH_LOG,
                        "status IN ('LOADED', 'REPLACED') AND bronze_version IS NOT NULL")
                .select("ifcode", "data_date", "status", "bronze_version").collect())
        return self._log_rows

    def delta(self, ifcode: str) -> BronzeDelta:
        """Changes of an interface since the watermark; raises NeedFull when they cannot be known."""
        if ifcode not in self._deltas:
            try:
                self._deltas[ifcode] = self._delta(ifcode)
            except NeedFull as e:
                self._deltas[ifcode] = e
        d = self._deltas[ifcode]
        if isinstance(d, NeedFull):
            raise d
        return d

    def _delta(self, ifcode: str) -> BronzeDelta:
        spec = self.cfg.interface(ifcode)
        t = spec.table
        if t not in self.pins:
            if t in self.wm:
                raise NeedFull(f"{t} is gone")
            return BronzeDelta([])  # no batch loaded yet: empty, unchanged
        if t not in self.wm:
            raise NeedFull(f"no watermark for {t}")
        w, v = self.wm[t], self.pins[t]
        if w > v:
            raise NeedFull(f"{t} is at version {v}, before its watermark {w}")
        log = [(r.data_date, int(r.bronze_version)) for r in self._batch_log() if r.ifcode == ifcode]
        # every bronze commit of ingest is named by a batch-log row; only other versions need the history
        unlogged = set(range(w + 1, v + 1)) - {bv for _, bv in log}
        if unlogged:
            bad = _foreign(io.commits_after(self.spark, self.cfg, t, min(unlogged) - 1), [INGEST_JOB])
            if bad and bad["version"] <= v:
                raise NeedFull(f"{t} v{bad['version']} ({bad['operation']}, job {bad['job']}) "
                               "was not written by ingest")
        parts = sorted({d for d, bv in log if w < bv <= v})
        if not parts or spec.freq == "M":
            return BronzeDelta(parts)
        # a partition that held a batch at the watermark (now replaced) is also read as it was then
        then_parts = sorted({d for d, bv in log if bv <= w} & set(parts))
        cols = [*spec.key, *BRONZE_EXTRA.get(ifcode, ())]
        try:
            now = io.read(self.spark, self.cfg, t).where(F.col(spec.partition_col).isin(parts))
            then = (io.read(self.spark, self.cfg, t, version=w).where(F.col(spec.partition_col).isin(then_parts))
                    if then_parts else None)
            rows = _keep(sc.changed_bronze_rows(now, then, cols))
        except (PySparkException, Py4JJavaError) as e:
            first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
            raise NeedFull(f"{t} watermark version {w} can no longer be read ({first})") from e
        return BronzeDelta(parts, rows)

    def bronze_keys(self, ifcode: str, cols: Sequence[str]) -> sc.KeySet:
        rows = self.delta(ifcode).rows
        return None if rows is None else rows.select(*cols).distinct()

    def bronze_months(self, ifcode: str) -> list[str]:
        """Months of a monthly interface with a loaded batch (the batch log follows bronze retention): a month scope
        never reaches a month whose bronze is gone (silver monthly outlives bronze, operations.md §3)."""
        v = self.pins.get(self.cfg.interface(ifcode).table, -1)
        return sorted({r.data_date for r in self._batch_log()
                       if r.ifcode == ifcode and r.status == "LOADED" and int(r.bronze_version) <= v})

    def reenrich(self, module) -> sc.KeySet:
        return sc.reenrich_keys(self.stored(module), module.KEY, self.months.get(SUB) or [])

    # ------------------------------------------------------------ builds
    def build_on(self, module, build, keys: DataFrame, n_keys: int | None = None) -> DataFrame:
        """The table built on the current state of bronze restricted to the keys (and only those rows); n_keys is
        their count when the caller has it already."""
        cols = list(SCOPE_COLS.get(module.TABLE, module.KEY))
        ifcodes = NEEDS[module.TABLE].bronze
        if module.TABLE == contact.TABLE:
            frames = dict(sc.contact_sources(keys))
        else:
            frames = {c: keys.select(*cols) for c in ifcodes}
        small = (keys.count() if n_keys is None else n_keys) <= SMALL_SCOPE_KEYS
        self.inputs.scope = KeyScope(frames, small)
        try:
            df = build(self.inputs)
        finally:
            self.inputs.scope = None
        return sc.semi(df, keys.select(*cols), small=small)

    def closure(self, module, build, seeds: sc.KeySet, subject: Callable[[], Column],
                fixed: Sequence[sc.KeySet] = (), forward: tuple[Callable[[], Column], int] | None = None) -> sc.KeySet:
        """Seeds plus the stored rows sharing a window subject with a seed's old or new row, or with the stored row of a
        `fixed` key (one recomputed for a change that leaves its subject as stored: a re-enrichment, a related row).
        Every key in scope is rebuilt from bronze restricted to the scope, so one without its window neighbours would
        lose its repeat flags."""
        fixed_keys = sc.union_keys(list(fixed), module.KEY)
        if seeds is None and fixed_keys is None:
            return None
        rebuilt, n = None, 0
        if seeds is not None:
            seeds = _keep(seeds)
            n = seeds.count()
            rebuilt = self.build_on(module, build, seeds, n)
        if fixed_keys is not None:
            fixed_keys = _keep(fixed_keys)
            n += fixed_keys.count()
        every = sc.union_keys([seeds, fixed_keys], module.KEY)
        return sc.subject_closure(every, module.KEY, subject, self.stored(module), rebuilt, small=n <= SMALL_SCOPE_KEYS,
                                  forward=forward)

    # ------------------------------------------------------------ modes
    def full_reason(self, module) -> str | None:
        t, needs = module.TABLE, NEEDS[module.TABLE]
        if self.full_refresh:
            return "full refresh"
        if t not in self.start:
            return "new table"
        if t not in self.wm:
            return "no watermark"
        if self.start[t] != self.wm[t]:
            bad = _foreign(io.commits_after(self.spark, self.cfg, t, self.wm[t]), [])
            if self.start[t] < self.wm[t] or bad:
                what = f"v{bad['version']} {bad['operation']} by job {bad['job']}" if bad else "older version"
                return f"changed since the last successful silver run ({what})"
        up = next((u for u in needs.silver if u in self.full), None)
        if up:
            return f"upstream {up} rebuilt in full"
        if needs.thresholds and self.pins.get(THRESHOLDS) != self.wm.get(THRESHOLDS):
            return f"{THRESHOLDS} changed"
        for c in needs.bronze:
            try:
                self.delta(c)
            except NeedFull as e:
                return str(e)
        return None


# ---------------------------------------------------------------- scopes of the daily tables (INCR)

def _complaint_subject() -> Column:
    return F.coalesce(F.col("acc_nbr_hash"), F.concat(F.lit("C:"), F.col("cust_id")))


def _number_subject() -> Column:
    return F.col("acc_nbr_hash")


def _as(keys: sc.KeySet, name: str) -> sc.KeySet:
    return None if keys is None else keys.select(F.col(keys.columns[0]).alias(name))


def _scope_refund(r: IncrementalRun, build) -> sc.KeySet:
    return sc.union_keys([r.bronze_keys("BILL_ADJ", ["adj_id"]), r.reenrich(refund)], refund.KEY)


def _scope_complaint(r: IncrementalRun, build) -> sc.KeySet:
    # the repeat subject uses the enriched cust_id, so re-enriched sheets may change subject too
    seeds = sc.union_keys([r.bronze_keys("CS_SHEET", ["sheet_id"]), r.reenrich(complaint)], complaint.KEY)
    refunds = sc.changed_values(r.changes.get(refund.TABLE), "related_id", F.col("related_type") == "CMPL")
    return r.closure(complaint, build, seeds, _complaint_subject, [_as(refunds, "sheet_id")])


def _scope_fault(r: IncrementalRun, build) -> sc.KeySet:
    cmpl = sc.changed_values(r.changes.get(complaint.TABLE), "related_fault_id")
    return r.closure(fault, build, r.bronze_keys("FLT_TICKET", ["fault_id"]), _number_subject,
                     [r.reenrich(fault), _as(cmpl, "fault_id")])


def _scope_order(r: IncrementalRun, build) -> sc.KeySet:
    return sc.union_keys([r.bronze_keys("SP_ORDER", ["order_id"]), r.bronze_keys("SP_STEP", ["order_id"]),
                          r.reenrich(order)], order.KEY)


def _scope_step(r: IncrementalRun, build) -> sc.KeySet:
    orders = sc.changed_values(r.changes.get(order.TABLE), "order_id")
    return sc.union_keys([r.bronze_keys("SP_STEP", ["order_id"]), orders], ["order_id"])


def _scope_contact(r: IncrementalRun, build) -> sc.KeySet:
    ec = r.delta("EC_LOG").rows
    sessions = None if ec is None else sc.sessions_of(ec, r.inputs.bronze("EC_LOG"), small=_few(ec))
    seeds = sc.contact_ids(r.bronze_keys("CC_CALL", ["call_id"]), r.bronze_keys("HALL_QUEUE", ["ticket_id"]),
                           sessions)
    return r.closure(contact, build, seeds, _number_subject, [r.reenrich(contact)], forward=contact.FORWARD_WINDOW)


def _scope_echannel(r: IncrementalRun, build) -> sc.KeySet:
    return sc.union_keys([r.bronze_keys("EC_LOG", ["elog_id"]), r.reenrich(echannel)], echannel.KEY)


def _scope_newuser(r: IncrementalRun, build) -> sc.KeySet:
    return sc.union_keys([r.bronze_keys("SMS_CALLBACK", ["callback_id"]), r.reenrich(newuser)], newuser.KEY)


def _scope_proactive(r: IncrementalRun, build) -> sc.KeySet:
    numbers = sc.changed_values(r.changes.get(complaint.TABLE), "acc_nbr_hash")
    by_number = sc.keys_with_values(r.stored(proactive), proactive.KEY, "acc_nbr_hash", numbers, small=_few(numbers))
    return sc.union_keys([r.bronze_keys("OB_TASK", ["task_id"]), r.reenrich(proactive), by_number], proactive.KEY)


def _scope_points_txn(r: IncrementalRun, build) -> sc.KeySet:
    months = sc.with_next_months(r.months.get(points_balance.TABLE) or [])
    recity = None
    if months:  # stored rows of M and M+1 whose customer city C() moved with the new balances
        stored = r.stored(points_txn).where(sc.in_months("day_id", months))
        recity = points_txn.recity(stored, r.inputs.built[points_balance.TABLE])
    return sc.union_keys([r.bronze_keys("PTS_TXN", ["txn_id"]), recity], points_txn.KEY)


def _scope_points_exch(r: IncrementalRun, build) -> sc.KeySet:
    return r.bronze_keys("PTS_EXCH", ["exch_id"])


DAILY_SCOPES: dict[str, Callable[[IncrementalRun, Callable], sc.KeySet]] = {
    refund.TABLE: _scope_refund, complaint.TABLE: _scope_complaint, fault.TABLE: _scope_fault,
    order.TABLE: _scope_order, step.TABLE: _scope_step, contact.TABLE: _scope_contact,
    echannel.TABLE: _scope_echannel, newuser.TABLE: _scope_newuser, proactive.TABLE: _scope_proactive,
    points_txn.TABLE: _scope_points_txn, points_exch.TABLE: _scope_points_exch,
}


# ---------------------------------------------------------------- month scopes of the monthly tables (INCR)

def _month_scope(r: IncrementalRun, module) -> list[str]:
    """Months whose bronze partition changed, plus months an upstream change reaches (limited to months whose
    bronze is still there)."""
    ifcode = NEEDS[module.TABLE].bronze[0]
    own = r.delta(ifcode).parts
    reached: list[str] = []
    if module is subscriber:  # prev_offer_id of M+1
        reached = sc.with_next_months(own)
    elif module in (appeal, escalation):
        reached = [shift(m, 1) for m in r.months.get(SUB) or []]  # enriched from prev(M)
        cmpl = r.changes.get(complaint.TABLE)
        bulletin = NEEDS[module.TABLE].bulletin and r.pins.get(BULLETIN) != r.wm.get(BULLETIN)
        if bulletin or cmpl is not None:  # small tables: every retained month
            reached = reached + r.bronze_months(ifcode)
    present = set(r.bronze_months(ifcode))
    return sc.month_values([*own, *(m for m in reached if m in present)])


# ---------------------------------------------------------------- writing


def _write_rows(r: IncrementalRun, module, new: DataFrame, keys: DataFrame, n_keys: int) -> tuple[list[str], int]:
    """Compare the rebuilt rows of the scope with the stored ones and write the differing rows in one commit.

    The commit replaces exactly the partitions a change touches (the old partition of a changed or vanished row,
    the new partition of a changed or new row): their stored rows that did not change are written back as they
    were (audit columns included), the changed rows in their new version. A row whose business date changed thus
    moves partition; a key that is gone is deleted."""
    table, part, key = module.TABLE, module.PARTITION, list(module.KEY)
    scope_cols = list(SCOPE_COLS.get(table, key))
    cols = [f.name for f in StructType.fromDDL(module.DDL).fields]
    small = n_keys <= SMALL_SCOPE_KEYS
    stored = _holding(r.stored(module), keys, scope_cols, part) if small else r.stored(module)
    old = sc.semi(stored, keys, scope_cols, small=small)
    diff = _keep(sc.row_changes(old, new, key, cols))
    stats = diff.agg(F.count(F.lit(1)).alias("n"), F.count(F.col(sc.NEW)).alias("n_new"),
                     F.collect_set(F.col(f"{sc.OLD}.{part}")).alias("old_parts"),
                     F.collect_set(F.col(f"{sc.NEW}.{part}")).alias("new_parts")).first()
    if not stats.n:
        return [], 0
    r.changes[table] = diff
    touched = sorted(set(stats.old_parts) | set(stats.new_parts))
    where = f"{part} IN ({', '.join(repr(p) for p in touched)})"
    changed_keys = diff.select(*key)
    unchanged = io.read(r.spark, r.cfg, table, where).join(
        F.broadcast(changed_keys) if stats.n <= SMALL_SCOPE_KEYS else changed_keys, on=key, how="left_anti")
    changed = diff.where(F.col(sc.NEW).isNotNull()).select(
        *[F.col(f"{sc.NEW}.{c}").alias(c) for c in cols],
        F.lit(r.run.run_id).alias("_run_id"), F.lit(audit.now()).cast("timestamp").alias("_load_ts"))
    out = unchanged.select(*cols, *AUDIT_COLS).unionByName(changed)
    empty = not stats.n_new and unchanged.isEmpty()  # Delta commits nothing for an empty overwrite
    r.run.committed(table, io.replace_where(out, r.cfg, table, where, r.run.meta, empty=empty))
    r.run.rows_out += int(stats.n_new)
    return touched, int(stats.n)


# ---------------------------------------------------------------- entry point


def run_incremental(spark: SparkSession, cfg: Config, run: audit.Run, log: Callable[[str], None] = print,
                    full_refresh: bool = False) -> dict[str, list[str]]:
    """Bring every silver table up to date; returns table -> changed partitions (recorded in ops_changed_partition)."""
    r = IncrementalRun(spark, cfg, run, log, full_refresh)
    r.pins = pin_versions(spark, cfg)
    r.wm = {} if full_refresh else read_watermark(spark, cfg)
    r.start = io.latest_versions(spark, cfg, [m.TABLE for m, _ in BUILDERS])
    r.inputs = SilverInputs(spark, cfg, cfg.env.pii_salt)
    changed: dict[str, list[str]] = {}
    for module, build in BUILDERS:
        t0, table = time.time(), module.TABLE
        reason = r.full_reason(module)
        if reason is not None:
            r.full[table] = reason
            df = silver.build_full(r.inputs, build, NEEDS[table].bronze)
            parts = write_changed(spark, cfg, run, module, df)
            if module.PARTITION == "month_id":
                r.months[table] = parts
            what = f"FULL ({reason})"
        elif module.PARTITION == "month_id":
            months = _month_scope(r, module)
            parts = []
            if months:
                r.inputs.scope = MonthScope(months, r.stored)
                try:
                    df = build(r.inputs)
                finally:
                    r.inputs.scope = None
                parts = write_changed(spark, cfg, run, module, df, only=months)
            r.months[table] = parts
            what = f"INCR {len(months)} months in scope"
        else:
            keys = DAILY_SCOPES[table](r, build)
            parts, n_keys, n_rows = [], 0, 0
            if keys is not None:
                keys = _keep(keys)
                n_keys = keys.count()
            if n_keys:
                parts, n_rows = _write_rows(r, module, r.build_on(module, build, keys, n_keys), keys, n_keys)
            what = f"INCR {n_keys} keys in scope, {n_rows} rows changed"
        r.inputs.built[table] = io.read(spark, cfg, table).drop(*AUDIT_COLS)
        changed[table] = parts
        log(f"  {table:<28} {len(parts):>4} partitions changed  {time.time() - t0:5.1f}s  {what}")
    silver._record_changes(spark, cfg, run, changed)
    final = io.latest_versions(spark, cfg, [m.TABLE for m, _ in BUILDERS])
    save_watermark(spark, cfg, run, {**r.pins, **final}, read_watermark(spark, cfg))
    return changed
