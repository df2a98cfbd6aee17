"""slv_escalation_event_m (silver.md §4) on one month of hand-worked cases: counted/responsible copied, reply at /
after the deadline, refund and escalated_to_appeal defaults, local complaint by sheet id and by number with the
exact 720 h bounds on receive_time, enrichment from prev(M), PII."""
from __future__ import annotations

import hashlib

from chispa import assert_df_equality
from csqm.silver.tables import escalation
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

SUBS_DDL = ("month_id STRING, prod_inst_id STRING, acc_nbr_hash STRING, cust_id STRING, city_code STRING, "
            "county_code STRING, urban_rural STRING, product_line STRING, cust_segment STRING, cust_segment_l2 STRING, "
            "vip_level STRING, pay_type STRING, offer_id STRING, offer_type STRING, tenure_months BIGINT")
CMPL_DDL = "sheet_id STRING, sheet_type STRING, is_valid TINYINT, acc_nbr_hash STRING, accept_time STRING"
E_COLS = ("cust_id", "city_code", "county_code", "urban_rural", "product_line", "cust_segment", "cust_segment_l2",
          "vip_level", "pay_type", "offer_id", "offer_type", "tenure_months")
COPIED = ("escal_id", "escal_level", "source_org", "source_ref_no", "receive_time", "cmpl_phen_l1", "local_sheet_id",
          "reply_deadline", "reply_time", "result_code")
SNAP_E1 = ("C1", "0531", "370102", "U", "BB", "PUB", "PUB_HOME", "GOLD", "POST", "OF1", "SINGLE", 30)


def typed(spark, ddl: str, rows: list[dict]) -> DataFrame:
    """Expected frame from dicts of strings (missing key = NULL), cast to the DDL types in the session zone."""
    fields = StructType.fromDDL(ddl).fields
    raw = spark.createDataFrame(
        [tuple(None if r.get(f.name) is None else str(r[f.name]) for f in fields) for r in rows],
        ", ".join(f"`{f.name}` STRING" for f in fields))
    return raw.select(*[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in fields])


def sha(salt: str, v: str | None) -> str | None:
    """README §9 hash, computed independently of the code under test."""
    return None if v is None else hashlib.sha256((salt + v).encode("utf-8")).hexdigest()


def mask(v: str | None) -> str | None:
    """README §9 mask."""
    return None if v is None else (v[:3] + "****" + v[-4:] if len(v) >= 8 else "****")


def unknown_e(city: str, pl: str | None) -> tuple:
    """E block of an unmatched escalation: own city / product, else the unknown members."""
    return (None, city, "999999", "UNK", pl or "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", "UNK", None)


def r(eid: str, nbr: str | None, city: str, receive: str, deadline: str, reply: str | None, counted: int,
      **kw) -> dict:
    """One ESCAL input row of 201303 (times as strings)."""
    return {"escal_id": eid, "escal_level": "GOV", "source_org": "12345", "source_ref_no": f"R-{eid}",
            "acc_nbr": nbr, "city_code": city, "receive_time": receive, "cmpl_phen_l1": "NET",
            "counted_flag": counted, "reply_deadline": deadline, "reply_time": reply, "month_id": "201303", **kw}


CASES = [  # (input row, E block, expected derived values)
    # reply exactly at the deadline; local sheet is a valid CMPL; refund / appeal_after NULL → 0; matched by number
    (r("E1", "13300000001", "0531", "2013-03-05 10:00:00", "2013-03-08 10:00:00", "2013-03-08 10:00:00", 1,
       local_sheet_id="S1", resp_flag=1), SNAP_E1,
     {"is_counted": 1, "is_responsible": 1, "reply_sec": 259200, "is_timely_reply": 1, "refund_amount": "0.00",
      "escalated_to_appeal": 0, "had_local_complaint": 1}),
    # reply 1 s late; same-number valid CMPL exactly 720 h before receive_time counts; flags copied
    (r("E2", "13300000002", "0532", "2013-03-10 10:00:00", "2013-03-13 10:00:00", "2013-03-13 10:00:01", 0,
       local_sheet_id="S2", resp_flag=0, refund_fen=5, appeal_after_flag=1, product_line="MOB"),
     unknown_e("0532", "MOB"),
     {"is_counted": 0, "is_responsible": 0, "reply_sec": 259201, "is_timely_reply": 0, "refund_amount": "0.05",
      "escalated_to_appeal": 1, "had_local_complaint": 1}),
    # no reply; same-number CMPL at receive_time (excluded) and 720 h + 1 s before; invalid / non-CMPL inside: 0
    (r("E3", "13300000003", "0533", "2013-03-15 10:00:00", "2013-03-18 10:00:00", None, 1, appeal_after_flag=0),
     unknown_e("0533", None),
     {"is_counted": 1, "reply_sec": None, "is_timely_reply": 0, "refund_amount": "0.00", "escalated_to_appeal": 0,
      "had_local_complaint": 0}),
    # no number; local sheet an invalid CMPL → 0
    (r("E4", None, "0534", "2013-03-20 10:00:00", "2013-03-23 10:00:00", "2013-03-21 10:00:00", 0,
       local_sheet_id="S6", refund_fen=-100), unknown_e("0534", None),
     {"is_counted": 0, "reply_sec": 86400, "is_timely_reply": 1, "refund_amount": "-1.00", "escalated_to_appeal": 0,
      "had_local_complaint": 0}),
]


def expected_row(inp: dict, e: tuple, exp: dict, salt: str) -> dict:
    """Copied values from the input, P block from the raw number, E block, and the hand-worked derived values."""
    return {**{c: inp.get(c) for c in COPIED}, "acc_nbr_hash": sha(salt, inp["acc_nbr"]),
            "acc_nbr_mask": mask(inp["acc_nbr"]), "ref_month_id": "201302", **dict(zip(E_COLS, e, strict=True)), **exp,
            "month_id": "201303", "_batch_id": "ESCAL_201303_001"}


def test_escalation_event_m(spark, cfg, bronze_df):
    salt = cfg.env.pii_salt
    subs = spark.createDataFrame([("201302", "P1", sha(salt, "13300000001"), *SNAP_E1)], SUBS_DDL)
    h2, h3 = sha(salt, "13300000002"), sha(salt, "13300000003")
    complaints = spark.createDataFrame([
        ("S1", "CMPL", 1, None, "2012-12-01 00:00:00"),
        ("S2", "CONSULT", 1, None, "2013-03-09 00:00:00"),
        ("S3", "CMPL", 1, h2, "2013-02-08 10:00:00"),   # exactly 720 h before E2's receive_time
        ("S4", "CMPL", 1, h3, "2013-03-15 10:00:00"),   # at E3's receive_time: excluded
        ("S8", "CMPL", 1, h3, "2013-02-13 09:59:59"),   # 720 h + 1 s before E3's receive_time
        ("S5", "CMPL", 0, h3, "2013-03-14 10:00:00"),   # invalid
        ("S9", "SUGGEST", 1, h3, "2013-03-14 10:00:00"),  # not CMPL
        ("S6", "CMPL", 0, None, "2013-03-01 00:00:00"),  # invalid: E4's local sheet
        ("S7", "CMPL", 1, None, "2013-03-19 00:00:00"),  # no number: never matches a number
    ], CMPL_DDL).withColumn("accept_time", F.col("accept_time").cast("timestamp"))
    cur = bronze_df("ESCAL", [c[0] for c in CASES])
    out = escalation.build(cur=cur, complaints=complaints, subscribers=subs, salt=salt)

    assert out.schema.simpleString() == StructType.fromDDL(escalation.DDL).simpleString()
    assert "acc_nbr" not in out.columns
    rows = out.collect()
    raw = {c[0]["acc_nbr"] for c in CASES if c[0]["acc_nbr"]}
    leaks = [(row["escal_id"], v) for row in rows for v in row if isinstance(v, str) and any(n in v for n in raw)]
    assert not leaks, f"raw numbers in output: {leaks}"

    expected = typed(spark, escalation.DDL, [expected_row(i, e, x, salt) for i, e, x in CASES])
    assert_df_equality(spark.createDataFrame(rows, out.schema), expected, ignore_row_order=True,
                       ignore_nullable=True)
