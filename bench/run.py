"""Benchmark harness (issue 8): generated landing data at a scale factor, the daily pipeline timed stage by stage
against the I/O floor, and the cost of a late day of a long history against an early one.

    python -m bench.run [--sf 0.0001] [--history 90] [--start 20130101] [--out bench/out]

SF1 = SF1_SUBSCRIBERS generated subscribers: at the generator's densities that is the order of magnitude of one
Shandong province-day in 2013 (docs/bench.md). Files are generated into <out>/work/source and published into the
landing folder as they would arrive: a daily batch on its day, a monthly snapshot on its month's last day. The lake
catches up to day 30 with one daily run, then day 31 is timed (ingest, silver, gold, dq) and the I/O floor of its
files is measured FLOOR_RUNS times (ratio a, over their median); with --history N > 31 the lake catches up to day
N-1 and day N is timed (ratio b = day N / day 31). Each catch-up and each timed day (with its floor) runs in a fresh
process with its own JVM, as one spark-submit a day runs in production; --one-jvm runs them all in one session, the
method of runs 1-28. With --event-log each timed day's session logs its Spark events, and the jobs and queries of
each step are counted from them (bench/joblog.py). Prints a table and writes <out>/bench.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from csqm.config import Config, load_config
from csqm.errors import JobFailed
from csqm.generate import generate_days, generate_landing, generate_monthly
from csqm.pipeline.jobs import DAILY_STEPS, SOFT_STEPS
from csqm.session import get_spark
from pyspark.sql import functions as F

from bench import joblog

SF1_SUBSCRIBERS = 20_000_000
TIMED_STEPS = ("ingest", "silver", "gold", "dq")
FLOOR_RUNS = 3  # single floor runs of 15.8 and 11.5 s on the same files moved (a) from 44 to 60 (runs 24, 25)


def day_of(start: str, n: int) -> str:
    """The n-th day (1-based) from start, yyyymmdd."""
    return (dt.datetime.strptime(start, "%Y%m%d") + dt.timedelta(days=n - 1)).strftime("%Y%m%d")


def _month_end(month: str) -> str:
    first = dt.date(int(month[:4]), int(month[4:]), 1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - dt.timedelta(days=1)).strftime("%Y%m%d")


def publish(source: Path, landing: Path, upto: str, since: str = "") -> list[Path]:
    """Hard-link into landing every batch folder due by `upto` not yet there (a daily one only from `since`); the new
    data files. With --lead a monthly snapshot due before the lead (the generator's base month) is still delivered,
    with the catch-up, so the timed day meets the previous month's snapshots as a lake with full history would."""
    new: list[Path] = []
    for folder in sorted(source.glob("*/*")):
        daily = len(folder.name) == 8
        due = folder.name if daily else _month_end(folder.name)
        target = landing / folder.parent.name / folder.name
        if due > upto or (daily and due < since) or target.exists():
            continue
        shutil.copytree(folder, target, copy_function=os.link)
        new += sorted(target.glob("*.dat"))
    return new


def io_floor(spark, files: list[Path], lake: Path) -> float:
    """Read the files' lines with Spark's text source and write them as Delta in one commit, no parsing or checks.
    Lines are streamed, never a whole file in the heap (decoding whole files ran a 2560m heap out at SF0.1)."""
    shutil.rmtree(lake, ignore_errors=True)
    t0 = time.time()
    lines = spark.read.option("lineSep", "\n").text([f.resolve().as_uri() for f in files])
    lines = lines.select(F.regexp_extract("_metadata.file_path", "/([A-Z_]+)/[0-9]+/[^/]+$", 1).alias("ifcode"),
                         "value")
    lines.write.format("delta").mode("overwrite").partitionBy("ifcode").save(str(lake))
    return time.time() - t0


def floor_runs(spark, files: list[Path], lake: Path, n: int = FLOOR_RUNS) -> list[float]:
    """The floor measured n times in a row: (a) is taken over their median, and their spread shows the noise within
    a run apart from the noise between runs."""
    return [io_floor(spark, files, lake) for _ in range(n)]


def per_interface(files: list[Path]) -> dict[str, dict[str, int]]:
    """Rows (lines) and bytes per interface of a set of landing data files."""
    out: dict[str, dict[str, int]] = {}
    for f in files:
        c = out.setdefault(f.parent.parent.name, {"files": 0, "rows": 0, "bytes": 0})
        data = f.read_bytes()
        c["files"] += 1
        c["rows"] += data.count(b"\n")
        c["bytes"] += len(data)
    return out


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident memory since its exec (VmHWM), from /proc; None where /proc does not tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def jvm_peak_rss_mb(spark) -> float | None:
    """Peak resident memory of the driver JVM (in local mode the executors run inside it)."""
    try:
        return vm_hwm_mb(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    except AttributeError:
        return None


def python_peak_rss_mb() -> float:
    """Peak resident memory of this Python process (the generator's too when it ran here).

    VmHWM, not `ru_maxrss`: a spawned child's `ru_maxrss` keeps its parent's high-water mark across fork and exec.
    """
    own = vm_hwm_mb()
    return round(own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_day(spark, cfg: Config, day: str, only: tuple[str, ...] = TIMED_STEPS) -> dict[str, dict]:
    """The daily chain of `day` without its backup, each step timed, with its audit row counts."""
    steps = {}
    for name, step in DAILY_STEPS:
        if name not in only:
            continue
        t0, run, err = time.time(), None, None
        try:
            run = step(spark, cfg, day, False)
        except JobFailed as e:
            if name not in SOFT_STEPS:
                raise
            err = str(e)   # a DQ finding is a result, not a benchmark failure
        t1 = time.time()
        steps[name] = {"seconds": round(t1 - t0, 2), "rows_in": getattr(run, "rows_in", None),
                       "rows_out": getattr(run, "rows_out", None), "window": (t0, t1),
                       **({"error": err} if err else {})}
    return steps


def chain(spark, cfg: Config, day: str, files: list[Path] | None = None, floor_lake: Path | None = None,
          steps: tuple[str, ...] = TIMED_STEPS) -> dict:
    """One day's chain in the given session; with files, then the I/O floor of those files; the JVM's peak after it."""
    out: dict = {"steps": run_day(spark, cfg, day, steps)}
    if files is not None:
        t0 = time.time()
        out["floors"] = floor_runs(spark, files, floor_lake)
        out["floor_window"] = (t0, time.time())
    out["jvm_peak_mb"] = jvm_peak_rss_mb(spark)
    out["jvm_pid"] = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    out["python_peak_mb"] = python_peak_rss_mb()
    return out


def _chain_in_own_jvm(overrides: dict[str, str], day: str, files: list[Path] | None, floor_lake: Path | None,
                      steps: tuple[str, ...], event_log: Path | None = None) -> dict:
    """`chain` in this (fresh) process's own session, stopped at the end so the next day starts a new JVM; with an
    event_log folder, the session logs its events there and the figures gain its Spark work per step."""
    cfg = load_config(overrides=overrides)
    spark = get_spark(cfg.env, joblog.event_log_conf(event_log) if event_log else None)
    app_id = spark.sparkContext.applicationId
    try:
        out = chain(spark, cfg, day, files, floor_lake, steps)
    finally:
        spark.stop()  # flushes the event log
    if event_log:
        windows = {name: s["window"] for name, s in out["steps"].items()}
        if "floor_window" in out:
            windows["I/O floor"] = out["floor_window"]
        out["spark_work"] = joblog.count_and_drop(event_log, app_id, windows)
    return out


Runner = Callable[..., dict]  # (day, files=None, floor_lake=None, steps=TIMED_STEPS) -> chain's figures


def one_jvm(spark, cfg: Config) -> Runner:
    """Every day in the one given session (runs 1-28): later days run in a JVM warmed and aged by the earlier ones."""
    return lambda day, files=None, floor_lake=None, steps=TIMED_STEPS: chain(spark, cfg, day, files, floor_lake, steps)


def jvm_per_day(overrides: dict[str, str], event_log: Path | None = None) -> Runner:
    """Every day in a new process and JVM, as production's one spark-submit a day; spawned, never forked, so no
    JVM gateway or Spark state crosses from one day to the next. With event_log, a timed day (the one given its
    files) logs its Spark events there, counted per step."""
    def run(day: str, files: list[Path] | None = None, floor_lake: Path | None = None,
            steps: tuple[str, ...] = TIMED_STEPS) -> dict:
        log = event_log if files is not None else None
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            return pool.submit(_chain_in_own_jvm, overrides, day, files, floor_lake, steps, log).result()
    return run


def timed_day(runner: Runner, landing: Path, source: Path, start: str, n: int, work: Path,
              lead: int | None = None) -> dict:
    """Catch up to day n-1 (one daily run, untimed; with a lead from day n-lead), then day n: stages, I/O floor of
    its files, its volumes."""
    prev, day = day_of(start, n - 1), day_of(start, n)
    since = "" if lead is None else day_of(start, n - lead)
    publish(source, landing, prev, since)
    t0 = time.time()
    caught = runner(prev)
    catch_up = time.time() - t0
    files = publish(source, landing, day, since)
    vol = per_interface(files)
    timed = runner(day, files, work / "floor")
    steps, floors = timed["steps"], timed["floors"]
    floor = statistics.median(floors)
    total = sum(s["seconds"] for s in steps.values())
    rows, nbytes = sum(v["rows"] for v in vol.values()), sum(v["bytes"] for v in vol.values())
    return {"day": day, "catch_up_seconds": round(catch_up, 1), "interfaces": vol, "rows": rows, "bytes": nbytes,
            "steps": steps, "pipeline_seconds": round(total, 2), "floor_seconds": round(floor, 2),
            "floor_runs_seconds": [round(f, 2) for f in floors],
            "pipeline_over_floor": round(total / floor, 2), "jvm_peak_after_catch_up_mb": caught["jvm_peak_mb"],
            "jvm_peak_after_day_mb": timed["jvm_peak_mb"], "jvm_pids": [caught["jvm_pid"], timed["jvm_pid"]],
            "python_peak_mb": max(caught["python_peak_mb"], timed["python_peak_mb"]),
            **({"spark_work": timed["spark_work"]} if "spark_work" in timed else {})}


def print_day(d: dict) -> None:
    mb = d["bytes"] / 1e6
    print(f"day {d['day']}: {d['rows']:,} landing rows, {mb:.2f} MB (catch-up before it: {d['catch_up_seconds']}s)")
    for code, v in sorted(d["interfaces"].items()):
        print(f"    {code:<13} rows={v['rows']:>11,} bytes={v['bytes']:>14,}")
    print(f"  {'stage':<10}{'s':>9}{'rows in':>12}{'rows out':>12}{'landing rows/s':>16}{'MB/s':>9}")
    for name, s in [*d["steps"].items(), ("pipeline", {"seconds": d["pipeline_seconds"]}),
                    ("I/O floor", {"seconds": d["floor_seconds"]})]:
        secs = s["seconds"]
        print(f"  {name:<10}{secs:>9.1f}{s.get('rows_in') or '':>12}{s.get('rows_out') or '':>12}"
              f"{d['rows'] / secs:>16,.0f}{mb / secs:>9.3f}")
    runs = ", ".join(f"{f:.1f}" for f in d["floor_runs_seconds"])
    print(f"  (a) pipeline / I/O floor = {d['pipeline_over_floor']:.2f} (the floor's median of {runs} s)")
    if "spark_work" in d:
        print_spark_work(d["spark_work"])
    caught, day = d["jvm_peak_after_catch_up_mb"] or 0, d["jvm_peak_after_day_mb"] or 0
    if len(set(d["jvm_pids"])) == 1:
        print(f"  driver JVM peak RSS so far: {caught:.0f} MB after the catch-up, {day:.0f} MB after the day")
    else:
        print(f"  driver JVM peak RSS: {caught:.0f} MB in the catch-up's JVM, {day:.0f} MB in the day's")


def print_spark_work(work: dict[str, dict]) -> None:
    """The event log's counts per step (--event-log)."""
    print(f"  {'stage':<10}{'jobs':>7}{'tasks':>8}{'job ms (median)':>17}{'queries':>9}{'Delta listings':>16}"
          f"{'Delta snapshots':>17}")
    for name, w in work.items():
        print(f"  {name:<10}{w['jobs']:>7}{w['tasks']:>8}{w['job_ms_median'] or 0:>17.0f}{w['queries']:>9}"
              f"{w['delta_listings']:>16}{w['delta_snapshots']:>17}")
    print("  call sites whose jobs took longest (jobs, seconds of job time)")
    for name, w in work.items():
        listed = "; ".join(f"{site} ({n}, {sec:.1f})" for site, n, sec in w.get("sites", []))
        print(f"  {name:<10}{listed}")


def _part(kind: str, source: str, params: dict, lo: str = "", hi: str = "") -> tuple[int, int]:
    """One worker's share of a --lead generation: the monthly batches, or the daily batches lo..hi (rows, bytes)."""
    cfg, run = load_config(), (params["start"], params["days"], params["subscribers"], params["seed"])
    gen = (generate_monthly(cfg, source, *run) if kind == "monthly"
           else generate_days(cfg, source, *run, day_from=lo, day_to=hi, redeliveries=False))
    return gen.rows, gen.bytes


def _generate(cfg: Config, source: Path, params: dict) -> tuple[int, int]:
    """All batches of the run, or with a lead only the monthly ones and the `lead` days before each timed day
    and that day (the full run's bytes for those batches; checked up to 200,000 subscribers). One fresh process
    per part, one at a time: the generator's world of 20 M subscribers holds ≈ 12 GB, and two at once ran a 23 GB
    machine out."""
    if params.get("lead") is None:
        gen = generate_landing(cfg, source, params["start"], params["days"], params["subscribers"],
                               seed=params["seed"], redeliveries=False)
        return gen.rows, gen.bytes
    spans = [(day_of(params["start"], n - params["lead"]), day_of(params["start"], n)) for n in params["timed"]]
    with ProcessPoolExecutor(max_workers=1, max_tasks_per_child=1) as pool:
        parts = [pool.submit(_part, "monthly", str(source), params)]
        parts += [pool.submit(_part, "daily", str(source), params, lo, hi) for lo, hi in spans]
        done = [f.result() for f in parts]
    return sum(r for r, _ in done), sum(b for _, b in done)


def generated(cfg: Config, work: Path, params: dict, reuse: bool) -> float | None:
    """Generate the source files into work/source (None: the ones of an earlier run with the same parameters are
    reused); landing, lake and backup always start empty."""
    source, stamp = work / "source", work / "source" / "params.json"
    if reuse and stamp.exists() and json.loads(stamp.read_text()) == params:
        for d in ("landing", "lake", "backup", "floor", "eventlog"):
            shutil.rmtree(work / d, ignore_errors=True)
        print(f"SF{params['sf']:g}: reusing the source files in {source} ({params})")
        return None
    shutil.rmtree(work, ignore_errors=True)
    t0 = time.time()
    rows, nbytes = _generate(cfg, source, params)
    stamp.write_text(json.dumps(params))
    t_gen = time.time() - t0
    lead = "" if params.get("lead") is None else f", only {params['lead']} day(s) before each timed day"
    print(f"SF{params['sf']:g}: {params['subscribers']:,} subscribers, {params['days']} days{lead} generated "
          f"({rows:,} rows, {nbytes / 1e6:.1f} MB) in {t_gen:.1f}s", flush=True)
    return t_gen


def bench(sf: float, history: int, start: str, out: Path, seed: int = 1, reuse: bool = False,
          lead: int | None = None, one_jvm_only: bool = False, event_log: bool = False) -> dict:
    """One scale factor: generate, time day 31 (and day `history`), return the figures."""
    work = out / "work" / f"sf{sf:g}"
    source = work / "source"
    overrides = {"landing_root": str(work / "landing"), "lake_root": str(work / "lake"),
                 "backup_root": str(work / "backup")}
    cfg = load_config(overrides=overrides)
    subscribers = max(100, round(sf * SF1_SUBSCRIBERS))
    days = max(31, history)
    params = {"sf": sf, "subscribers": subscribers, "days": days, "start": start, "seed": seed}
    if lead is not None:
        params |= {"lead": lead, "timed": sorted({31, history})}
    t_gen = generated(cfg, work, params, reuse)
    spark = get_spark(cfg.env) if one_jvm_only else None
    runner = one_jvm(spark, cfg) if spark else jvm_per_day(overrides, work / "eventlog" if event_log else None)
    landing = Path(cfg.env.landing_root)
    t_all = time.time()
    res = {"sf": sf, "subscribers": subscribers, "days": days, "lead": lead, "master": cfg.env.master,
           "cores": os.cpu_count(), "jvm": "one for the run" if spark else "one per day",
           "generate_seconds": t_gen and round(t_gen, 1),
           "day31": timed_day(runner, landing, source, start, 31, work, lead)}
    print_day(res["day31"])
    if history > 31:
        res[f"day{history}"] = late = timed_day(runner, landing, source, start, history, work, lead)
        print_day(late)
        res["late_over_day31"] = round(late["pipeline_seconds"] / res["day31"]["pipeline_seconds"], 2)
        print(f"  (b) day {history} / day 31 = {res['late_over_day31']:.2f}")
    res["wall_seconds"] = round(time.time() - t_all, 1)
    days_run = [res[k] for k in ("day31", f"day{history}") if k in res]
    res["driver_jvm_peak_rss_mb"] = (jvm_peak_rss_mb(spark) if spark else
                                     max(d[k] or 0 for d in days_run for k in ("jvm_peak_after_catch_up_mb",
                                                                               "jvm_peak_after_day_mb")))
    res["driver_python_peak_rss_mb"] = max([python_peak_rss_mb()] + [d["python_peak_mb"] for d in days_run])
    print(f"  wall {res['wall_seconds']}s; peak RSS: driver JVM (executors inside, local mode) "
          f"{res['driver_jvm_peak_rss_mb'] or 0:.0f} MB, driver Python {res['driver_python_peak_rss_mb']:.0f} MB")
    if spark:
        spark.stop()
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sf", type=float, action="append", help="scale factor(s); SF1 = one province-day")
    p.add_argument("--history", type=int, default=90, help="days of history for ratio (b); 31 skips it")
    p.add_argument("--start", default="20130101")
    p.add_argument("--out", default="bench/out")
    p.add_argument("--reuse-source", action="store_true",
                   help="keep the source files an earlier run generated with the same parameters")
    p.add_argument("--lead", type=int, help="generate and catch up only this many days before each timed day "
                   "(default: every day from --start); the monthly snapshots are always whole, and published when due")
    p.add_argument("--one-jvm", action="store_true", help="run every catch-up and timed day in one Spark session "
                   "(runs 1-28) instead of a fresh process and JVM per day")
    p.add_argument("--event-log", action="store_true", help="log each timed day's Spark events and print its jobs, "
                   "tasks and queries per step (the log is removed once counted)")
    ns = p.parse_args(argv)
    out = Path(ns.out).resolve()
    if ns.lead is not None and not 1 <= ns.lead <= 30:
        p.error("--lead must be between 1 and 30")
    if ns.event_log and ns.one_jvm:
        p.error("--event-log counts a timed day's own session: it needs a JVM per day, not --one-jvm")
    results = [bench(sf, ns.history, ns.start, out, reuse=ns.reuse_source, lead=ns.lead,
                     one_jvm_only=ns.one_jvm, event_log=ns.event_log)
               for sf in (ns.sf or [0.0001])]
    if len(results) > 1:
        ordered = sorted(results, key=lambda r: r["sf"])
        small, big = ordered[0], ordered[-1]
        growth = big["day31"]["pipeline_seconds"] / small["day31"]["pipeline_seconds"]
        print(f"cost growth SF{small['sf']:g} -> SF{big['sf']:g} (x{big['sf'] / small['sf']:g} volume): x{growth:.2f}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"written {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
