"""conf/report.yaml: which KPIs the daily monitoring report shows and which threshold row each is held against."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from csqm.config import ConfigError, read_yaml, take

FILE = "report.yaml"


@dataclass(frozen=True)
class ReportConf:
    trend_days: int
    extra_kpis: tuple[str, ...]
    thresholds: Mapping[str, str]    # metric code -> dim_kpi_threshold.kpi_code


def load(conf_dir: Path) -> ReportConf:
    """Strict: unknown keys, unknown metrics and monthly metrics are errors naming the file and key."""
    from csqm.gold.catalog import load as load_catalog

    d = take(read_yaml(conf_dir / FILE), FILE, ("trend_days",), ("extra_kpis", "thresholds"))
    catalog = load_catalog(conf_dir)
    extra = tuple(str(c) for c in d.get("extra_kpis") or ())
    thresholds = {str(k): str(v) for k, v in (d.get("thresholds") or {}).items()}
    for where, code in [*(("extra_kpis", c) for c in extra), *(("thresholds", c) for c in thresholds)]:
        try:
            t, _ = catalog.metric(code)
        except ConfigError:
            raise ConfigError(f"{FILE}:{where}: unknown metric {code}") from None
        if t.period != "D":
            raise ConfigError(f"{FILE}:{where}: {code} is a monthly metric; the daily report shows daily metrics")
    days = int(d["trend_days"])
    if not 2 <= days <= 366:
        raise ConfigError(f"{FILE}:trend_days: must be between 2 and 366, got {days}")
    return ReportConf(days, extra, thresholds)
