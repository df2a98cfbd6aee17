"""ops_run_audit: a run's RUNNING and final rows touch only the run's own run_day partition."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from csqm import audit, io


def test_a_run_reads_only_its_own_run_day(spark, tmp_roots):
    """The start (an append) and the finish (a MERGE) leave earlier days' files unread: with an earlier day's data
    file gone (as if it were 36 months of runs), a new run still writes both of its rows."""
    cfg = tmp_roots
    earlier = audit.Run("silver", {}, "20261031", start_ts=dt.datetime(2026, 11, 1, 9, 0, tzinfo=audit.CST))
    audit.finish(spark, cfg, earlier, "SUCCESS")
    today = audit.start(spark, cfg, "gold", {"date": "20261202"}, "20261202")
    old_day = Path(io.table_path(cfg, audit.TABLE)) / "run_day=20261101"
    for f in old_day.glob("*.parquet"):
        f.unlink()

    run = audit.start(spark, cfg, "dq", {}, "20261202")
    run.rows_in = 7
    audit.finish(spark, cfg, run, "SUCCESS")

    day = run.start_ts.strftime("%Y%m%d")
    rows = {r.run_id: (r.status, r.rows_in) for r in
            io.read(spark, cfg, audit.TABLE, f"run_day = '{day}'").select("run_id", "status", "rows_in").collect()}
    assert day != "20261101"
    assert rows == {run.run_id: ("SUCCESS", 7), today.run_id: ("RUNNING", 0)}
