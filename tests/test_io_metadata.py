"""Commit metadata under parallel writers: gold builds 4 tables at a time in threads of one Spark session."""
from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import replace

from csqm import io
from delta.tables import DeltaTable


def test_a_write_tags_its_commit_whatever_the_shared_session_conf_says(spark, cfg, tmp_path, monkeypatch):
    """The session conf is shared: another thread's commit_metadata block ending unsets it, or sets its own value,
    under this write's commit (a lineage test saw job=None on a gold commit). Writes carry their metadata as a
    writer option, which Delta prefers to the conf; here the conf is never set for them, or holds another run."""
    lake = replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path)))
    df = spark.createDataFrame([("20130102", 1)], "day_id STRING, n INT")
    mine = {"run_id": "r1", "job": "gold"}
    monkeypatch.setattr(io, "commit_metadata", lambda spark, meta: nullcontext())
    io.append(df, lake, "gld_meta_probe", mine)
    with io.spark_conf(spark, io.META_CONF, json.dumps({"run_id": "other", "job": "silver"})):
        io.replace_where(df, lake, "gld_meta_probe", "day_id = '20130102'", mine)
    hist = DeltaTable.forPath(spark, io.table_path(lake, "gld_meta_probe")).history().orderBy("version").collect()
    assert [json.loads(h.userMetadata) for h in hist] == [mine, mine]


def test_a_delete_stays_tagged_when_a_parallel_block_of_the_same_run_ends_first(spark, cfg, tmp_path):
    """MERGE, DELETE and CREATE have no writer option: the conf must hold the run's metadata while any of its blocks
    is open. Two threads' blocks interleave here by hand: A opens, B opens, A closes, B deletes, B closes."""
    lake = replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path)))
    df = spark.createDataFrame([("20130102", 1)], "day_id STRING, n INT")
    mine = {"run_id": "r2", "job": "gold"}
    io.append(df, lake, "gld_meta_probe2", mine)
    a, b = io.commit_metadata(spark, mine), io.commit_metadata(spark, mine)
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    DeltaTable.forPath(spark, io.table_path(lake, "gld_meta_probe2")).delete("day_id = '20130102'")
    b.__exit__(None, None, None)
    hist = DeltaTable.forPath(spark, io.table_path(lake, "gld_meta_probe2")).history().orderBy("version").collect()
    assert [json.loads(h.userMetadata) for h in hist] == [mine, mine]
    assert spark.conf.get(io.META_CONF, None) is None


def test_a_nested_block_gives_back_the_outer_runs_metadata(spark):
    """A restore inside a job's block tags its commits with more keys, then the job's own tag is back."""
    outer, inner = {"run_id": "r3", "job": "restore"}, {"run_id": "r3", "job": "restore", "restore_to_version": "4"}
    with io.commit_metadata(spark, outer):
        with io.commit_metadata(spark, inner):
            assert json.loads(spark.conf.get(io.META_CONF)) == inner
        assert json.loads(spark.conf.get(io.META_CONF)) == outer
    assert spark.conf.get(io.META_CONF, None) is None
