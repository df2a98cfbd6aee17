"""The benchmark's count of a timed day's Spark work per step, read from the event log Spark writes."""
from __future__ import annotations

import json

import pytest

from bench.joblog import count_and_drop, log_files, per_step


def _job(jid: int, t0: int, t1: int, tasks: tuple[int, ...], site: str = "collect at /w/lib/csqm/io.py:7",
         desc: str | None = None, root: int | None = None) -> list[dict]:
    props = {"callSite.short": site} if site else {}
    if desc:
        props["spark.job.description"] = desc
    if root is not None:
        props["spark.sql.execution.root.id"] = str(root)
    return [{"Event": "SparkListenerJobStart", "Job ID": jid, "Submission Time": t0, "Properties": props,
             "Stage Infos": [{"Number of Tasks": n, "Stage Name": f"stage of job {jid}"} for n in tasks]},
            {"Event": "SparkListenerJobEnd", "Job ID": jid, "Completion Time": t1}]


def _query(t: int, desc: str, eid: int = 0) -> dict:
    return {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "time": t,
            "description": desc, "executionId": eid}


ASYNC = "$anonfun$withThreadLocalCaptured$1 at CompletableFuture.java:1768"
EVENTS = [
    {"Event": "SparkListenerApplicationStart", "Timestamp": 500},
    *_job(0, 1_000, 1_100, (4, 1)),               # ingest
    _query(1_500, "Delta: Filtering files for query"),
    *_job(1, 1_900, 2_200, (2,)),                 # ingest, ends inside silver's window: still ingest's
    _query(2_100, "Delta: Compute snapshot for version: 3"),
    *_job(2, 2_500, 2_540, (8,)),                 # silver
    *_job(4, 2_550, 2_570, (1,), site="", desc="Delta: Filtering files for query"),  # Delta's own: its description
    *_job(5, 2_580, 2_590, (1,), site=""),        # neither: the first stage's name
    *_job(6, 2_700, 2_760, (2,)),                 # silver, same site as job 2
    _query(2_800, "collect at /w/lib/csqm/pipeline/gold.py:9", eid=7),
    *_job(7, 2_810, 2_890, (3,), site=ASYNC, root=7),  # an adaptive stage: counted for the query's action
    _query(2_600, "save at NativeMethodAccessorImpl.java:0"),
    *_job(3, 9_000, 9_010, (1,)),                 # after every window: no step's
]
WINDOWS = {"ingest": (1.0, 2.0), "silver": (2.0, 3.0), "gold": (3.0, 4.0)}


def test_jobs_tasks_and_queries_are_counted_in_the_step_they_start_in():
    got = per_step(EVENTS, WINDOWS)
    assert got == {
        "ingest": {"jobs": 2, "tasks": 7, "queries": 1, "delta_listings": 1, "delta_snapshots": 0,
                   "job_ms_median": 200.0, "sites": [["collect at io.py:7", 2, 0.4]]},
        "silver": {"jobs": 5, "tasks": 15, "queries": 3, "delta_listings": 0, "delta_snapshots": 1,
                   "job_ms_median": 40.0, "sites": [["collect at io.py:7", 2, 0.1],
                                                    ["collect at gold.py:9", 1, 0.1],
                                                    ["Delta: Filtering files for query", 1, 0.0],
                                                    ["stage of job 5", 1, 0.0]]},
        "gold": {"jobs": 0, "tasks": 0, "queries": 0, "delta_listings": 0, "delta_snapshots": 0,
                 "job_ms_median": None, "sites": []},
    }


def _write_rolled(root, app_id: str, parts: list[list[dict]]) -> None:
    d = root / f"eventlog_v2_{app_id}"
    d.mkdir(parents=True)
    (d / f"appstatus_{app_id}").write_text("")
    for n, events in enumerate(parts, start=1):
        (d / f"events_{n}_{app_id}").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_a_rolled_log_is_read_in_part_order_and_removed_once_counted(tmp_path):
    parts = [[] for _ in range(10)] + [EVENTS[:5], EVENTS[5:]]  # events_11 and events_12: after events_2, by number
    _write_rolled(tmp_path, "local-1", parts)
    files = log_files(tmp_path, "local-1")
    assert [f.name for f in files][-3:] == ["events_10_local-1", "events_11_local-1", "events_12_local-1"]
    assert count_and_drop(tmp_path, "local-1", WINDOWS) == per_step(EVENTS, WINDOWS)
    assert list(tmp_path.iterdir()) == []


def test_a_line_cut_short_by_a_killed_jvm_is_skipped(tmp_path):
    _write_rolled(tmp_path, "local-2", [EVENTS])
    f = tmp_path / "eventlog_v2_local-2" / "events_1_local-2"
    f.write_text(f.read_text() + '{"Event": "SparkListenerJobSt')
    assert count_and_drop(tmp_path, "local-2", WINDOWS, keep=True) == per_step(EVENTS, WINDOWS)
    assert f.exists()


def test_a_missing_log_names_the_application_and_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"local-9 in {tmp_path}"):
        log_files(tmp_path, "local-9")


def test_a_bad_line_before_the_last_fails_naming_its_file_and_line(tmp_path):
    _write_rolled(tmp_path, "local-3", [EVENTS[:2], EVENTS[2:]])
    f = tmp_path / "eventlog_v2_local-3" / "events_1_local-3"
    f.write_text(f.read_text() + "not json\n")
    with pytest.raises(ValueError, match=f"{f}:3: not a JSON event"):
        count_and_drop(tmp_path, "local-3", WINDOWS)
