"""Incremental silver (README §10.1): generated days ingested and applied one by one, with late snapshots and
redeliveries, give the same silver tables as a full rebuild; a rerun with nothing new writes nothing; a watermark
that can no longer be read falls back to a full rebuild of the dependents."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality
from csqm import io
from csqm.pipeline.silver import BUILDERS, CHANGES
from csqm.pipeline.silver_incremental import WATERMARK
from lake_fixture import SILVER, _silver


def test_first_run_is_full_then_incremental(lakes):
    first, *later = lakes["runs"]
    assert set(first[2]) == set(SILVER)
    assert all(" FULL " in ln for ln in first[2].values()), first[2]
    for _, _, lines in later:
        assert all(" INCR " in ln for ln in lines.values()), lines
    assert all(" FULL (full refresh)" in ln for ln in lakes["full"][2].values())


@pytest.mark.parametrize("table", SILVER)
def test_incremental_equals_full_rebuild(spark, lakes, table):
    a = io.read(spark, lakes["a"], table).drop("_run_id", "_load_ts")
    b = io.read(spark, lakes["b"], table).drop("_run_id", "_load_ts")
    assert_df_equality(a, b, ignore_row_order=True, ignore_nullable=True)


def test_redelivery_drops_and_moves_rows(spark, lakes, sha):
    r = lakes["redelivery"]
    cmpl = {x.sheet_id: x for x in io.read(spark, lakes["a"], "slv_complaint_event_d").collect()}
    assert r["dropped"] not in cmpl
    moved = cmpl[r["moved"]]
    assert (moved.day_id, moved.acc_nbr_hash) == (r["new_day"], sha(r["acc_nbr"]))
    last_run = lakes["runs"][-1][0].run_id
    parts = {x.partition for x in io.read(spark, lakes["a"], CHANGES).collect()
             if x.run_id == last_run and x.table_name == "slv_complaint_event_d"}
    assert {r["old_day"], r["new_day"]} <= parts


def test_rerun_with_nothing_new_writes_nothing(lakes):
    assert lakes["after"] == lakes["before"]
    _, changed, lines = lakes["rerun"]
    assert changed == {t: [] for t in SILVER}
    assert all(" INCR " in ln for ln in lines.values())


def test_watermark_and_commit_metadata(spark, lakes):
    cfg = lakes["a"]
    wm = {r.source_table: r.version for r in io.read(spark, cfg, WATERMARK).where("consumer = 'silver'").collect()}
    bronze = [cfg.interface(c).table for c in cfg.interfaces]
    assert wm == io.latest_versions(spark, cfg, bronze + SILVER + ["dim_kpi_threshold", "man_appeal_bulletin"])
    run = lakes["runs"][-1][0]
    meta = io.commits_after(spark, cfg, "slv_complaint_event_d", -1)[-1]
    assert meta["job"] == "silver" and meta["operation"] == "WRITE"
    assert run.versions["slv_complaint_event_d"] == meta["version"]


def test_unreadable_watermark_falls_back_to_full_rebuild_of_dependents(spark, lakes, monkeypatch):
    """Move the CC_CALL watermark back before its redelivery and make the time travel to it fail: the contacts are
    rebuilt in full (and, being right already, not written); the other tables stay incremental."""
    cfg = lakes["a"]
    replaced = io.read(spark, cfg, "ops_batch_log").where("ifcode = 'CC_CALL' AND status = 'REPLACED'").first()
    assert replaced is not None, "no CC_CALL redelivery was staged"
    io.update_rows(spark, cfg, WATERMARK, "consumer = 'silver' AND source_table = 'brz_cc_call'",
                   {"version": str(replaced.bronze_version)})
    real_read = io.read

    def vacuumed(spark_, cfg_, table, where=None, version=None, timestamp=None):
        return real_read(spark_, cfg_, table, where, None if version is None else 10**6, timestamp)

    monkeypatch.setattr(io, "read", vacuumed)
    before = io.latest_versions(spark, cfg, SILVER)
    _, changed, lines = _silver(spark, cfg)
    assert "FULL (brz_cc_call watermark version" in lines["slv_contact_event_d"]
    assert "can no longer be read" in lines["slv_contact_event_d"]
    assert all(" INCR " in ln for t, ln in lines.items() if t != "slv_contact_event_d"), lines
    assert changed == {t: [] for t in SILVER}
    assert io.latest_versions(spark, cfg, SILVER) == before
    wm = io.read(spark, cfg, WATERMARK).where("source_table = 'brz_cc_call'").first().version
    assert wm == io.latest_versions(spark, cfg, ["brz_cc_call"])["brz_cc_call"]


def test_a_table_changed_outside_silver_is_rebuilt_in_full(spark, lakes):
    """A commit by another job (here a bad 'restore') after the watermark: that table is rebuilt in full, which
    repairs it; its dependents follow in full, the rest stays incremental."""
    cfg = lakes["a"]
    io.update_rows(spark, cfg, "slv_points_exch_d", "true", {"cost_amt": "cost_amt + 1"},
                   {"run_id": "test", "job": "restore"})
    _, changed, lines = _silver(spark, cfg)
    assert "FULL (changed since the last successful silver run" in lines["slv_points_exch_d"]
    assert "UPDATE by job restore" in lines["slv_points_exch_d"]
    assert all(" INCR " in ln for t, ln in lines.items() if t != "slv_points_exch_d")
    assert changed["slv_points_exch_d"]
    a = io.read(spark, cfg, "slv_points_exch_d").drop("_run_id", "_load_ts")
    b = io.read(spark, lakes["b"], "slv_points_exch_d").drop("_run_id", "_load_ts")
    assert_df_equality(a, b, ignore_row_order=True, ignore_nullable=True)


def test_every_table_declares_its_inputs_and_scope():
    from csqm.pipeline.silver_incremental import DAILY_SCOPES, NEEDS

    assert list(NEEDS) == SILVER
    assert set(DAILY_SCOPES) == {m.TABLE for m, _ in BUILDERS if m.PARTITION == "day_id"}
    for table, needs in NEEDS.items():
        assert all(SILVER.index(u) < SILVER.index(table) for u in needs.silver), table


def test_raw_pii_only_in_bronze_and_quarantine(spark, lakes):
    """README §9: no silver column of the pipeline lake holds a raw acc_nbr / caller_no / cert_nbr value."""
    from pyspark.sql import functions as F

    cfg = lakes["a"]
    raw = None
    for spec in cfg.interfaces.values():
        for f in spec.fields:
            if f.pii:
                vals = io.read(spark, cfg, spec.table).select(F.col(f.name).alias("v")).where("v IS NOT NULL")
                raw = vals if raw is None else raw.unionByName(vals)
    raw = raw.distinct().cache()
    assert raw.count() > 100
    silver = io.tables_in_layer(cfg, "silver")
    assert len(silver) == 15
    for t in silver:
        df = io.read(spark, cfg, t)
        cols = [c for c, typ in df.dtypes if typ == "string"]
        cells = df.select(F.explode(F.array(*cols)).alias("v"))
        leaked = cells.join(raw, on="v", how="left_semi").limit(3).collect()
        assert not leaked, f"{t} holds raw PII values {leaked}"


def test_every_daily_row_refers_to_the_month_before_its_day(spark, lakes):
    """Re-enrichment reads only the day partitions of M+1 for a snapshot month M (scope.reenrich_keys): it holds
    because every daily table derives day_id and ref_month_id from the same business date."""
    from csqm.silver.common import prev_month_id
    from pyspark.sql import functions as F

    cfg, rows = lakes["a"], {}
    for m, _ in BUILDERS:
        df = io.read(spark, cfg, m.TABLE)
        if m.PARTITION != "day_id" or "ref_month_id" not in df.columns:
            continue
        off = df.where(~F.col("ref_month_id").eqNullSafe(prev_month_id(F.substring("day_id", 1, 6))))
        assert off.count() == 0, (m.TABLE, off.select("day_id", "ref_month_id").limit(3).collect())
        rows[m.TABLE] = df.count()
    assert len(rows) == 8 and sum(v > 0 for v in rows.values()) >= 7, rows
