"""slv_contact_event_d 客户服务接触事件宽表 (silver.md §7): one row per 10000 call, hall ticket or e-channel session."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import (
    E_DDL,
    Snapshots,
    enrich,
    flag,
    later_within,
    latest_batch_id,
    pii_block,
    seconds_between,
    to_ddl,
    with_ref_month,
    yyyymmdd,
)

TABLE = "slv_contact_event_d"
KEY = ("contact_id",)
PARTITION = "day_id"
DDL = (
    "contact_id STRING, channel_type STRING, channel_id STRING, start_time TIMESTAMP, end_time TIMESTAMP, "
    "contact_purpose STRING, is_success TINYINT, is_ivr_self_done TINYINT, is_agent_req TINYINT, "
    "agent_req_time TIMESTAMP, queue_sec INT, ring_sec INT, is_agent_ans TINYINT, agent_ans_time TIMESTAMP, "
    "is_ans_15s TINYINT, is_ans_20s TINYINT, is_abandon TINYINT, abandon_stage STRING, talk_sec INT, hold_sec INT, "
    "acw_sec INT, agent_id STRING, is_outsourced TINYINT, transfer_cnt BIGINT, skill_group STRING, rating STRING, "
    "is_repeat_48h TINYINT, hall_wait_sec INT, hall_serve_sec INT, related_sheet_id STRING, "
    "acc_nbr_hash STRING, acc_nbr_mask STRING, "
    f"{E_DDL}, "
    "day_id STRING, _batch_id STRING"
)

# E own values per source (HOTLINE city_code, vip_level; HALL city_code, county_code; EC city_code): a source that
# lacks one carries NULL in the union, so enrich falls through to the snapshot for it.
_OWN_E = ("city_code", "county_code", "vip_level")
_REPEAT_SEC = 48 * 3600
_REPEAT_TIME = "agent_ans_time"
# The table's one cross-row window, is_repeat_48h, reads only later rows of the number, by answer time: an incremental
# run needs a changed contact's neighbours from 48 h before it on, not the number's whole history.
FORWARD_WINDOW = (lambda: F.col(_REPEAT_TIME), _REPEAT_SEC)

# The one shape the three sources are unioned into: the number for P (acc_nbr) and the own E values are still raw here.
_SHAPE: tuple[tuple[str, str], ...] = (
    ("contact_id", "string"), ("channel_type", "string"), ("channel_id", "string"), ("start_time", "timestamp"),
    ("end_time", "timestamp"), ("acc_nbr", "string"), ("city_code", "string"), ("county_code", "string"),
    ("vip_level", "string"), ("contact_purpose", "string"), ("is_success", "tinyint"),
    ("is_ivr_self_done", "tinyint"), ("is_agent_req", "tinyint"), ("agent_req_time", "timestamp"),
    ("queue_sec", "int"), ("ring_sec", "int"), ("is_agent_ans", "tinyint"), ("agent_ans_time", "timestamp"),
    ("is_ans_15s", "tinyint"), ("is_ans_20s", "tinyint"), ("is_abandon", "tinyint"), ("abandon_stage", "string"),
    ("talk_sec", "int"), ("hold_sec", "int"), ("acw_sec", "int"), ("agent_id", "string"),
    ("is_outsourced", "tinyint"), ("transfer_cnt", "bigint"), ("skill_group", "string"), ("rating", "string"),
    ("hall_wait_sec", "int"), ("hall_serve_sec", "int"), ("related_sheet_id", "string"), ("_batch_id", "string"),
)
_SHAPE_NAMES = frozenset(n for n, _ in _SHAPE)

# func_cat -> purpose and the session priority (rank = index + 1, higher wins): TRANS > PAY > CONSULT > QUERY > OTH
_EC_PURPOSE = {"TRANS": "TRANS", "EXCH": "TRANS", "PAY": "PAY", "ONLINE_CS": "CONSULT", "QUERY": "QUERY",
               "LOGIN": "OTH", "OTH": "OTH"}
_PRIORITY = ("OTH", "QUERY", "CONSULT", "PAY", "TRANS")


def _shaped(df: DataFrame, values: Mapping[str, Column]) -> DataFrame:
    """Select a source into the union shape; columns the source does not have are typed NULLs."""
    unknown = set(values) - _SHAPE_NAMES
    if unknown:
        raise ValueError(f"contact: {min(unknown)!r} is not a union column")
    return df.select(*[values.get(n, F.lit(None)).cast(t).alias(n) for n, t in _SHAPE])


def _hotline(calls: DataFrame) -> DataFrame:
    """HOTLINE contacts (brz_cc_call): IVR / agent / abandon flags; queue and talk times only where they apply."""
    req, ans = F.col("agent_req_time").isNotNull(), F.col("answer_time").isNotNull()
    ivr_done = (F.col("ivr_self_flag") == 1) & ~req & ~ans
    abandon = req & ~ans
    queue, ring = F.coalesce(F.col("queue_sec"), F.lit(0)), F.coalesce(F.col("ring_sec"), F.lit(0))

    def answered_within(sec: int) -> Column:
        return F.when(req, flag(ans & (queue + ring <= sec)))

    return _shaped(calls, {
        "contact_id": F.concat(F.lit("CC:"), F.col("call_id")), "channel_type": F.lit("HOTLINE"),
        "channel_id": F.col("called_no"), "start_time": F.col("call_start_time"), "end_time": F.col("release_time"),
        "acc_nbr": F.col("caller_no"), "city_code": F.col("city_code"), "vip_level": F.col("vip_level"),
        "contact_purpose": F.coalesce(F.col("service_type"), F.lit("OTH")),
        "is_success": flag(ivr_done | ans), "is_ivr_self_done": flag(ivr_done), "is_agent_req": flag(req),
        "agent_req_time": F.col("agent_req_time"), "queue_sec": F.when(req, queue), "ring_sec": F.when(req, ring),
        "is_agent_ans": flag(ans), "agent_ans_time": F.col("answer_time"),
        "is_ans_15s": answered_within(15), "is_ans_20s": answered_within(20),
        "is_abandon": flag(abandon), "abandon_stage": F.when(abandon, F.col("release_stage")),
        **{f"{x}_sec": F.when(ans, F.coalesce(F.col(f"{x}_sec"), F.lit(0))) for x in ("talk", "hold", "acw")},
        "agent_id": F.col("agent_id"), "is_outsourced": F.col("outsource_flag"), "transfer_cnt": F.col("transfer_cnt"),
        "skill_group": F.coalesce(F.col("skill_group"), F.lit("NA")), "rating": F.col("rating"),
        "related_sheet_id": F.col("related_sheet_id"), "_batch_id": F.col("_batch_id"),
    })


def _hall(halls: DataFrame) -> DataFrame:
    """HALL contacts (brz_hall_queue): wait / serve seconds as plain differences (negative kept, silver.md §0.1)."""
    return _shaped(halls, {
        "contact_id": F.concat(F.lit("HQ:"), F.col("ticket_id")), "channel_type": F.lit("HALL"),
        "channel_id": F.col("hall_id"), "start_time": F.col("take_time"), "end_time": F.col("finish_time"),
        "acc_nbr": F.col("acc_nbr"), "city_code": F.col("city_code"), "county_code": F.col("county_code"),
        "contact_purpose": F.col("biz_type"), "is_success": flag(F.col("ticket_status") == "DONE"),
        "is_abandon": flag(F.col("ticket_status") == "ABANDON"), "agent_id": F.col("staff_id"),
        "skill_group": F.lit("NA"), "rating": F.col("rating"),
        "hall_wait_sec": seconds_between("call_time", "take_time"),
        "hall_serve_sec": seconds_between("finish_time", "call_time"), "_batch_id": F.col("_batch_id"),
    })


def _purpose_rank(func_cat: Column) -> Column:
    """Priority rank of a log row's mapped purpose (1 = OTH … 5 = TRANS), so a session's purpose is a plain max."""
    rank = F.create_map(*[x for k, v in _EC_PURPOSE.items() for x in (F.lit(k), F.lit(_PRIORITY.index(v) + 1))])
    return F.coalesce(rank[func_cat], F.lit(1))


def _ec_sessions(elogs: DataFrame) -> DataFrame:
    """E-channel contacts: one row per (channel_type, session_id), first/last row by (visit_time, elog_id)."""
    def by_order(*extra: str) -> Column:
        return F.struct(F.col("visit_time"), F.col("elog_id"), *[F.col(c) for c in extra])

    s = (elogs.withColumn("__rank", _purpose_rank(F.col("func_cat")))
         .groupBy("channel_type", "session_id")
         .agg(F.min("visit_time").alias("__start"), F.max("visit_time").alias("__end"),
              F.min(by_order("city_code")).alias("__first"),
              F.min(F.when(F.col("acc_nbr").isNotNull(), by_order("acc_nbr"))).alias("__nbr"),
              F.max(F.when(F.col("rating").isNotNull(), by_order("rating"))).alias("__rating"),
              F.max("__rank").alias("__rank"),
              # highest rank among successful rows: equals the session's rank iff a row of the session purpose succeeded
              F.max(F.when(F.col("result_flag") == 1, F.col("__rank"))).alias("__ok_rank"),
              latest_batch_id("_batch_id").alias("__batch")))
    return _shaped(s, {
        "contact_id": F.concat(F.lit("EC:"), F.col("channel_type"), F.lit(":"), F.col("session_id")),
        "channel_type": F.col("channel_type"), "channel_id": F.col("channel_type"),
        "start_time": F.col("__start"), "end_time": F.col("__end"), "acc_nbr": F.col("__nbr.acc_nbr"),
        "city_code": F.col("__first.city_code"),
        "contact_purpose": F.element_at(F.array(*[F.lit(p) for p in _PRIORITY]), F.col("__rank")),
        "is_success": flag(F.col("__ok_rank") == F.col("__rank")), "is_abandon": F.lit(0),
        "skill_group": F.lit("NA"), "rating": F.col("__rating.rating"), "_batch_id": F.col("__batch"),
    })


def _repeat_48h(df: DataFrame) -> DataFrame:
    """is_repeat_48h: an answered HOTLINE contact of the same number answered later, within 48 h (bounds inclusive)."""
    answered = (F.col("channel_type") == "HOTLINE") & (F.col("is_agent_ans") == 1)
    return later_within(df, "acc_nbr_hash", _REPEAT_TIME, "contact_id", _REPEAT_SEC, "is_repeat_48h",
                        eligible=answered, applies=answered, null_partition=0)


def build(*, calls: DataFrame, halls: DataFrame, elogs: DataFrame, subscribers: Snapshots, salt: str) -> DataFrame:
    """Union the three sources into one shape, then P, E and the 48 h repeat flag once over all contacts."""
    contacts = _hotline(calls).unionByName(_hall(halls)).unionByName(_ec_sessions(elogs))
    out = pii_block(contacts, "acc_nbr", salt=salt).transform(with_ref_month, "start_time")
    out = enrich(out, subscribers, _OWN_E).transform(_repeat_48h).withColumn("day_id", yyyymmdd("start_time"))
    return to_ddl(out, DDL)
