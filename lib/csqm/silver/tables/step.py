"""slv_provision_step_d 开通工单环节明细 (silver.md §6): one row per (order_id, step_seq), durations,
order attributes."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from csqm.silver.common import hours, net_seconds, to_ddl, yyyymmdd

TABLE = "slv_provision_step_d"
KEY = ("order_id", "step_seq")
PARTITION = "day_id"
# order attribute -> value when the step has no order (silver.md §6)
NO_ORDER = {"city_code": "9999", "county_code": "999999", "urban_rural": "UNK", "product_line": "UNK",
            "order_type": "UNK"}
DDL = (
    # key + copied
    "order_id STRING, step_seq BIGINT, step_code STRING, handler_dept STRING, start_time TIMESTAMP, "
    "end_time TIMESTAMP, "
    # derived
    "end_day_id STRING, step_sec BIGINT, step_hours DECIMAL(10,2), step_limit_sec BIGINT, is_overtime TINYINT, "
    "is_return TINYINT, city_code STRING, county_code STRING, urban_rural STRING, product_line STRING, "
    "order_type STRING, order_end_time TIMESTAMP, order_is_cancelled TINYINT, "
    "day_id STRING, _batch_id STRING"
)


def _durations(df: DataFrame) -> DataFrame:
    """Step duration clipped at 0 (NULL while open), its limit in seconds, and the overtime check."""
    sec = net_seconds("end_time", "start_time", F.lit(0))
    limit = F.col("limit_min") * F.lit(60)
    both = F.col("end_time").isNotNull() & F.col("limit_min").isNotNull()
    return df.withColumns({
        "day_id": yyyymmdd("start_time"),
        "end_day_id": yyyymmdd("end_time"),
        "step_sec": sec,
        "step_hours": hours(sec),
        "step_limit_sec": limit,
        "is_overtime": F.when(both, (sec > limit).cast("tinyint")),
        "is_return": F.col("return_flag"),
    })


def _order_attrs(df: DataFrame, orders: DataFrame) -> DataFrame:
    """Geography, product and type of the step's order (silver values), its end and cancel flag; unknown without one."""
    o = orders.select(F.col("order_id").alias("__o_id"), *[F.col(c).alias(f"__o_{c}") for c in NO_ORDER],
                      F.col("end_time").alias("__o_end"), F.col("is_cancelled").alias("__o_cancelled"))
    found = F.col("__o_id").isNotNull()
    attrs = {c: F.when(found, F.col(f"__o_{c}")).otherwise(F.lit(v)) for c, v in NO_ORDER.items()}
    return (df.join(o, F.col("order_id") == F.col("__o_id"), how="left")
            .withColumns({**attrs, "order_end_time": F.col("__o_end"),
                          "order_is_cancelled": F.when(found, F.col("__o_cancelled")).otherwise(F.lit(0))})
            .drop(*[c for c in o.columns]))


def build(*, cur: DataFrame, orders: DataFrame) -> DataFrame:
    """Steps from the current state of brz_sp_step with their durations and the attributes of their order."""
    out = cur.transform(_durations).transform(_order_attrs, orders)
    return to_ddl(out, DDL)
