"""conf/manual.yaml: schemas, keys and rules of the man_* and dim_* tables, loaded strictly (section "manual")."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from csqm.config import ConfigError, read_yaml, take

FILE = "manual.yaml"
AUDIT_COLUMNS = ("entered_by", "entered_at", "source_file")
AUDIT_DDL = "entered_by STRING, entered_at TIMESTAMP, source_file STRING"
SPARK_TYPES = {"string": "STRING", "code": "STRING", "int": "INT", "date": "DATE", "year": "STRING",
               "month": "STRING", "double": "DOUBLE"}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
RULE_KINDS = ("expr", "no_overlap")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a manual table."""

    name: str
    type: str
    key: bool = False
    required: bool = False
    codes: tuple[str, ...] | str | None = None  # literal codes, or a reference resolved at upload time
    star: bool = False
    default: str | None = None

    @property
    def spark_type(self) -> str:
        m = _DECIMAL.match(self.type)
        return f"DECIMAL({m.group(1)},{m.group(2)})" if m else SPARK_TYPES[self.type]

    @property
    def decimal(self) -> tuple[int, int] | None:
        m = _DECIMAL.match(self.type)
        return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True)
class TableRule:
    """A table rule (operations.md §1 'rules'), breach = error code RULE."""

    id: str
    kind: str
    message: str
    expr: str | None = None
    join: Mapping | None = None
    group: tuple[str, ...] = ()
    from_col: str | None = None
    to_col: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A manual or reference table: columns in storage order, upsert key, rules."""

    name: str
    cn: str
    columns: tuple[ColumnSpec, ...]
    rules: tuple[TableRule, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def ddl(self) -> str:
        """Storage schema: the columns, then the audit columns."""
        return ", ".join([*(f"{c.name} {c.spark_type}" for c in self.columns), AUDIT_DDL])

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def _column(d: object, where: str) -> ColumnSpec:
    c = take(d, where, ("name", "type"), ("key", "required", "codes", "star", "default"))
    typ = str(c["type"])
    if typ not in SPARK_TYPES and not _DECIMAL.match(typ):
        raise ConfigError(f"{where}.type: {typ!r} is not one of {tuple(SPARK_TYPES)} or decimal(p,s)")
    codes = c.get("codes")
    if (codes is None) == (typ == "code"):
        raise ConfigError(f"{where}.codes: required for type code, and only for it")
    if isinstance(codes, list):
        codes = tuple(str(x) for x in codes)
    elif codes is not None and not isinstance(codes, str):
        raise ConfigError(f"{where}.codes: expected a list of codes or a reference string")
    return ColumnSpec(str(c["name"]), typ, bool(c.get("key", False)), bool(c.get("required", False)), codes,
                      bool(c.get("star", False)), None if c.get("default") is None else str(c["default"]))


def _rule(d: object, where: str, names: tuple[str, ...]) -> TableRule:
    r = take(d, where, ("id", "kind", "message"), ("expr", "join", "group", "from", "to"))
    if r["kind"] not in RULE_KINDS:
        raise ConfigError(f"{where}.kind: {r['kind']!r} is not one of {RULE_KINDS}")
    if r["kind"] == "expr":
        if not r.get("expr") or "group" in r:
            raise ConfigError(f"{where}.expr: an expr rule needs expr (and no group)")
        join = r.get("join")
        if join is not None:
            take(join, f"{where}.join", ("table", "using", "columns"))
        return TableRule(str(r["id"]), "expr", str(r["message"]), str(r["expr"]), join)
    take(r, where, ("id", "kind", "message", "group", "from", "to"))
    for col in [*r["group"], r["from"], r["to"]]:
        if col not in names:
            raise ConfigError(f"{where}: {col!r} is not a column of the table")
    return TableRule(str(r["id"]), "no_overlap", str(r["message"]), group=tuple(r["group"]),
                     from_col=str(r["from"]), to_col=str(r["to"]))


def load(conf_dir: Path) -> dict[str, TableSpec]:
    """Section "manual": table name -> TableSpec."""
    d = take(read_yaml(Path(conf_dir) / FILE), FILE, ("tables",))
    out = {}
    for name, t in d["tables"].items():
        where = f"{FILE}:tables.{name}"
        if not str(name).startswith(("man_", "dim_")):
            raise ConfigError(f"{where}: only man_* and dim_* tables are uploaded")
        t = take(t, where, ("cn", "columns"), ("rules",))
        cols = tuple(_column(c, f"{where}.columns[{i}]") for i, c in enumerate(t["columns"]))
        names = tuple(c.name for c in cols)
        if len(set(names)) != len(names) or not any(c.key for c in cols):
            raise ConfigError(f"{where}.columns: names must be unique and at least one column a key")
        if set(names) & {*AUDIT_COLUMNS, "op"}:
            raise ConfigError(f"{where}.columns: {sorted(set(names) & {*AUDIT_COLUMNS, 'op'})} are reserved")
        rules = tuple(_rule(r, f"{where}.rules[{i}]", names) for i, r in enumerate(t.get("rules") or []))
        out[str(name)] = TableSpec(str(name), str(t["cn"]), cols, rules)
    return out
