"""gld_process_control_m 服务过程管控分析(月) (gold.md 3.2.12): one timeliness view over six kinds of service objects
(complaints, faults, installs, moves, appeals, escalations, callbacks), unified into one population."""
from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from csqm.gold.tables.install_move_d import leave_time as order_leave_time
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_process_control_m"
COLS = ("city_code", "product_line", "process_type", "start_time", "start_day_id", "done_time", "done_day_id",
        "net_sec", "timely_flag", "due_time", "leave_time")


def plus_hours(ts: str, hours: str) -> Column:
    """ts + a limit in hours (DECIMAL(10,2), so a whole number of seconds); NULL if either is NULL."""
    return F.timestamp_seconds(F.unix_seconds(F.col(ts)) + (F.col(hours) * 3600).cast("bigint"))


def when_flag(flag: str, ts: str) -> Column:
    """The timestamp only where the object's outcome flag is set."""
    return F.when(F.col(flag) == 1, F.col(ts))


def _unify(df: DataFrame, process_type: Column, start: str, done: Column, net: str, flag: str, due: Column,
           leave: Column, days: tuple[str, str] | None = None) -> DataFrame:
    """One population in the common columns (gold.md 3.2.12's table, one row per process_type).

    days: the silver columns that already hold the start and done days (yyyymmdd of the same times, NULL alike):
    a month's test on them reaches the scan as a partition filter and a range Delta's statistics skip files by,
    where one on date_format(time) reads the source's whole history."""
    out = df.withColumns({"process_type": process_type, "start_time": F.col(start), "done_time": done,
                          "net_sec": F.col(net), "timely_flag": F.col(flag), "due_time": due, "leave_time": leave})
    if days:
        day_of = {"start_day_id": F.col(days[0]), "done_day_id": F.col(days[1])}
    else:
        day_of = {f"{x}_day_id": F.date_format(f"{x}_time", "yyyyMMdd") for x in ("start", "done")}
    return out.withColumns(day_of).select(*COLS)


def sources(silver: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """The union of the six populations with start, done, net, timely flag, due time and the time each leaves the
    backlog (an order cancelled with no cancel time never is in it)."""
    c, f = silver["slv_complaint_event_d"], silver["slv_fault_event_d"]
    o, t = silver["slv_provision_order_d"], silver["slv_proactive_task_d"]
    cmpl_done, flt_done = when_flag("is_finished", "finish_time"), when_flag("is_closed", "close_time")
    reply = F.col("reply_time")
    parts = [
        _unify(c.where("is_valid = 1 AND sheet_type = 'CMPL'"), F.lit("CMPL"), "accept_time", cmpl_done,
               "net_proc_sec", "is_timely_proc", plus_hours("accept_time", "proc_limit_hours"), cmpl_done,
               ("day_id", "finish_day_id")),
        _unify(f.where("is_valid = 1 AND is_dup_24h = 0"), F.lit("FAULT"), "accept_time", flt_done, "net_repair_sec",
               "is_timely", plus_hours("accept_time", "time_limit_hours"), flt_done, ("day_id", "close_day_id")),
        _unify(o.where(F.col("order_type").isin("NEW", "MOVE")),
               F.when(F.col("order_type") == "NEW", "INSTALL").otherwise("MOVE"), "accept_time",
               when_flag("is_completed", "complete_time"), "net_sec", "is_timely",
               plus_hours("accept_time", "time_limit_hours"),
               order_leave_time("is_completed", "complete_time", "is_cancelled", "cancel_time", "accept_time"),
               ("day_id", "complete_day_id")),
        _unify(silver["slv_appeal_event_m"].where("is_counted = 1"), F.lit("APPEAL"), "transfer_time", reply,
               "reply_sec", "is_timely_reply", F.col("reply_deadline"), reply),
        _unify(silver["slv_escalation_event_m"].where("is_counted = 1"), F.lit("ESCAL"), "receive_time", reply,
               "reply_sec", "is_timely_reply", F.col("reply_deadline"), reply),
        _unify(t.where("task_type = 'CALLBACK' AND is_cancelled = 0 AND trigger_time IS NOT NULL"), F.lit("CALLBACK"),
               "trigger_time", F.col("exec_time"), "cb_sec", "is_cb_timely",
               plus_hours("trigger_time", "cb_limit_hours"), F.col("exec_time")),
    ]
    return {"process": reduce(DataFrame.unionByName, parts)}
