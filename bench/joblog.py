"""What a timed day asked of Spark, read from its event log: jobs and queries per step, the fixed cost behind (a).

At SF0.01 a day's chain takes minutes over 56 MB that the I/O floor writes in seconds; the difference is how many
Spark jobs it runs (each a scheduling round trip) rather than how much data they move. `--event-log` makes the
timed day's session log its events (Spark's own listener, uncompressed JSON lines), and this module counts them per
step by time window once the session has stopped and flushed them.
"""
from __future__ import annotations

import json
import re
import shutil
import statistics
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

# Delta's own queries, told apart by the description Delta gives them
DELTA_LISTING = "Delta: Filtering files for query"
DELTA_SNAPSHOT = "Compute snapshot for version"
TOP_SITES = 8  # call sites listed per step, by job time


def event_log_conf(directory: Path) -> dict[str, str]:
    """Session settings that make Spark write its events as plain JSON lines under directory."""
    directory.mkdir(parents=True, exist_ok=True)
    return {"spark.eventLog.enabled": "true", "spark.eventLog.dir": directory.resolve().as_uri(),
            "spark.eventLog.compress": "false"}


def _part_no(path: Path) -> int:
    """events_<n>_<app id>: rolled files are read in n order, not name order (events_10 after events_9)."""
    m = re.match(r"events_(\d+)_", path.name)
    return int(m.group(1)) if m else 0


def log_files(directory: Path, app_id: str) -> list[Path]:
    """The files of one application's log, rolled (Spark 4's default) or not."""
    rolled = directory / f"eventlog_v2_{app_id}"
    if rolled.is_dir():
        return sorted(rolled.glob("events_*"), key=_part_no)
    single = directory / app_id
    if single.exists():
        return [single]
    raise FileNotFoundError(f"no event log of application {app_id} in {directory}")


def read_events(files: list[Path]) -> Iterator[dict]:
    """The events, one JSON object a line. Only the log's very last line may be cut short (a JVM killed while
    writing): it is skipped; a bad line anywhere else fails, naming its file and line, so no event goes uncounted."""
    for i, f in enumerate(files):
        lines = [(n, line) for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
        for k, (n, line) in enumerate(lines):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                if i == len(files) - 1 and k == len(lines) - 1:
                    return
                raise ValueError(f"{f}:{n}: not a JSON event ({e.msg})") from e


def _step_of(ms: int, windows: Mapping[str, tuple[float, float]]) -> str | None:
    """The step whose [start, end) wall-clock window (epoch seconds) holds this event time (epoch ms)."""
    s = ms / 1000
    return next((name for name, (a, b) in windows.items() if a <= s < b), None)


def site_of(job_start: dict, queries: Mapping[str, str]) -> str:
    """Where a job came from: the description of the query at the root of its SQL execution (for an action of ours,
    the line of Python that ran it, folders dropped), so that Delta's queries and the shuffle stages that adaptive
    execution submits from a thread pool count for the action that caused them; else the job's own call site or
    description, else its first stage's name."""
    props = job_start.get("Properties") or {}
    root = props.get("spark.sql.execution.root.id") or props.get("spark.sql.execution.id")
    site = queries.get(root) if root is not None else None
    site = site or props.get("callSite.short") or props.get("spark.job.description")
    if not site:
        stages = job_start.get("Stage Infos") or [{}]
        site = stages[0].get("Stage Name", "?")
    action, sep, where = site.partition(" at ")
    return f"{action} at {where.rsplit('/', 1)[-1]}" if sep and "/" in where else site


def per_step(events: Iterable[dict], windows: Mapping[str, tuple[float, float]]) -> dict[str, dict]:
    """Per step: Spark jobs, their tasks and median duration, SQL executions, and of these Delta's file listings
    and snapshot computations; and the call sites whose jobs took longest (site, jobs, seconds; see site_of)."""
    out = {name: {"jobs": 0, "tasks": 0, "job_ms": [], "queries": 0, "delta_listings": 0, "delta_snapshots": 0}
           for name in windows}
    sites: dict[str, dict[str, list[int]]] = {name: {} for name in windows}  # step -> site -> [jobs, ms]
    started: dict[int, tuple[str, int, str]] = {}
    queries: dict[str, str] = {}  # SQL execution id -> its description
    for e in events:
        kind = e.get("Event", "")
        if kind == "SparkListenerJobStart":
            step = _step_of(e["Submission Time"], windows)
            if step:
                started[e["Job ID"]] = (step, e["Submission Time"], site_of(e, queries))
                out[step]["jobs"] += 1
                out[step]["tasks"] += sum(s.get("Number of Tasks", 0) for s in e.get("Stage Infos", []))
        elif kind == "SparkListenerJobEnd" and e["Job ID"] in started:
            step, t0, site = started.pop(e["Job ID"])
            out[step]["job_ms"].append(e["Completion Time"] - t0)
            tally = sites[step].setdefault(site, [0, 0])
            tally[0] += 1
            tally[1] += e["Completion Time"] - t0
        elif kind.endswith("SparkListenerSQLExecutionStart"):
            desc = queries[str(e.get("executionId"))] = e.get("description", "")
            step = _step_of(e["time"], windows)
            if step:
                out[step]["queries"] += 1
                out[step]["delta_listings"] += DELTA_LISTING in desc
                out[step]["delta_snapshots"] += DELTA_SNAPSHOT in desc
    for name, counts in out.items():
        ms = counts.pop("job_ms")
        counts["job_ms_median"] = round(statistics.median(ms), 1) if ms else None
        top = sorted(sites[name].items(), key=lambda kv: (-kv[1][1], kv[0]))[:TOP_SITES]
        counts["sites"] = [[site, n, round(t / 1000, 1)] for site, (n, t) in top]
    return out


def count_and_drop(directory: Path, app_id: str, windows: Mapping[str, tuple[float, float]],
                   keep: bool = False) -> dict[str, dict]:
    """per_step over one application's log; the log (hundreds of MB for a day at SF0.1) is removed unless kept."""
    files = log_files(directory, app_id)
    counts = per_step(read_events(files), windows)
    if not keep:
        for f in files:
            f.unlink()
        if files[0].parent != directory:
            shutil.rmtree(files[0].parent, ignore_errors=True)
    return counts
