"""What gold learns of silver's changes since its watermark: the rows of ops_changed_partition appended after that
version, read by run_id so that earlier runs' files (the table is never pruned) stay unread."""
from __future__ import annotations

from pathlib import Path

import pytest
from csqm import io
from csqm.pipeline.gold import _changes_since
from csqm.pipeline.silver import CHANGES, CHANGES_DDL
from pyspark.sql.types import StructType


def _rows(df) -> list[tuple[str, str]]:
    return sorted(tuple(r) for r in df.collect())


@pytest.fixture()
def changes(spark, tmp_roots):
    """ops_changed_partition: created (v0), then one append by each of runs A, B and C (v1..v3)."""
    cfg = tmp_roots
    io.ensure_table(spark, cfg, CHANGES, StructType.fromDDL(CHANGES_DDL), ())
    for run, part in (("A", "20130101"), ("B", "20130102"), ("C", "20130103")):
        rows = [("slv_fault_event_d", part, run, None), ("slv_complaint_event_d", part, run, None)]
        io.append(spark.createDataFrame(rows, CHANGES_DDL), cfg, CHANGES, {"run_id": run, "job": "silver"})
    return cfg


def test_rows_appended_after_the_watermark(spark, changes):
    tables = ("slv_complaint_event_d", "slv_fault_event_d")
    every = [(t, p) for t in tables for p in ("20130101", "20130102", "20130103")]
    assert _rows(_changes_since(spark, changes, None)) == every
    assert _rows(_changes_since(spark, changes, 1)) == [x for x in every if x[1] != "20130101"]
    assert _rows(_changes_since(spark, changes, 3)) == []


def test_earlier_runs_files_are_not_read(spark, changes):
    """With run A's file gone, the changes after A's version are still read: B's and C's files alone."""
    (added,) = [a["add"]["path"] for a in io.commit_actions(spark, changes, CHANGES, 1) if "add" in a]
    (Path(io.table_path(changes, CHANGES)) / added).unlink()
    assert sorted(p for _, p in _rows(_changes_since(spark, changes, 1))) == ["20130102", "20130102", "20130103",
                                                                              "20130103"]


def test_after_another_kind_of_commit(spark, changes):
    """A commit that is not a tagged append (an untagged DELETE of C's rows; a row written by hand with run A's id,
    which a selection by the tagged runs would miss): gold compares the two versions."""
    io.delete_rows(spark, changes, CHANGES, "run_id = 'C'")
    assert _rows(_changes_since(spark, changes, 2)) == []
    assert [p for _, p in _rows(_changes_since(spark, changes, 1))] == ["20130102", "20130102"]
    io.append(spark.createDataFrame([("slv_fault_event_d", "20130109", "A", None)], CHANGES_DDL), changes, CHANGES)
    assert _rows(_changes_since(spark, changes, 4)) == [("slv_fault_event_d", "20130109")]
