"""ops_run_audit: one row per job run, RUNNING at start and its final status at the end (operations.md §7)."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from csqm import io
from csqm.config import Config

TABLE = "ops_run_audit"
AUDIT_DDL = (
    "run_id STRING, job_name STRING, params STRING, data_date STRING, start_ts TIMESTAMP, end_ts TIMESTAMP, "
    "status STRING, rows_in BIGINT, rows_out BIGINT, rows_quarantined BIGINT, rows_dup BIGINT, "
    "delta_versions MAP<STRING,BIGINT>, error_message STRING, spark_app_id STRING, run_day STRING"
)


CST = dt.timezone(dt.timedelta(hours=8), "CST")


def now() -> dt.datetime:
    """Wall-clock time, zone-aware in China Standard Time so Spark stores the right instant whatever the OS zone."""
    return dt.datetime.now(CST).replace(microsecond=0)


@dataclass
class Run:
    """A job run in progress: its id, counters and the versions it committed."""

    job: str
    params: Mapping[str, Any]
    data_date: str | None
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    start_ts: dt.datetime = field(default_factory=now)
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    rows_dup: int = 0
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def meta(self) -> dict[str, str]:
        """userMetadata of every commit of this run."""
        return {"run_id": self.run_id, "job": self.job}

    def committed(self, table: str, version: int) -> None:
        self.versions[table] = version


def _row(run: Run, spark: SparkSession, status: str, end: dt.datetime | None, error: str | None) -> dict:
    return {
        "run_id": run.run_id, "job_name": run.job, "params": json.dumps(dict(run.params), sort_keys=True, default=str),
        "data_date": run.data_date, "start_ts": run.start_ts, "end_ts": end, "status": status,
        "rows_in": run.rows_in, "rows_out": run.rows_out, "rows_quarantined": run.rows_quarantined,
        "rows_dup": run.rows_dup, "delta_versions": dict(run.versions), "error_message": error,
        "spark_app_id": spark.sparkContext.applicationId, "run_day": run.start_ts.strftime("%Y%m%d"),
    }


def _write(spark: SparkSession, cfg: Config, row: dict, run: Run, new: bool = False) -> None:
    """new: the run's first row, appended (its run_id is a fresh UUID: nothing to match, and an append costs less
    than a MERGE, docs/decisions.md); else one MERGE on the run's own partition only, so that a job's final write
    does not read 36 months of runs (operations.md §3)."""
    io.ensure_table(spark, cfg, TABLE, StructType.fromDDL(AUDIT_DDL), ["run_day"], run.meta)
    df = spark.createDataFrame([row], StructType.fromDDL(AUDIT_DDL))
    if new:
        io.append(df, cfg, TABLE, run.meta)
    else:
        io.merge_upsert(df, cfg, TABLE, ["run_day", "run_id"], run.meta, target=f"t.run_day = '{row['run_day']}'")


def start(spark: SparkSession, cfg: Config, job: str, params: Mapping[str, Any], data_date: str | None) -> Run:
    """Insert the RUNNING row."""
    run = Run(job, params, data_date)
    _write(spark, cfg, _row(run, spark, "RUNNING", None, None), run, new=True)
    return run


def finish(spark: SparkSession, cfg: Config, run: Run, status: str, error: str | None = None) -> None:
    """Replace the RUNNING row by the final one."""
    _write(spark, cfg, _row(run, spark, status, now(), error), run)
