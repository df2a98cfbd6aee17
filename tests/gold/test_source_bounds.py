"""A monthly gold table dated by a day column other than the partition reads only the files of its months: the month
test substring(col, 1, 6) alone gives Delta nothing to skip files by, so every run would read the source's whole
history (silver keeps months of it); a range on the column lets Delta's statistics skip the other months' files. A
backlog reads the files that hold an object not gone before the month (its leave day NULL or in or after it)."""
from __future__ import annotations

import pytest

STEP = {"step_code": "S1", "city_code": "0531", "product_line": "BB", "order_type": "NEW", "order_id": "o1",
        "order_is_cancelled": 0}
SHEET = {"sheet_type": "CMPL", "is_valid": 1, "city_code": "0531", "product_line": "BB", "callback_result": "SAT"}


def _delta(spark, tmp_path, name: str, df, stats: str):
    """df as a Delta table partitioned by day_id, statistics only on `stats` (as silver keeps them), read back."""
    path = str(tmp_path / name)
    df.write.format("delta").partitionBy("day_id").option("delta.dataSkippingStatsColumns", stats).save(path)
    return spark.read.format("delta").load(path)


def _run(df) -> tuple[list, list[int]]:
    """Run df once: its rows, and the files each file scan read, sorted (the other sources are literal frames; a
    scan's file count is set once per plan: a second run of the same DataFrame reports 0)."""
    rows = df.collect()
    leaves = df._jdf.queryExecution().executedPlan().collectLeaves()
    scans = [leaves.apply(i) for i in range(leaves.size())]
    return rows, sorted(s.metrics().apply("numFiles").value() for s in scans if s.metrics().contains("numFiles"))


@pytest.fixture()
def steps(spark, silver_df, tmp_path):
    rows = silver_df("slv_provision_step_d", [
        {**STEP, "step_seq": 1, "start_time": "2012-12-10 08:00:00", "day_id": "20121210",
         "end_time": "2012-12-11 08:00:00", "end_day_id": "20121211", "step_sec": 86400},
        {**STEP, "step_seq": 2, "start_time": "2013-01-10 08:00:00", "day_id": "20130110",
         "end_time": "2013-01-11 08:00:00", "end_day_id": "20130111", "step_sec": 86400}])
    return _delta(spark, tmp_path, "steps", rows, "end_day_id")


def test_steps_done_in_a_month_read_only_that_months_file(gold, steps):
    got = gold("gld_provision_step_m", {"slv_provision_step_d": steps}, ["201301"], backlog_from="201301")
    rows, read = _run(got)
    assert [(r.month_id, r.step_done_cnt, r.step_backlog) for r in rows] == [("201301", 1, 0)]
    assert read == [1, 1, 1]   # started (day_id), done and the month-end backlog (end_day_id): one file of two


def test_the_backlog_reads_the_files_of_objects_still_open(gold, silver_df, spark, tmp_path):
    """A December step still open at January's end is counted; the file of the step that ended in December is not
    read (its end_day_id, with no NULL, is before the month), the open one's and January's are."""
    rows = silver_df("slv_provision_step_d", [
        {**STEP, "step_seq": 1, "start_time": "2012-12-10 08:00:00", "day_id": "20121210",
         "end_time": "2012-12-11 08:00:00", "end_day_id": "20121211", "step_sec": 86400},
        {**STEP, "step_seq": 3, "start_time": "2012-12-20 08:00:00", "day_id": "20121220"},
        {**STEP, "step_seq": 2, "start_time": "2013-01-10 08:00:00", "day_id": "20130110",
         "end_time": "2013-02-11 08:00:00", "end_day_id": "20130211", "step_sec": 86400}])
    steps = _delta(spark, tmp_path, "open_steps", rows, "end_day_id")
    got = gold("gld_provision_step_m", {"slv_provision_step_d": steps}, ["201301"], backlog_from="201212")
    rows, read = _run(got)
    assert [(r.month_id, r.step_backlog) for r in rows] == [("201301", 2)]
    assert read == [0, 1, 2]   # done in January: none; started: January's file; the backlog: the open and January's


def test_satisfaction_reads_only_the_months_finished_complaints(gold, silver_df, spark, tmp_path):
    sheets = _delta(spark, tmp_path, "sheets", silver_df("slv_complaint_event_d", [
        {**SHEET, "sheet_id": "c1", "day_id": "20121205", "finish_day_id": "20121206"},
        {**SHEET, "sheet_id": "c2", "day_id": "20130105", "finish_day_id": "20130106"}]), "finish_day_id")
    empty = {t: silver_df(t, []) for t in ("slv_provision_order_d", "slv_fault_event_d", "slv_contact_event_d",
                                           "slv_echannel_contact_d", "slv_newuser_sms_callback_d")}
    got = gold("gld_satisfaction_m", {**empty, "slv_complaint_event_d": sheets}, ["201301"])
    rows, read = _run(got)
    assert [(r.month_id, r.csat_den) for r in rows if r.touchpoint == "CMPL"] == [("201301", 1)]
    assert read and set(read) == {1}                # every scan of the sheets skips December's file


def test_process_control_reads_only_the_months_started_and_done_complaints(gold, silver_df, spark, tmp_path):
    """Started and done in a month are tested on the complaint's day_id and finish_day_id (the days of its accept and
    finish times), the month-end backlog on its leave day (finish_day_id): December's file is skipped by all three."""
    sheet = {**SHEET, "proc_limit_hours": "48.00", "is_finished": 1, "net_proc_sec": 3600, "is_timely_proc": 1}
    sheets = _delta(spark, tmp_path, "pc_sheets", silver_df("slv_complaint_event_d", [
        {**sheet, "sheet_id": "c1", "accept_time": "2012-12-05 09:00:00", "day_id": "20121205",
         "finish_time": "2012-12-05 10:00:00", "finish_day_id": "20121205"},
        {**sheet, "sheet_id": "c2", "accept_time": "2013-01-05 09:00:00", "day_id": "20130105",
         "finish_time": "2013-01-05 10:00:00", "finish_day_id": "20130105"}]), "finish_day_id")
    empty = {t: silver_df(t, []) for t in ("slv_fault_event_d", "slv_provision_order_d", "slv_proactive_task_d",
                                           "slv_appeal_event_m", "slv_escalation_event_m")}
    got = gold("gld_process_control_m", {**empty, "slv_complaint_event_d": sheets}, ["201301"],
               backlog_from="201212")
    rows, read = _run(got)
    assert [(r.process_type, r.pc_arrive_cnt, r.pc_done_cnt, r.pc_backlog) for r in rows] == [("CMPL", 1, 1, 0)]
    assert read == [1, 1, 1]                    # started, done, the backlog: one file of two each
