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
