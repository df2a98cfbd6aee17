"""Schemas of the bronze tables and of the ops tables that ingest writes (README §3, sources.md §3)."""
from __future__ import annotations

from pyspark.sql.types import StructType

from csqm.config import InterfaceSpec

SPARK_TYPE = {"S": "STRING", "C": "STRING", "N": "BIGINT", "B": "TINYINT", "F": "BIGINT", "D": "DATE",
              "T": "TIMESTAMP"}
AUDIT_DDL = "_batch_id STRING, _file_name STRING, _file_seq INT, _line_no BIGINT, _run_id STRING, _load_ts TIMESTAMP"

BATCH_LOG_DDL = (
    "ifcode STRING, data_date STRING, _batch_id STRING, chk_file STRING, files ARRAY<STRING>, status STRING, "
    "reason_code STRING, rows_total BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_dup BIGINT, "
    "bronze_version BIGINT, detail STRING, chk_sha256 STRING, _run_id STRING, _load_ts TIMESTAMP"
)
QUARANTINE_DDL = (
    "ifcode STRING, data_date STRING, _batch_id STRING, file_name STRING, line_no BIGINT, reason_code STRING, "
    "raw_bytes BINARY, raw_line STRING, batch_status STRING, _run_id STRING, _load_ts TIMESTAMP"
)


def fields_ddl(spec: InterfaceSpec) -> str:
    return ", ".join(f"{f.name} {SPARK_TYPE[f.type]}" for f in spec.fields)


def bronze_ddl(spec: InterfaceSpec) -> str:
    """Fields in file order with §2 types, the audit columns, then the partition column."""
    return f"{fields_ddl(spec)}, {AUDIT_DDL}, {spec.partition_col} STRING"


def schema(ddl: str) -> StructType:
    return StructType.fromDDL(ddl)
