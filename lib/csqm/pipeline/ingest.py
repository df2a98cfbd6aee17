"""Ingest job: validate every complete new batch in landing and load it into bronze (sources.md §1–§3)."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
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

    def by_status(self, status: str) -> list[BatchResult]:
        return [r for r in self.results if r.status == status]


@dataclass(frozen=True)
class FolderState:
    """What ops_batch_log knows of one landing folder."""

    last_sha: str | None
    waiting: bool
    loaded: control.LoadedBatch | None


def _folder_states(spark: SparkSession, cfg: Config, ifcodes: Iterable[str]) -> dict[tuple[str, str], FolderState]:
    """One small read of ops_batch_log for every folder of the interfaces in scope."""
    if not io.table_exists(spark, cfg, BATCH_LOG):
        return {}
    codes = ", ".join(f"'{c}'" for c in ifcodes)
    rows = (io.read(spark, cfg, BATCH_LOG, f"ifcode IN ({codes})")
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
        out[k] = FolderState(acted[-1].chk_sha256 if acted else None, any(r.status == "WAITING" for r in rs), lb)
    return out


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

    # ---------------------------------------------------------------- one folder
    def folder(self, spec: InterfaceSpec, date: str, state: FolderState | None) -> BatchResult | None:
        folder = io.landing_dir(self.cfg, spec.ifcode, date)
        chk_name = f"{spec.ifcode}_{date}.chk"
        present = io.list_files(folder)
        if chk_name not in present:
            if state is None or (state.last_sha is None and not state.waiting):
                res = BatchResult(spec.ifcode, date, "WAITING", detail="no .chk yet")
                self._log(res, state, None, (), None, None)
                return res
            return None
        data = io.read_small(folder / chk_name)
        sha = hashlib.sha256(data).hexdigest()
        if state is not None and state.last_sha == sha:
            return None  # this exact .chk was acted upon already: nothing, not even a log row
        dec = control.decide(data, spec.ifcode, date, present, state.loaded if state else None)
        if dec.status is not None:
            res = BatchResult(spec.ifcode, date, dec.status, dec.reason, dec.batch_id, detail=dec.detail)
            if dec.reason:
                res.rows_loaded = 0
            self._log(res, state, chk_name, dec.lines, sha, None)
            return res
        return self._load(spec, date, folder, chk_name, dec, sha, state)

    def _load(self, spec: InterfaceSpec, date: str, folder: Path, chk_name: str, dec: control.Decision,
              sha: str, state: FolderState | None) -> BatchResult:
        """Read the listed files once, validate, count; then write quarantine and bronze."""
        files = (io.read_files(self.spark, [folder / ln.file_name for ln in dec.lines])
                 .select(F.regexp_extract("path", r"([^/]+)$", 1).alias("file_name"), "content")
                 .withColumn("file_seq", F.substring("file_name", -7, 3).cast("int")))
        records = parse.split_records(files).withColumn("_data_date", F.lit(date))
        checked = parse.validate(records, spec, self.cfg.codes.gb_prefix()).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            return self._decide_and_write(spec, date, chk_name, dec, sha, state, checked)
        finally:
            checked.unpersist()

    def _decide_and_write(self, spec: InterfaceSpec, date: str, chk_name: str, dec: control.Decision, sha: str,
                          state: FolderState | None, checked: DataFrame) -> BatchResult:
        cfg, lines = self.cfg, dec.lines
        stats = (checked.groupBy("file_name")
                 .agg(F.count(F.lit(1)).alias("n"), F.count("reason_code").alias("bad")).collect())
        counts = {r.file_name: int(r.n) for r in stats}
        total, n_bad = sum(counts.values()), sum(int(r.bad) for r in stats)
        res = BatchResult(spec.ifcode, date, "REJECTED", None, dec.batch_id, rows_total=total, rows_loaded=0)
        wrong = next((ln for ln in lines if counts.get(ln.file_name, 0) != ln.row_count), None)
        if wrong is not None:
            res.reason = "COUNT_MISMATCH"
            res.detail = f"{wrong.file_name}: {counts.get(wrong.file_name, 0)} records, .chk says {wrong.row_count}"
            self._log(res, state, chk_name, lines, sha, None)
            return res
        good = parse.mark_duplicates(checked.where("reason_code IS NULL"), spec)
        rejected = n_bad > cfg.env.ingest.reject_threshold * total
        status = "REJECTED" if rejected else "LOADED"
        if n_bad:
            q = self._quarantine_rows(checked, spec, date, dec.batch_id, status)
            self.run.committed(QUARANTINE, io.replace_where(
                q, cfg, QUARANTINE, f"data_date = '{date}' AND _batch_id = '{dec.batch_id}'"))
        version = None
        if rejected:
            n_dup = good.where("_dup").count()
            res.reason, res.detail = "REJECT_RATE", f"{n_bad} of {total} rows quarantined (first: " \
                f"{self._first_bad(checked)})"
        else:
            version, loaded = self._write_bronze(good.where("NOT _dup"), spec, date, dec.batch_id,
                                                 empty=total == n_bad)
            n_dup = total - n_bad - loaded
            res.status, res.rows_loaded = "LOADED", loaded
        res.rows_quarantined, res.rows_dup = n_bad, n_dup
        self._log(res, state, chk_name, lines, sha, version)
        with self._lock:
            self.run.rows_in += total
            self.run.rows_out += res.rows_loaded or 0
            self.run.rows_quarantined += n_bad
            self.run.rows_dup += n_dup
        return res

    @staticmethod
    def _first_bad(checked: DataFrame) -> str:
        r = checked.where("reason_code IS NOT NULL").orderBy("file_name", "_line_no").first()
        return f"{r.file_name} line {r._line_no}: {r.reason_code}"

    def _quarantine_rows(self, checked: DataFrame, spec: InterfaceSpec, date: str, batch_id: str,
                         status: str) -> DataFrame:
        return checked.where("reason_code IS NOT NULL").select(
            F.lit(spec.ifcode).alias("ifcode"), F.lit(date).alias("data_date"), F.lit(batch_id).alias("_batch_id"),
            "file_name", F.col("_line_no").alias("line_no"), "reason_code", "raw_bytes", "raw_line",
            F.lit(status).alias("batch_status"), F.lit(self.run.run_id).alias("_run_id"),
            F.lit(self.load_ts).cast("timestamp").alias("_load_ts"))

    def _write_bronze(self, rows: DataFrame, spec: InterfaceSpec, date: str, batch_id: str,
                      empty: bool) -> tuple[int, int]:
        """Overwrite the batch's partition (a redelivery replaces the earlier batch); returns (version, rows)."""
        ddl = schemas.schema(schemas.bronze_ddl(spec))
        io.ensure_table(self.spark, self.cfg, spec.table, ddl, [spec.partition_col])
        out = rows.select(
            *spec.field_names, F.lit(batch_id).alias("_batch_id"), F.col("file_name").alias("_file_name"),
            F.col("file_seq").alias("_file_seq"), "_line_no", F.lit(self.run.run_id).alias("_run_id"),
            F.lit(self.load_ts).cast("timestamp").alias("_load_ts"), F.lit(date).alias(spec.partition_col))
        out = out.select(*[F.col(f.name).cast(f.dataType) for f in ddl.fields])
        version, n = io.replace_where_counted(out, self.cfg, spec.table, f"{spec.partition_col} = '{date}'",
                                              empty=empty)
        self.run.committed(spec.table, version)
        return version, n


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
    states = _folder_states(spark, cfg, [s.ifcode for s in specs])
    with io.commit_metadata(spark, run.meta):
        ing = Ingestor(spark, cfg, run, log)

        def one_interface(spec: InterfaceSpec) -> list[BatchResult]:
            out = []
            for folder in work[spec.ifcode]:
                res = ing.folder(spec, folder, states.get((spec.ifcode, folder)))
                if res is not None:
                    out.append(res)
                    log(_describe(res))
            return out

        try:
            with ThreadPoolExecutor(max_workers=cfg.env.ingest.parallelism) as pool:
                for results in pool.map(one_interface, specs):
                    summary.results.extend(results)
        finally:
            ing.flush_log()  # outcomes of the batches that were written, even when another one failed
    return summary


def _describe(r: BatchResult) -> str:
    counts = "" if r.rows_total is None else (
        f" total={r.rows_total} loaded={r.rows_loaded} quarantined={r.rows_quarantined} dup={r.rows_dup}")
    why = f" {r.reason}" if r.reason else ""
    detail = f" ({r.detail})" if r.detail and r.status != "LOADED" else ""
    return f"  {r.ifcode:<12} {r.data_date:<8} {r.status}{why}{counts}{detail}"
