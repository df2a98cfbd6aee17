"""csqm.silver.scope: which keys an incremental silver run recomputes, on tiny literal frames."""
from __future__ import annotations

from csqm.silver import scope as sc
from pyspark.sql import functions as F

CMPL = "sheet_id STRING, sheet_type STRING, is_valid TINYINT, acc_nbr_hash STRING, cust_id STRING, " \
       "related_fault_id STRING, day_id STRING"
FAULT = "fault_id STRING, acc_nbr_hash STRING, day_id STRING"


def keys(df, col=None) -> set:
    if df is None:
        return set()
    cols = [col] if col else df.columns
    return {r[0] if len(cols) == 1 else tuple(r) for r in df.select(*cols).collect()}


def test_union_keys_skips_missing_frames_and_nulls(spark):
    a = spark.createDataFrame([("k1",), ("k2",)], "k STRING")
    b = spark.createDataFrame([("k2",), (None,)], "k STRING")
    assert sc.union_keys([None, None], ["k"]) is None
    assert keys(sc.union_keys([a, None, b], ["k"])) == {"k1", "k2"}


def test_changed_bronze_rows_name_keys_of_the_replaced_batch(spark):
    """A redelivery dropped k2 and added k3: both the now and the watermark versions of the partition count."""
    now = spark.createDataFrame([("k1", "d"), ("k3", "d")], "k STRING, day_id STRING")
    then = spark.createDataFrame([("k1", "d"), ("k2", "d")], "k STRING, day_id STRING")
    assert keys(sc.changed_bronze_rows(now, then, ["k"])) == {"k1", "k2", "k3"}
    assert keys(sc.changed_bronze_rows(now, None, ["k"])) == {"k1", "k3"}


def test_semi_broadcasts_only_a_small_key_set(spark):
    rows = spark.createDataFrame([("a", 1), ("b", 2), ("c", 3)], "k STRING, v INT")
    wanted = spark.createDataFrame([("a",), ("c",), ("z",)], "k STRING")
    for small in (True, False):
        out = sc.semi(rows, wanted, small=small)
        assert keys(out, "k") == {"a", "c"}
        assert ("strategy=broadcast" in out._jdf.queryExecution().analyzed().toString()) is small


def test_restricted_current_is_the_current_state_over_all_batches(spark, bronze_df):
    """k1 has an older version in another batch: the restriction keeps ALL its batches, then picks the latest."""
    rows = bronze_df("CS_SHEET", [
        {"sheet_id": "k1", "update_time": "2013-01-01 10:00:00", "day_id": "20130101", "sheet_status": "OPEN"},
        {"sheet_id": "k1", "update_time": "2013-01-02 10:00:00", "day_id": "20130102", "sheet_status": "FINISHED"},
        {"sheet_id": "k2", "update_time": "2013-01-02 10:00:00", "day_id": "20130102", "sheet_status": "OPEN"}])
    scope = rows.sparkSession.createDataFrame([("k1",)], "sheet_id STRING")
    got = sc.restricted_current(rows, ["sheet_id"], scope).select("sheet_id", "sheet_status").collect()
    assert [tuple(r) for r in got] == [("k1", "FINISHED")]


def test_restricted_current_by_session_follows_a_log_row_that_moved(spark, bronze_df):
    """e1's latest version belongs to session S2: restricting to S1 must not resurrect its old S1 version."""
    rows = bronze_df("EC_LOG", [
        {"elog_id": "e1", "session_id": "S1", "channel_type": "APP", "update_time": "2013-01-01 10:00:00",
         "day_id": "20130101"},
        {"elog_id": "e1", "session_id": "S2", "channel_type": "APP", "update_time": "2013-01-02 10:00:00",
         "day_id": "20130102"},
        {"elog_id": "e2", "session_id": "S1", "channel_type": "APP", "update_time": "2013-01-01 10:00:00",
         "day_id": "20130101"}])
    s1 = spark.createDataFrame([("APP", "S1")], "channel_type STRING, session_id STRING")
    s2 = spark.createDataFrame([("APP", "S2")], "channel_type STRING, session_id STRING")
    assert keys(sc.restricted_current(rows, ["elog_id"], s1), "elog_id") == {"e2"}
    assert keys(sc.restricted_current(rows, ["elog_id"], s2), "elog_id") == {"e1"}


def test_row_changes_new_gone_changed_and_their_partitions(spark):
    old = spark.createDataFrame([("a", 1, "d1"), ("b", 2, "d1"), ("c", 3, "d1")], "k STRING, v INT, day_id STRING")
    new = spark.createDataFrame([("a", 1, "d1"), ("b", 2, "d2"), ("n", None, "d3")], "k STRING, v INT, day_id STRING")
    ch = sc.row_changes(old, new, ["k"], ["k", "v", "day_id"])
    got = {r["k"]: (r[sc.OLD] is not None, r[sc.NEW] is not None) for r in ch.collect()}
    assert got == {"b": (True, True), "c": (True, False), "n": (False, True)}  # a unchanged
    assert keys(sc.changed_partitions(ch, "day_id")) == {"d1", "d2", "d3"}
    assert keys(sc.change_versions(ch), "k") == {"b", "c", "n"} and sc.change_versions(ch).count() == 4


def test_row_changes_compares_nulls_as_equal(spark):
    df = spark.createDataFrame([("a", None)], "k STRING, v INT")
    assert sc.row_changes(df, df, ["k"], ["k", "v"]).count() == 0


def test_changed_complaint_pulls_in_its_fault_and_the_other_complaints_of_the_number(spark):
    """Sheet s1 changed its number (N1 -> N2) and its related fault (f1 -> f2): the complaints of both numbers are
    recomputed (repeat_cnt_30d), and so are both faults (to_complaint_flag); s9 and f9 are untouched."""
    stored = spark.createDataFrame([
        ("s1", "CMPL", 1, "N1", None, "f1", "20130101"), ("s2", "CMPL", 1, "N1", None, None, "20130102"),
        ("s3", "CMPL", 1, "N2", None, None, "20130103"), ("s8", "CMPL", 1, None, "C7", None, "20130103"),
        ("s9", "CMPL", 1, "N9", None, "f9", "20130103")], CMPL)
    rebuilt = spark.createDataFrame([("s1", "CMPL", 1, "N2", None, "f2", "20130101")], CMPL)
    subject = lambda: F.coalesce(F.col("acc_nbr_hash"), F.concat(F.lit("C:"), F.col("cust_id")))  # noqa: E731
    seeds = spark.createDataFrame([("s1",)], "sheet_id STRING")
    scope = sc.subject_closure(seeds, ["sheet_id"], subject, stored, rebuilt)
    assert keys(scope) == {"s1", "s2", "s3"}

    cols = stored.columns
    changes = sc.row_changes(sc.semi(stored, scope, small=True),
                             rebuilt.unionByName(stored.where("sheet_id IN ('s2', 's3')")), ["sheet_id"], cols)
    faults = spark.createDataFrame([("f1", "N1", "20130101"), ("f2", "N2", "20130101"), ("f9", "N9", "20130101")],
                                   FAULT)
    refs = sc.changed_values(changes, "related_fault_id")
    for small in (True, False):
        got = sc.keys_with_values(faults, ["fault_id"], "fault_id", refs, "related_fault_id", small=small)
        assert keys(got) == {"f1", "f2"}


def test_a_subject_of_customer_id_and_null_subjects(spark):
    """A sheet without number uses C:cust_id; a sheet with neither has no neighbours."""
    stored = spark.createDataFrame([
        ("s1", "CMPL", 1, None, "C7", None, "d"), ("s2", "CMPL", 1, None, "C7", None, "d"),
        ("s3", "CMPL", 1, None, None, None, "d"), ("s4", "CMPL", 1, None, None, None, "d")], CMPL)
    subject = lambda: F.coalesce(F.col("acc_nbr_hash"), F.concat(F.lit("C:"), F.col("cust_id")))  # noqa: E731
    one = lambda k: spark.createDataFrame([(k,)], "sheet_id STRING")  # noqa: E731
    assert keys(sc.subject_closure(one("s1"), ["sheet_id"], subject, stored, None)) == {"s1", "s2"}
    assert keys(sc.subject_closure(one("s3"), ["sheet_id"], subject, stored, None)) == {"s3"}
    assert sc.subject_closure(None, ["sheet_id"], subject, stored, None) is None


def test_reenrichment_takes_every_row_of_the_snapshot_month(spark):
    stored = spark.createDataFrame([("a", "201212", "20130101"), ("b", "201301", "20130201"),
                                    ("c", "201212", "20130131"), ("d", "201211", "20121231")],
                                   "k STRING, ref_month_id STRING, day_id STRING")
    assert keys(sc.reenrich_keys(stored, ["k"], ["201212", None])) == {"a", "c"}
    assert keys(sc.reenrich_keys(stored, ["k"], ["201211", "201301"])) == {"b", "d"}
    assert sc.reenrich_keys(stored, ["k"], []) is None


def test_reenrichment_reads_only_the_day_partitions_of_the_following_month(spark, tmp_path):
    """A snapshot month M re-enriches rows of business month M+1 (silver.md §0.3 rule 1): the scan is pruned to them."""
    path = str(tmp_path / "t")
    (spark.createDataFrame([("a", "201212", "20130101"), ("b", "201301", "20130201")],
                           "k STRING, ref_month_id STRING, day_id STRING")
     .write.format("delta").partitionBy("day_id").save(path))
    plan = sc.reenrich_keys(spark.read.format("delta").load(path), ["k"], ["201212"])._jdf.queryExecution()
    scanned = plan.executedPlan().toString()
    assert "PartitionFilters" in scanned and "20130101" in scanned and "20130131" in scanned, scanned


def test_months_roll_over_the_year():
    assert sc.with_next_months(["201212", "201301", None]) == ["201212", "201301", "201302"]


def test_in_months_keeps_the_days_of_those_months_only(spark):
    days = spark.createDataFrame([(d,) for d in ("20121231", "20130101", "20130131", "20130201", "20130315")],
                                 "day_id STRING")
    assert keys(days.where(sc.in_months("day_id", ["201301", "201303"]))) == {"20130101", "20130131", "20130315"}
    assert keys(days.where(sc.in_months("day_id", []))) == set()


def test_contact_ids_round_trip_to_their_bronze_keys(spark):
    calls = spark.createDataFrame([("C1",)], "call_id STRING")
    halls = spark.createDataFrame([("T1",)], "ticket_id STRING")
    sessions = spark.createDataFrame([("APP", "s:with:colons"), ("WEB", "s2")],
                                     "channel_type STRING, session_id STRING")
    ids = sc.contact_ids(calls, halls, sessions)
    assert keys(ids) == {"CC:C1", "HQ:T1", "EC:APP:s:with:colons", "EC:WEB:s2"}
    src = sc.contact_sources(ids)
    assert keys(src["CC_CALL"]) == {"C1"} and keys(src["HALL_QUEUE"]) == {"T1"}
    assert keys(src["EC_LOG"]) == {("APP", "s:with:colons"), ("WEB", "s2")}
    assert sc.contact_ids() is None


def test_only_a_small_scope_enriches_from_the_matching_snapshot_rows(spark, cfg, snapshot_df):
    """A full build and a big scope (a month re-enriched) join every snapshot row; a small scope gets ScopedSnapshots,
    whose key set enrich broadcasts."""
    from csqm.pipeline.silver import SilverInputs
    from csqm.pipeline.silver_incremental import SMALL_SCOPE_KEYS, IncrementalRun, KeyScope
    from csqm.silver.common import ScopedSnapshots

    snapshots = snapshot_df([])
    inputs = SilverInputs(spark, cfg, "salt", built={"slv_subscriber_m": snapshots})
    assert inputs.subscribers() is snapshots
    inputs.scope = KeyScope({}, small=True)
    got = inputs.subscribers()
    assert isinstance(got, ScopedSnapshots) and got.df is snapshots
    inputs.scope = KeyScope({}, small=False)
    assert inputs.subscribers() is snapshots

    seen = []
    run = IncrementalRun(spark, cfg, None, print, False, inputs=inputs)
    module = type("M", (), {"TABLE": "slv_refund_event_d", "KEY": ("adj_id",)})
    few = spark.range(3).selectExpr("CAST(id AS STRING) AS adj_id")
    many = spark.range(SMALL_SCOPE_KEYS + 1).selectExpr("CAST(id AS STRING) AS adj_id")
    for keys in (few, many):
        run.build_on(module, lambda i, k=keys: seen.append(i.scope.small) or k, keys)
    assert seen == [True, False]


def test_a_full_build_of_few_bronze_rows_enriches_from_the_matching_snapshot_rows(spark, cfg, snapshot_df,
                                                                                  monkeypatch):
    """A full build whose interfaces hold few bronze rows (appeals, a lake's first days) gets ScopedSnapshots, so it
    does not shuffle every snapshot row of a month for a few events; many rows, or no interface named, do not."""
    from csqm.pipeline import silver
    from csqm.silver.common import ScopedSnapshots

    snapshots = snapshot_df([])
    inputs = silver.SilverInputs(spark, cfg, "salt", built={"slv_subscriber_m": snapshots})
    rows = {"APPEAL": 3, "CC_CALL": 2, "EC_LOG": 1}
    monkeypatch.setattr(inputs, "bronze", lambda c: spark.range(rows[c]))
    monkeypatch.setattr(silver, "SMALL_SCOPE_KEYS", 5)
    seen = []

    def build(i):
        seen.append(i.subscribers())
        return snapshots

    silver.build_full(inputs, build, ["APPEAL"])
    silver.build_full(inputs, build, ["APPEAL", "CC_CALL", "EC_LOG"])
    silver.build_full(inputs, build)
    assert [isinstance(s, ScopedSnapshots) for s in seen] == [True, False, False]
    assert seen[0].df is snapshots and inputs.few_events is False
    assert inputs.subscribers() is snapshots


def test_sessions_of_changed_logs_broadcast_only_a_small_set(spark):
    """The sessions of changed log rows, now and in any other batch of their elog_id; the elog_id set is broadcast
    only when small (a 58-day backlog at SF0.1, 6.6 M ids, ran a 2g heap out)."""
    cols = "elog_id STRING, channel_type STRING, session_id STRING"
    changed = spark.createDataFrame([("e1", "APP", "s1"), ("e2", "WEB", "s2")], cols)
    logs = spark.createDataFrame([("e1", "APP", "s0"), ("e2", "WEB", "s2"), ("e3", "APP", "s3")], cols)
    for small in (True, False):
        got = sc.sessions_of(changed, logs, small=small)
        assert {tuple(r) for r in got.collect()} == {("APP", "s1"), ("WEB", "s2"), ("APP", "s0")}
        assert ("strategy=broadcast" in got._jdf.queryExecution().analyzed().toString()) is small


def test_the_contact_scope_broadcasts_the_changed_log_ids_only_below_the_threshold(spark, monkeypatch):
    """_scope_contact counts the changed EC_LOG rows and passes the size decision on (it once broadcast any set)."""
    from csqm.pipeline import silver_incremental as si
    from csqm.pipeline.silver_incremental import BronzeDelta

    seen = []
    monkeypatch.setattr(si.sc, "sessions_of", lambda changed, logs, *, small: seen.append(small))
    rows = spark.createDataFrame([("e1", "APP", "s1"), ("e2", "WEB", "s2")],
                                 "elog_id STRING, channel_type STRING, session_id STRING")
    r = type("R", (), {
        "delta": lambda self, code: BronzeDelta(["20130101"], rows),
        "inputs": type("I", (), {"bronze": lambda self, code: rows})(),
        "bronze_keys": lambda self, code, cols: None,
        "closure": lambda self, module, build, seeds, subject, fixed=(), forward=None: forwards.append(forward),
        "reenrich": lambda self, module: None})()
    forwards = []
    for limit, small in ((2, True), (1, False)):
        monkeypatch.setattr(si, "SMALL_SCOPE_KEYS", limit)
        si._scope_contact(r, None)
        assert seen[-1] is small
    assert forwards == [si.contact.FORWARD_WINDOW] * 2  # the 48 h reach, not the number's whole history


def test_the_proactive_scope_broadcasts_the_changed_numbers_only_below_the_threshold(spark, monkeypatch):
    """_scope_proactive sizes the changed complaint numbers before looking up the stored tasks that carry them: a
    backlog changes millions of complaints, whose numbers must be shuffled, not broadcast."""
    from csqm.pipeline import silver_incremental as si

    seen = []
    numbers = spark.createDataFrame([("N1",), ("N2",)], "acc_nbr_hash STRING")
    monkeypatch.setattr(si.sc, "changed_values", lambda changes, col, where=None: numbers)
    monkeypatch.setattr(si.sc, "keys_with_values",
                        lambda rows, key, col, values, values_col=None, *, small: seen.append(small))
    r = type("R", (), {
        "changes": {si.complaint.TABLE: numbers},
        "stored": lambda self, module: numbers,
        "bronze_keys": lambda self, code, cols: None,
        "reenrich": lambda self, module: None})()
    for limit, small in ((2, True), (1, False)):
        monkeypatch.setattr(si, "SMALL_SCOPE_KEYS", limit)
        si._scope_proactive(r, None)
        assert seen[-1] is small


def test_a_key_recomputed_for_a_related_change_brings_its_window_neighbours(spark):
    """A fault in scope only because a complaint naming it changed (or its snapshot month was re-enriched) is rebuilt
    from bronze restricted to the scope: without the other faults of its number it lost is_repeat_30d (10 faults
    of a 58-day backlog at SF0.1, session 18). closure() adds the stored neighbours of such `fixed` keys too."""
    from csqm.pipeline.silver_incremental import IncrementalRun

    stored = spark.createDataFrame([("f1", "N1"), ("f2", "N1"), ("f3", "N2"), ("f4", "N3"), ("f5", "N4")],
                                   "fault_id STRING, acc_nbr_hash STRING")
    module = type("M", (), {"TABLE": "slv_fault_event_d", "KEY": ("fault_id",)})
    built = []

    def build_on(self, m, build, seeds, n):
        built.append(n)
        return spark.createDataFrame([("f3", "N3")], "fault_id STRING, acc_nbr_hash STRING")  # f3's number moved

    run = type("R", (), {"stored": lambda self, m: stored, "build_on": build_on})()

    def one(k):
        return spark.createDataFrame([(k,)], "fault_id STRING")

    def closure(seeds, fixed):
        return IncrementalRun.closure(run, module, None, seeds, lambda: F.col("acc_nbr_hash"), fixed)

    assert keys(closure(None, [one("f1"), None])) == {"f1", "f2"} and built == []   # no rebuild for a fixed key
    assert keys(closure(one("f3"), [one("f1")])) == {"f1", "f2", "f3", "f4"} and built == [1]
    assert closure(None, [None]) is None


def test_a_forward_window_takes_the_neighbours_from_its_reach_before_the_seeds_on(spark):
    """is_repeat_48h reads later contacts only: a contact answered more than 48 h before every old and new answer time
    of its number's changed contacts cannot change, so it stays out of scope (the whole history did, session 20); the
    later ones stay in, since their own windows read them. NULL times and other numbers are no neighbours."""
    from datetime import datetime

    ddl = "contact_id STRING, acc_nbr_hash STRING, agent_ans_time TIMESTAMP"
    ts = datetime.fromisoformat
    stored = spark.createDataFrame([
        ("c0", "N1", ts("2013-01-01 00:00:00")),   # weeks before: out
        ("c1", "N1", ts("2013-01-28 11:59:59")),   # 48 h and 1 s before the seed's new time: out
        ("c2", "N1", ts("2013-01-28 12:00:00")),   # exactly 48 h before: in (bounds inclusive)
        ("c3", "N1", ts("2013-01-31 08:00:00")),   # after the seed: in
        ("c4", "N1", None),                        # no answer time: out
        ("c5", "N2", ts("2013-01-30 12:00:00")),   # another number: out
        ("s2", "N3", ts("2013-01-20 10:00:00")),   # a seed whose stored (old) time was earlier ...
        ("c6", "N3", ts("2013-01-18 10:00:00")),   # ... brings its neighbours from 48 h before that old time: in
        ("c7", "N3", ts("2013-01-18 09:59:59")),   # out
    ], ddl)
    rebuilt = spark.createDataFrame([("s1", "N1", ts("2013-01-30 12:00:00")), ("s2", "N3", ts("2013-01-30 10:00:00"))],
                                    ddl)
    seeds = spark.createDataFrame([("s1",), ("s2",)], "contact_id STRING")
    number = lambda: F.col("acc_nbr_hash")  # noqa: E731
    forward = (lambda: F.col("agent_ans_time"), 48 * 3600)
    for small in (True, False):
        got = sc.subject_closure(seeds, ["contact_id"], number, stored, rebuilt, small=small, forward=forward)
        assert keys(got) == {"s1", "s2", "c2", "c3", "c6"}
    every = sc.subject_closure(seeds, ["contact_id"], number, stored, rebuilt)
    assert keys(every) == {"s1", "s2", "c0", "c1", "c2", "c3", "c4", "c6", "c7"}


def test_in_values_is_a_literal_predicate_that_keeps_null_when_asked(spark):
    df = spark.createDataFrame([("a", "20130101"), ("b", "20130102"), ("c", None)], "k STRING, day_id STRING")
    assert keys(df.where(sc.in_values("day_id", ["20130102", None])), "k") == {"b", "c"}
    assert keys(df.where(sc.in_values("day_id", ["20130101"])), "k") == {"a"}
    assert df.where(sc.in_values("day_id", [])).count() == 0


def test_partitions_holding_names_every_partition_of_a_key(spark):
    """Both partitions a redelivered key has rows in, and none of the keys outside the set."""
    rows = spark.createDataFrame([("a", "20130101"), ("a", "20130103"), ("b", "20130102"), ("c", None)],
                                 "k STRING, day_id STRING")
    wanted = spark.createDataFrame([("a",), ("c",), ("z",)], "k STRING")
    got = {r.day_id for r in sc.partitions_holding(rows, wanted, ["k"], "day_id").collect()}
    assert got == {"20130101", "20130103", None}
