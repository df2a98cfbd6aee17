"""Ingest job: validate every complete new batch in landing and load it into bronze (sources.md §1–§3)."""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from csqm import audit, io
from csqm.bronze import control, parse, schemas
from csqm.config import Config, InterfaceSpec

BATCH_LOG = "ops_batch_log"
QUARANTINE = "ops_quarantine"


@dataclass
class BatchResult:
    """What happened to one batch (one row of ops_batch_log)."""

    ifcode: str
    data_date: str
    status: str
    reason: str | None = None
    batch_id: str | None = None
    rows_total: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    rows_dup: int | None = None
    detail: str = ""


@dataclass
class IngestSummary:
    results: list[BatchResult] = field(default_factory=list)
    late: list[tuple[str, str]] = field(default_factory=list)  # (ifcode, folder) still WAITING past the limit

    def by_status(self, status: str) -> list[BatchResult]:
        return [r for r in self.results if r.status == status]


@dataclass(frozen=True)
class Pending:
    """A batch that passed the control-file checks and waits to be read."""

    date: str
    folder: Path
    chk_name: str
    dec: control.Decision
    sha: str
    state: FolderState | None


@dataclass(frozen=True)
class FolderState:
    """What ops_batch_log knows of one landing folder."""

    last_sha: str | None
    waiting: bool
    loaded: control.LoadedBatch | None
    waiting_since: dt.datetime | None = None


def _folder_states(spark: SparkSession, cfg: Config,
                   work: Mapping[str, list[str]]) -> dict[tuple[str, str], FolderState]:
    """One small read of ops_batch_log for the landing folders in scope (work: ifcode -> folder dates), pruned to
    their data_date partitions: the log keeps 13 months, landing 90 days (operations.md §3)."""
    dates = sorted({d for folders in work.values() for d in folders})
    if not dates or not io.table_exists(spark, cfg, BATCH_LOG):
        return {}
    codes = ", ".join(f"'{c}'" for c in work)
    listed = ", ".join(f"'{d}'" for d in dates)
    rows = (io.read(spark, cfg, BATCH_LOG, f"data_date IN ({listed}) AND ifcode IN ({codes})")
            .select("ifcode", "data_date", "status", "_batch_id", "files", "chk_sha256", "_load_ts", "detail")
            .collect())
    by_folder: dict[tuple[str, str], list] = {}
    for r in rows:
        by_folder.setdefault((r.ifcode, r.data_date), []).append(r)
    out = {}
    for k, rs in by_folder.items():
        acted = sorted((r for r in rs if r.chk_sha256), key=lambda r: r._load_ts)
        loaded = next((r for r in rs if r.status == "LOADED"), None)
        lb = None
        if loaded is not None:
            files = tuple(tuple(x.split("|")) for x in loaded.files)
            lb = control.LoadedBatch(loaded._batch_id, int(loaded._batch_id[-3:]),
                                     tuple((n, int(s), int(c)) for n, s, c in files))
        waiting = next((r for r in rs if r.status == "WAITING"), None)
        out[k] = FolderState(acted[-1].chk_sha256 if acted else None, waiting is not None, lb,
                             waiting._load_ts if waiting else None)
    return out


def _by_date(values: dict[str, str]) -> Column:
    """A per-batch constant for rows of several batches checked together (keyed by their data date)."""
    out = F.lit(None).cast("string")
    for date, v in values.items():
        out = F.when(F.col("_data_date") == date, F.lit(v)).otherwise(out)
    return out


def _raw_only_if_bad(checked: DataFrame) -> DataFrame:
    """Flag quarantined rows (_bad) and keep the raw line only for them: three copies of every line would triple
    what is kept on disk, and good rows go to bronze as typed fields."""
    bad = F.col("reason_code").isNotNull()
    raw = {c: F.when(bad, F.col(c)) for c in ("raw_bytes", "raw_line")}
    return checked.drop("rec").withColumns({"_bad": bad, **raw})


def _has_duplicates(checked: DataFrame, spec: InterfaceSpec) -> bool:
    """Whether two good rows of a batch share a key: a narrow count over the keys, so the usual batch without
    duplicates is never sorted whole to rank them."""
    groups = checked.where(~F.col("_bad")).groupBy("_data_date", *spec.key).count()
    return not groups.where(F.col("count") > 1).isEmpty()


def _in_scope(spec: InterfaceSpec, folder: str, date: str | None, month: str | None) -> bool:
    if not control.is_folder_date(folder, spec.freq):
        return False
    if spec.freq == "D":
        return date is not None and folder <= date
    limit = month or (date[:6] if date else None)
    return limit is not None and folder <= limit


class Ingestor:
    """Loads the batches of one run; holds the session, config, audit run, timestamp and the run's batch-log rows."""

    def __init__(self, spark: SparkSession, cfg: Config, run: audit.Run, log: Callable[[str], None]):
        self.spark, self.cfg, self.run, self.log = spark, cfg, run, log
        self.load_ts = audit.now()
        self.rows: list[dict] = []
        self.retire_waiting: list[tuple[str, str]] = []
        self.late: list[tuple[str, str]] = []
        self.retire_loaded: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        io.ensure_table(spark, cfg, BATCH_LOG, schemas.schema(schemas.BATCH_LOG_DDL), ["data_date"])
        io.ensure_table(spark, cfg, QUARANTINE, schemas.schema(schemas.QUARANTINE_DDL), ["data_date"])

    # ---------------------------------------------------------------- batch log
    def _log(self, res: BatchResult, folder_state: FolderState | None, chk_file: str | None,
             lines: tuple[control.ChkLine, ...], sha: str | None, version: int | None) -> None:
        """Queue the folder's outcome; flush_log() writes all of a run's outcomes in three commits."""
        key = (res.ifcode, res.data_date)
        row = {
            "ifcode": res.ifcode, "data_date": res.data_date, "_batch_id": res.batch_id, "chk_file": chk_file,
            "files": [f"{ln.file_name}|{ln.size_bytes}|{ln.row_count}" for ln in lines] or None,
            "status": res.status, "reason_code": res.reason, "rows_total": res.rows_total,
            "rows_loaded": res.rows_loaded, "rows_quarantined": res.rows_quarantined, "rows_dup": res.rows_dup,
            "bronze_version": version, "detail": res.detail or None, "chk_sha256": sha,
            "_run_id": self.run.run_id, "_load_ts": self.load_ts,
        }
        with self._lock:
            if folder_state and folder_state.waiting and res.status != "WAITING":
                self.retire_waiting.append(key)
            if res.status == "LOADED" and folder_state and folder_state.loaded:
                self.retire_loaded.append(key)
            self.rows.append(row)

    def flush_log(self) -> None:
        """Drop retired WAITING rows, mark superseded batches REPLACED, append the new outcomes."""
        spark, cfg = self.spark, self.cfg

        def folders(keys: list[tuple[str, str]]) -> str:
            return " OR ".join(f"(ifcode = '{i}' AND data_date = '{d}')" for i, d in keys)

        if self.retire_waiting:
            io.delete_rows(spark, cfg, BATCH_LOG, f"status = 'WAITING' AND ({folders(self.retire_waiting)})")
        if self.retire_loaded:
            io.update_rows(spark, cfg, BATCH_LOG, f"status = 'LOADED' AND ({folders(self.retire_loaded)})",
                           {"status": "'REPLACED'"})
        if self.rows:
            df = spark.createDataFrame(self.rows, schemas.schema(schemas.BATCH_LOG_DDL))
            self.run.committed(BATCH_LOG, io.append(df, cfg, BATCH_LOG))
        self.rows, self.retire_waiting, self.retire_loaded = [], [], []

    # ---------------------------------------------------------------- one interface
    def interface(self, spec: InterfaceSpec, folders: list[str],
                  states: dict[tuple[str, str], FolderState]) -> list[BatchResult]:
        """Check every folder's .chk, then read and validate all the new batches of the interface in one pass."""
        results, todo = [], []
        for date in folders:
            got = self._precheck(spec, date, states.get((spec.ifcode, date)))
            if isinstance(got, BatchResult):
                results.append(got)
            elif got is not None:
                todo.append(got)
        if todo:
            results.extend(self._load(spec, todo))
        return results

    def _precheck(self, spec: InterfaceSpec, date: str, state: FolderState | None) -> BatchResult | Pending | None:
        """The checks of sources.md §3 up to SIZE_MISMATCH; a batch that passes them is Pending."""
        folder = io.landing_dir(self.cfg, spec.ifcode, date)
        chk_name = f"{spec.ifcode}_{date}.chk"
        present = io.list_files(folder)
        if chk_name not in present:
            if state is None or (state.last_sha is None and not state.waiting):
                res = BatchResult(spec.ifcode, date, "WAITING", detail="no .chk yet")
                self._log(res, state, None, (), None, None)
                return res
            if state.waiting and state.waiting_since is not None:
                self._alert_if_late(spec, date, state.waiting_since)
            return None
        data = io.read_small(folder / chk_name)
        sha = hashlib.sha256(data).hexdigest()
        if state is not None and state.last_sha == sha:
            return None  # this exact .chk was acted upon already: nothing, not even a log row
        dec = control.decide(data, spec.ifcode, date, present, state.loaded if state else None)
        if dec.status is None:
            return Pending(date, folder, chk_name, dec, sha, state)
        res = BatchResult(spec.ifcode, date, dec.status, dec.reason, dec.batch_id, detail=dec.detail)
        if dec.reason:
            res.rows_loaded = 0
        self._log(res, state, chk_name, dec.lines, sha, None)
        return res

    def _alert_if_late(self, spec: InterfaceSpec, date: str, since: dt.datetime) -> None:
        """sources.md §3: a folder still without .chk after ingest.chk_wait_hours raises the LATE alert."""
        waited = (self.load_ts.astimezone().replace(tzinfo=None) - since).total_seconds() / 3600  # both OS-local
        if waited > self.cfg.env.ingest.chk_wait_hours:
            with self._lock:
                self.late.append((spec.ifcode, date))
            self.log(f"  ALERT LATE {spec.ifcode}/{date}: no .chk after {waited:.1f} h "
                     f"(limit {self.cfg.env.ingest.chk_wait_hours} h)")

    def _load(self, spec: InterfaceSpec, todo: list[Pending]) -> list[BatchResult]:
        """Read the listed files once, validate and count per batch; then write quarantine and bronze."""
        paths = [p.folder / ln.file_name for p in todo for ln in p.dec.lines]
        files = (io.read_files(self.spark, paths)
                 .select(F.regexp_extract("path", r"([^/]+)$", 1).alias("file_name"), "content")
                 .withColumn("file_seq", F.substring("file_name", -7, 3).cast("int")))
        records = parse.split_records(files).withColumn(
            "_data_date", F.regexp_extract("file_name", r"_([0-9]+)_[0-9]{3}\.dat$", 1))
        # parsed once and kept for the counts and both writes; on disk, not in the heap: a month-end SUBS or a backlog
        # of daily batches is millions of rows (the columnar in-memory cache of a 30-day SF0.1 backlog ran a 2560m
        # driver out of heap)
        checked = (parse.validate(records, spec, self.cfg.codes.gb_prefix())
                   .transform(_raw_only_if_bad).persist(StorageLevel.DISK_ONLY))
        try:
            if not _has_duplicates(checked, spec):
                return self._decide_and_write(spec, todo, checked.withColumn("_dup", F.lit(False)))
            # quarantined rows rank apart and are never duplicates
            marked = (parse.mark_duplicates(checked, spec, within=["_data_date", "_bad"])
                      .withColumn("_dup", F.col("_dup") & ~F.col("_bad")).persist(StorageLevel.DISK_ONLY))
            try:
                return self._decide_and_write(spec, todo, marked)
            finally:
                marked.unpersist()
        finally:
            checked.unpersist()

    def _decide_and_write(self, spec: InterfaceSpec, todo: list[Pending], checked: DataFrame) -> list[BatchResult]:
        """checked: every record with reason_code and _dup; one aggregation gives each batch's counts."""
        per_file = (checked.groupBy("_data_date", "file_name")
                    .agg(F.count(F.lit(1)).alias("n"), F.count("reason_code").alias("bad"),
                         F.sum(F.col("_dup").cast("int")).alias("dup")).collect())
        results, loaded, quarantined = [], [], []
        for p in todo:
            mine = [r for r in per_file if r._data_date == p.date]
            res = self._decide(spec, p, mine, sum(int(r.dup or 0) for r in mine))
            results.append(res)
            if res.reason != "COUNT_MISMATCH" and res.rows_quarantined:
                quarantined.append(res)
            if res.status == "LOADED":
                loaded.append(res)
        if quarantined:
            self._write_quarantine(spec, checked, quarantined)
        version = self._write_bronze(spec, checked, loaded) if loaded else None
        for p, res in zip(todo, results, strict=True):
            self._log(res, p.state, p.chk_name, p.dec.lines, p.sha, version if res.status == "LOADED" else None)
            with self._lock:
                self.run.rows_in += res.rows_total or 0
                self.run.rows_out += res.rows_loaded or 0
                self.run.rows_quarantined += res.rows_quarantined or 0
                self.run.rows_dup += res.rows_dup or 0
        if any(r.reason == "REJECT_RATE" for r in results):
            self._explain_rejects(checked, results)
        return results

    def _decide(self, spec: InterfaceSpec, p: Pending, per_file: list, n_dup: int) -> BatchResult:
        """COUNT_MISMATCH, REJECT_RATE or LOADED for one batch from its per-file counts."""
        counts = {r.file_name: int(r.n) for r in per_file}
        total, n_bad = sum(counts.values()), sum(int(r.bad) for r in per_file)
        res = BatchResult(spec.ifcode, p.date, "REJECTED", None, p.dec.batch_id, rows_total=total, rows_loaded=0)
        wrong = next((ln for ln in p.dec.lines if counts.get(ln.file_name, 0) != ln.row_count), None)
        if wrong is not None:
            res.reason = "COUNT_MISMATCH"
            res.detail = f"{wrong.file_name}: {counts.get(wrong.file_name, 0)} records, .chk says {wrong.row_count}"
            return res
        res.rows_quarantined, res.rows_dup = n_bad, n_dup
        if n_bad > self.cfg.env.ingest.reject_threshold * total:
            res.reason, res.detail = "REJECT_RATE", f"{n_bad} of {total} rows quarantined"
        else:
            res.status, res.rows_loaded = "LOADED", total - n_bad - n_dup
        return res

    def _explain_rejects(self, checked: DataFrame, results: list[BatchResult]) -> None:
        """Name the first quarantined row of each REJECT_RATE batch (file, line, rule) in its detail."""
        for res in results:
            if res.reason == "REJECT_RATE":
                r = (checked.where(f"reason_code IS NOT NULL AND _data_date = '{res.data_date}'")
                     .orderBy("file_name", "_line_no").first())
                res.detail += f"; first: {r.file_name} line {r._line_no}: {r.reason_code}"
        with self._lock:
            for row in self.rows:
                for res in results:
                    if (row["ifcode"], row["data_date"], row["status"]) == (res.ifcode, res.data_date, res.status):
                        row["detail"] = res.detail

    @staticmethod
    def _first_bad(checked: DataFrame) -> str:
        r = checked.where("reason_code IS NOT NULL").orderBy("file_name", "_line_no").first()
        return f"{r.file_name} line {r._line_no}: {r.reason_code}"

    def _write_quarantine(self, spec: InterfaceSpec, checked: DataFrame, batches: list[BatchResult]) -> None:
        """Quarantine rows of the batches that have some, replacing what an earlier attempt wrote for them."""
        dates = ", ".join(f"'{b.data_date}'" for b in batches)
        ids = ", ".join(f"'{b.batch_id}'" for b in batches)
        q = checked.where(f"reason_code IS NOT NULL AND _data_date IN ({dates})").select(
            F.lit(spec.ifcode).alias("ifcode"), F.col("_data_date").alias("data_date"),
            _by_date({b.data_date: b.batch_id for b in batches}).alias("_batch_id"),
            "file_name", F.col("_line_no").alias("line_no"), "reason_code", "raw_bytes", "raw_line",
            _by_date({b.data_date: b.status for b in batches}).alias("batch_status"),
            F.lit(self.run.run_id).alias("_run_id"), F.lit(self.load_ts).cast("timestamp").alias("_load_ts"))
        self.run.committed(QUARANTINE, io.replace_where(
            q, self.cfg, QUARANTINE, f"data_date IN ({dates}) AND _batch_id IN ({ids})"))

    def _write_bronze(self, spec: InterfaceSpec, marked: DataFrame, loaded: list[BatchResult]) -> int:
        """Overwrite the loaded batches' partitions in one commit: a redelivery replaces the earlier batch entirely."""
        ddl = schemas.schema(schemas.bronze_ddl(spec))
        io.ensure_table(self.spark, self.cfg, spec.table, ddl, [spec.partition_col])
        dates = ", ".join(f"'{b.data_date}'" for b in loaded)
        batch_id = _by_date({b.data_date: b.batch_id for b in loaded})
        out = marked.where(f"NOT _bad AND NOT _dup AND _data_date IN ({dates})").select(
            *spec.field_names, batch_id.alias("_batch_id"), F.col("file_name").alias("_file_name"),
            F.col("file_seq").alias("_file_seq"), "_line_no", F.lit(self.run.run_id).alias("_run_id"),
            F.lit(self.load_ts).cast("timestamp").alias("_load_ts"), F.col("_data_date").alias(spec.partition_col))
        out = out.select(*[F.col(f.name).cast(f.dataType) for f in ddl.fields])
        empty = sum(b.rows_loaded or 0 for b in loaded) == 0
        version = io.replace_where(out, self.cfg, spec.table, f"{spec.partition_col} IN ({dates})", empty=empty)
        self.run.committed(spec.table, version)
        return version


def ingest(spark: SparkSession, cfg: Config, run: audit.Run, *, date: str | None = None, month: str | None = None,
           ifcodes: Iterable[str] | None = None, dry_run: bool = False,
           log: Callable[[str], None] = print) -> IngestSummary:
    """Validate and load every complete, new batch up to the date/month: interfaces in parallel, oldest first."""
    specs = [cfg.interface(c) for c in (ifcodes or cfg.interfaces)]
    if month and not date:
        specs = [s for s in specs if s.freq == "M"]
    work = {s.ifcode: [f for f in io.landing_dates(cfg, s.ifcode) if _in_scope(s, f, date, month)] for s in specs}
    summary = IngestSummary()
    if dry_run:
        for code, folders in work.items():
            for f in folders:
                log(f"  would check {code}/{f}")
        return summary
    states = _folder_states(spark, cfg, work)
    with io.commit_metadata(spark, run.meta):
        ing = Ingestor(spark, cfg, run, log)

        def one_interface(spec: InterfaceSpec) -> list[BatchResult]:
            out = ing.interface(spec, work[spec.ifcode], states)
            for res in out:
                log(_describe(res))
            return out

        try:
            with ThreadPoolExecutor(max_workers=cfg.env.ingest.parallelism) as pool:
                for results in pool.map(one_interface, specs):
                    summary.results.extend(results)
        finally:
            ing.flush_log()  # outcomes of the batches that were written, even when another one failed
            summary.late = sorted(ing.late)
    return summary


def _describe(r: BatchResult) -> str:
    counts = "" if r.rows_total is None else (
        f" total={r.rows_total} loaded={r.rows_loaded} quarantined={r.rows_quarantined} dup={r.rows_dup}")
    why = f" {r.reason}" if r.reason else ""
    detail = f" ({r.detail})" if r.detail and r.status != "LOADED" else ""
    return f"  {r.ifcode:<12} {r.data_date:<8} {r.status}{why}{counts}{detail}"
