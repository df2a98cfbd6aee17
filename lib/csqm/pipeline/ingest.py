"""Ingest job: validate every complete new batch in landing and load it into bronze (sources.md §1–§3)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

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
    """Loads the batches of one run; holds the run's session, config, audit run and timestamp."""

    def __init__(self, spark: SparkSession, cfg: Config, run: audit.Run, log: Callable[[str], None]):
        self.spark, self.cfg, self.run, self.log = spark, cfg, run, log
        self.load_ts = audit.now()
        io.ensure_table(spark, cfg, BATCH_LOG, schemas.schema(schemas.BATCH_LOG_DDL), ["data_date"], run.meta)
        io.ensure_table(spark, cfg, QUARANTINE, schemas.schema(schemas.QUARANTINE_DDL), ["data_date"], run.meta)

    # ---------------------------------------------------------------- batch log
    def _log(self, res: BatchResult, folder_state: FolderState | None, chk_file: str | None,
             lines: tuple[control.ChkLine, ...], sha: str | None, version: int | None) -> None:
        """Write the folder's outcome: drop its WAITING row, retire the replaced batch, append the new row."""
        spark, cfg, meta = self.spark, self.cfg, self.run.meta
        where = f"ifcode = '{res.ifcode}' AND data_date = '{res.data_date}'"
        if folder_state and folder_state.waiting and res.status != "WAITING":
            io.delete_rows(spark, cfg, BATCH_LOG, f"{where} AND status = 'WAITING'", meta)
        if res.status == "LOADED" and folder_state and folder_state.loaded:
            io.update_rows(spark, cfg, BATCH_LOG, f"{where} AND status = 'LOADED'", {"status": "'REPLACED'"}, meta)
        row = {
            "ifcode": res.ifcode, "data_date": res.data_date, "_batch_id": res.batch_id, "chk_file": chk_file,
            "files": [f"{ln.file_name}|{ln.size_bytes}|{ln.row_count}" for ln in lines] or None,
            "status": res.status, "reason_code": res.reason, "rows_total": res.rows_total,
            "rows_loaded": res.rows_loaded, "rows_quarantined": res.rows_quarantined, "rows_dup": res.rows_dup,
            "bronze_version": version, "detail": res.detail or None, "chk_sha256": sha,
            "_run_id": self.run.run_id, "_load_ts": self.load_ts,
        }
        df = spark.createDataFrame([row], schemas.schema(schemas.BATCH_LOG_DDL))
        self.run.committed(BATCH_LOG, io.append(df, cfg, BATCH_LOG, meta))

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
        """Read the listed files, count, validate rows, deduplicate, then write quarantine, bronze and the log."""
        spark, cfg = self.spark, self.cfg
        files = (io.read_files(spark, [folder / ln.file_name for ln in dec.lines])
                 .select(F.regexp_extract("path", r"([^/]+)$", 1).alias("file_name"), "content")
                 .withColumn("file_seq", F.substring("file_name", -7, 3).cast("int")))
        records = parse.split_records(files).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            return self._validate_and_write(spec, date, chk_name, dec, sha, state, records)
        finally:
            records.unpersist()

    def _validate_and_write(self, spec: InterfaceSpec, date: str, chk_name: str, dec: control.Decision, sha: str,
                            state: FolderState | None, records: DataFrame) -> BatchResult:
        spark, cfg, meta, lines = self.spark, self.cfg, self.run.meta, dec.lines
        counts = {r.file_name: r["count"] for r in records.groupBy("file_name").count().collect()}
        total = sum(counts.values())
        for ln in lines:
            if counts.get(ln.file_name, 0) != ln.row_count:
                res = BatchResult(spec.ifcode, date, "REJECTED", "COUNT_MISMATCH", dec.batch_id, rows_total=total,
                                  rows_loaded=0, detail=f"{ln.file_name}: {counts.get(ln.file_name, 0)} records, "
                                                        f".chk says {ln.row_count}")
                self._log(res, state, chk_name, lines, sha, None)
                return res
        checked = (parse.validate(records.withColumn("_data_date", F.lit(date)), spec, cfg.codes.gb_prefix())
                   .persist(StorageLevel.MEMORY_AND_DISK))
        try:
            good = parse.mark_duplicates(checked.where("reason_code IS NULL"), spec)
            stats = good.agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("_dup").cast("int")).alias("d")).first()
            n_good, n_dup = int(stats.n), int(stats.d or 0)
            n_bad = total - n_good
            rejected = n_bad > cfg.env.ingest.reject_threshold * total
            status = "REJECTED" if rejected else "LOADED"
            q = self._quarantine_rows(checked, spec, date, dec.batch_id, status)
            self.run.committed(QUARANTINE, io.replace_where(
                q, cfg, QUARANTINE, f"data_date = '{date}' AND _batch_id = '{dec.batch_id}'", meta))
            version = None
            if not rejected:
                version = self._write_bronze(good.where("NOT _dup"), spec, date, dec.batch_id)
            res = BatchResult(spec.ifcode, date, status, "REJECT_RATE" if rejected else None, dec.batch_id,
                              total, 0 if rejected else n_good - n_dup, n_bad, n_dup,
                              f"{n_bad} of {total} rows quarantined" if rejected else "")
            self._log(res, state, chk_name, lines, sha, version)
            self.run.rows_in += total
            self.run.rows_out += res.rows_loaded or 0
            self.run.rows_quarantined += n_bad
            self.run.rows_dup += n_dup
            return res
        finally:
            checked.unpersist()

    def _quarantine_rows(self, checked: DataFrame, spec: InterfaceSpec, date: str, batch_id: str,
                         status: str) -> DataFrame:
        return checked.where("reason_code IS NOT NULL").select(
            F.lit(spec.ifcode).alias("ifcode"), F.lit(date).alias("data_date"), F.lit(batch_id).alias("_batch_id"),
            "file_name", F.col("_line_no").alias("line_no"), "reason_code", "raw_bytes", "raw_line",
            F.lit(status).alias("batch_status"), F.lit(self.run.run_id).alias("_run_id"),
            F.lit(self.load_ts).cast("timestamp").alias("_load_ts"))

    def _write_bronze(self, rows: DataFrame, spec: InterfaceSpec, date: str, batch_id: str) -> int:
        """Overwrite the batch's partition: a redelivery replaces the earlier batch entirely."""
        ddl = schemas.bronze_ddl(spec)
        io.ensure_table(self.spark, self.cfg, spec.table, schemas.schema(ddl), [spec.partition_col], self.run.meta)
        out = rows.select(
            *spec.field_names, F.lit(batch_id).alias("_batch_id"), F.col("file_name").alias("_file_name"),
            F.col("file_seq").alias("_file_seq"), "_line_no", F.lit(self.run.run_id).alias("_run_id"),
            F.lit(self.load_ts).cast("timestamp").alias("_load_ts"), F.lit(date).alias(spec.partition_col))
        out = out.select(*[F.col(f.name).cast(f.dataType) for f in schemas.schema(ddl).fields])
        version = io.replace_where(out, self.cfg, spec.table, f"{spec.partition_col} = '{date}'", self.run.meta)
        self.run.committed(spec.table, version)
        return version


def ingest(spark: SparkSession, cfg: Config, run: audit.Run, *, date: str | None = None, month: str | None = None,
           ifcodes: Iterable[str] | None = None, dry_run: bool = False,
           log: Callable[[str], None] = print) -> IngestSummary:
    """Validate and load every complete, new batch up to the date/month, oldest first, interface by interface."""
    specs = [cfg.interface(c) for c in (ifcodes or cfg.interfaces)]
    if month and not date:
        specs = [s for s in specs if s.freq == "M"]
    states = _folder_states(spark, cfg, [s.ifcode for s in specs])
    summary = IngestSummary()
    ing = None if dry_run else Ingestor(spark, cfg, run, log)
    for spec in specs:
        for folder in io.landing_dates(cfg, spec.ifcode):
            if not _in_scope(spec, folder, date, month):
                continue
            if dry_run:
                log(f"  would check {spec.ifcode}/{folder}")
                continue
            res = ing.folder(spec, folder, states.get((spec.ifcode, folder)))
            if res is not None:
                summary.results.append(res)
                log(_describe(res))
    return summary


def _describe(r: BatchResult) -> str:
    counts = "" if r.rows_total is None else (
        f" total={r.rows_total} loaded={r.rows_loaded} quarantined={r.rows_quarantined} dup={r.rows_dup}")
    why = f" {r.reason}" if r.reason else ""
    detail = f" ({r.detail})" if r.detail and r.status != "LOADED" else ""
    return f"  {r.ifcode:<12} {r.data_date:<8} {r.status}{why}{counts}{detail}"
