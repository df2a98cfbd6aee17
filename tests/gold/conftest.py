"""Gold unit-test helpers: literal silver frames in, one table's rows out, expectations written as sparse dicts."""
from __future__ import annotations

import pytest
from csqm.gold import engine


@pytest.fixture(scope="session")
def catalog(cfg):
    return cfg.section("metrics")


@pytest.fixture(scope="session")
def gold(spark, cfg, catalog):
    """gold(table, {silver: DataFrame}, parts, horizon, backlog_from) -> the table's rows."""
    from csqm.pipeline.gold import module_of, populations

    def run(table: str, silver: dict, parts, horizon=None, backlog_from=None):
        module = module_of(table)
        w = engine.Window(tuple(parts), horizon or parts[-1], backlog_from)
        return engine.compute(catalog.table(table), populations(cfg, module, silver, parts), w,
                              getattr(module, "finish", None))

    return run


@pytest.fixture(scope="session")
def gold_rows(spark, catalog):
    """Expected rows: grain values + the metric values given; every other count/num/den 0, rate/VALUE NULL."""

    def make(table: str, rows: list[dict]):
        t = catalog.table(table)
        full = []
        for r in rows:
            unknown = set(r) - set(t.columns)
            assert not unknown, f"not columns of {table}: {unknown}"
            out = {}
            for m in t.metrics:
                for c in m.columns:
                    out[c] = None if c.endswith("_rate") or m.kind == "VALUE" else 0
            full.append({**{g: r[g] for g in t.grain}, **out, **r})
        return spark.createDataFrame([tuple(x[c] for c in t.columns) for x in full], engine.schema_of(t))

    return make


@pytest.fixture(scope="session")
def silver_df(spark):
    """silver_df(table, [dict]) -> a frame with the silver table's full schema; columns not given are NULL.
    Values are written as text and cast (timestamps 'yyyy-MM-dd HH:mm:ss' in the session zone)."""
    from csqm.pipeline.silver import BUILDERS
    from csqm.silver.common import to_ddl
    from pyspark.sql.types import StringType, StructField, StructType

    ddls = {m.TABLE: m.DDL for m, _ in BUILDERS}

    def make(table: str, rows: list[dict]):
        names = [f.name for f in StructType.fromDDL(ddls[table]).fields]
        unknown = {k for r in rows for k in r} - set(names)
        assert not unknown, f"not columns of {table}: {unknown}"
        text = StructType([StructField(n, StringType()) for n in names])
        data = [tuple(None if r.get(n) is None else str(r[n]) for n in names) for r in rows]
        return to_ddl(spark.createDataFrame(data, text), ddls[table])

    return make
