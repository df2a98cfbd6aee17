"""Load conf/ once, strictly, into frozen dataclasses (unknown keys are errors naming the key)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONF_DIR = PROJECT_ROOT / "conf"
TYPES = ("S", "C", "N", "B", "F", "D", "T")
SALT_ENV = "CSQM_PII_SALT"


class ConfigError(ValueError):
    """A configuration file breaks its schema; the message names file and key."""


def _take(d: Any, where: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict:
    """Check a mapping's keys: every required key present, no key outside required+optional."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
    unknown = [k for k in d if k not in required and k not in optional]
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key")
    missing = [k for k in required if k not in d]
    if missing:
        raise ConfigError(f"{where}.{missing[0]}: required key missing")
    return dict(d)


def _read(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    return data or {}


# Public names for the section loaders of other modules.
take, read_yaml = _take, _read


def _merge(base: dict, over: dict) -> dict:
    """Deep-merge an overlay onto a base mapping (overlay wins)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ---------------------------------------------------------------- sources.yaml
@dataclass(frozen=True)
class FieldSpec:
    """One field of an interface file (sources.md §4)."""

    name: str
    type: str
    required: bool
    cn: str
    codes: tuple[str, ...] | None = None  # allowed codes for C fields
    code_type: str | None = None  # dim_code.code_type for C fields
    check: str | None = None  # 'county' for county_code
    pii: bool = False


@dataclass(frozen=True)
class RuleSpec:
    """A row rule: a SQL predicate over the typed record that must hold."""

    id: str
    expr: str
    desc: str


@dataclass(frozen=True)
class InterfaceSpec:
    """One landing interface: delivery, format and field table."""

    ifcode: str
    name_cn: str
    freq: str
    source_system: str
    key: tuple[str, ...]
    encoding: str
    fields: tuple[FieldSpec, ...]
    rules: tuple[RuleSpec, ...]

    @property
    def table(self) -> str:
        return f"brz_{self.ifcode.lower()}"

    @property
    def partition_col(self) -> str:
        return "day_id" if self.freq == "D" else "month_id"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


# ---------------------------------------------------------------- codes.yaml
@dataclass(frozen=True)
class City:
    city_code: str
    name_cn: str
    gb_code: str
    weight: float


@dataclass(frozen=True)
class Codes:
    """README §4: cities and the shared code lists (code -> 中文)."""

    cities: tuple[City, ...]
    special_cities: tuple[City, ...]
    lists: Mapping[str, Mapping[str, str]]
    electronic_channels: tuple[str, ...]
    special_members: Mapping[str, str]

    @property
    def city_codes(self) -> tuple[str, ...]:
        return tuple(c.city_code for c in self.cities)

    def gb_prefix(self) -> dict[str, str]:
        return {c.city_code: c.gb_code[:4] for c in self.cities}


# ---------------------------------------------------------------- env profile
@dataclass(frozen=True)
class IngestSettings:
    reject_threshold: float = 0.001
    chk_wait_hours: int = 24
    parallelism: int = 4  # interfaces loaded at the same time (threads sharing one Spark session)


@dataclass(frozen=True)
class Env:
    """An environment profile (conf/env/<name>.yaml overlaid on local.yaml)."""

    name: str
    landing_root: str
    lake_root: str
    backup_root: str
    jars_dir: str
    master: str | None
    app_name: str
    spark_conf: Mapping[str, str]
    pii_salt: str
    ingest: IngestSettings
    gold_parallelism: int = 4  # gold tables built at the same time (threads sharing one Spark session)
    gold_broadcast_months: int = 4  # snapshot months up to which gld_retention_m broadcasts its churn/renewal rows
    dq_parallelism: int = 4    # DQ rules evaluated at the same time (same)


@dataclass(frozen=True)
class LayerPolicy:
    """Delta properties and the promised time-travel window of one layer (operations.md §4)."""

    log_retention_days: int
    deleted_file_retention_days: int
    time_travel_days: int
    stats_columns: int | None = None  # columns with per-file min/max statistics; None: Delta's default
    stats_on: tuple[str, ...] = ()     # or: only the columns matching these patterns (fnmatch) have statistics

    def properties(self, layer: str, checkpoint_interval: int, columns: Sequence[str] = ()) -> dict[str, str]:
        """The layer's Delta properties for a table whose non-partition columns are `columns`."""
        props = {
            "delta.logRetentionDuration": f"interval {self.log_retention_days} days",
            "delta.deletedFileRetentionDuration": f"interval {self.deleted_file_retention_days} days",
            "delta.checkpointInterval": str(checkpoint_interval),
            "delta.enableDeletionVectors": "false",
            "lake.time_travel_days": str(self.time_travel_days),
            "lake.layer": layer,
        }
        if self.stats_columns is not None:
            props["delta.dataSkippingNumIndexedCols"] = str(self.stats_columns)
        if self.stats_on:
            props["delta.dataSkippingStatsColumns"] = ",".join(
                c for c in columns if any(fnmatchcase(c, p) for p in self.stats_on))
        return props


@dataclass(frozen=True)
class Retention:
    """conf/retention.yaml: per-layer properties, online periods, backup counts."""

    checkpoint_interval: int
    layers: Mapping[str, LayerPolicy]
    online_months: Mapping[str, int]
    backup_daily_keep: int
    backup_monthly_keep: int
    high_value_yuan: float

    def properties(self, layer: str, columns: Sequence[str] = ()) -> dict[str, str]:
        return self.layers[layer].properties(layer, self.checkpoint_interval, columns)


@dataclass(frozen=True)
class Config:
    """Everything in conf/, loaded once per process."""

    conf_dir: Path
    env: Env
    interfaces: Mapping[str, InterfaceSpec]
    codes: Codes
    retention: Retention
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    sections: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def section(self, name: str) -> Any:
        """A conf section loaded by its own module (SECTIONS), e.g. cfg.section("metrics")."""
        try:
            return self.sections[name]
        except KeyError:
            raise ConfigError(f"unknown configuration section {name!r}; known: {', '.join(self.sections)}") from None

    def interface(self, ifcode: str) -> InterfaceSpec:
        try:
            return self.interfaces[ifcode.upper()]
        except KeyError:
            raise ConfigError(f"unknown interface {ifcode!r}; known: {', '.join(self.interfaces)}") from None


_SHORT_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/(?!/)")


def _resolve_path(p: str, base: Path) -> str:
    """Relative local paths are taken from the project root; URIs (hdfs://, s3a://) stay as they are, and one in
    Hadoop's short form (file:/x, hdfs:/x) is written scheme:///x, the form the lake code tells URIs by."""
    p = _SHORT_URI.sub(r"\1:///", p)
    if "://" in p or os.path.isabs(p):
        return p
    return str((base / p).resolve())


def _load_env(conf_dir: Path, name: str, overrides: Mapping[str, str | None]) -> Env:
    base = _read(conf_dir / "env" / "local.yaml")
    where = "env/local.yaml"
    if name != "local":
        over = _read(conf_dir / "env" / f"{name}.yaml")
        base, where = _merge(base, over), f"env/{name}.yaml"
    d = _take(base, where, ("roots", "spark", "pii", "ingest"), ("jars_dir", "gold", "dq"))
    roots = _take(d["roots"], f"{where}:roots", ("landing_root", "lake_root", "backup_root"))
    spark = _take(d["spark"], f"{where}:spark", ("app_name",), ("master", "conf"))
    pii = _take(d["pii"], f"{where}:pii", (), ("salt",))
    ing = _take(d["ingest"], f"{where}:ingest", (), ("reject_threshold", "chk_wait_hours", "parallelism"))
    gold = _take(d.get("gold") or {}, f"{where}:gold", (), ("parallelism", "broadcast_months"))
    dq = _take(d.get("dq") or {}, f"{where}:dq", (), ("parallelism",))
    for k, v in overrides.items():
        if v:
            roots[k] = v
    salt = os.environ.get(SALT_ENV) or pii.get("salt")
    if not salt:
        raise ConfigError(f"{where}:pii.salt: required (set it in the profile or the environment variable {SALT_ENV})")
    root = conf_dir.parent
    threshold = float(ing.get("reject_threshold", 0.001))
    if not 0 <= threshold < 1:
        raise ConfigError(f"{where}:ingest.reject_threshold: must be in [0, 1), got {threshold}")
    return Env(
        name=name,
        landing_root=_resolve_path(str(roots["landing_root"]), root),
        lake_root=_resolve_path(str(roots["lake_root"]), root),
        backup_root=_resolve_path(str(roots["backup_root"]), root),
        jars_dir=_resolve_path(str(d.get("jars_dir", "jars")), root),
        master=spark.get("master"),
        app_name=str(spark["app_name"]),
        spark_conf={str(k): str(v) for k, v in (spark.get("conf") or {}).items()},
        pii_salt=str(salt),
        ingest=IngestSettings(threshold, int(ing.get("chk_wait_hours", 24)), max(1, int(ing.get("parallelism", 4)))),
        gold_parallelism=max(1, int(gold.get("parallelism", 4))),
        gold_broadcast_months=max(0, int(gold.get("broadcast_months", 4))),
        dq_parallelism=max(1, int(dq.get("parallelism", 4))),
    )


def _load_codes(conf_dir: Path) -> Codes:
    d = _take(_read(conf_dir / "codes.yaml"), "codes.yaml",
              ("cities", "special_cities", "lists", "electronic_channels", "special_members"))

    def city(c: Any, i: int, key: str) -> City:
        c = _take(c, f"codes.yaml:{key}[{i}]", ("city_code", "name_cn", "gb_code"), ("weight",))
        return City(str(c["city_code"]), str(c["name_cn"]), str(c["gb_code"]), float(c.get("weight", 0)))

    lists = {}
    for name, items in d["lists"].items():
        if not isinstance(items, Mapping):
            raise ConfigError(f"codes.yaml:lists.{name}: expected a mapping code -> 中文")
        lists[str(name)] = {str(k): str(v) for k, v in items.items()}
    return Codes(
        cities=tuple(city(c, i, "cities") for i, c in enumerate(d["cities"])),
        special_cities=tuple(city(c, i, "special_cities") for i, c in enumerate(d["special_cities"])),
        lists=lists,
        electronic_channels=tuple(str(x) for x in d["electronic_channels"]),
        special_members={str(k): str(v) for k, v in d["special_members"].items()},
    )


def _load_field(f: Any, where: str, codes: Codes) -> FieldSpec:
    f = _take(f, where, ("name", "type", "cn"), ("required", "codes", "check", "pii"))
    if f["type"] not in TYPES:
        raise ConfigError(f"{where}.type: {f['type']!r} is not one of {TYPES}")
    allowed, code_type = None, None
    if f["type"] == "C":
        spec = f.get("codes", f["name"])
        if isinstance(spec, str):
            if spec == "city_code":
                allowed, code_type = codes.city_codes, "city_code"
            elif spec in codes.lists:
                allowed, code_type = tuple(codes.lists[spec]), spec
            else:
                raise ConfigError(f"{where}.codes: no code list {spec!r} in codes.yaml")
        elif isinstance(spec, Mapping):
            allowed, code_type = tuple(str(k) for k in spec), str(f["name"])
        else:
            raise ConfigError(f"{where}.codes: expected a list name or a mapping code -> 中文")
    elif "codes" in f:
        raise ConfigError(f"{where}.codes: only C fields carry codes")
    if f.get("check") not in (None, "county"):
        raise ConfigError(f"{where}.check: unknown check {f['check']!r}")
    return FieldSpec(str(f["name"]), f["type"], bool(f.get("required", False)), str(f["cn"]),
                     allowed, code_type, f.get("check"), bool(f.get("pii", False)))


def _load_interfaces(conf_dir: Path, codes: Codes) -> dict[str, InterfaceSpec]:
    d = _take(_read(conf_dir / "sources.yaml"), "sources.yaml", ("interfaces",))
    out = {}
    for ifcode, spec in d["interfaces"].items():
        where = f"sources.yaml:interfaces.{ifcode}"
        s = _take(spec, where, ("name_cn", "freq", "source_system", "key", "encoding", "fields"), ("rules",))
        if s["freq"] not in ("D", "M"):
            raise ConfigError(f"{where}.freq: must be D or M")
        if s["encoding"] not in ("GBK", "UTF-8"):
            raise ConfigError(f"{where}.encoding: must be GBK or UTF-8")
        fields = tuple(_load_field(f, f"{where}.fields[{i}]", codes) for i, f in enumerate(s["fields"]))
        names = [f.name for f in fields]
        for k in s["key"]:
            if k not in names:
                raise ConfigError(f"{where}.key: {k!r} is not a field")
        rules = []
        for i, r in enumerate(s.get("rules") or []):
            r = _take(r, f"{where}.rules[{i}]", ("id", "expr"), ("desc",))
            rules.append(RuleSpec(str(r["id"]), str(r["expr"]), str(r.get("desc", ""))))
        out[str(ifcode)] = InterfaceSpec(str(ifcode), str(s["name_cn"]), s["freq"], str(s["source_system"]),
                                         tuple(s["key"]), s["encoding"], fields, tuple(rules))
    return out


LAYERS = ("bronze", "silver", "gold", "ops", "manual", "reference")
ONLINE_KEYS = ("landing_days", "bronze", "silver_daily", "silver_monthly", "gold", "ops_batch", "ops_run")


def _load_retention(conf_dir: Path) -> Retention:
    w = "retention.yaml"
    d = _take(_read(conf_dir / w), w, ("checkpoint_interval", "layers", "online_months", "backup", "high_value_yuan"))
    layers = {}
    for name in LAYERS:
        if name not in d["layers"]:
            raise ConfigError(f"{w}:layers.{name}: required key missing")
    for name, v in d["layers"].items():
        if name not in LAYERS:
            raise ConfigError(f"{w}:layers.{name}: unknown key")
        v = _take(v, f"{w}:layers.{name}", ("log_retention_days", "deleted_file_retention_days", "time_travel_days"),
                  ("stats_columns", "stats_on"))
        stats, on = v.get("stats_columns"), v.get("stats_on")
        if stats is not None and (type(stats) is not int or stats < 0):
            raise ConfigError(f"{w}:layers.{name}.stats_columns = {stats!r}: must be a whole number of columns, "
                              "0 or more")
        if on is not None and (not isinstance(on, list) or not on or not all(isinstance(x, str) and x for x in on)):
            raise ConfigError(f"{w}:layers.{name}.stats_on = {on!r}: must be a list of column name patterns")
        if on is not None and stats is not None:
            raise ConfigError(f"{w}:layers.{name}: stats_columns and stats_on exclude each other")
        layers[name] = LayerPolicy(int(v["log_retention_days"]), int(v["deleted_file_retention_days"]),
                                   int(v["time_travel_days"]), stats, tuple(on or ()))
    online = _take(d["online_months"], f"{w}:online_months", ONLINE_KEYS)
    backup = _take(d["backup"], f"{w}:backup", ("daily_keep", "monthly_keep"))
    return Retention(int(d["checkpoint_interval"]), layers, {k: int(v) for k, v in online.items()},
                     int(backup["daily_keep"]), int(backup["monthly_keep"]), float(d["high_value_yuan"]))


def load_config(conf_dir: str | Path | None = None, env: str = "local",
                overrides: Mapping[str, str | None] | None = None) -> Config:
    """Load and validate every conf file once; overrides replace roots (landing_root, lake_root, backup_root)."""
    conf_dir = Path(conf_dir) if conf_dir else DEFAULT_CONF_DIR
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k not in ("landing_root", "lake_root", "backup_root")]
    if unknown:
        raise ConfigError(f"override {unknown[0]!r}: unknown key")
    e = _load_env(conf_dir, env, overrides)
    codes = _load_codes(conf_dir)
    return Config(conf_dir=conf_dir, env=e, interfaces=_load_interfaces(conf_dir, codes), codes=codes,
                  retention=_load_retention(conf_dir), sections=_load_sections(conf_dir))


# Sections whose schema lives with the code that uses it: name -> "module:function(conf_dir) -> value".
# Each loader reads its own conf file strictly (take/read_yaml) and raises ConfigError naming file and key.
SECTIONS: dict[str, str] = {
    "metrics": "csqm.gold.catalog:load",
    "manual": "csqm.manual.spec:load",
    "quality": "csqm.quality.rules:load",
    "schedule": "csqm.schedule:load",
    "report": "csqm.report.config:load",
}


def _load_sections(conf_dir: Path) -> dict[str, Any]:
    import importlib

    out = {}
    for name, target in SECTIONS.items():
        module, func = target.split(":")
        out[name] = getattr(importlib.import_module(module), func)(conf_dir)
    return out
