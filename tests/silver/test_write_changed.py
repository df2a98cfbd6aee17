"""write_changed: only partitions whose content differs are written; a full rebuild keeps stored partitions older
than its earliest one (their sources may be retired) and drops newer ones it no longer produces."""
from __future__ import annotations

from dataclasses import dataclass

from csqm import audit, io
from csqm.pipeline.silver import write_changed


@dataclass(frozen=True)
class _T:
    TABLE: str = "slv_probe_m"
    PARTITION: str = "month_id"
    DDL: str = "k STRING, v BIGINT, month_id STRING"


def _write(spark, cfg, rows):
    run = audit.Run("silver", {}, None)
    df = spark.createDataFrame(rows, _T.DDL)
    return write_changed(spark, cfg, run, _T(), df), run


def test_full_rebuild_keeps_older_partitions_and_writes_only_changes(spark, tmp_roots):
    _write(spark, tmp_roots, [("a", 1, "201101"), ("b", 2, "201102"), ("c", 3, "201103"), ("d", 4, "201104")])
    changed, run = _write(spark, tmp_roots, [("b", 2, "201102"), ("c", 30, "201103")])
    assert changed == ["201103", "201104"]
    got = sorted((r.k, r.v, r.month_id) for r in io.read(spark, tmp_roots, _T.TABLE).collect())
    assert got == [("a", 1, "201101"), ("b", 2, "201102"), ("c", 30, "201103")]
    again, run2 = _write(spark, tmp_roots, [("b", 2, "201102"), ("c", 30, "201103")])
    assert again == [] and run2.versions == {}


def test_nothing_stored_writes_every_partition_at_once_and_counts_it(spark, tmp_roots):
    """A new table (and, with only=, a month with no stored row) is written in one commit without comparing;
    an empty build of an empty table commits nothing."""
    nothing, run0 = _write(spark, tmp_roots, [])
    assert nothing == [] and run0.versions == {} and run0.rows_out == 0
    changed, run = _write(spark, tmp_roots, [("a", 1, "201101"), ("b", 2, "201102"), ("c", 3, "201102")])
    assert changed == ["201101", "201102"] and run.rows_out == 3
    assert run.versions == {_T.TABLE: io.latest_version(spark, tmp_roots, _T.TABLE)}
    run2 = audit.Run("silver", {}, None)
    new = spark.createDataFrame([("d", 4, "201103")], _T.DDL)
    assert write_changed(spark, tmp_roots, run2, _T(), new, only=["201103"]) == ["201103"] and run2.rows_out == 1
    got = sorted((r.k, r.v, r.month_id) for r in io.read(spark, tmp_roots, _T.TABLE).collect())
    assert got == [("a", 1, "201101"), ("b", 2, "201102"), ("c", 3, "201102"), ("d", 4, "201103")]
