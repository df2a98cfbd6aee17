"""Deployment seed of the reference tables (operations.md §1/§2, README §4): dim_kpi_threshold, dim_city and
dim_code from conf/, each only while the table is empty, so rows changed by upload are never overwritten."""
from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from csqm import audit, io
from csqm.config import Config

SPECIAL_TYPE = "special"  # code_type of the special members UNK / NA / NONE (README §4.2), valid in every code column
SEED_USER = "seed"


# Codes the contract defines for gold rows only (gold.md 3.2.8: new-user callbacks as a proactive scene).
GOLD_ONLY_CODES = {"task_scene": {"NEWUSER": "新入网短信回访"}}


def code_types(cfg: Config) -> dict[str, str]:
    """'<IFCODE>.<field>' of every C field -> its dim_code code_type.

    A field whose list is the README §4.2 list of its name, or a subset of it, uses that name. Interface lists that
    share a field name but differ (FLT_TICKET vs HALL_QUEUE ticket_status, OB_TASK vs APPEAL/ESCAL result_code) get
    '<field>:<IFCODE>' of the first interface (sources.yaml order) carrying that exact list, so no code is filed
    under a list it does not belong to."""
    lists: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for ifcode, spec in cfg.interfaces.items():
        for f in spec.fields:
            if f.type == "C" and f.code_type != "city_code":
                lists.setdefault(f.code_type, []).append((f.codes, f"{ifcode}.{f.name}"))
    out = {}
    for name, variants in lists.items():
        base = set(cfg.codes.lists.get(name, ()))
        distinct = {c for c, _ in variants}
        widest = max(distinct, key=len)
        shared = bool(base) or all(set(c) <= set(widest) for c in distinct)
        for codes, where in variants:
            if shared and (not base or set(codes) <= base):
                out[where] = name
            else:
                first = next(w for c, w in variants if c == codes)
                out[where] = f"{name}:{first.split('.')[0]}"
    return out


def code_rows(cfg: Config) -> list[tuple[str, str, str, int]]:
    """dim_code rows (code_type, code, name_cn, sort_no): README §4.2 lists, every interface list, special members."""
    rows: dict[tuple[str, str], tuple[str, int]] = {}

    def add(code_type: str, items: Iterable[tuple[str, str]]) -> None:
        for i, (code, name) in enumerate(items, 1):
            rows.setdefault((code_type, code), (name, i))

    for name, items in cfg.codes.lists.items():
        add(name, items.items())
    types = code_types(cfg)
    for ifcode, spec in cfg.interfaces.items():
        for f in spec.fields:
            if f"{ifcode}.{f.name}" in types:
                add(types[f"{ifcode}.{f.name}"], ((c, c) for c in f.codes))
    add(SPECIAL_TYPE, cfg.codes.special_members.items())
    for code_type, items in GOLD_ONLY_CODES.items():
        add(code_type, items.items())
    return [(t, c, n, s) for (t, c), (n, s) in rows.items()]


def city_rows(cfg: Config) -> list[tuple[str, str, str]]:
    """dim_city rows: the 17 cities, then 0000 (province) and 9999 (unknown)."""
    return [(c.city_code, c.name_cn, c.gb_code) for c in (*cfg.codes.cities, *cfg.codes.special_cities)]


def _seed_if_empty(spark: SparkSession, cfg: Config, table: str, rows: DataFrame, source: str,
                   meta: dict | None, only_if_empty: bool = True) -> int | None:
    """Create the table with the manual spec's schema; append the seed only while it holds no row (or always: the
    caller passes only rows whose keys are missing)."""
    spec = cfg.section("manual")[table]
    io.ensure_table(spark, cfg, table, StructType.fromDDL(spec.ddl), (), meta)
    if only_if_empty and not io.read(spark, cfg, table).isEmpty():
        return None
    out = rows.select(*[F.col(c.name).cast(c.spark_type).alias(c.name) for c in spec.columns]).withColumns({
        "entered_by": F.lit(SEED_USER), "entered_at": F.lit(audit.now()).cast("timestamp"),
        "source_file": F.lit(source)})
    return io.append(out, cfg, table, meta)


def seed_thresholds(spark: SparkSession, cfg: Config, meta: dict | None) -> int | None:
    """dim_kpi_threshold from conf/thresholds.yaml (operations.md §2); returns the version written, if any."""
    from csqm.silver.common import threshold_seed

    return _seed_if_empty(spark, cfg, "dim_kpi_threshold", threshold_seed(spark, cfg.conf_dir),
                          "conf/thresholds.yaml", meta)


def seed_metrics(spark: SparkSession, cfg: Config, catalog: DataFrame, meta: dict | None,
                 only_if_empty: bool = True) -> int | None:
    """Hook for the gold metric catalog: dim_metric from a DataFrame with the columns metric_code, name_cn,
    gold_table, kind, scale, unit, date_basis (conf/manual.yaml types), only while dim_metric is empty (or, with
    only_if_empty=False, rows of codes it lacks)."""
    return _seed_if_empty(spark, cfg, "dim_metric", catalog, "conf/metrics.yaml", meta, only_if_empty)


def seed_reference(spark: SparkSession, cfg: Config, run: audit.Run) -> dict[str, int]:
    """Seed dim_kpi_threshold, dim_city and dim_code where empty; table -> version written (recorded in run)."""
    meta = run.meta
    written = {
        "dim_kpi_threshold": seed_thresholds(spark, cfg, meta),
        "dim_city": _seed_if_empty(spark, cfg, "dim_city", spark.createDataFrame(
            city_rows(cfg), "city_code STRING, name_cn STRING, gb_code STRING"), "conf/codes.yaml", meta),
        "dim_code": _seed_if_empty(spark, cfg, "dim_code", spark.createDataFrame(
            code_rows(cfg), "code_type STRING, code STRING, name_cn STRING, sort_no INT"),
            "conf/codes.yaml+conf/sources.yaml", meta),
    }
    for table, version in written.items():
        if version is not None:
            run.committed(table, version)
    return {t: v for t, v in written.items() if v is not None}
