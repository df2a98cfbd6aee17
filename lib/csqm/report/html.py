"""The daily monitoring report as one self-contained HTML page: inline CSS, charts as inline SVG, no scripts."""
from __future__ import annotations

import datetime as dt
from html import escape

from csqm.gold.catalog import Metric
from csqm.report.data import PROVINCE, Kpi, ReportData
from csqm.report.svg import HLine, Series, line_chart

CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;border-bottom:2px solid #1f5fa8;padding-bottom:3px;margin-top:28px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f3f7} td.l,th.l{text-align:left} .meta{color:#666;font-size:12px}
.OK{background:#dff3e0} .MISS{background:#fbdcdc;font-weight:bold} .NA{background:#fff} .NODATA{color:#aaa}
.badge{display:inline-block;padding:3px 10px;border-radius:10px;margin-right:8px;font-size:13px}
.good{background:#dff3e0} .bad{background:#fbdcdc} .warn{background:#fff1c9} .chart{margin:6px 0 18px}
.legend{font-size:12px;color:#555}
"""
COLORS = {"province": "#1f5fa8", "threshold": "#c0392b", "target": "#1e8449"}


def fmt(m: Metric, v: float | None) -> str:
    """Rates with scale 1 as %, other ratios with 2 decimals, counts as integers."""
    if v is None:
        return "–"
    if m.kind == "RATIO" and m.scale_mult == 1 and m.scale_div == 1:
        return f"{v * 100:.2f}%"
    return f"{v:,.2f}" if m.kind == "RATIO" else f"{int(v):,}"


def _goal_text(k: Kpi) -> str:
    bits = []
    if k.targets:
        prov = k.targets.get(PROVINCE)
        bits.append(f"target {fmt(k.metric, prov[0])} ({prov[1]})" if prov else "target per city")
    if k.threshold is not None:
        bits.append(f"threshold ≥ {fmt(k.metric, k.threshold)}")
    return "; ".join(bits) or "no target"


def kpi_table(d: ReportData) -> str:
    head = "".join(f"<th>{escape(k.metric.code)}<br>{escape(k.metric.name_cn)}<br>"
                   f"<span class=meta>{escape(_goal_text(k))}</span></th>" for k in d.kpis)
    rows = []
    for code, name in d.cities:
        cells = "".join(f'<td class="{k.status(code, d.day)}" title="{k.status(code, d.day)}">'
                        f"{fmt(k.metric, k.values.get((code, d.day)))}</td>" for k in d.kpis)
        rows.append(f'<tr><td class=l>{code} {escape(name)}</td>{cells}</tr>')
    return f"<table><tr><th class=l>city 地市</th>{head}</tr>{''.join(rows)}</table>"


def kpi_chart(d: ReportData, k: Kpi) -> str:
    labels = [f"{x[4:6]}-{x[6:]}" for x in d.days]
    series = [Series(f"{c} {n}", [k.values.get((c, x)) for x in d.days]) for c, n in d.cities if c != PROVINCE]
    series.append(Series("0000 全省", [k.values.get((PROVINCE, x)) for x in d.days], COLORS["province"], 2.5))
    lines = [HLine("threshold", k.threshold, COLORS["threshold"])] if k.threshold is not None else []
    if PROVINCE in k.targets:
        lines.append(HLine("target", k.targets[PROVINCE][0], COLORS["target"]))
    svg = line_chart(labels, series, lines, lambda v: fmt(k.metric, v), f"{k.metric.code} trend")
    return (f'<div class=chart><h3>{escape(k.metric.code)} {escape(k.metric.name_cn)} — {escape(k.metric.name_en)}'
            f' <span class=meta>({escape(k.table)})</span></h3>{svg}</div>')


def _rows(rows: list[dict], cols: list[str], cls: str | None = None) -> str:
    head = "".join(f"<th class=l>{escape(c)}</th>" for c in cols)
    body = "".join("<tr" + (f' class="{r.get(cls)}"' if cls else "") + ">"
                   + "".join(f"<td class=l>{escape('' if r.get(c) is None else str(r.get(c)))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def dq_section(d: ReportData) -> str:
    if d.dq_run is None:
        return f"<p>No data-quality run recorded for {d.day} (ops_run_audit job dq).</p>"
    failed = [r for r in d.dq if not r["passed"]]
    for r in d.dq:
        r["_cls"] = "OK" if r["passed"] else "MISS" if r["severity"] == "ERROR" else "NA"
    summary = (f"<p>dq run {escape(d.dq_run['run_id'])}: <b>{escape(d.dq_run['status'])}</b>, {len(d.dq)} checks, "
               f"{len(failed)} failed ({sum(r['severity'] == 'ERROR' for r in failed)} ERROR).</p>")
    return summary + _rows(d.dq, ["rule_id", "severity", "table_name", "partition", "passed", "observed", "expected",
                                  "detail"], "_cls")


def batch_section(d: ReportData) -> str:
    for r in d.batches:
        r["_cls"] = "OK" if r["status"] == "LOADED" else "MISS" if r["status"] == "REJECTED" else "NA"
    missing = (f"<p class=MISS>Daily interfaces with no batch for {d.day}: {escape(', '.join(d.missing_batches))}</p>"
               if d.missing_batches else f"<p>Every daily interface has a batch for {d.day}.</p>")
    table = _rows(d.batches, ["ifcode", "data_date", "_batch_id", "status", "reason_code", "rows_total", "rows_loaded",
                              "rows_quarantined", "rows_dup", "_load_ts"], "_cls") if d.batches else ""
    runs = ("<h3>Job runs for the day (ops_run_audit)</h3>"
            + _rows(d.runs, ["job_name", "status", "start_ts", "end_ts", "rows_in", "rows_out", "error_message"])
            if d.runs else "")
    return missing + table + runs


def badges(d: ReportData) -> str:
    cells = [k.status(c, d.day) for k in d.kpis for c, _ in d.cities]
    miss, ok = cells.count("MISS"), cells.count("OK")
    dq = "no DQ run" if d.dq_run is None else f"DQ {d.dq_run['status']}"
    dq_cls = "warn" if d.dq_run is None else "good" if d.dq_run["status"] == "SUCCESS" else "bad"
    loaded = sum(r["status"] == "LOADED" for r in d.batches)
    b_cls = "bad" if d.missing_batches or any(r["status"] == "REJECTED" for r in d.batches) else "good"
    return (f'<p><span class="badge {"bad" if miss else "good"}">KPI cells: {ok} on goal, {miss} below</span>'
            f'<span class="badge {dq_cls}">{escape(dq)}</span>'
            f'<span class="badge {b_cls}">batches: {loaded} loaded, {len(d.missing_batches)} daily missing</span></p>')


def render(d: ReportData, lake: str) -> str:
    day = f"{d.day[:4]}-{d.day[4:6]}-{d.day[6:]}"
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    charts = "".join(kpi_chart(d, k) for k in d.kpis)
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>csqm daily report {d.day}</title>'
            f"<style>{CSS}</style></head><body>"
            f"<h1>客服质量日报 · Daily monitoring report {day}</h1>"
            f'<p class=meta>lake {escape(lake)} · trend window {d.days[0]}–{d.days[-1]} · generated {now}</p>'
            f"{badges(d)}"
            f"<h2>Key KPIs by city on {day} (关键指标)</h2>"
            f"<p class=legend>Green: on goal; red: below goal (target from man_kpi_target, else the dim_kpi_threshold "
            f"rate); white: no goal; grey: no data. 全省 = Σnum / Σden over the cities.</p>{kpi_table(d)}"
            f"<h2>{len(d.days)}-day trends (趋势)</h2>"
            f'<p class=legend><span style="color:{COLORS["province"]}">━ 全省 province</span> · '
            f'<span style="color:#b8c0cc">━ cities</span> · <span style="color:{COLORS["threshold"]}">'
            f'┅ threshold</span> · <span style="color:{COLORS["target"]}">┅ target</span></p>{charts}'
            f"<h2>Data quality (数据质量) for {day}</h2>{dq_section(d)}"
            f"<h2>Batches (批次) for {day}</h2>{batch_section(d)}"
            "</body></html>")
