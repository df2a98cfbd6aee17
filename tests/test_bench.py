"""The benchmark's delivery simulation: batches reach the landing folder on their day, monthly ones at month end."""
from __future__ import annotations

from bench.run import day_of, per_interface, publish


def _batch(root, code, folder, text=b"a\x05b\n"):
    d = root / code / folder
    d.mkdir(parents=True)
    (d / f"{code}_{folder}_001.dat").write_bytes(text)
    (d / f"{code}_{folder}.chk").write_bytes(b"x")


def test_publish_delivers_daily_batches_on_their_day_and_monthly_ones_at_month_end(tmp_path):
    src, land = tmp_path / "source", tmp_path / "landing"
    for f in ("20130130", "20130131", "20130201"):
        _batch(src, "CC_CALL", f)
    _batch(src, "SUBS", "201301", b"1\n2\n3\n")
    first = publish(src, land, "20130130")
    assert [p.parent.name for p in first] == ["20130130"]
    assert sorted(p.name for p in (land / "CC_CALL" / "20130130").iterdir()) == [
        "CC_CALL_20130130.chk", "CC_CALL_20130130_001.dat"]
    second = publish(src, land, "20130131")
    assert sorted(p.parent.name for p in second) == ["201301", "20130131"]
    assert publish(src, land, "20130131") == []
    assert per_interface(second) == {"CC_CALL": {"files": 1, "rows": 1, "bytes": 4},
                                     "SUBS": {"files": 1, "rows": 3, "bytes": 6}}


def test_day_of_counts_from_the_start():
    assert (day_of("20130101", 1), day_of("20130101", 31), day_of("20130101", 90)) == (
        "20130101", "20130131", "20130331")


def test_source_files_are_reused_only_for_the_same_parameters(cfg, tmp_path):
    from bench.run import generated

    work = tmp_path / "sf"
    params = {"sf": 0.00001, "subscribers": 200, "days": 1, "start": "20130101", "seed": 1}
    assert generated(cfg, work, params, reuse=True) is not None  # nothing to reuse yet
    files = sorted(p.relative_to(work) for p in (work / "source").rglob("*.dat"))
    stamp = {p: p.stat().st_mtime_ns for p in (work / "source").rglob("*.dat")}
    (work / "lake").mkdir()
    assert generated(cfg, work, params, reuse=True) is None
    assert not (work / "lake").exists()
    assert {p: p.stat().st_mtime_ns for p in (work / "source").rglob("*.dat")} == stamp
    assert generated(cfg, work, {**params, "seed": 2}, reuse=True) is not None
    assert sorted(p.relative_to(work) for p in (work / "source").rglob("*.dat")) == files
    assert {p: p.stat().st_mtime_ns for p in (work / "source").rglob("*.dat")} != stamp
    assert generated(cfg, work, {**params, "seed": 2}, reuse=False) is not None


def test_io_floor_writes_every_line_of_every_file_once(spark, tmp_path):
    """The floor's Delta table holds the files' lines, per interface, byte for byte (no trailing empty line)."""
    from bench.run import io_floor

    _batch(tmp_path, "CC_CALL", "20130131", b"a\x05b\n\xb2\xe2\x05c\n")
    _batch(tmp_path, "SUBS", "201301", b"1\n2\n3\n")
    files = sorted(tmp_path.glob("*/*/*.dat"))
    assert io_floor(spark, files, tmp_path / "floor") > 0
    got = spark.read.format("delta").load(str(tmp_path / "floor")).selectExpr("ifcode", "CAST(value AS BINARY)")
    assert sorted((r[0], bytes(r[1])) for r in got.collect()) == [
        ("CC_CALL", b"a\x05b"), ("CC_CALL", b"\xb2\xe2\x05c"), ("SUBS", b"1"), ("SUBS", b"2"), ("SUBS", b"3")]


def test_the_floor_is_run_the_given_number_of_times_and_leaves_one_copy_of_the_lines(spark, tmp_path):
    """Each repeat rewrites the floor table: the timings are of the same work, not of a growing table."""
    from bench.run import floor_runs

    _batch(tmp_path, "CC_CALL", "20130131", b"a\x05b\nc\n")
    runs = floor_runs(spark, sorted(tmp_path.glob("*/*/*.dat")), tmp_path / "floor", n=2)
    assert len(runs) == 2 and all(r > 0 for r in runs)
    got = spark.read.format("delta").load(str(tmp_path / "floor"))
    assert sorted(r.value for r in got.collect()) == ["a\x05b", "c"]


def test_the_jvm_peak_is_the_driver_jvms_high_water_mark_in_mb(spark):
    """The figure the harness reports per day and per run is the JVM's own VmHWM (not the Python driver's), in MB;
    read around the call, since the kernel's RSS counters move while Spark runs."""
    from pathlib import Path

    from bench.run import jvm_peak_rss_mb

    status = Path(f"/proc/{spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()}/status")

    def hwm_mb() -> float:
        lines = status.read_text().splitlines()
        return next(int(line.split()[1]) for line in lines if line.startswith("VmHWM:")) / 1024

    before, peak, after = hwm_mb(), jvm_peak_rss_mb(spark), hwm_mb()
    assert peak is not None and min(before, after) - 16 <= peak <= max(before, after) + 16


def test_publish_since_skips_the_daily_batches_before_the_lead_but_not_the_months(tmp_path):
    """With --lead, daily batches before the lead are never delivered; the month before it (the generator's base
    month) comes with the catch-up, so the timed day finds the previous snapshot as with full history."""
    src, land = tmp_path / "source", tmp_path / "landing"
    for f in ("20130129", "20130130", "20130131"):
        _batch(src, "CC_CALL", f)
    _batch(src, "SUBS", "201212")
    _batch(src, "SUBS", "201301")
    assert sorted(p.parent.name for p in publish(src, land, "20130130", since="20130130")) == ["201212", "20130130"]
    assert sorted(p.parent.name for p in publish(src, land, "20130131", since="20130130")) == ["201301", "20130131"]
    assert (land / "SUBS" / "201212").exists() and not (land / "CC_CALL" / "20130129").exists()


def test_a_lead_generates_the_full_runs_bytes_for_its_days_and_the_monthly_batches(cfg, tmp_path):
    from csqm.generate import generate_landing

    from bench.run import generated

    params = {"sf": 0.00001, "subscribers": 200, "days": 31, "start": "20130101", "seed": 1}
    generated(cfg, tmp_path / "lead", {**params, "lead": 1, "timed": [31]}, reuse=False)
    generate_landing(cfg, tmp_path / "full", "20130101", 31, 200, seed=1, redeliveries=False)
    lead = {p.relative_to(tmp_path / "lead" / "source"): p.read_bytes()
            for p in (tmp_path / "lead" / "source").rglob("*.*") if p.name != "params.json"}
    full = {p.relative_to(tmp_path / "full"): p.read_bytes() for p in (tmp_path / "full").rglob("*.*")}
    assert {p.parent.name for p in lead if len(p.parent.name) == 8} == {"20130130", "20130131"}
    assert {p.parent.parent.name for p in lead if len(p.parent.name) == 6} == {"SUBS", "PTS_BAL", "APPEAL", "ESCAL"}
    assert lead == {p: b for p, b in full.items() if p in lead}
    assert set(lead) == {p for p in full if len(p.parent.name) == 6 or p.parent.name in ("20130130", "20130131")}


def test_a_day_runs_in_a_new_jvm_of_its_own_and_reports_its_floor_and_peaks(spark, tmp_path):
    """The default method: each day in a spawned process with its own JVM (production's one spark-submit a day), so
    nothing of the test's session or of an earlier day is in it; the floor runs in that JVM after the chain."""
    from bench.run import jvm_per_day

    _batch(tmp_path / "landing", "CC_CALL", "20130131", b"a\x05b\nc\n")
    files = sorted((tmp_path / "landing").glob("*/*/*.dat"))
    run = jvm_per_day({"landing_root": str(tmp_path / "landing"), "lake_root": str(tmp_path / "lake"),
                       "backup_root": str(tmp_path / "backup")}, event_log=tmp_path / "events")
    got = run("20130131", files, tmp_path / "floor", steps=())
    assert got["steps"] == {} and len(got["floors"]) == 3 and all(f > 0 for f in got["floors"])
    floor = got["spark_work"]["I/O floor"]  # its three writes, counted from the day's own event log, then removed
    assert floor["jobs"] >= 3 and floor["tasks"] >= floor["jobs"] and floor["queries"] >= 3
    assert list((tmp_path / "events").iterdir()) == []
    assert got["jvm_pid"] != spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    assert got["jvm_peak_mb"] > 100 and got["python_peak_mb"] > 10
    lines = spark.read.format("delta").load(str(tmp_path / "floor"))
    assert sorted(r.value for r in lines.collect()) == ["a\x05b", "c"]


def test_a_spawned_days_python_peak_is_its_own_not_its_parents():
    """A day's process reports its own peak: `ru_maxrss` would carry the harness's high-water mark into the child."""
    from multiprocessing import get_context

    from bench.run import python_peak_rss_mb

    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])
    parent = python_peak_rss_mb()
    with get_context("spawn").Pool(1) as pool:
        child = pool.apply(python_peak_rss_mb)
    assert parent > 300 and child < parent - 250, (parent, child)
