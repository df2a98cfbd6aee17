"""The metric catalog as a document business staff can read (`csqm metrics`): every caliber in Chinese and English,
its formula, date basis, unit and scale, table by table."""
from __future__ import annotations

import html

from csqm.gold.catalog import Catalog, GoldTable, Metric

HEAD = ("code", "中文", "English", "kind", "formula (口径)", "date basis", "unit", "scale")
PERIOD = {"D": "daily 日, partition day_id", "M": "monthly 月, partition month_id"}


def _basis(m: Metric) -> str:
    if m.backlog is not None:
        return f"end of period: {m.backlog.start} < B, not left ({m.backlog.leave}) before B"
    if m.date is None:
        return "row"
    return f"{m.date}, month to date" if m.mtd else m.date


def _scale(m: Metric) -> str:
    if m.kind != "RATIO":
        return ""
    return f"÷{m.scale_div:g}" if m.scale_div != 1 else f"×{m.scale_mult:g}"


def _cells(m: Metric) -> tuple[str, ...]:
    return (m.code, m.name_cn, m.name_en, m.kind, m.formula, _basis(m), m.unit, _scale(m))


def _intro(t: GoldTable) -> list[str]:
    return [f"{t.name_cn} — {PERIOD[t.period]}", f"grain: {', '.join(t.grain)}", f"sources: {', '.join(t.sources)}"]


def _md(catalog: Catalog) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    out = ["# csqm metric catalog (指标口径)", "",
           "Ratios are stored as `<code>_num`, `<code>_den` and `<code>_rate` = num / den × scale (NULL when den = 0);"
           " counts and sums as `lower(code)`. Province and month values of a ratio are Σnum / Σden.", ""]
    for t in catalog.tables.values():
        out += [f"## {t.name}", "", *(f"- {x}" for x in _intro(t)), "", "| " + " | ".join(HEAD) + " |",
                "|" + "---|" * len(HEAD)]
        out += ["| " + " | ".join(esc(c) for c in _cells(m)) + " |" for m in t.metrics]
        out.append("")
    return "\n".join(out)


def _html(catalog: Catalog) -> str:
    e = html.escape
    out = ['<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>csqm metric catalog</title>',
           "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
           "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}th{background:#eee}</style></head><body>",
           "<h1>csqm metric catalog (指标口径)</h1>"]
    for t in catalog.tables.values():
        out.append(f'<h2 id="{e(t.name)}">{e(t.name)}</h2><ul>' + "".join(f"<li>{e(x)}</li>" for x in _intro(t))
                   + "</ul><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in HEAD) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in _cells(m)) + "</tr>" for m in t.metrics]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def render(catalog: Catalog, fmt: str = "md") -> str:
    """Markdown or HTML of the whole catalog."""
    if fmt not in ("md", "html"):
        raise ValueError(f"format {fmt!r}: md or html")
    return _md(catalog) if fmt == "md" else _html(catalog)
