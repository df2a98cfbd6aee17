"""Line charts as inline SVG text (no plotting library, no script, no network): the report stays one file."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

W, H = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 120, 16, 36


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str = "#b8c0cc"
    width: float = 1.0


@dataclass(frozen=True)
class HLine:
    name: str
    value: float
    color: str


def _path(xs: Sequence[float], ys: Sequence[float | None]) -> str:
    """SVG path data; a missing value breaks the line."""
    out, pen = [], "M"
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            pen = "M"
            continue
        out.append(f"{pen}{x:.1f},{y:.1f}")
        pen = "L"
    return " ".join(out)


def line_chart(labels: Sequence[str], series: Sequence[Series], hlines: Sequence[HLine] = (),
               fmt: Callable[[float], str] = lambda v: f"{v:g}", title: str = "") -> str:
    """An <svg> with one polyline per series (the last drawn on top), dashed goal lines, axes and 4 y ticks."""
    vals = [v for s in series for v in s.values if v is not None] + [h.value for h in hlines]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'aria-label="{escape(title)}">')
    if not vals:
        return head + f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" fill="#888">no data</text></svg>'
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    lo, hi = (lo - pad if lo < 0 or lo - pad >= 0 else 0.0), hi + pad   # counts and rates never dip below 0
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(labels) - 1, 1)
    xs = [LEFT + pw * i / n for i in range(len(labels))]

    def y(v: float) -> float:
        return TOP + ph * (hi - v) / (hi - lo)

    parts = [head, f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fff" stroke="#ddd"/>']
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
                     f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">'
                     f'{escape(fmt(v))}</text>')
    step = max(1, len(labels) // 6)
    for i in sorted({*range(0, len(labels) - step // 2, step), len(labels) - 1}):
        parts.append(f'<text x="{xs[i]:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle" font-size="11">'
                     f'{escape(labels[i])}</text>')
    for s in series:
        d = _path(xs, [None if v is None else y(v) for v in s.values])
        if d:
            parts.append(f'<path d="{d}" fill="none" stroke="{s.color}" stroke-width="{s.width}">'
                         f'<title>{escape(s.name)}</title></path>')
            if sum(v is not None for v in s.values) == 1:   # a single point: a dot, since a path of one point is empty
                i = next(i for i, v in enumerate(s.values) if v is not None)
                parts.append(f'<circle cx="{xs[i]:.1f}" cy="{y(s.values[i]):.1f}" r="{s.width + 1.5}" '
                             f'fill="{s.color}"/>')
    taken: list[float] = []   # label baselines already used: a goal line close to another gets its label moved down
    for h in sorted(hlines, key=lambda h: -h.value):
        ty = y(h.value) + 4
        while any(abs(ty - t) < 12 for t in taken):
            ty += 12
        taken.append(ty)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(h.value):.1f}" y2="{y(h.value):.1f}" '
                     f'stroke="{h.color}" stroke-dasharray="6 4" stroke-width="1.5"/>'
                     f'<text x="{LEFT + pw + 6}" y="{ty:.1f}" font-size="11" fill="{h.color}">'
                     f'{escape(h.name)} {escape(fmt(h.value))}</text>')
    return "".join(parts) + "</svg>"
