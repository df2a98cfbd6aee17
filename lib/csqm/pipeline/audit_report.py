"""Readable views of the run audit (operations.md §7): `csqm runs` lists recent runs; `csqm lineage` walks from a
table partition back through the runs and Delta versions that wrote it to the batches and files it came from.
Generic over the Delta history + ops tables, so it serves silver now and gold (or any later layer) the same way."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from csqm import audit, io
from csqm.config import Config
from csqm.errors import UsageError
from csqm.silver.common import prev_month_id

RUN_COLS = ("start_ts", "job_name", "status", "data_date", "rows_in", "rows_out", "rows_quarantined", "rows_dup",
            "run_id", "error_message")
UPSTREAM = {"gold": ("silver", "manual", "reference"), "silver": ("bronze", "manual", "reference")}


def recent_runs(spark: SparkSession, cfg: Config, last: int, job: str | None) -> list:
    if not io.table_exists(spark, cfg, audit.TABLE):
        return []
    df = io.read(spark, cfg, audit.TABLE)
    if job:
        df = df.where(F.col("job_name") == job)
    return df.orderBy(F.col("start_ts").desc()).limit(last).select(*RUN_COLS, "end_ts").collect()


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Fixed-width columns, one line per row."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()
                     for r in [header, ["-" * w for w in widths], *rows])


def print_runs(spark: SparkSession, cfg: Config, last: int, job: str | None) -> None:
    runs = recent_runs(spark, cfg, last, job)
    if not runs:
        print("no runs recorded")
        return
    rows = []
    for r in runs:
        secs = "" if r.end_ts is None else f"{(r.end_ts - r.start_ts).total_seconds():.0f}s"
        err = (r.error_message or "")[:60]
        rows.append([f"{r.start_ts:%Y-%m-%d %H:%M:%S}", r.job_name, r.status, r.data_date or "", secs,
                     str(r.rows_in), str(r.rows_out), str(r.rows_quarantined), str(r.rows_dup), r.run_id[:8], err])
    print(format_table(["start", "job", "status", "data", "took", "in", "out", "quar", "dup", "run", "error"], rows))


@dataclass
class Lineage:
    """What wrote a table partition and what it was built from."""

    table: str
    partition: str | None
    writes: list[dict] = field(default_factory=list)      # version, timestamp, operation, run_id, job
    runs: dict[str, dict] = field(default_factory=dict)   # run_id -> audit row (job, status, data_date, versions)
    inputs: dict[str, int] = field(default_factory=dict)  # upstream table -> latest version as of the last write
    batches: list[dict] = field(default_factory=list)     # _batch_id, ifcode, data_date, files, status
    sources: dict[str, int | None] = field(default_factory=dict)  # gold: silver table -> version its rows came from


def _meta(text: str | None) -> dict:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _partition_filter(table: str, partition: str | None):
    if partition is None:
        return None
    col = "month_id" if table.endswith("_m") else "day_id"
    return F.col(col) == partition


def writes_of(spark: SparkSession, cfg: Config, table: str, partition: str | None) -> list[dict]:
    """Commits of the table that touched the partition: runs recorded in ops_changed_partition, and commits whose
    operation parameters name it; when neither says, every tagged commit is listed (the history is the truth)."""
    hist = DeltaTable.forPath(spark, io.table_path(cfg, table)).history().select(
        "version", "timestamp", "operation", "operationParameters", "userMetadata").collect()
    changed = set()
    if partition and io.table_exists(spark, cfg, "ops_changed_partition"):
        changed = {r.run_id for r in io.read(spark, cfg, "ops_changed_partition")
                   .where((F.col("table_name") == table) & (F.col("partition") == partition))
                   .select("run_id").distinct().collect()}
    out = []
    for h in sorted(hist, key=lambda h: h.version):
        meta = _meta(h.userMetadata)
        params = json.dumps(h.operationParameters or {})
        hit = partition is None or meta.get("run_id") in changed or (partition in params)
        if hit:
            out.append({"version": int(h.version), "timestamp": h.timestamp, "operation": h.operation,
                        "run_id": meta.get("run_id"), "job": meta.get("job")})
    return out


def _at(spark: SparkSession, cfg: Config, table: str, ts) -> int | None:
    """The table's version as of a timestamp (the latest commit not after it)."""
    rows = DeltaTable.forPath(spark, io.table_path(cfg, table)).history().where(F.col("timestamp") <= F.lit(ts)) \
        .agg(F.max("version")).collect()
    return None if rows[0][0] is None else int(rows[0][0])


def lineage(spark: SparkSession, cfg: Config, table: str, partition: str | None) -> Lineage:
    """Partition -> writing commits and runs -> upstream versions at that time -> the batches (and files) of the rows
    (by their _batch_id, silver) or of the silver rows of the same day or month at those versions (gold)."""
    if not io.table_exists(spark, cfg, table):
        raise UsageError(f"no table {table!r} in {cfg.env.lake_root}")
    lin = Lineage(table, partition, writes_of(spark, cfg, table, partition))
    run_ids = [w["run_id"] for w in lin.writes if w["run_id"]]
    if run_ids and io.table_exists(spark, cfg, audit.TABLE):
        for r in io.read(spark, cfg, audit.TABLE).where(F.col("run_id").isin(run_ids)).collect():
            lin.runs[r.run_id] = {"job": r.job_name, "status": r.status, "data_date": r.data_date,
                                  "start_ts": r.start_ts, "versions": dict(r.delta_versions or {})}
    layer = io.layer_of(table)
    if lin.writes:
        last_ts = lin.writes[-1]["timestamp"]
        for up in UPSTREAM.get(layer, ()):
            for t in io.tables_in_layer(cfg, up):
                v = _at(spark, cfg, t, last_ts)
                if v is not None:
                    lin.inputs[t] = v
    if layer == "gold":
        lin.sources = _gold_sources(cfg, table, lin.inputs)
        ids = _silver_batch_ids(spark, cfg, lin.sources, partition)
    else:
        df = io.read(spark, cfg, table)
        cond = _partition_filter(table, partition)
        ids = (df.where(cond) if cond is not None else df).select("_batch_id") if "_batch_id" in df.columns else None
    if ids is not None and io.table_exists(spark, cfg, "ops_batch_log"):
        log = io.read(spark, cfg, "ops_batch_log").join(ids.distinct(), "_batch_id", "left_semi")
        lin.batches = [r.asDict() for r in log.select("_batch_id", "ifcode", "data_date", "files", "status",
                                                      "rows_loaded", "bronze_version").orderBy("_batch_id").collect()]
    return lin


def _gold_sources(cfg: Config, table: str, inputs: dict[str, int]) -> dict[str, int | None]:
    """The silver tables the gold table's catalog entry reads, at the versions current at its last write."""
    return {s: inputs.get(s) for s in cfg.section("metrics").table(table).sources if s.startswith("slv_")}


def _silver_batch_ids(spark: SparkSession, cfg: Config, sources: dict[str, int | None], partition: str | None):
    """The _batch_id of every silver row of the gold partition's period (its day or month; for monthly silver, that
    month and the one before), read as of the recorded versions; None when no source table exists."""
    frames = []
    for s, v in sources.items():
        if not io.table_exists(spark, cfg, s):
            continue
        df = io.read(spark, cfg, s, version=v)
        if partition and s.endswith("_m"):   # a month's rows are enriched from / counted on prev(M)'s snapshot
            month = F.lit(partition[:6])
            df = df.where(F.col("month_id").isin(month, prev_month_id(month)))
        elif partition:
            day = F.col("day_id")
            df = df.where(day == partition if len(partition) == 8 else day.startswith(partition))
        frames.append(df.select("_batch_id"))
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def print_lineage(spark: SparkSession, cfg: Config, table: str, partition: str | None) -> None:
    lin = lineage(spark, cfg, table, partition)
    print(f"{table}" + (f" partition {partition}" if partition else ""))
    print("written by:")
    for w in lin.writes:
        run = lin.runs.get(w["run_id"] or "", {})
        print(f"  v{w['version']:<5} {w['timestamp']:%Y-%m-%d %H:%M:%S} {w['operation']:<14} job={w['job']} "
              f"run={w['run_id']} status={run.get('status', '?')} data_date={run.get('data_date')}")
    if lin.inputs:
        print("upstream versions as of the last write:")
        for t, v in sorted(lin.inputs.items()):
            print(f"  {t}@v{v}")
    if lin.sources:
        print("silver rows of its period read from: " + ", ".join(f"{t}@v{v}" for t, v in sorted(lin.sources.items())))
    if lin.batches:
        print("batches of its rows:" if not lin.sources else "batches of those silver rows:")
        for b in lin.batches:
            print(f"  {b['_batch_id']} ({b['status']}, bronze v{b['bronze_version']}, {b['rows_loaded']} rows): "
                  f"{b['files']}")
