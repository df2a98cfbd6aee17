"""conf/quality.yaml: the DQ rules as data (section "quality"), loaded strictly."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csqm.config import ConfigError, read_yaml, take
from csqm.quality.result import SEVERITIES

FILE = "quality.yaml"
CHECKS = ("key_unique", "grain", "codes", "reconcile", "batch_late", "empty_batch", "row_change", "end_before_start",
          "enrichment_miss", "quarantine")
PARAMS = {"codes": ("rename", "tables"), "batch_late": ("daily", "monthly", "monthly_at"),
          "row_change": ("table", "max_change"), "end_before_start": ("pairs",),
          "enrichment_miss": ("max_share", "tables")}


@dataclass(frozen=True)
class Rule:
    """One DQ rule: id, check kind, severity, the layers it reads, kind-specific params."""

    id: str
    check: str
    severity: str
    desc: str
    layers: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


def load(conf_dir: Path) -> dict[str, Rule]:
    """Section "quality": rule id -> Rule, in file order."""
    d = take(read_yaml(Path(conf_dir) / FILE), FILE, ("rules",))
    out = {}
    for rid, r in d["rules"].items():
        where = f"{FILE}:rules.{rid}"
        r = take(r, where, ("check", "severity", "desc"), ("layers", "params"))
        if r["check"] not in CHECKS:
            raise ConfigError(f"{where}.check: {r['check']!r} is not one of {CHECKS}")
        if r["severity"] not in SEVERITIES:
            raise ConfigError(f"{where}.severity: {r['severity']!r} is not one of {SEVERITIES}")
        allowed = PARAMS.get(r["check"], ())
        params = take(r.get("params") or {}, f"{where}.params", allowed if r.get("params") else (), allowed)
        out[str(rid)] = Rule(str(rid), r["check"], r["severity"], str(r["desc"]), tuple(r.get("layers") or ()),
                             params)
    return out
