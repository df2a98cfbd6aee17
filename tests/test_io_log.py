"""The commit facts io reads straight from _delta_log files (versions, row counts, partitions, operations) must be the
ones Delta's own history reports: they replaced DeltaTable.history() calls that cost a snapshot and Spark jobs."""
from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from csqm import io
from delta.tables import DeltaTable
from pyspark.sql.types import StructType

T = "gld_log_probe"


@pytest.fixture()
def lake(cfg, tmp_path):
    return replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path)))


def _history(spark, lake) -> list:
    return DeltaTable.forPath(spark, io.table_path(lake, T)).history().orderBy("version").collect()


def test_versions_rows_partitions_and_operations_match_delta_history(spark, lake):
    schema = StructType.fromDDL("day_id STRING, n INT")
    io.ensure_table(spark, lake, T, schema, ["day_id"], {"run_id": "r0", "job": "create"})
    first = spark.createDataFrame([("20130101", 1)], "day_id STRING, n INT")
    io.append(first, lake, T, {"run_id": "r1", "job": "ingest"})
    two_days = spark.createDataFrame([("20130102", 1), ("20130102", 2), ("20130103", 3)], "day_id STRING, n INT")
    version, rows = io.replace_where_counted(two_days, lake, T, "day_id IN ('20130102', '20130103')")
    io.delete_rows(spark, lake, T, "day_id = '20130101'", {"run_id": "r2", "job": "silver"})

    hist = _history(spark, lake)
    assert io.latest_version(spark, lake, T) == hist[-1].version == 3
    assert (version, rows) == (2, int(hist[2].operationMetrics["numOutputRows"])) == (2, 3)
    assert io.commit_partitions(spark, lake, T, 2, "day_id") == ["20130102", "20130103"]
    assert io.commit_partitions(spark, lake, T, 3, "day_id") == []  # a delete adds no file
    meta = [json.loads(h.userMetadata) if h.userMetadata else {} for h in hist]
    assert io.commits_after(spark, lake, T, -1) == [
        {"version": h.version, "operation": h.operation, "job": m.get("job"), "run_id": m.get("run_id"),
         "mode": h.operationParameters.get("mode")} for h, m in zip(hist, meta, strict=True)]
    assert [c["operation"] for c in io.commits_after(spark, lake, T, 1)] == ["WRITE", "DELETE"]
    assert io.commits_after(spark, lake, T, 3) == []


def test_a_commit_whose_log_file_is_gone_is_left_out(spark, lake):
    df = spark.createDataFrame([("20130101", 1)], "day_id STRING, n INT")
    io.append(df, lake, T)
    io.append(df, lake, T)
    os.remove(f"{io.table_path(lake, T)}/_delta_log/{0:020d}.json")
    assert io.commit_actions(spark, lake, T, 0) is None
    assert io.commit_info(spark, lake, T, 0) == {}
    assert [c["version"] for c in io.commits_after(spark, lake, T, -1)] == [1]


def test_the_latest_version_of_a_missing_table_is_an_error_that_names_it(spark, lake):
    with pytest.raises(ValueError, match=f"{T}: no Delta table at .*{T}"):
        io.latest_version(spark, lake, T)


def test_a_lake_named_by_uri_is_read_through_hadoop_alike(spark, lake, tmp_path):
    """A cluster's lake is a URI (the cluster profile's hdfs:///...): its tables are created under it, and its log is
    listed and read through Hadoop's FileSystem. The same files named by a file:// URI give what local reads give."""
    by_uri = replace(lake, env=replace(lake.env, lake_root=tmp_path.as_uri()))
    assert io.table_path(by_uri, T).startswith("file:///")
    io.ensure_table(spark, by_uri, T, StructType.fromDDL("day_id STRING, n INT"), ["day_id"])  # not ambiguous
    io.append(spark.createDataFrame([("20130101", 1)], "day_id STRING, n INT"), lake, T, {"run_id": "r", "job": "j"})
    io.delete_rows(spark, lake, T, "n = 1")
    assert io.latest_version(spark, by_uri, T) == io.latest_version(spark, lake, T) == 2
    assert [io.commit_actions(spark, by_uri, T, v) for v in range(3)] == \
        [io.commit_actions(spark, lake, T, v) for v in range(3)]
    assert [c["operation"] for c in io.commits_after(spark, by_uri, T, -1)] == ["CREATE TABLE", "WRITE", "DELETE"]
    assert io.commit_actions(spark, by_uri, T, 3) is None
    assert io.latest_versions(spark, by_uri, ["gld_no_such_table"]) == {}
