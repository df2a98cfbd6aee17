"""Data safety (operations.md §3–§5) on one small lake with a table per layer: properties, backup (incremental,
killed, read by deltalake), time travel, restore, the disaster drill, VACUUM and retention."""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from chispa import assert_df_equality
from csqm import audit, io
from csqm.config import ConfigError, LayerPolicy
from csqm.io import backup as store
from csqm.io.locks import TableLocked, table_lock
from csqm.io.retry import retry_conflicts
from csqm.maintenance import backup as bk
from csqm.maintenance import properties, restore, retention
from csqm.maintenance.window import OutOfWindow, table_window
from csqm.timetravel import compare_versions, read_as_of

TABLES = {  # table: (DDL, partition columns, rows)
    "brz_flt_ticket": ("ticket_id STRING, n INT, day_id STRING", ["day_id"],
                       [("T1", 1, "20121115"), ("T2", 2, "20130105"), ("T3", None, "20130105")]),
    "slv_fault_d": ("ticket_id STRING, city_code STRING, close_day_id STRING, dur DOUBLE, day_id STRING", ["day_id"],
                    [("T1", "0531", "20121130", 1.5, "20121130"), ("T2", "0532", None, None, "20121201")]),
    "gld_fault_m": ("month_id STRING, city_code STRING, cnt BIGINT, rate DECIMAL(10,4)", ["month_id"],
                    [("201012", "0531", 5, "0.5000"), ("201301", "0531", 7, "0.7500"), ("201301", "0532", 1, None)]),
    "ops_batch_log": ("batch_id STRING, rows_by MAP<STRING,BIGINT>, data_date STRING", ["data_date"],
                      [("B1", {"ok": 3, "bad": 1}, "20121130"), ("B2", {}, "201211"), ("B3", None, "201301")]),
    "man_kpi_target": ("target_year STRING, city_code STRING, target_value DECIMAL(18,6)", [],
                       [("2013", "0000", "0.950000"), ("2013", "0531", None)]),
    "dim_city": ("city_code STRING, name_cn STRING", [], [("0531", "济南"), ("0532", "青岛"), ("9999", None)]),
}


def _df(spark, table, rows=None):
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType, StructType

    ddl, _, lit = TABLES[table]
    schema = StructType.fromDDL(ddl)
    typ = {f.name: "STRING" if isinstance(f.dataType, DecimalType) else f.dataType.simpleString()
           for f in schema.fields}
    raw = StructType.fromDDL(", ".join(f"`{n}` {t}" for n, t in typ.items()))
    df = spark.createDataFrame(rows if rows is not None else lit, raw)
    return df.select(*[F.col(f.name).cast(f.dataType) for f in schema.fields])


def _make(spark, cfg, table, meta):
    ddl, parts, _ = TABLES[table]
    from pyspark.sql.types import StructType

    io.ensure_table(spark, cfg, table, StructType.fromDDL(ddl), parts, meta)
    io.append(_df(spark, table), cfg, table, meta)


@pytest.fixture(scope="module")
def lake(spark, cfg, tmp_path_factory):
    """One lake with a table per layer (literal rows), its own roots for the whole module."""
    root = tmp_path_factory.mktemp("safety")
    env = replace(cfg.env, landing_root=str(root / "landing"), lake_root=str(root / "lake"),
                  backup_root=str(root / "backup"))
    c = replace(cfg, env=env)
    run = audit.Run("test", {}, None)
    for t in TABLES:
        _make(spark, c, t, run.meta)
    return c


def _run(job="test"):
    return audit.Run(job, {}, None)


# ------------------------------------------------------------------ properties
def test_properties_match_spec_and_drift_is_repaired(spark, lake):
    props = properties.actual(spark, lake, "gld_fault_m")
    assert {k: props.get(k) for k in properties.expected(lake, "gld_fault_m")} == {
        "delta.logRetentionDuration": "interval 60 days", "delta.deletedFileRetentionDuration": "interval 35 days",
        "delta.checkpointInterval": "10", "delta.enableDeletionVectors": "false", "lake.time_travel_days": "30",
        "lake.layer": "gold"}
    assert {t: properties.drift(spark, lake, t) for t in TABLES} == {t: {} for t in TABLES}
    assert properties.expected(lake, "dim_city")["delta.deletedFileRetentionDuration"] == "interval 90 days"
    path = io.table_path(lake, "slv_fault_d")
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.checkpointInterval' = '50')")
    spark.sql(f"ALTER TABLE delta.`{path}` UNSET TBLPROPERTIES ('lake.time_travel_days')")
    found = properties.check_and_repair(spark, lake, list(TABLES), _run().meta)
    assert found == {"slv_fault_d": {"delta.checkpointInterval": ("50", "10"), "lake.time_travel_days": (None, "7")}}
    assert properties.drift(spark, lake, "slv_fault_d") == {}


def _file_stats(lake, table) -> list[dict]:
    """The statistics of every data file a table's log adds."""
    log = Path(io.table_path(lake, table), "_delta_log")
    actions = [json.loads(line) for f in sorted(log.glob("*.json")) for line in f.read_text().splitlines()]
    return [json.loads(a["add"]["stats"]) for a in actions if "add" in a]


def test_file_statistics_per_layer(lake):
    """Bronze keeps row counts only, silver min/max only on its business-day columns, gold Delta's default."""
    bronze, silver, gold = (_file_stats(lake, t) for t in ("brz_flt_ticket", "slv_fault_d", "gld_fault_m"))
    assert sum(s["numRecords"] for s in bronze) == 3
    assert all(not s.get("minValues") and not s.get("maxValues") for s in bronze)
    assert sum(s["numRecords"] for s in silver) == 2
    assert sorted(json.dumps([s.get("minValues"), s["nullCount"]]) for s in silver) == [
        '[{"close_day_id": "20121130"}, {"close_day_id": 0}]', '[{}, {"close_day_id": 1}]']
    assert all(set(s["minValues"]) == {"city_code", "cnt", "rate"} for s in gold)


# ------------------------------------------------------------------ backup
def test_incremental_backup_copies_only_new_files_and_a_killed_backup_is_ignored(spark, lake, monkeypatch):
    t = "brz_flt_ticket"
    m1 = bk.backup_table(spark, lake, t, "DAILY", _run())
    assert (m1["version"], m1["row_count"], m1["file_count"]) == (1, 3, 2)  # v0 create, v1 append (2 partitions)
    assert m1["copied_files"] == 2 + 2  # both data files + commits 0 and 1
    io.append(_df(spark, t, [("T4", 4, "20130106")]), lake, t)
    m2 = bk.backup_table(spark, lake, t, "DAILY", _run())
    assert (m2["version"], m2["file_count"], m2["copied_files"]) == (2, 3, 2)  # one new data file + commit 2
    new = {f["path"] for f in m2["files"]} - {f["path"] for f in m1["files"]}
    assert len(new) == 1 and next(iter(new)).startswith("day_id=20130106/")
    assert m2["copied_bytes"] == sum(f["size"] for f in m2["files"] if f["path"] in new) + (
        Path(io.table_path(lake, t), "_delta_log", f"{2:020d}.json").stat().st_size)

    io.append(_df(spark, t, [("T5", 5, "20130107")]), lake, t)

    def killed(path, obj):
        raise KeyboardInterrupt("killed before the manifest")

    monkeypatch.setattr(store, "write_json_atomic", killed)
    with pytest.raises(KeyboardInterrupt):
        bk.backup_table(spark, lake, t, "DAILY", _run())
    monkeypatch.undo()
    assert [m["version"] for m in bk.manifests(lake, t)] == [1, 2]  # the killed backup does not exist
    assert restore.latest_backups(lake)[t]["version"] == 2
    m3 = bk.backup_table(spark, lake, t, "DAILY", _run())
    assert (m3["version"], m3["row_count"], m3["copied_files"]) == (3, 5, 0)  # the killed run had copied them
    assert m3["backup_id"].startswith("brz_flt_ticket_v3_") and len(m3["backup_id"]) == len("brz_flt_ticket_v3_") + 14
    assert Path(lake.env.backup_root, "_manifests", "bronze", t, f"{m3['backup_id']}.json").is_file()


def test_backup_folder_reads_the_same_with_deltalake(spark, lake):
    from deltalake import DeltaTable, QueryBuilder

    for t in ("dim_city", "brz_flt_ticket"):
        m = bk.manifests(lake, t)[-1] if bk.manifests(lake, t) else bk.backup_table(spark, lake, t, "DAILY", _run())
        cols = [c for c in TABLES[t][0].split(", ")]
        names = [c.split(" ")[0] for c in cols]
        dt_ = DeltaTable(bk.backup_dir(lake, t), version=m["version"])
        tbl = QueryBuilder().register("t", dt_).execute(f"select {', '.join(names)} from t").read_all()
        got = sorted(zip(*[tbl.column(n).to_pylist() for n in names], strict=True), key=str)
        want = sorted((tuple(r) for r in io.read(spark, lake, t, version=m["version"]).select(*names).collect()),
                      key=str)
        assert got == want and len(got) == m["row_count"]


# ------------------------------------------------------------------ time travel on a gold partition, restore
def test_compare_versions_and_restores(spark, lake):
    t = "gld_fault_m"
    v1 = io.latest_version(spark, lake, t)
    io.replace_where(_df(spark, t, [("201301", "0531", 8, "0.7500"), ("201301", "0533", 2, "1.0000")]), lake, t,
                     "month_id = '201301'")
    diff = compare_versions(spark, lake, t, v1, where="month_id = '201301'")
    assert sorted(tuple(r) for r in diff.collect()) == [
        ("201301", "0531", "cnt", "7", "8", "CHANGED"),
        ("201301", "0532", "cnt", "1", None, "REMOVED"), ("201301", "0532", "rate", None, None, "REMOVED"),
        ("201301", "0533", "cnt", None, "2", "ADDED"), ("201301", "0533", "rate", None, "1.0000", "ADDED")]
    new = restore.restore_version(spark, lake, t, _run("restore"), version=v1)
    assert new == v1 + 2
    assert_df_equality(io.read(spark, lake, t), io.read(spark, lake, t, version=v1), ignore_row_order=True)
    m = bk.backup_table(spark, lake, t, "MONTHLY", _run())
    io.append(_df(spark, t, [("201302", "0531", 1, "0.1000")]), lake, t)
    live = restore.restore_over_live(spark, lake, m["backup_id"], _run("restore"))
    assert live == m["version"] + 2  # history kept: the append, then one overwrite
    assert bk.content_stats(io.read(spark, lake, t)) == (m["row_count"], m["content_checksum"])
    meta = json.loads(spark.sql(f"DESCRIBE HISTORY delta.`{io.table_path(lake, t)}` LIMIT 1").first().userMetadata)
    assert meta["restore_from"] == m["backup_id"] and meta["job"] == "restore"


# ------------------------------------------------------------------ the drill
def test_disaster_drill_restores_every_table_row_for_row(spark, lake):
    run = _run("backup")
    s1 = bk.backup_all(spark, lake, run, "DAILY")
    assert not s1.failed
    bk.backup_table(spark, lake, bk.CATALOG, "DAILY", run)  # the catalog the first run created
    latest = restore.latest_backups(lake)
    assert set(latest) == set(TABLES) | {bk.CATALOG}
    originals = {t: (io.read(spark, lake, t, version=m["version"]).collect(), io.read(spark, lake, t).schema)
                 for t, m in latest.items()}
    assert all(m["version"] == io.latest_version(spark, lake, t) for t, m in latest.items() if t != bk.CATALOG)
    assert "copied this time" in s1.text() and "MB/s" in s1.text()
    shutil.rmtree(lake.env.lake_root)
    versions = restore.restore_all(spark, lake, _run("restore"))
    assert versions == {t: m["version"] for t, m in latest.items()}
    for t, (rows, schema) in originals.items():
        assert_df_equality(bk.hashable(io.read(spark, lake, t)), bk.hashable(spark.createDataFrame(rows, schema)),
                           ignore_row_order=True)  # maps as sorted entries: chispa cannot sort by a map
        assert properties.drift(spark, lake, t) == {}


# ------------------------------------------------------------------ windows, VACUUM (own small tables)
def _backdate(path: str, version: int, days: float) -> None:
    when = time.time() - days * 86400
    os.utime(Path(path, "_delta_log", f"{version:020d}.json"), (when, when))


def _clear_delta_cache(spark) -> None:
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()


def test_time_travel_inside_window_works_outside_fails(spark, tmp_roots):
    t = "slv_fault_d"
    _make(spark, tmp_roots, t, None)  # v0 create, v1 two rows
    io.append(_df(spark, t, [("T3", "0533", "20130101", 2.0, "20130101")]), tmp_roots, t)  # v2
    io.append(_df(spark, t, [("T4", "0534", "20130102", 3.0, "20130102")]), tmp_roots, t)  # v3
    path = io.table_path(tmp_roots, t)
    for v, days in ((0, 21), (1, 20), (2, 3)):
        _backdate(path, v, days)
    _clear_delta_cache(spark)
    w = table_window(spark, tmp_roots, t)
    assert (w.promise_days, w.promise_version, w.oldest_version, w.latest, w.kept) == (7, 1, 0, 3, True)
    assert read_as_of(spark, tmp_roots, t, version=1).count() == 2
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - 10 * 86400))
    assert read_as_of(spark, tmp_roots, t, timestamp=ts).count() == 2  # version current 10 days ago: v1
    with pytest.raises(OutOfWindow) as e:
        read_as_of(spark, tmp_roots, t, version=0)
    assert str(e.value).startswith("OUT_OF_WINDOW: slv_fault_d version 0 is outside the 7-day time-travel window")
    assert "csqm restore --backup-id" in str(e.value)
    with pytest.raises(OutOfWindow, match="^OUT_OF_WINDOW: slv_fault_d has no version at or before 2001-01-01"):
        read_as_of(spark, tmp_roots, t, timestamp="2001-01-01 00:00:00")


def test_vacuum_removes_only_files_older_than_retain(spark, tmp_roots):
    t = "brz_flt_ticket"
    _make(spark, tmp_roots, t, None)  # v1: files of 20121115 and 20130105
    path = io.table_path(tmp_roots, t)
    io.replace_where(_df(spark, t, [("T9", 9, "20130105")]), tmp_roots, t, "day_id = '20130105'")  # v2 removes A
    _, v2_files = store.snapshot_files(spark, path, 2)
    io.replace_where(_df(spark, t, [("T8", 8, "20130105")]), tmp_roots, t, "day_id = '20130105'")  # v3 removes B
    _, v1_files = store.snapshot_files(spark, path, 1)
    a = next(f.path for f in v1_files if f.path.startswith("day_id=20130105/"))
    b = next(f.path for f in v2_files if f.path.startswith("day_id=20130105/"))
    old_ms = int((time.time() - 8 * 86400) * 1000)  # removed 8 days ago: older than RETAIN 168 HOURS
    log = Path(path, "_delta_log", f"{2:020d}.json")
    acts = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    for x in acts:
        if "remove" in x:
            x["remove"]["deletionTimestamp"] = old_ms
    log.write_text("\n".join(json.dumps(x) for x in acts) + "\n")
    Path(path, "_delta_log", f".{2:020d}.json.crc").unlink()  # the local FS checksum of the old bytes
    for f in (a, b):  # both files look old on disk; only A's removal is older than RETAIN
        os.utime(Path(path, f), (old_ms / 1000, old_ms / 1000))
    _clear_delta_cache(spark)
    assert retention.vacuum_table(spark, tmp_roots, t, _run("retention"), dry_run=True)[0] == 1
    assert Path(path, a).exists()
    n, size = retention.vacuum_table(spark, tmp_roots, t, _run("retention"), dry_run=False)
    assert (n, Path(path, a).exists(), Path(path, b).exists()) == (1, False, True)
    assert io.read(spark, tmp_roots, t).count() == 2


# ------------------------------------------------------------------ retention (last: it deletes from the lake)
def test_retention_refuses_a_window_breaking_config(cfg):
    gold = cfg.retention.layers["gold"]
    bad = replace(cfg, retention=replace(cfg.retention, layers={**cfg.retention.layers, "gold": LayerPolicy(
        gold.log_retention_days, 20, gold.time_travel_days)}))
    with pytest.raises(ConfigError) as e:
        retention.run_retention(None, bad, _run("retention"), None, dry_run=True)
    assert str(e.value) == ("retention.yaml:layers.gold.deleted_file_retention_days = 20 is shorter than "
                            "retention.yaml:layers.gold.time_travel_days = 30: VACUUM (RETAIN 480 HOURS) would delete "
                            "data files of versions the 30-day window promises")
    short_log = replace(cfg, retention=replace(cfg.retention, layers={**cfg.retention.layers, "silver": LayerPolicy(
        5, 7, 7)}))
    with pytest.raises(ConfigError, match=r"^retention.yaml:layers.silver.log_retention_days = 5 is shorter than"):
        properties.check_windows(short_log)


def test_retention_dry_run_changes_nothing_then_applies(spark, lake):
    import datetime as dt

    for folder in ("FLT_TICKET/20130901", "FLT_TICKET/20131001", "SUBS/201308", "SUBS/201309"):
        Path(lake.env.landing_root, folder).mkdir(parents=True)
        Path(lake.env.landing_root, folder, "x.dat").write_bytes(b"abc")
    c = replace(lake, retention=replace(lake.retention, backup_daily_keep=1))
    before = {t: io.latest_version(spark, c, t) for t in TABLES}
    files_before = store.files_under(c.env.lake_root)
    manifests_before = [m["backup_id"] for m in bk.manifests(c)]
    r = retention.run_retention(spark, c, _run("retention"), dt.date(2013, 12, 15), dry_run=True)
    assert {(t, p) for t, p, _, _ in r.partitions} == {
        ("brz_flt_ticket", "day_id=20121115"), ("slv_fault_d", "day_id=20121130"),
        ("gld_fault_m", "month_id=201012"), ("ops_batch_log", "data_date=20121130"),
        ("ops_batch_log", "data_date=201211")}
    assert all(n == 1 and b > 0 for _, _, n, b in r.partitions)
    assert [f for f, _, _ in r.landing] == ["FLT_TICKET/20130901", "SUBS/201308"]
    assert r.expired and "would delete" in r.text()
    assert {t: io.latest_version(spark, c, t) for t in TABLES} == before
    assert store.files_under(c.env.lake_root) == files_before
    assert [m["backup_id"] for m in bk.manifests(c)] == manifests_before

    r = retention.run_retention(spark, c, _run("retention"), dt.date(2013, 12, 15), dry_run=False)
    assert sorted(x.day_id for x in io.read(spark, c, "brz_flt_ticket").collect()) == ["20130105"] * 2 + [
        "20130106", "20130107"]
    assert sorted(x.data_date for x in io.read(spark, c, "ops_batch_log").collect()) == ["201301"]
    assert io.read(spark, c, "dim_city").count() == 3 and io.read(spark, c, "man_kpi_target").count() == 2
    meta = spark.sql(f"DESCRIBE HISTORY delta.`{io.table_path(c, 'gld_fault_m')}`").where(
        "operation = 'DELETE'").first().userMetadata
    assert json.loads(meta)["job"] == "retention"
    assert sorted(p.name for p in Path(c.env.landing_root).glob("*/*")) == ["201309", "20131001"]
    assert not r.vacuum  # the deleted partitions' files stay 7 days (RETAIN 168 HOURS)
    left = bk.manifests(c)
    assert len([m for m in left if m["backup_type"] == "DAILY" and m["table"] == "brz_flt_ticket"]) == 1
    assert not set(r.expired) & {m["backup_id"] for m in left}


# ------------------------------------------------------------------ concurrency
def test_a_second_writer_fails_clearly_and_a_stale_lock_is_taken_over(tmp_path):
    with table_lock(str(tmp_path), "gld_x", "run-1", "backup"):
        with pytest.raises(TableLocked, match=r"^table gld_x is being written by run run-1 \(job backup"):
            with table_lock(str(tmp_path), "gld_x", "run-2", "backup", wait_s=0.6):
                pass
    lock = tmp_path / "_locks" / "gld_x.lock"
    assert not lock.exists()
    lock.write_text(json.dumps({"run_id": "dead", "pid": 2 ** 22 + 12345, "host": os.uname().nodename}))
    with table_lock(str(tmp_path), "gld_x", "run-3", "backup", wait_s=0):
        assert json.loads(lock.read_text())["run_id"] == "run-3"


def test_commit_conflicts_are_retried_with_bounded_backoff(monkeypatch):
    import csqm.io.retry as retry

    class ConcurrentAppendException(Exception):
        pass

    calls = []
    monkeypatch.setattr(retry.time, "sleep", lambda s: calls.append(("sleep", s)))

    @retry_conflicts
    def write():
        calls.append("try")
        if calls.count("try") < 3:
            raise ConcurrentAppendException("files were added to partition day_id=20130101")
        return 7

    assert write() == 7 and calls.count("try") == 3
    assert [s for c, s in [x for x in calls if isinstance(x, tuple)]] and all(
        0 < s <= retry.MAX_DELAY_S for _, s in [x for x in calls if isinstance(x, tuple)])

    @retry_conflicts
    def always():
        raise ConcurrentAppendException("again")

    with pytest.raises(ConcurrentAppendException):
        always()
    assert calls.count("try") == 3 and len([x for x in calls if isinstance(x, tuple)]) == 2 + retry.MAX_ATTEMPTS - 1
