"""One session-scoped Delta SparkSession (local[2], few shuffle partitions, UI off) and a tmp lake."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from csqm.config import Config, load_config
from lake_fixture import lakes  # noqa: F401  (the session's pipeline lake, shared by silver and gold e2e tests)

os.environ.setdefault("CSQM_PII_SALT", "test-salt")


@pytest.fixture(scope="session")
def cfg(tmp_path_factory) -> Config:
    """The project's real conf/, with roots under a session tmp dir."""
    root = tmp_path_factory.mktemp("csqm")
    return load_config(overrides={"landing_root": str(root / "landing"), "lake_root": str(root / "lake"),
                                  "backup_root": str(root / "backup")})


@pytest.fixture(scope="session")
def spark(cfg):
    from csqm.session import get_spark

    env = replace(cfg.env, master="local[2]")
    s = get_spark(env, {
        "spark.sql.shuffle.partitions": "1",
        "spark.default.parallelism": "1",
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.ui.enabled": "false",
        "spark.driver.memory": "2g",
        "spark.sql.adaptive.enabled": "false",
    })
    yield s
    s.stop()


@pytest.fixture()
def tmp_roots(tmp_path: Path, cfg: Config) -> Config:
    """A config whose landing/lake/backup roots are fresh per test."""
    env = replace(cfg.env, landing_root=str(tmp_path / "landing"), lake_root=str(tmp_path / "lake"),
                  backup_root=str(tmp_path / "backup"))
    return replace(cfg, env=env)


@pytest.fixture(scope="session")
def bronze_df(spark, cfg):
    """Factory: bronze-shaped DataFrame of an interface from dicts (missing fields NULL, audit columns defaulted).

    T/D values are strings 'yyyy-MM-dd HH:mm:ss' / 'yyyy-MM-dd' parsed in the session zone (never Python datetimes,
    which Spark would read in the OS zone)."""
    from csqm.bronze.schemas import SPARK_TYPE, schema
    from pyspark.sql import functions as F

    def make(ifcode: str, rows: list[dict], data_date: str | None = None):
        spec = cfg.interface(ifcode)
        part = spec.partition_col
        names = [*spec.field_names, "_batch_id", "_file_name", "_file_seq", "_line_no", "_run_id", "_load_ts", part]
        out = []
        for i, r in enumerate(rows, 1):
            unknown = set(r) - set(names)
            assert not unknown, f"unknown columns {unknown} for {ifcode}"
            dd = r.get(part, data_date or ("20130101" if spec.freq == "D" else "201301"))
            base = {"_batch_id": f"{ifcode}_{dd}_001", "_file_name": f"{ifcode}_{dd}_001.dat", "_file_seq": 1,
                    "_line_no": i, "_run_id": "test", "_load_ts": "2013-01-02 03:00:00", part: dd}
            vals = {**base, **r}
            out.append(tuple(None if vals.get(n) is None else str(vals.get(n)) for n in names))
        raw = spark.createDataFrame(out, ", ".join(f"`{n}` STRING" for n in names))
        typed = schema(", ".join([*(f"{f.name} {SPARK_TYPE[f.type]}" for f in spec.fields)]) + ", _batch_id STRING, "
                       "_file_name STRING, _file_seq INT, _line_no BIGINT, _run_id STRING, _load_ts TIMESTAMP, "
                       f"{part} STRING")
        return raw.select(*[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in typed.fields])

    return make


# ---------------------------------------------------------------- silver test helpers


@pytest.fixture(scope="session")
def expect_df(spark):
    """Factory: an expected frame typed like a DDL (or the columns `cols` of it, in that order) from dicts or tuples
    of plain values. Values go through strings and are cast like bronze_df does (timestamps / dates written as
    'yyyy-MM-dd HH:mm:ss' / 'yyyy-MM-dd' are read in the session zone); a missing key or None is NULL."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    def make(ddl: str, rows: list, cols: list[str] | None = None):
        types = {f.name: f.dataType for f in StructType.fromDDL(ddl).fields}
        names = list(types) if cols is None else list(cols)
        recs = [r if isinstance(r, dict) else dict(zip(names, r, strict=True)) for r in rows]
        raw = spark.createDataFrame([tuple(None if r.get(n) is None else str(r[n]) for n in names) for r in recs],
                                    ", ".join(f"`{n}` STRING" for n in names))
        return raw.select(*[F.col(f"`{n}`").cast(types[n]).alias(n) for n in names])

    return make


@pytest.fixture(scope="session")
def sha(cfg):
    """README §9 hash of a raw value with the configured salt, computed independently of the code under test."""
    import hashlib

    salt = cfg.env.pii_salt

    def h(v: str | None) -> str | None:
        return None if v is None else hashlib.sha256((salt + v).encode("utf-8")).hexdigest()

    return h


@pytest.fixture(scope="session")
def mask():
    """README §9 mask: first 3 + '****' + last 4 when the value has at least 8 characters, else '****'."""
    def m(v: str | None) -> str | None:
        return None if v is None else (v[:3] + "****" + v[-4:] if len(v) >= 8 else "****")

    return m


@pytest.fixture(scope="session")
def assert_schema():
    """Assert a frame has exactly the DDL's columns, in its order, with its types (nullability aside)."""
    from pyspark.sql.types import StructType

    def check(df, ddl: str) -> None:
        assert [(f.name, f.dataType) for f in df.schema] == [(f.name, f.dataType) for f in StructType.fromDDL(ddl)]

    return check


@pytest.fixture(scope="session")
def assert_no_raw():
    """Assert no value of any collected row contains one of the raw (PII) strings."""
    def check(rows, raw) -> None:
        raw = [x for x in raw if x]
        leaks = [(c, v) for row in rows for c, v in row.asDict().items()
                 if v is not None and any(x in str(v) for x in raw)]
        assert not leaks, f"raw values in output: {leaks}"

    return check


@pytest.fixture(scope="session")
def assert_rows_equal():
    """Row-order-free equality of two frames with exact types (nullability aside)."""
    from chispa import assert_df_equality

    def check(actual, expected) -> None:
        assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)

    return check


@pytest.fixture(scope="session")
def snapshot_df(spark):
    """Factory: literal slv_subscriber_m rows with the columns block E reads (month_id, prod_inst_id, acc_nbr_hash,
    then the SNAPSHOT_COLUMNS)."""
    ddl = ("month_id STRING, prod_inst_id STRING, acc_nbr_hash STRING, cust_id STRING, city_code STRING, "
           "county_code STRING, urban_rural STRING, product_line STRING, cust_segment STRING, cust_segment_l2 STRING, "
           "vip_level STRING, pay_type STRING, offer_id STRING, offer_type STRING, tenure_months BIGINT")

    def make(rows: list[tuple]):
        return spark.createDataFrame(rows, ddl)

    return make


@pytest.fixture(scope="session")
def subscribers_201302(spark, cfg, bronze_df):
    """slv_subscriber_m of 201302 built by subscriber.build from two SUBS rows, with the E values they lend:
    P1 (number .n1) → .snap1 (C1, 0531, BB, U), P2 (number .n2) → .snap2 (C2, 0532, MOB, R); .unknown is the E block
    of an event that matches neither (the unknown members)."""
    from types import SimpleNamespace

    from csqm.silver.tables import subscriber

    base = {"acct_id": "A1", "cert_type": "ID", "cust_segment": "PUB", "cust_segment_l2": "PUB_HOME",
            "vip_level": "GOLD", "pay_type": "POST", "offer_id": "O1", "offer_type": "SINGLE",
            "open_date": "2010-01-01", "status": "ACTIVE", "tenure_months": 40, "active_flag": 1, "real_name_flag": 1}
    snap1 = {"cust_id": "C1", "city_code": "0531", "county_code": "370102", "urban_rural": "U", "product_line": "BB",
             "cust_segment": "PUB", "cust_segment_l2": "PUB_HOME", "vip_level": "GOLD", "pay_type": "POST",
             "offer_id": "O1", "offer_type": "SINGLE", "tenure_months": 40}
    snap2 = {**snap1, "cust_id": "C2", "city_code": "0532", "county_code": "370202", "urban_rural": "R",
             "product_line": "MOB"}
    unknown = {"cust_id": None, "city_code": "9999", "county_code": "999999", "urban_rural": "UNK",
               "product_line": "UNK", "cust_segment": "UNK", "cust_segment_l2": "UNK", "vip_level": "UNK",
               "pay_type": "UNK", "offer_id": "UNK", "offer_type": "UNK", "tenure_months": None}
    n1, n2 = "13300000001", "13300000002"
    rows = [{**base, **snap1, "prod_inst_id": "P1", "acc_nbr": n1},
            {**base, **snap2, "prod_inst_id": "P2", "acc_nbr": n2}]
    df = subscriber.build(cur=bronze_df("SUBS", rows, "201302"), prev=spark.createDataFrame([], subscriber.DDL),
                          salt=cfg.env.pii_salt)
    return SimpleNamespace(df=df, snap1=snap1, snap2=snap2, unknown=unknown, n1=n1, n2=n2)


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: needs a real cluster or a browser; run by make test-integration")


def _group(item) -> str | None:
    """The xdist group of a test: the shared pipeline lake's, else its module's when it uses a module-scoped
    fixture (so that fixture is built once and its tests keep their order), else none (spread freely)."""
    names = getattr(item, "fixturenames", ())
    if "lakes" in names:
        return "lakes"
    defs = getattr(item, "_fixtureinfo", None)
    scopes = {d.scope for ds in (defs.name2fixturedefs.values() if defs else ()) for d in ds}
    return item.nodeid.split("::")[0] if "module" in scopes else None


@pytest.hookimpl(tryfirst=True)   # before xdist (remote.py) turns the groups into node-id suffixes
def pytest_collection_modifyitems(config, items):
    """With `-n 2 --dist loadgroup` (make test), the pipeline lake and each module-scoped fixture are built by one
    worker only; the other tests spread over the workers."""
    for item in items:
        group = _group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
