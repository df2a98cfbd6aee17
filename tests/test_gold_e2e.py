"""Gold over the pipeline lake (README §10.2, gold.md §0): day-by-day incremental gold equals a full rebuild over the
same bronze for every table; a rerun with nothing new writes nothing; every table has rows and reconciles."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality
from csqm import io
from csqm.config import load_config

GOLD = list(load_config().section("metrics").tables)


def test_catalog_has_every_gold_table_of_the_contract():
    assert len(GOLD) == 19
    assert {"gld_complaint_d", "gld_hotline_10000_d", "gld_retention_m", "gld_points_value_m",
            "gld_escalation_m"} <= set(GOLD)


def test_first_gold_run_is_full_then_incremental(lakes):
    first, *later = lakes["gold_runs"]
    assert set(first[2]) == set(GOLD)
    assert all(" FULL (first run)" in ln for ln in first[2].values()), first[2]
    for _, _, lines in later:
        assert all(" INCR " in ln for ln in lines.values()), lines


@pytest.mark.parametrize("table", GOLD)
def test_incremental_gold_equals_full_rebuild(spark, lakes, table):
    a = io.read(spark, lakes["a"], table).drop("_run_id", "_load_ts")
    b = io.read(spark, lakes["b"], table).drop("_run_id", "_load_ts")
    assert b.count() > 0, f"{table} has no rows on the generated lake"
    assert_df_equality(a, b, ignore_row_order=True, ignore_nullable=True)


def test_gold_rerun_with_nothing_new_writes_nothing(lakes):
    assert lakes["gold_after"] == lakes["gold_before"]
    _, written, lines = lakes["gold_rerun"]
    assert written == {t: [] for t in GOLD}
    assert all("no change" in ln for ln in lines.values()), lines


def test_daily_partitions_stop_at_the_horizon(spark, lakes):
    last = max(r.data_date for r in io.read(spark, lakes["b"], "ops_batch_log").where(
        "status = 'LOADED' AND length(data_date) = 8").select("data_date").collect())
    for t in GOLD:
        if t.endswith("_d"):
            top = io.read(spark, lakes["b"], t).agg({"day_id": "max"}).first()[0]
            assert top <= last, t


def test_dim_metric_is_seeded_from_the_catalog(spark, lakes):
    catalog = lakes["b"].section("metrics")
    codes = {m.code: t.name for t in catalog.tables.values() for m in t.metrics}
    got = {r.metric_code: r.gold_table for r in io.read(spark, lakes["b"], "dim_metric").collect()}
    assert got == codes


def test_lineage_of_a_gold_partition_reaches_the_batches_and_files(spark, lakes):
    from csqm.pipeline.audit_report import lineage

    a = lakes["a"]
    lin = lineage(spark, a, "gld_fault_d", "20130102")
    assert [w["job"] for w in lin.writes] and {w["job"] for w in lin.writes} == {"gold"}
    assert set(lin.sources) == {"slv_fault_event_d", "slv_subscriber_m"}
    assert lin.sources["slv_fault_event_d"] == io.latest_version(spark, a, "slv_fault_event_d")  # nothing since
    ids = {r._batch_id for r in io.read(spark, a, "slv_fault_event_d", "day_id = '20130102'").collect()} | {
        r._batch_id for r in io.read(spark, a, "slv_subscriber_m", "month_id IN ('201212', '201301')").collect()}
    assert ids and {b["_batch_id"] for b in lin.batches} == ids
    assert {b["ifcode"] for b in lin.batches} >= {"FLT_TICKET", "SUBS"}
    assert all(b["files"] and b["status"] == "LOADED" for b in lin.batches)


def test_degenerate_columns_leave_out_what_an_identity_pins(spark, lakes):
    from csqm.pipeline.kpi import degenerate_columns

    b = lakes["b"]
    bad = degenerate_columns(spark, b)
    assert "pv_recon_diff" not in bad.get("gld_points_value_m", [])
    for table, cols in bad.items():
        df = io.read(spark, b, table)
        assert all(df.select(c).distinct().dropna().count() <= 1 for c in cols[:1]), (table, cols)
