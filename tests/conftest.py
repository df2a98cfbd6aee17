"""One session-scoped Delta SparkSession (local[2], few shuffle partitions, UI off) and a tmp lake."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from csqm.config import Config, load_config

os.environ.setdefault("CSQM_PII_SALT", "test-salt")


@pytest.fixture(scope="session")
def cfg(tmp_path_factory) -> Config:
    """The project's real conf/, with roots under a session tmp dir."""
    root = tmp_path_factory.mktemp("csqm")
    return load_config(overrides={"landing_root": str(root / "landing"), "lake_root": str(root / "lake"),
                                  "backup_root": str(root / "backup")})


@pytest.fixture(scope="session")
def spark(cfg):
    from csqm.session import get_spark

    env = replace(cfg.env, master="local[2]")
    s = get_spark(env, {
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.ui.enabled": "false",
        "spark.driver.memory": "2g",
        "spark.sql.adaptive.enabled": "false",
    })
    yield s
    s.stop()


@pytest.fixture()
def tmp_roots(tmp_path: Path, cfg: Config) -> Config:
    """A config whose landing/lake/backup roots are fresh per test."""
    env = replace(cfg.env, landing_root=str(tmp_path / "landing"), lake_root=str(tmp_path / "lake"),
                  backup_root=str(tmp_path / "backup"))
    return replace(cfg, env=env)


@pytest.fixture(scope="session")
def bronze_df(spark, cfg):
    """Factory: bronze-shaped DataFrame of an interface from dicts (missing fields NULL, audit columns defaulted).

    T/D values are strings 'yyyy-MM-dd HH:mm:ss' / 'yyyy-MM-dd' parsed in the session zone (never Python datetimes,
    which Spark would read in the OS zone)."""
    from csqm.bronze.schemas import SPARK_TYPE, schema
    from pyspark.sql import functions as F

    def make(ifcode: str, rows: list[dict], data_date: str | None = None):
        spec = cfg.interface(ifcode)
        part = spec.partition_col
        names = [*spec.field_names, "_batch_id", "_file_name", "_file_seq", "_line_no", "_run_id", "_load_ts", part]
        out = []
        for i, r in enumerate(rows, 1):
            unknown = set(r) - set(names)
            assert not unknown, f"unknown columns {unknown} for {ifcode}"
            dd = r.get(part, data_date or ("20130101" if spec.freq == "D" else "201301"))
            base = {"_batch_id": f"{ifcode}_{dd}_001", "_file_name": f"{ifcode}_{dd}_001.dat", "_file_seq": 1,
                    "_line_no": i, "_run_id": "test", "_load_ts": "2013-01-02 03:00:00", part: dd}
            vals = {**base, **r}
            out.append(tuple(None if vals.get(n) is None else str(vals.get(n)) for n in names))
        raw = spark.createDataFrame(out, ", ".join(f"`{n}` STRING" for n in names))
        typed = schema(", ".join([*(f"{f.name} {SPARK_TYPE[f.type]}" for f in spec.fields)]) + ", _batch_id STRING, "
                       "_file_name STRING, _file_seq INT, _line_no BIGINT, _run_id STRING, _load_ts TIMESTAMP, "
                       f"{part} STRING")
        return raw.select(*[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in typed.fields])

    return make
