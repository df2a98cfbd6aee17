"""The report's inline charts: the y axis of non-negative data starts at 0; close goal lines keep readable labels."""
from __future__ import annotations

import re

from csqm.report.svg import HLine, Series, line_chart


def _texts(svg: str) -> list[tuple[float, str]]:
    return [(float(y), t) for y, t in re.findall(r'<text x="[^"]+" y="([^"]+)"[^>]*>([^<]*)</text>', svg)]


def test_non_negative_data_never_gets_a_negative_tick():
    svg = line_chart(["01", "02", "03"], [Series("p", [0.0, 50.0, 100.0])])
    ticks = [float(t) for _, t in _texts(svg) if re.fullmatch(r"-?[0-9.]+", t)]
    assert min(ticks) == 0.0 and max(ticks) > 100.0


def test_negative_data_keeps_its_padding():
    svg = line_chart(["01", "02"], [Series("p", [-10.0, 10.0])])
    ticks = [float(t) for _, t in _texts(svg) if re.fullmatch(r"-?[0-9.]+", t)]
    assert min(ticks) < -10.0


def test_goal_line_labels_do_not_overlap():
    svg = line_chart(["01", "02"], [Series("p", [0.0, 100.0])],
                     [HLine("target", 80.0, "#080"), HLine("threshold", 80.5, "#c00")])
    ys = {t.split()[0]: y for y, t in _texts(svg) if t.startswith(("target", "threshold"))}
    assert abs(ys["target"] - ys["threshold"]) >= 12
