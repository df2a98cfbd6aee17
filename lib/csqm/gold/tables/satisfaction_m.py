"""gld_satisfaction_m 客户满意度测评汇总(月) (gold.md 3.2.14): instant ratings from silver and third-party surveys from
the manual table as one population of answers, and the CSAT target looked up in its fallback order."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce

from csqm.gold.engine import P, days_of
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

TABLE = "gld_satisfaction_m"
# operations.md §1: the columns read from the manual tables, used when a fresh lake has no such table yet (= empty)
SURVEY_DDL = ("month_id STRING, city_code STRING, touchpoint STRING, sample_cnt INT, sat_cnt INT, neutral_cnt INT, "
              "dissat_cnt INT, score_avg DECIMAL(5,2)")
TARGET_DDL = "target_year STRING, city_code STRING, metric_code STRING, dim_value STRING, target_value DECIMAL(18,6)"
PROVINCE = "0000"
CALLBACK = ("SAT", "NEUTRAL", "DISSAT")        # SAT3: sat / neutral / dissat
RATING = ("1", "2", "3")                       # R3
SMS = ("1", None, "2")                         # NEWUSER_SMS: no neutral answer


def _answers(df: DataFrame, touchpoint: Column, day: str, answer: str, codes: Sequence[str | None],
             also: Column | None = None) -> DataFrame:
    """One INSTANT row per event: the month of its day column and 0/1 flags valid (answer among the codes) and
    sat / neutral / dissat (answer = the code at that position)."""
    given = [c for c in codes if c is not None]
    valid = F.col(answer).isin(*given) & (also if also is not None else F.lit(True))

    def flag(code: str | None) -> Column:
        return (F.when(valid & (F.col(answer) == code), 1).otherwise(0) if code else F.lit(0)).cast("bigint")

    return df.select(F.substring(day, 1, 6).alias("month_id"), "city_code", touchpoint.alias("touchpoint"),
                     F.lit("INSTANT").alias("survey_source"),
                     F.when(valid, 1).otherwise(0).cast("bigint").alias("valid"),
                     *[flag(c).alias(n) for c, n in zip(codes, ("sat", "neutral", "dissat"), strict=True)],
                     F.lit(None).cast("decimal(5,2)").alias("score_avg"))


def params(cfg, parts: Sequence[str] = ()) -> dict:
    """What sources() takes: the months being built, so each source reads only the days that can fall in them."""
    return {"months": tuple(parts)}


def _instant(s: Mapping[str, DataFrame], months: Sequence[str] = ()) -> list[DataFrame]:
    """The eight INSTANT touchpoints of gold.md 3.2.14 (six sources), each dated by its outcome or contact day; with
    months, only the rows whose day falls in them (a range Delta's statistics skip other files by)."""
    def dated(table: str, where: str, day: str) -> DataFrame:
        df = s[table].where(where)
        return df.where(days_of(day, months)) if months else df

    bb_order = dated("slv_provision_order_d", "product_line = 'BB' AND order_type IN ('NEW', 'MOVE') AND "
                     "is_completed = 1", "complete_day_id")
    bb_fault = dated("slv_fault_event_d", "product_line = 'BB' AND is_valid = 1 AND is_closed = 1", "close_day_id")
    vc = dated("slv_complaint_event_d", "is_valid = 1 AND sheet_type = 'CMPL'", "finish_day_id")
    contact = dated("slv_contact_event_d", "channel_type IN ('HALL', 'HOTLINE')", "day_id")
    echannel = dated("slv_echannel_contact_d", "channel_type IN ('WEB', 'APP')", "day_id")
    sms = dated("slv_newuser_sms_callback_d", "true", "day_id")
    return [_answers(bb_order, F.lit("BB_INSTALL"), "complete_day_id", "callback_result", CALLBACK),
            _answers(bb_fault, F.lit("BB_REPAIR"), "close_day_id", "callback_result", CALLBACK),
            _answers(vc, F.lit("CMPL"), "finish_day_id", "callback_result", CALLBACK),
            _answers(contact, F.col("channel_type"), "day_id", "rating", RATING),
            _answers(echannel, F.col("channel_type"), "day_id", "rating", RATING),
            _answers(sms, F.lit("NEWUSER_SMS"), "day_id", "reply_code", SMS, F.col("is_replied") == 1)]


def _manual(s: Mapping[str, DataFrame], table: str, ddl: str, spark) -> DataFrame:
    """A manual table, or an empty one with its columns when it has never been uploaded (a fresh lake)."""
    df = s.get(table)
    return df if df is not None else spark.createDataFrame([], ddl)


def _third(survey: DataFrame) -> DataFrame:
    """THIRD rows: the entered counts of man_third_party_survey; city and touchpoint as entered (0000 allowed)."""
    return survey.select("month_id", "city_code", "touchpoint", F.lit("THIRD").alias("survey_source"),
                         *[F.col(f).cast("bigint").alias(n) for f, n in (("sample_cnt", "valid"), ("sat_cnt", "sat"),
                                                                        ("neutral_cnt", "neutral"),
                                                                        ("dissat_cnt", "dissat"))],
                         F.col("score_avg").cast("decimal(5,2)"))


def sources(silver: Mapping[str, DataFrame], months: Sequence[str] = ()) -> dict[str, DataFrame]:
    """answers = INSTANT events ∪ THIRD survey rows; target = the CSAT rows of man_kpi_target (for finish)."""
    spark = silver["slv_contact_event_d"].sparkSession
    parts = [*_instant(silver, months), _third(_manual(silver, "man_third_party_survey", SURVEY_DDL, spark))]
    answers = reduce(DataFrame.unionByName, parts).where(F.col("month_id").isNotNull())
    target = _manual(silver, "man_kpi_target", TARGET_DDL, spark).where(F.col("metric_code") == "CSAT")
    return {"answers": answers, "target": target.select("target_year", "city_code", "dim_value", "target_value")}


def finish(rows: DataFrame, src: Mapping[str, DataFrame]) -> DataFrame:
    """SAT_TARGET = the first of (city, touchpoint), (city, *), (0000, touchpoint), (0000, *) for year(M), NULL if
    none; SAT_GAP = csat_rate − sat_target (NULL if either is NULL). A lookup with a fallback order is no sum."""
    t = src["target"].select(F.col("target_year").alias("_y"), F.col("city_code").alias("_tc"),
                             F.col("dim_value").alias("_tv"), "target_value")
    keys = rows.select(F.substring(P, 1, 4).alias("_y"), "city_code", "touchpoint").distinct()
    hit = (F.col("_tc") == F.col("city_code")) | (F.col("_tc") == PROVINCE)
    hit &= (F.col("_tv") == F.col("touchpoint")) | (F.col("_tv") == "*")
    rank = F.when(F.col("_tc") == F.col("city_code"), 0).otherwise(2) + \
        F.when(F.col("_tv") == F.col("touchpoint"), 0).otherwise(1)
    best = (keys.join(t, "_y").where(hit).groupBy("_y", "city_code", "touchpoint")
            .agg(F.min_by("target_value", rank).cast("double").alias("sat_target")))
    out = rows.drop("sat_target").withColumn("_y", F.substring(P, 1, 4)).join(
        best, ["_y", "city_code", "touchpoint"], "left").drop("_y")
    return out.withColumn("sat_gap", F.col("csat_rate") - F.col("sat_target"))
