"""Upload job (operations.md §1): read the file, validate every row, then one atomic MERGE or a full rejection."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from csqm import audit, io
from csqm.config import Config, ConfigError
from csqm.io import upload as files
from csqm.manual.spec import TableRule, TableSpec
from csqm.manual.validate import OP, Checked, RowError, check_rows, resolve_codes

ERR_DDL = "row_no INT, column STRING, value STRING, error_code STRING, message STRING"
FAR = "DATE'9999-12-31'"


@dataclass
class UploadResult:
    """What an upload did: SUCCESS (upserted/deleted rows, version) or REJECTED (errors, report path)."""

    status: str
    rows: int
    upserted: int = 0
    deleted: int = 0
    version: int | None = None
    errors: list[RowError] | None = None
    report: Path | None = None


def table_spec(cfg: Config, table: str) -> TableSpec:
    specs = cfg.section("manual")
    if table not in specs:
        from csqm.errors import UsageError

        raise UsageError(f"unknown upload table {table!r}; known: {', '.join(specs)}")
    return specs[table]


def ensure(spark: SparkSession, cfg: Config, spec: TableSpec, meta: dict | None) -> None:
    io.ensure_table(spark, cfg, spec.name, StructType.fromDDL(spec.ddl), (), meta)


def code_lookup(spark: SparkSession, cfg: Config):
    """Resolver of the codes references of conf/manual.yaml (see its header)."""
    def look(ref: str) -> frozenset[str]:
        if ref == "cities":
            return frozenset(cfg.codes.city_codes)
        if ref == "cities+province":
            return frozenset((*cfg.codes.city_codes, "0000"))
        kind, _, arg = ref.partition(":")
        if kind == "list" and arg in cfg.codes.lists:
            return frozenset(cfg.codes.lists[arg])
        if kind == "field" and "." in arg:
            ifcode, fname = arg.split(".", 1)
            return frozenset(cfg.interface(ifcode).field(fname).codes or ())
        if kind == "table" and "." in arg:
            table, col = arg.split(".", 1)
            if not io.table_exists(spark, cfg, table):
                return frozenset()
            return frozenset(r[0] for r in io.read(spark, cfg, table).select(col).distinct().collect())
        raise ConfigError(f"manual.yaml: unknown codes reference {ref!r}")
    return look


def _records_df(spark: SparkSession, spec: TableSpec, checked: Checked) -> DataFrame:
    schema = StructType.fromDDL(", ".join([*(f"{c.name} {c.spark_type}" for c in spec.columns),
                                           f"{OP} STRING, row_no INT"]))
    return spark.createDataFrame([tuple(r[n] for n in schema.fieldNames()) for r in checked.records], schema)


def _err(df: DataFrame, column: str, value: F.Column, message: str) -> DataFrame:
    return df.select(F.col("row_no").cast("int"), F.lit(column).alias("column"), value.cast("string").alias("value"),
                     F.lit("RULE").alias("error_code"), F.lit(message).alias("message"))


def _key_text(spec: TableSpec, prefix: str = "") -> F.Column:
    return F.concat_ws("|", *[F.col(f"{prefix}{k}").cast("string") for k in spec.keys])


def _joined(spark: SparkSession, cfg: Config, df: DataFrame, join: dict) -> DataFrame:
    on, cols = list(join["using"]), list(join["columns"])
    if io.table_exists(spark, cfg, join["table"]):
        other = io.read(spark, cfg, join["table"]).select(*on, *cols).dropDuplicates(on)
        return df.join(other, on, "left")
    return df.withColumns({c: F.lit(None).cast("string") for c in cols})


def _expr_errors(spark: SparkSession, cfg: Config, ups: DataFrame, rule: TableRule) -> DataFrame:
    df = _joined(spark, cfg, ups, rule.join) if rule.join else ups
    bad = df.where(~F.coalesce(F.expr(rule.expr), F.lit(False)))
    return _err(bad, "", F.lit(""), f"{rule.id}: {rule.message}")


def _overlap_errors(spec: TableSpec, stored: DataFrame, ups: DataFrame, untouched: DataFrame,
                    rule: TableRule) -> DataFrame:
    cols = [*rule.group, rule.from_col, rule.to_col]
    everything = ups.select(*cols, "row_no").unionByName(
        untouched.select(*cols, F.lit(None).cast("int").alias("row_no")))
    a, b = ups.select(*cols, "row_no").alias("a"), everything.alias("b")
    cond = [F.col(f"a.{g}") == F.col(f"b.{g}") for g in rule.group]
    cond += [F.col(f"a.{rule.from_col}") != F.col(f"b.{rule.from_col}"),
             F.col(f"a.{rule.from_col}") <= F.coalesce(F.col(f"b.{rule.to_col}"), F.expr(FAR)),
             F.col(f"b.{rule.from_col}") <= F.coalesce(F.col(f"a.{rule.to_col}"), F.expr(FAR))]
    hits = a.join(b, cond).select("a.row_no", F.col(f"b.{rule.from_col}").alias("other"),
                                  F.col("b.row_no").alias("other_row"))
    hits = hits.groupBy("row_no").agg(F.min("other").alias("other"), F.min("other_row").alias("other_row"))
    other = F.when(F.col("other_row").isNotNull(), F.concat(F.lit("data row "), F.col("other_row"))).otherwise(
        F.concat(F.lit("stored row valid from "), F.col("other").cast("string")))
    return hits.select(F.col("row_no").cast("int"), F.lit(rule.from_col).alias("column"),
                       F.lit("").alias("value"), F.lit("RULE").alias("error_code"),
                       F.concat(F.lit(f"{rule.id}: {rule.message} ("), other, F.lit(")")).alias("message"))


def rule_errors(spark: SparkSession, cfg: Config, spec: TableSpec, recs: DataFrame) -> list[RowError]:
    """Table rules on the upserted rows and deletes of keys that are not stored; one Spark job for all."""
    stored = io.read(spark, cfg, spec.name).select(*spec.names)
    ups, dels = recs.where(F.col(OP) == "U"), recs.where(F.col(OP) == "D")
    missing = dels.join(stored.select(*spec.keys), list(spec.keys), "left_anti")
    parts = [_err(missing, ",".join(spec.keys), _key_text(spec), "D: no stored row has this key")]
    untouched = stored.join(recs.select(*spec.keys), list(spec.keys), "left_anti")
    for rule in spec.rules:
        if rule.kind == "expr":
            parts.append(_expr_errors(spark, cfg, ups, rule))
        else:
            parts.append(_overlap_errors(spec, stored, ups, untouched, rule))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return [RowError(r.row_no, r.column, r.value or "", r.error_code, r.message)
            for r in out.orderBy("row_no", "message").collect()]


def _reject(path: Path, rows: int, errors: list[RowError]) -> UploadResult:
    errors = sorted(errors, key=lambda e: (e.row_no, e.column, e.error_code))
    report = files.write_errors(path, [e.as_tuple() for e in errors])
    return UploadResult("REJECTED", rows, errors=errors, report=report)


def upload(spark: SparkSession, cfg: Config, run: audit.Run, table: str, path: Path, user: str) -> UploadResult:
    """Validate the whole file, then apply it in one MERGE, or reject it all with <file>.errors.csv."""
    spec = table_spec(cfg, table)
    path = Path(path)
    raw = files.read_upload(path)
    run.rows_in = len(raw.rows)
    ensure(spark, cfg, spec, run.meta)
    checked = check_rows(spec, raw, resolve_codes(spec, code_lookup(spark, cfg)))
    if checked.errors:
        return _reject(path, len(raw.rows), checked.errors)
    recs = _records_df(spark, spec, checked).cache()
    try:
        errors = rule_errors(spark, cfg, spec, recs)
        if errors:
            return _reject(path, len(raw.rows), errors)
        out = recs.withColumns({"entered_by": F.lit(user), "entered_at": F.lit(audit.now()).cast("timestamp"),
                                "source_file": F.lit(path.name)})
        version = files.merge_manual(out, cfg, spec.name, spec.keys, [*spec.names, "entered_by", "entered_at",
                                                                     "source_file"], OP, run.meta)
    finally:
        recs.unpersist()
    run.committed(spec.name, version)
    deleted = sum(r[OP] == "D" for r in checked.records)
    run.rows_out = len(checked.records)
    files.remove_stale_report(path)
    return UploadResult("SUCCESS", len(raw.rows), len(checked.records) - deleted, deleted, version)


def write_template(cfg: Config, table: str, out: Path, fmt: str | None) -> Path:
    """An empty upload file with the table's header (columns in storage order; op may be added by the user)."""
    spec = table_spec(cfg, table)
    fmt = fmt or files.file_format(out)
    return files.write_template(Path(out), spec.names, fmt)
