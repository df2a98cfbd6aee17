"""The daily monitoring report on the shared pipeline lake (a copy of lake B, see ops_lakes, with A's batch log, a
recorded DQ run and targets added): KPI cells against values aggregated independently from gold, goals, trends, DQ
and batches; and a headless Chromium screenshot proving it renders."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from csqm import audit, cli, io
from ops_lakes import gold_lake
from pyspark.sql import functions as F

DAY = "20130103"
TARGET_DDL = ("target_year STRING, city_code STRING, metric_code STRING, dim_value STRING, target_value DECIMAL(18,6), "
              "direction STRING, remark STRING, entered_by STRING, entered_at TIMESTAMP, source_file STRING")
DQ_DDL = ("run_id STRING, rule_id STRING, table_name STRING, partition STRING, severity STRING, passed BOOLEAN, "
          "observed STRING, expected STRING, detail STRING, run_day STRING")


class Tables(HTMLParser):
    """Every <table> of a page as rows of (cell text, cell class); plus the <svg> elements' text."""

    def __init__(self):
        super().__init__()
        self.tables, self.svgs, self._cell, self._in_svg = [], [], None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ["", a.get("class")]
        elif tag == "br" and self._cell is not None:
            self._cell[0] += "\n"
        elif tag == "svg":
            self.svgs.append([])
        elif tag == "path" and self.svgs:
            self.svgs[-1].append((a.get("stroke"), a.get("d")))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(tuple(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


@pytest.fixture(scope="module")
def report(lakes, spark, tmp_path_factory):
    """Lake B copied, with lake A's ops_batch_log, a dq run of DAY (one passed ERROR check, one failed WARN) and
    man_kpi_target rows; the report written by the CLI."""
    root = tmp_path_factory.mktemp("report")
    b = gold_lake(spark, lakes)
    shutil.copytree(b.env.lake_root, root / "lake")
    if not (root / "lake" / "ops" / "ops_batch_log").exists():
        shutil.copytree(Path(lakes["a"].env.lake_root) / "ops" / "ops_batch_log",
                        root / "lake" / "ops" / "ops_batch_log")
    cfg = replace(b, env=replace(b.env, lake_root=str(root / "lake")))
    run = audit.start(spark, cfg, "dq", {"date": DAY}, DAY)
    io.ensure_table(spark, cfg, "ops_dq_result", spark.createDataFrame([], DQ_DDL).schema, ["run_day"])
    io.append(spark.createDataFrame([
        (run.run_id, "DQ02", "gld_complaint_d", f"day_id={DAY}", "ERROR", True, "0", "0", "", "20260101"),
        (run.run_id, "DQ09", "slv_complaint_event_d", f"day_id={DAY}", "WARN", False, "7.5%", "<= 5%", "misses",
         "20260101")], DQ_DDL), cfg, "ops_dq_result")
    audit.finish(spark, cfg, run, "SUCCESS")
    io.ensure_table(spark, cfg, "man_kpi_target", spark.createDataFrame([], TARGET_DDL).schema)
    io.append(spark.createDataFrame([("2013", "0000", "ORD_TIMELY", "*", 0.5, "GE"),
                                     ("2013", "0531", "CMPL_PER_10K", "*", 0.0, "LE")],
                                    "target_year STRING, city_code STRING, metric_code STRING, dim_value STRING, "
                                    "target_value DOUBLE, direction STRING")
              .select(*[F.col(c).cast(t) for c, t in [("target_year", "string"), ("city_code", "string"),
                                                       ("metric_code", "string"), ("dim_value", "string"),
                                                       ("target_value", "decimal(18,6)"), ("direction", "string")]],
                      *[F.lit(None).cast(t).alias(c) for c, t in [("remark", "string"), ("entered_by", "string"),
                                                                   ("entered_at", "timestamp"),
                                                                   ("source_file", "string")]]),
              cfg, "man_kpi_target")
    out = root / "report.html"
    rc = cli.main(["report", "--date", DAY, "--out", str(out), "--lake-root", cfg.env.lake_root])
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    page = Tables()
    page.feed(text)
    return {"cfg": cfg, "out": out, "text": text, "page": page}


def _expected(spark, cfg, table, code, city):
    """Σnum / Σden of DAY read straight from the gold table (a city, or None for the province)."""
    df = io.read(spark, cfg, table, f"day_id = '{DAY}'")
    if city:
        df = df.where(F.col("city_code") == city)
    r = df.agg(F.sum(f"{code}_num").alias("n"), F.sum(f"{code}_den").alias("d")).first()
    return None if not r.d else float(r.n) / float(r.d)


def _pct(v):
    return "–" if v is None else f"{v * 100:.2f}%"


def test_self_contained(report):
    text = report["text"]
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text.lower()
    assert " src=" not in text and " href=" not in text and "@import" not in text
    assert "客服质量日报 · Daily monitoring report 2013-01-03" in text
    assert "trend window 20121205–20130103" in text


def _kpis(cfg) -> list[str]:
    """The catalog's daily headline metrics, then conf/report.yaml's extra ones (duplicates once)."""
    cat = cfg.section("metrics")
    head = [c for c in cat.headline if cat.metric(c)[0].period == "D"]
    return list(dict.fromkeys(head + list(cfg.section("report").extra_kpis)))


def test_kpi_cells_against_gold_and_goals(report, spark):
    cfg, kpi = report["cfg"], report["page"].tables[0]
    head = {c[0].split("\n")[0]: (i, c[0]) for i, c in enumerate(kpi[0]) if i}
    assert list(head) == _kpis(cfg) and {"ORD_TIMELY", "FLT_TIMELY", "HL_SL20", "CMPL_PER_10K"} <= set(head)
    assert head["ORD_TIMELY"][1].endswith("target 50.00% (GE); threshold ≥ 98.00%")   # target wins; threshold shown
    assert head["FLT_TIMELY"][1].endswith("threshold ≥ 95.00%") and head["HL_SL20"][1].endswith("threshold ≥ 80.00%")
    assert head["CMPL_PER_10K"][1].endswith("target per city")
    rows = {r[0][0].split()[0]: r for r in kpi[1:]}
    assert list(rows) == [c.city_code for c in cfg.codes.cities] + ["0000"]
    checked = 0
    for code, table, goal in [("ORD_TIMELY", "gld_install_move_d", 0.5), ("FLT_TIMELY", "gld_fault_d", 0.95),
                              ("HL_SL20", "gld_hotline_10000_d", 0.80)]:
        for city in ("0531", "0532", "0000"):
            v = _expected(spark, cfg, table, code.lower(), None if city == "0000" else city)
            text, cls = rows[city][head[code][0]]
            assert text == _pct(v), (code, city)
            assert cls == ("NODATA" if v is None else "OK" if v >= goal else "MISS"), (code, city)
            checked += v is not None
    assert checked >= 6
    cmpl = rows["0531"][head["CMPL_PER_10K"][0]]
    assert cmpl[1] == ("NODATA" if cmpl[0] == "–" else "OK" if float(cmpl[0].replace(",", "")) <= 0 else "MISS")
    assert rows["0532"][head["CMPL_PER_10K"][0]][1] in ("NA", "NODATA")      # only 0531 has a target


def test_trend_charts(report, spark):
    cfg, svgs = report["cfg"], report["page"].svgs
    codes = _kpis(cfg)
    assert len(svgs) == len(codes)
    days = (io.read(spark, cfg, "gld_install_move_d", "day_id BETWEEN '20121205' AND '20130103'")
            .groupBy("day_id").agg(F.sum("ord_timely_den").alias("d")).where("d > 0").count())
    chart = svgs[codes.index("ORD_TIMELY")]
    province = [d for s, d in chart if s == "#1f5fa8"]
    assert len(province) == 1 and days >= 2
    assert province[0].count("M") + province[0].count("L") == days
    cities = (io.read(spark, cfg, "gld_install_move_d", "day_id BETWEEN '20121205' AND '20130103'")
              .groupBy("city_code", "day_id").agg(F.sum("ord_timely_den").alias("d")).where("d > 0")
              .select("city_code").distinct().count())
    assert len([s for s, _ in chart if s == "#b8c0cc"]) == cities >= 1    # one line per city with a value


def test_dq_and_batches(report, spark):
    text, tables = report["text"], report["page"].tables
    assert "2 checks, 1 failed (0 ERROR)" in text
    dq = tables[1]
    assert [c[0] for c in dq[0]][:5] == ["rule_id", "severity", "table_name", "partition", "passed"]
    assert [(r[0][0], r[1][0], r[4][0]) for r in dq[1:]] == [("DQ09", "WARN", "False"), ("DQ02", "ERROR", "True")]
    log = io.read(spark, report["cfg"], "ops_batch_log", f"data_date IN ('{DAY}', '{DAY[:6]}')")
    batches = {(r[0][0], r[2][0], r[3][0]) for r in tables[2][1:]}
    assert batches == {(r.ifcode, r._batch_id, r.status) for r in log.collect()}
    daily = {c for c, s in report["cfg"].interfaces.items() if s.freq == "D"}
    if daily <= {r.ifcode for r in log.where(f"data_date = {DAY!r}").collect()}:
        assert f"Every daily interface has a batch for {DAY}." in text


@pytest.mark.integration   # needs Debian's chromium: `make test-integration`
def test_chromium_renders_it(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is not installed (apt-get install chromium)"
    png = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--disable-dev-shm-usage", f"--screenshot={png}", "--window-size=1280,2400",
                    report["out"].as_uri()], check=True, capture_output=True, timeout=120)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1280, 2400)
    import matplotlib.image as mpimg

    img = mpimg.imread(str(png))
    colors = {tuple(p) for p in (img[::8, ::8, :3] * 255).astype(int).reshape(-1, 3).tolist()}
    assert len(colors) > 20                                          # text, table colours and charts, not a blank page
