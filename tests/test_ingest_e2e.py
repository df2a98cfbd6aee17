"""End to end: generated landing files -> bronze, with row accounting, reruns, redelivery and every bad-input kind."""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from csqm import audit, io
from csqm.generate import generate_landing
from csqm.generate.bad import make_bad_batch
from csqm.pipeline.ingest import ingest
from pyspark.sql import functions as F


def run_ingest(spark, cfg, date):
    run = audit.start(spark, cfg, "ingest", {"date": date}, date)
    s = ingest(spark, cfg, run, date=date, log=lambda _: None)
    audit.finish(spark, cfg, run, "SUCCESS")
    return s


def log_rows(spark, cfg):
    return {(r.ifcode, r.data_date, r.status): r for r in io.read(spark, cfg, "ops_batch_log").collect()}


@pytest.fixture(scope="module")
def generated(spark, cfg, tmp_path_factory):
    """Two generated days (plus the monthly snapshots) ingested once."""
    root = tmp_path_factory.mktemp("gen")
    c = replace(cfg, env=replace(cfg.env, landing_root=str(root / "landing"), lake_root=str(root / "lake")))
    summary = generate_landing(c, c.env.landing_root, "20130101", 2, 300, seed=3)
    first = run_ingest(spark, c, "20130102")
    return c, summary, first


def test_every_generated_row_is_accounted_for(spark, generated):
    cfg, summary, first = generated
    loaded = first.by_status("LOADED")
    assert {r.ifcode for r in loaded} == set(cfg.interfaces)
    assert not first.by_status("REJECTED")
    log = io.read(spark, cfg, "ops_batch_log").where("status = 'LOADED'").collect()
    for r in log:
        chk_total = sum(int(f.split("|")[2]) for f in r.files)
        assert min(r.rows_loaded, r.rows_quarantined, r.rows_dup) >= 0, r._batch_id
        assert r.rows_loaded + r.rows_quarantined + r.rows_dup == r.rows_total == chk_total, r._batch_id
        part = cfg.interface(r.ifcode).partition_col
        n = io.read(spark, cfg, f"brz_{r.ifcode.lower()}", f"{part} = '{r.data_date}'").count()
        assert n == r.rows_loaded, r._batch_id
    assert sum(r.rows_total for r in log) == summary.rows
    assert sum(r.rows_quarantined for r in log) == 0  # the generator's normal output is clean


def test_bronze_rows_carry_audit_columns_and_raw_pii(spark, generated):
    cfg, _, _ = generated
    df = io.read(spark, cfg, "brz_cc_call", "day_id = '20130101'")
    row = df.where("caller_no IS NOT NULL").select("caller_no", "_batch_id", "_file_name", "_file_seq",
                                                   "_line_no", "_run_id", "_load_ts").first()
    assert row.caller_no.isdigit()  # raw PII lives in bronze (README §9)
    assert row._batch_id.startswith("CC_CALL_20130101_") and row._file_name.endswith(".dat")
    assert row._line_no >= 1 and row._run_id and row._load_ts is not None


def test_rerun_changes_nothing(spark, generated):
    cfg, _, _ = generated
    tables = [f"brz_{c.lower()}" for c in cfg.interfaces] + ["ops_batch_log", "ops_quarantine"]
    before = {t: io.latest_version(spark, cfg, t) for t in tables}
    again = run_ingest(spark, cfg, "20130102")
    assert again.results == []
    assert {t: io.latest_version(spark, cfg, t) for t in tables} == before


def test_commits_are_tagged_with_run_and_job(spark, generated):
    cfg, _, _ = generated
    from delta.tables import DeltaTable

    meta = DeltaTable.forPath(spark, io.table_path(cfg, "brz_flt_ticket")).history(1).first().userMetadata
    assert '"job": "ingest"' in meta and '"run_id"' in meta


BATCH_CASES = [
    ("CHK_MALFORMED", "field_count"), ("CHK_MALFORMED", "cr"), ("CHK_MALFORMED", "blank_line"),
    ("CHK_MALFORMED", "non_ascii"), ("CHK_MALFORMED", "non_numeric_size"), ("CHK_MALFORMED", "bad_gen_time"),
    ("CHK_MALFORMED", "empty"), ("NAME_MISMATCH", "wrong_name"), ("NAME_MISMATCH", "wrong_date"),
    ("NAME_MISMATCH", "listed_twice"), ("FILE_MISSING", None), ("SIZE_MISMATCH", None), ("COUNT_MISMATCH", None),
    ("REJECT_RATE", None), ("WAITING", None),
]
ROW_CASES = [
    ("BAD_ENCODING", "lone_80", "FLT_TICKET"), ("BAD_ENCODING", "ff", "CS_SHEET"),
    ("BAD_ENCODING", "lead_at_end", "SP_ORDER"), ("BAD_ENCODING", "invalid_byte", "EC_LOG"),
    ("FIELD_COUNT", "missing", "CC_CALL"), ("FIELD_COUNT", "extra", "HALL_QUEUE"),
    ("NULL_VIOLATION", None, "OB_TASK"), ("BAD_VALUE", "T", "BILL_ADJ"), ("BAD_VALUE", "N", "SP_STEP"),
    ("BAD_CODE", "wrong_case", "PTS_EXCH"), ("BAD_CODE", "county", "FLT_TICKET"),
    ("BAD_CODE", "special_city", "CC_CALL"), ("RULE", "R1", "BILL_ADJ"), ("RULE", "R2", "CC_CALL"),
]
STAGED = ["SKIPPED", "STALE_CHK", "REDELIVERY"]


@pytest.fixture(scope="module")
def bad_lake(spark, cfg, tmp_path_factory):
    """Every bad kind written to its own folder, all ingested by one run, then the staged second deliveries."""
    root = tmp_path_factory.mktemp("bad")
    env = replace(cfg.env, landing_root=str(root / "landing"), lake_root=str(root / "lake"),
                  ingest=replace(cfg.env.ingest, reject_threshold=0.2, chk_wait_hours=0))
    c = replace(cfg, env=env)
    days = iter((dt.date(2013, 2, 1) + dt.timedelta(days=i)).strftime("%Y%m%d") for i in range(60))
    cases = [make_bad_batch(c, env.landing_root, kind, "FLT_TICKET", next(days), variant=variant, total=12,
                            bad_rows=5, threshold=0.2) for kind, variant in BATCH_CASES]
    cases += [make_bad_batch(c, env.landing_root, kind, ifcode, next(days), variant=variant, total=30, line_no=4,
                             threshold=0.2) for kind, variant, ifcode in ROW_CASES]
    staged = [make_bad_batch(c, env.landing_root, k, "CS_SHEET", f"2013041{i}", total=10)
              for i, k in enumerate(STAGED, 1)]
    run_ingest(spark, c, "20130430")
    first = log_rows(spark, c)
    second = [(case, case.advance()) for case in staged]
    again = run_ingest(spark, c, "20130430")
    return c, cases, staged, first, second, again


def test_each_bad_kind_gets_its_outcome_and_reason(spark, bad_lake):
    cfg, cases, _, first, _, _ = bad_lake
    for case in cases:
        e = case.expect
        row = first.get((case.ifcode, case.data_date, e.status))
        assert row is not None, f"{case.kind}/{case.variant}: no {e.status} row"
        assert (row.reason_code, row._batch_id) == (e.reason, e.batch_id), f"{case.kind}/{case.variant}"
        if e.status == "REJECTED" and e.reason in ("CHK_MALFORMED", "NAME_MISMATCH", "FILE_MISSING",
                                                   "SIZE_MISMATCH", "STALE_CHK"):
            assert (row.rows_total, row.rows_loaded, row.rows_quarantined) == (None, 0, None), case.kind
        if e.reason == "COUNT_MISMATCH":
            assert (row.rows_total, row.rows_loaded, row.rows_quarantined) == (e.total, 0, None)
        if e.status == "WAITING":
            assert (row._batch_id, row.rows_total, row.rows_loaded) == (None, None, None)


def test_rejected_batches_write_nothing_to_bronze(spark, bad_lake):
    cfg, cases, _, _, _, _ = bad_lake
    rejected = [c.data_date for c in cases if c.ifcode == "FLT_TICKET" and c.expect.status != "LOADED"]
    n = io.read(spark, cfg, "brz_flt_ticket").where(F.col("day_id").isin(rejected)).count()
    assert n == 0


def test_quarantine_names_file_line_and_rule(spark, bad_lake):
    cfg, cases, _, first, _, _ = bad_lake
    q = io.read(spark, cfg, "ops_quarantine").collect()
    got = {(r.ifcode, r.data_date): (r.file_name, r.line_no, r.reason_code, r.batch_status) for r in q}
    for case in cases:
        if case.kind in ("REJECT_RATE",) or case.expect.rows:
            for file_name, line_no, reason in case.expect.rows:
                want_status = "REJECTED" if case.kind == "REJECT_RATE" else "LOADED"
                assert any((r.file_name, r.line_no, r.reason_code, r.batch_status) ==
                           (file_name, line_no, reason, want_status)
                           for r in q if (r.ifcode, r.data_date) == (case.ifcode, case.data_date)), \
                    f"{case.kind}/{case.variant}: {got.get((case.ifcode, case.data_date))}"
    raw = next(r for r in q if r.reason_code == "BAD_ENCODING" and r.ifcode == "FLT_TICKET")
    assert b"\x80" in raw.raw_bytes and "\ufffd" in raw.raw_line and not raw.raw_bytes.endswith(b"\n")


def test_loaded_row_cases_account_for_every_row(spark, bad_lake):
    cfg, cases, _, first, _, _ = bad_lake
    for case in cases:
        if case.kind in [k for k, _, _ in ROW_CASES]:
            row = first[(case.ifcode, case.data_date, "LOADED")]
            assert row.rows_quarantined == len(case.expect.rows) >= 1
            assert row.rows_loaded + row.rows_quarantined + row.rows_dup == row.rows_total == case.expect.total


def test_second_deliveries_skipped_stale_and_replaced(spark, bad_lake):
    cfg, _, _, _, second, _ = bad_lake
    log = io.read(spark, cfg, "ops_batch_log").where("ifcode = 'CS_SHEET'").collect()
    for case, exp in second:
        rows = [r for r in log if r.data_date == case.data_date]
        statuses = sorted(r.status for r in rows)
        if case.kind == "SKIPPED":
            assert statuses == ["LOADED", "SKIPPED"]
        elif case.kind == "STALE_CHK":
            assert statuses == ["LOADED", "REJECTED"]
            assert next(r for r in rows if r.status == "REJECTED").reason_code == "STALE_CHK"
        else:
            assert statuses == ["LOADED", "REPLACED"]
            new = next(r for r in rows if r.status == "LOADED")
            assert new._batch_id == exp.batch_id and new.rows_total == exp.total
            n = io.read(spark, cfg, "brz_cs_sheet", f"day_id = '{case.data_date}'").count()
            assert n == new.rows_loaded
            batches = {r._batch_id for r in io.read(spark, cfg, "brz_cs_sheet", f"day_id = '{case.data_date}'")
                       .select("_batch_id").distinct().collect()}
            assert batches == {exp.batch_id}  # the earlier batch is gone entirely


def test_empty_redelivery_empties_the_partition(spark, tmp_roots):
    """Delta makes no commit for an empty overwrite: the redelivered empty batch must still replace the rows."""
    from csqm.generate.bad import encode, valid_records, write_batch

    cfg, spec, day = tmp_roots, tmp_roots.interface("HALL_QUEUE"), "20130105"
    recs = [encode(spec, r) for r in valid_records(cfg, "HALL_QUEUE", day, 5)]
    write_batch(cfg.env.landing_root, spec, day, [recs])
    run_ingest(spark, cfg, day)
    assert io.read(spark, cfg, "brz_hall_queue", f"day_id = '{day}'").count() == 5
    write_batch(cfg.env.landing_root, spec, day, [[]], seq_start=2, gen_time="20130106113000")
    res = run_ingest(spark, cfg, day).results
    assert [(r.status, r.rows_total, r.rows_loaded, r.rows_dup) for r in res] == [("LOADED", 0, 0, 0)]
    assert io.read(spark, cfg, "brz_hall_queue", f"day_id = '{day}'").count() == 0


def test_a_folder_waiting_past_the_limit_raises_late(spark, bad_lake):
    cfg, cases, _, _, _, again = bad_lake
    waiting = next(c for c in cases if c.kind == "WAITING")
    assert again.late == [(waiting.ifcode, waiting.data_date)]  # chk_wait_hours = 0 in this lake
    rows = io.read(spark, cfg, "ops_batch_log").where(
        f"ifcode = '{waiting.ifcode}' AND data_date = '{waiting.data_date}'").collect()
    assert [r.status for r in rows] == ["WAITING"]  # still one WAITING row for the folder


def test_in_batch_duplicates_keep_the_latest_and_are_counted(spark, tmp_roots):
    """Two good rows with one key: the later update_time is loaded, the other counted as a duplicate; a bad row with
    the same key is quarantined, never a duplicate."""
    from csqm.generate.bad import encode, valid_records, write_batch

    cfg, spec, day = tmp_roots, tmp_roots.interface("HALL_QUEUE"), "20130106"
    recs = valid_records(cfg, "HALL_QUEUE", day, 1200)   # one bad row stays under the reject rate
    upd = spec.field_names.index("update_time")
    older = list(recs[0])
    older[upd] = (dt.datetime.strptime(recs[0][upd], "%Y%m%d%H%M%S") - dt.timedelta(seconds=1)).strftime(
        "%Y%m%d%H%M%S")
    bad = list(recs[0])[:-1]   # FIELD_COUNT
    write_batch(cfg.env.landing_root, spec, day, [[encode(spec, r) for r in [older, *recs]], [encode(spec, bad)]])
    res = run_ingest(spark, cfg, day).results
    assert [(r.status, r.rows_total, r.rows_loaded, r.rows_quarantined, r.rows_dup) for r in res] == \
        [("LOADED", 1202, 1200, 1, 1)]
    key = spec.key[0]
    got = io.read(spark, cfg, "brz_hall_queue", f"day_id = '{day}'")
    assert got.count() == 1200
    row = got.where(F.col(key) == recs[0][spec.field_names.index(key)]).select(
        "_line_no", F.date_format("update_time", "yyyyMMddHHmmss").alias("t")).collect()
    assert [tuple(r) for r in row] == [(2, recs[0][upd])]


def test_batch_log_is_read_only_for_folders_in_landing(spark, tmp_roots):
    """The batch log keeps 13 months, landing 90 days: an ingest reads the log's partitions of the folders it finds,
    so with an earlier day's folder cleaned up and its log file gone, the next day still loads."""
    from csqm.generate.bad import encode, valid_records, write_batch

    cfg, spec = tmp_roots, tmp_roots.interface("HALL_QUEUE")
    for day in ("20130105", "20130106"):
        recs = [encode(spec, r) for r in valid_records(cfg, spec.ifcode, day, 3)]
        write_batch(cfg.env.landing_root, spec, day, [recs])
    assert [r.status for r in run_ingest(spark, cfg, "20130105").results] == ["LOADED"]
    shutil.rmtree(io.landing_dir(cfg, spec.ifcode, "20130105"))
    for f in (Path(io.table_path(cfg, "ops_batch_log")) / "data_date=20130105").glob("*.parquet"):
        f.unlink()
    res = run_ingest(spark, cfg, "20130106").results
    assert [(r.data_date, r.status, r.rows_loaded) for r in res] == [("20130106", "LOADED", 3)]
