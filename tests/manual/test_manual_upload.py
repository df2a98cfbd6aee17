"""Upload job (operations.md §1): good CSV / xlsx, every rejection kind leaves the table as it was, templates, audit."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from argparse import Namespace
from dataclasses import replace
from pathlib import Path

import pytest
from csqm import audit, io
from csqm.errors import JobFailed
from csqm.pipeline.manual import upload, write_template

SURVEY = "man_third_party_survey"
HEADER = ["month_id", "city_code", "touchpoint", "survey_org", "sample_cnt", "sat_cnt", "neutral_cnt", "dissat_cnt",
          "score_avg"]
GOOD = [["201301", "0531", "HOTLINE", "零点调查, 济南", "100", "80", "15", "5", "88.50"],
        ["201301", "0532", "HALL", "零点调查", "50", "40", "5", "5", ""]]


@pytest.fixture(scope="module")
def lake(spark, cfg, tmp_path_factory):
    """A lake whose man_third_party_survey holds GOOD (uploaded once) and a small dim_metric."""
    root = tmp_path_factory.mktemp("manual")
    c = replace(cfg, env=replace(cfg.env, lake_root=str(root / "lake")))
    io.ensure_table(spark, c, "dim_metric", __import__("pyspark.sql.types", fromlist=["StructType"]).StructType
                    .fromDDL(c.section("manual")["dim_metric"].ddl))
    spark.createDataFrame([("CMPL_FCR", "投诉一次性解决率", "gld_complaint_d", "RATIO", "1"),
                           ("CMPL_PER_10K", "万户投诉率", "gld_complaint_d", "RATIO", "10000")],
                          "metric_code STRING, name_cn STRING, gold_table STRING, kind STRING, scale STRING"
                          ).createOrReplaceTempView("m")
    io.append(spark.sql("SELECT *, 'x' unit, 'day_id' date_basis, 'seed' entered_by, current_timestamp() entered_at,"
                        " 'test' source_file FROM m"), c, "dim_metric")
    good = write_csv(root / "survey_good.csv", HEADER, GOOD, bom=True)
    r = upload(spark, c, audit.Run("upload", {}, None), SURVEY, good, "u001")
    assert r.status == "SUCCESS", r.errors
    return c, root


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def table_state(spark, cfg, table):
    """The table's latest version, from its _delta_log listing: any change to the table would add a version."""
    return io.latest_versions(spark, cfg, [table])[table]


def report(path: Path) -> list[list[str]]:
    with Path(f"{path}.errors.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


def test_good_csv_sets_audit_columns_and_typed_values(spark, lake):
    cfg, root = lake
    rows = {r.city_code: r for r in io.read(spark, cfg, SURVEY).collect()}
    assert set(rows) == {"0531", "0532"}
    r = rows["0531"]
    assert (r.survey_org, r.sample_cnt, r.score_avg, r.entered_by, r.source_file) == (
        "零点调查, 济南", 100, decimal.Decimal("88.50"), "u001", "survey_good.csv")
    assert rows["0532"].score_avg is None and r.entered_at is not None
    assert not Path(f"{root / 'survey_good.csv'}.errors.csv").exists()


BAD = [
    ("missing_column", [c for c in HEADER if c != "sat_cnt"], [r[:5] + r[6:] for r in GOOD],
     [["0", "sat_cnt", "", "MISSING_COLUMN", "required column 'sat_cnt' is missing from the header"]]),
    ("unknown_column", [*HEADER, "extra"], [[*r, "x"] for r in GOOD],
     [["0", "extra", "extra", "UNKNOWN_COLUMN", "man_third_party_survey has no column 'extra'"]]),
    ("bad_value", HEADER, [GOOD[0], ["201313", "0532", "HALL", "o", "5x", "4", "1", "0", "101.123"]],
     [["2", "month_id", "201313", "BAD_VALUE", "month_id: expected a month yyyymm"],
      ["2", "sample_cnt", "5x", "BAD_VALUE", "sample_cnt: expected an integer"],
      ["2", "score_avg", "101.123", "BAD_VALUE", "score_avg: more than 2 decimals"]]),
    ("bad_code", HEADER, [["201301", "9999", "HOTLINE", "o", "1", "1", "0", "0", ""],
                          ["201301", "0531", "hotline", "o", "1", "1", "0", "0", ""]],
     [["1", "city_code", "9999", "BAD_CODE", "city_code: '9999' is not a valid code"],
      ["2", "touchpoint", "hotline", "BAD_CODE", "touchpoint: 'hotline' is not a valid code"]]),
    ("null", HEADER, [["201301", "0531", "HOTLINE", "", "1", "1", "0", "0", ""]],
     [["1", "survey_org", "", "NULL_VIOLATION", "survey_org must not be empty"]]),
    ("dup_key", HEADER, [GOOD[0], GOOD[1], GOOD[0]],
     [["3", "month_id,city_code,touchpoint", "201301|0531|HOTLINE", "DUP_KEY", "same key as data row 1"]]),
    ("rule", HEADER, [GOOD[0], ["201301", "0533", "WEB", "o", "10", "5", "3", "1", "50"],
                      ["201301", "0534", "WEB", "o", "0", "0", "0", "0", ""]],
     [["2", "", "", "RULE", "SAMPLE_SUM: sat_cnt + neutral_cnt + dissat_cnt must equal sample_cnt"],
      ["3", "", "", "RULE", "SAMPLE_POSITIVE: sample_cnt must be > 0"]]),
    ("empty", HEADER, [], [["0", "", "", "EMPTY_FILE", "the file has no data rows"]]),
    ("delete_missing", [*HEADER, "op"], [[*GOOD[0], "D"], ["201302", "0531", "HOTLINE", "", "", "", "", "", "", "D"]],
     [["2", "month_id,city_code,touchpoint", "201302|0531|HOTLINE", "RULE", "D: no stored row has this key"]]),
]


@pytest.mark.parametrize(("name", "header", "rows", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_upload_is_rejected_whole(spark, lake, name, header, rows, expected):
    cfg, root = lake
    before = table_state(spark, cfg, SURVEY)
    path = write_csv(root / f"{name}.csv", header, rows)
    r = upload(spark, cfg, audit.Run("upload", {}, None), SURVEY, path, "u002")
    assert r.status == "REJECTED"
    assert report(path) == expected
    assert table_state(spark, cfg, SURVEY) == before


def test_xlsx_upload_typed_cells_default_and_delete(spark, lake):
    import openpyxl  # the xlsx extra, installed by `make setup`
    cfg, root = lake
    path = root / "targets.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["target_year", "city_code", "metric_code", "dim_value", "target_value", "direction", "op"])
    wb.active.append([2013, "0531", "CMPL_FCR", None, 0.85, "GE", None])
    wb.active.append([2013.0, "0000", "CMPL_PER_10K", "BB", 12.5, "LE", "U"])
    wb.save(path)
    r = upload(spark, cfg, audit.Run("upload", {}, None), "man_kpi_target", path, "u003")
    assert (r.status, r.upserted, r.deleted) == ("SUCCESS", 2, 0), r.errors
    got = sorted((x.target_year, x.city_code, x.metric_code, x.dim_value, x.target_value, x.direction, x.source_file)
                 for x in io.read(spark, cfg, "man_kpi_target").collect())
    assert got == [("2013", "0000", "CMPL_PER_10K", "BB", decimal.Decimal("12.500000"), "LE", "targets.xlsx"),
                   ("2013", "0531", "CMPL_FCR", "*", decimal.Decimal("0.850000"), "GE", "targets.xlsx")]
    # a ratio target of a scale-1 metric above 1, and a metric not in dim_metric; then a delete by key
    wb = openpyxl.Workbook()
    wb.active.append(["target_year", "city_code", "metric_code", "target_value", "direction"])
    wb.active.append(["2013", "0532", "CMPL_FCR", 1.5, "GE"])
    wb.save(bad := root / "targets_bad.xlsx")
    assert upload(spark, cfg, audit.Run("upload", {}, None), "man_kpi_target", bad, "u").status == "REJECTED"
    assert report(bad) == [["1", "", "", "RULE", "RATIO_0_1: ratio targets of a metric with scale 1 must be within "
                                                  "[0, 1]"]]
    wb = openpyxl.Workbook()
    wb.active.append(["target_year", "city_code", "metric_code", "dim_value", "op"])
    wb.active.append(["2013", "0531", "CMPL_FCR", "*", "D"])
    wb.active.append(["2013", "0531", "NO_SUCH", "*", "D"])
    wb.save(dele := root / "targets_del.xlsx")
    assert upload(spark, cfg, audit.Run("upload", {}, None), "man_kpi_target", dele, "u").status == "REJECTED"
    assert report(dele) == [["2", "metric_code", "NO_SUCH", "BAD_CODE", "metric_code: 'NO_SUCH' is not a valid code"]]
    wb.active.delete_rows(3)
    wb.save(dele)
    r = upload(spark, cfg, audit.Run("upload", {}, None), "man_kpi_target", dele, "u")
    assert (r.status, r.deleted) == ("SUCCESS", 1)
    assert [x.metric_code for x in io.read(spark, cfg, "man_kpi_target").collect()] == ["CMPL_PER_10K"]
    assert not Path(f"{dele}.errors.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_round_trip(spark, lake, fmt):
    cfg, root = lake
    path = write_template(cfg, "man_hotline_staffing", root / f"staffing.{fmt}", None)
    if fmt == "csv":
        assert path.read_bytes() == (b"\xef\xbb\xbfmonth_id,city_code,skill_group,seat_cnt,outsourced_seat_cnt,"
                                     b"agent_headcount\r\n")
        with path.open("a", encoding="utf-8", newline="") as f:
            csv.writer(f).writerow(["201301", "0000", "宽带", "120", "30", ""])
    else:
        import openpyxl

        wb = openpyxl.load_workbook(path)
        assert [c.value for c in wb.active[1]] == ["month_id", "city_code", "skill_group", "seat_cnt",
                                                   "outsourced_seat_cnt", "agent_headcount"]
        wb.active.append([201301, "0531", "宽带", 40, 50, 45])
        wb.save(path)
    r = upload(spark, cfg, audit.Run("upload", {}, None), "man_hotline_staffing", path, "u")
    if fmt == "csv":
        assert r.status == "SUCCESS"
    else:  # outsourced 50 > seats 40 breaks the table rule
        assert report(path) == [["1", "", "", "RULE", "OUTSOURCED_LE_SEATS: outsourced_seat_cnt must not exceed "
                                                      "seat_cnt"]]


def test_threshold_overlap_rule_against_the_seed(spark, lake):
    cfg, root = lake
    from csqm.manual.seed import seed_thresholds

    seed_thresholds(spark, cfg, None)
    header = ["kpi_code", "product_line", "order_type", "urgent_level", "urban_rural", "valid_from", "valid_to",
              "limit_hours", "target_rate"]
    rows = [["CALLBACK", "*", "*", "*", "*", "20130101", "", "24", ""],  # overlaps the open seed row from 20100101
            ["CALLBACK", "BB", "*", "*", "*", "20130101", "20121231", "24", ""],
            ["CALLBACK", "MOB", "*", "*", "X", "20130101", "", "24", "0.9"]]
    path = write_csv(root / "thr.csv", header, rows)
    before = table_state(spark, cfg, "dim_kpi_threshold")
    assert upload(spark, cfg, audit.Run("upload", {}, None), "dim_kpi_threshold", path, "u").status == "REJECTED"
    assert report(path) == [["3", "urban_rural", "X", "BAD_CODE", "urban_rural: 'X' is not a valid code"]]
    path = write_csv(root / "thr.csv", header, rows[:2])
    assert upload(spark, cfg, audit.Run("upload", {}, None), "dim_kpi_threshold", path, "u").status == "REJECTED"
    assert report(path) == [
        ["1", "valid_from", "", "RULE", "NO_OVERLAP: validity overlaps another row of the same kpi_code and key "
                                        "values (stored row valid from 2010-01-01)"],
        ["2", "", "", "RULE", "VALID_RANGE: valid_from must not be after valid_to"]]
    assert table_state(spark, cfg, "dim_kpi_threshold") == before


def _audit_rows(spark, cfg):
    return {r.run_id: r for r in io.read(spark, cfg, "ops_run_audit").collect()}


def test_audit_rows_success_rejected_failed(spark, lake, monkeypatch, capsys):
    import csqm.pipeline.jobs as jobs
    from csqm.commands.manage import job_upload

    cfg, root = lake
    monkeypatch.setattr(jobs, "_spark", lambda c: spark)
    good = write_csv(root / "bulletin.csv", ["month_id", "appeal_id", "appeal_org"], [["201301", "A1", "MIIT"]])
    bad = write_csv(root / "bulletin_bad.csv", ["month_id", "appeal_id", "appeal_org"], [["201301", "A1", "X"]])
    broken = root / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    ns = lambda f: Namespace(template=None, table="man_appeal_bulletin", user="u9", file=str(f), format=None)  # noqa: E731
    assert job_upload(cfg, ns(good)) == 0
    assert job_upload(cfg, ns(bad)) == 1
    with pytest.raises(JobFailed, match="broken.xlsx: not an .xlsx workbook"):
        job_upload(cfg, ns(broken))
    runs = sorted(_audit_rows(spark, cfg).values(), key=lambda r: r.start_ts)
    mine = [r for r in runs if r.job_name == "upload" and json.loads(r.params)["user"] == "u9"]
    assert [(r.status, r.rows_in, r.rows_out) for r in mine] == [("SUCCESS", 1, 1), ("REJECTED", 1, 0),
                                                                 ("FAILED", 0, 0)]
    assert mine[0].delta_versions["man_appeal_bulletin"] == io.latest_version(spark, cfg, "man_appeal_bulletin")
    seeded = set(mine[0].delta_versions) - {"man_appeal_bulletin"}   # the first upload seeds what is still empty
    assert seeded <= {"dim_kpi_threshold", "dim_city", "dim_code", "dim_metric"}
    assert not mine[1].delta_versions   # seeded once: a later upload commits nothing else
    assert "UploadFileError" not in mine[2].error_message and "not an .xlsx workbook" in mine[2].error_message
    assert isinstance(mine[0].end_ts, dt.datetime)
    assert "REJECTED: 1 error(s)" in capsys.readouterr().out
