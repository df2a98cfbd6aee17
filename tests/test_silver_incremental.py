"""Incremental silver (README §10.1): generated days ingested and applied one by one, with late snapshots and
redeliveries, give the same silver tables as a full rebuild; a rerun with nothing new writes nothing; a watermark
that can no longer be read falls back to a full rebuild of the dependents."""
from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from chispa import assert_df_equality
from csqm import audit, io
from csqm.generate import generate_landing
from csqm.generate.bad import write_batch
from csqm.pipeline.ingest import ingest
from csqm.pipeline.silver import BUILDERS, CHANGES, run_silver
from csqm.pipeline.silver_incremental import WATERMARK

DAYS = ("20130101", "20130102", "20130103")
SILVER = [m.TABLE for m, _ in BUILDERS]
OPS = [WATERMARK, CHANGES]


def _ingest(spark, cfg, day):
    run = audit.start(spark, cfg, "ingest", {"date": day}, day)
    ingest(spark, cfg, run, date=day, log=lambda _: None)
    audit.finish(spark, cfg, run, "SUCCESS")


def _silver(spark, cfg, full_refresh=False):
    lines: list[str] = []
    run = audit.start(spark, cfg, "silver", {"full_refresh": full_refresh}, None)
    changed = run_silver(spark, cfg, run, log=lines.append, full_refresh=full_refresh)
    audit.finish(spark, cfg, run, "SUCCESS")
    return run, changed, {ln.split()[0]: ln for ln in lines}


def _records(folder: Path) -> tuple[list[str], list[list[bytes]]]:
    chk = (folder / f"{folder.parent.name}_{folder.name}.chk").read_text().splitlines()
    names = [ln.split("|")[0] for ln in chk]
    return names, [r.split(b"\x05") for n in names for r in (folder / n).read_bytes().split(b"\n") if r]


def _redeliver_cs_sheet(cfg, day: str) -> dict:
    """CS_SHEET of `day` resent with higher-seq parts: one sheet dropped, one sheet moved a day later and to another
    number (both chosen among sheets no other batch has, so the redelivery decides their current state)."""
    spec, land = cfg.interface("CS_SHEET"), Path(cfg.env.landing_root) / "CS_SHEET"
    names, rows = _records(land / day)
    ix = {f: i for i, f in enumerate(spec.field_names)}
    elsewhere = {r[0] for d in land.iterdir() if d.name != day for r in _records(d)[1]}
    own = [r for r in rows if r[0] not in elsewhere and r[ix["acc_nbr"]]]
    drop = own[0]
    moved = next((r for r in own[1:] if r[ix["sheet_type"]] == b"CMPL"), own[1])
    other = next(r[ix["acc_nbr"]] for r in rows if r[ix["acc_nbr"]] not in (b"", moved[ix["acc_nbr"]]))
    old_accept = dt.datetime.strptime(moved[ix["accept_time"]].decode(), "%Y%m%d%H%M%S")
    moved[ix["accept_time"]] = (old_accept + dt.timedelta(days=1)).strftime("%Y%m%d%H%M%S").encode()
    moved[ix["acc_nbr"]] = other
    keep = [b"\x05".join(r) for r in rows if r is not drop]
    seq = max(int(n[-7:-4]) for n in names) + 1
    write_batch(cfg.env.landing_root, spec, day, [keep], seq_start=seq, gen_time=f"{DAYS[-1]}113000")
    return {"dropped": drop[0].decode(), "moved": moved[0].decode(), "acc_nbr": other.decode(),
            "old_day": old_accept.strftime("%Y%m%d"), "new_day": (old_accept + dt.timedelta(days=1)).strftime("%Y%m%d")}


@pytest.fixture(scope="module")
def lakes(spark, cfg, tmp_path_factory):
    """Lake A: day by day, ingest then incremental silver. December snapshots arrive only on day 2 (re-enrichment);
    a generated redelivery before the last day is first delivered as it was at first; CS_SHEET of day 2 is
    redelivered before the last day. Then a rerun with nothing new. Lake B: A's bronze, rebuilt with --full-refresh."""
    laps, t0 = {}, time.time()

    def lap(name):
        nonlocal t0
        laps[name], t0 = round(time.time() - t0, 1), time.time()

    root = tmp_path_factory.mktemp("incremental")
    a = replace(cfg, env=replace(cfg.env, landing_root=str(root / "landing"), lake_root=str(root / "a")))
    b = replace(cfg, env=replace(cfg.env, landing_root=str(root / "landing"), lake_root=str(root / "b")))
    summary = generate_landing(a, a.env.landing_root, DAYS[0], len(DAYS), 300, seed=3)
    land = Path(a.env.landing_root)
    late = {land / c / "201212" / f"{c}_201212.chk": None for c in ("SUBS", "PTS_BAL")}
    for chk in late:
        late[chk] = chk.read_bytes()
        chk.unlink()
    staged = {}
    for folder, first in summary.first_chk.items():
        f = Path(folder)
        if f.name < DAYS[-1]:
            chk = f / f"{f.parent.name}_{f.name}.chk"
            staged[chk] = chk.read_bytes()
            chk.write_bytes(first)
    assert staged, "the generator stages no redelivery before the last day"
    runs = []
    for day in DAYS:
        if day == DAYS[1]:
            for chk, data in late.items():
                chk.write_bytes(data)
        if day == DAYS[-1]:
            for chk, data in staged.items():
                chk.write_bytes(data)
            redelivery = _redeliver_cs_sheet(a, DAYS[1])
        _ingest(spark, a, day)
        lap(f"ingest {day}")
        runs.append(_silver(spark, a))
        lap(f"silver {day}")
    before = io.latest_versions(spark, a, SILVER + OPS)
    rerun = _silver(spark, a)
    lap("silver rerun")
    after = io.latest_versions(spark, a, SILVER + OPS)
    for layer in ("bronze", "reference", "manual"):
        shutil.copytree(Path(a.env.lake_root) / layer, Path(b.env.lake_root) / layer)
    full = _silver(spark, b, full_refresh=True)
    lap("silver full refresh")
    print("timings", laps)
    return {"a": a, "b": b, "runs": runs, "rerun": rerun, "before": before, "after": after, "full": full,
            "redelivery": redelivery}


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
