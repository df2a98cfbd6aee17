"""The pipeline lake shared by the end-to-end tests of silver and gold (README §10): generated days ingested and
applied one by one (late snapshots, redeliveries), then a rerun with nothing new; and a second lake with the same
bronze rebuilt with --full-refresh. Session-scoped: built once, by whichever test asks first."""
from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
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


@pytest.fixture(scope="session")
def lakes(spark, cfg, tmp_path_factory):
    """Lake A: a first run that catches up days 1–2 (ingest, silver, gold: all FULL), then the daily run of day 3
    (incremental), in which the December snapshots arrive late (re-enrichment), the generated redeliveries of days
    1–2 arrive (first delivered as they were at first) and CS_SHEET of day 2 is redelivered. Then a rerun with nothing
    new. Lake B: A's bronze, rebuilt with --full-refresh."""
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
    runs, gold_runs = [], []
    for day in DAYS[1:]:
        if day == DAYS[-1]:
            for chk, data in late.items():
                chk.write_bytes(data)
            for chk, data in staged.items():
                chk.write_bytes(data)
            redelivery = _redeliver_cs_sheet(a, DAYS[1])
        _ingest(spark, a, day)
        lap(f"ingest {day}")
        runs.append(_silver(spark, a))
        lap(f"silver {day}")
        gold_runs.append(_gold(spark, a))
        lap(f"gold {day}")
    before = io.latest_versions(spark, a, SILVER + OPS)
    rerun = _silver(spark, a)
    lap("silver rerun")
    after = io.latest_versions(spark, a, SILVER + OPS)
    gold_tables = list(a.section("metrics").tables)
    gold_before = io.latest_versions(spark, a, gold_tables)
    gold_rerun = _gold(spark, a)
    lap("gold rerun")
    gold_after = io.latest_versions(spark, a, gold_tables)
    for layer in ("bronze", "reference", "manual", "ops/ops_batch_log"):   # the batch log makes gold's horizon
        shutil.copytree(Path(a.env.lake_root) / layer, Path(b.env.lake_root) / layer)
    full = _silver(spark, b, full_refresh=True)
    lap("silver full refresh")
    gold_full = _gold(spark, b, full_refresh=True)
    lap("gold full refresh")
    print("timings", laps)
    return {"a": a, "b": b, "runs": runs, "rerun": rerun, "before": before, "after": after, "full": full,
            "redelivery": redelivery, "gold_runs": gold_runs, "gold_rerun": gold_rerun, "gold_full": gold_full,
            "gold_before": gold_before, "gold_after": gold_after}


def _gold(spark, cfg, full_refresh=False):
    from csqm.gold.reconcile import enforce
    from csqm.pipeline.gold import run_gold

    lines: list[str] = []
    run = audit.start(spark, cfg, "gold", {"full_refresh": full_refresh}, None)
    written = run_gold(spark, cfg, run, log=lines.append, full_refresh=full_refresh)
    enforce(spark, cfg, written, log=lines.append)
    audit.finish(spark, cfg, run, "SUCCESS")
    return run, written, {ln.split()[0]: ln for ln in lines if ln.split()[0].startswith("gld_")}


