"""Landing-file generator: format, determinism, semantics and bad inputs, read back with plain Python (no Spark)."""
from __future__ import annotations

import collections
import datetime as dt
import re
from pathlib import Path

import pytest
from csqm.generate import generate_days, generate_landing, generate_monthly
from csqm.generate.bad import BATCH_KINDS, VARIANTS, make_bad_batch
from csqm.generate.check import RowChecker, read_batch, read_chk, split_records

START, DAYS, SUBS, SEED = "20130101", 3, 300, 11
DATES = ("20130101", "20130102", "20130103")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _rows(cfg, root: Path, ifcode: str) -> list[tuple[str, str, int, dict]]:
    """(folder date, file, line, record as dict) of every current batch of an interface."""
    spec = cfg.interface(ifcode)
    codec = "utf-8" if spec.encoding == "UTF-8" else "gbk"
    out = []
    for folder in sorted((root / ifcode).iterdir()):
        entries, recs = read_batch(folder, ifcode)
        for e in entries:
            for n, raw in enumerate(recs[e.file_name], 1):
                values = raw.decode(codec).split("\x05")
                out.append((folder.name, e.file_name, n, dict(zip(spec.field_names, values, strict=True))))
    return out


def _ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y%m%d%H%M%S")


@pytest.fixture(scope="module")
def run3(cfg, tmp_path_factory):
    root = tmp_path_factory.mktemp("land3")
    summary = generate_landing(cfg, root, START, DAYS, SUBS, SEED)
    return root, summary


@pytest.fixture(scope="module")
def month(cfg, tmp_path_factory):
    """All of January (the ledger identity needs every day of the month)."""
    root = tmp_path_factory.mktemp("land31")
    generate_landing(cfg, root, START, 31, 200, SEED)
    return root


# ------------------------------------------------------------------ format
def test_folders_and_names(cfg, run3):
    root, summary = run3
    for ifcode, spec in cfg.interfaces.items():
        want = {"SUBS": {"201212", "201301"}, "PTS_BAL": {"201212", "201301"}}.get(ifcode, {"201301"}) \
            if spec.freq == "M" else set(DATES)
        assert {p.name for p in (root / ifcode).iterdir()} == want, ifcode
        for date in want:
            folder = root / ifcode / date
            names = {p.name for p in folder.iterdir()}
            assert f"{ifcode}_{date}.chk" in names
            pat = re.compile(re.escape(f"{ifcode}_{date}_") + r"[0-9]{3}\.dat")
            assert all(pat.fullmatch(n) for n in names - {f"{ifcode}_{date}.chk"}), names
    assert set(summary.interfaces) == set(cfg.interfaces)
    assert summary.rows == sum(c.rows for c in summary.interfaces.values()) > 0


def test_chk_matches_files(cfg, run3):
    root, summary = run3
    rows = collections.Counter()
    for chk in root.rglob("*.chk"):
        data = chk.read_bytes()
        assert data.endswith(b"\n") and b"\r" not in data and max(data) < 0x80
        folder, ifcode = chk.parent, chk.parent.parent.name
        for e in read_chk(chk):
            blob = (folder / e.file_name).read_bytes()
            assert e.size_bytes == len(blob)
            assert e.row_count == len(split_records(blob)) == blob.count(b"\n")
            assert e.data_date == folder.name
            gen = _ts(e.gen_time)
            assert gen > dt.datetime.strptime(folder.name[:6] + (folder.name[6:] or "01"), "%Y%m%d")
            rows[ifcode] += e.row_count
    assert rows == {k: v.rows for k, v in summary.interfaces.items() if v.rows}


def test_records_decode_and_validate(cfg, run3):
    """Every record decodes (GBK; UTF-8 for EC_LOG), has n-1 separators and passes sources.md §3: 0 quarantined."""
    root, _ = run3
    has_chinese = collections.Counter()
    for ifcode, spec in cfg.interfaces.items():
        codec = "utf-8" if spec.encoding == "UTF-8" else "gbk"
        for folder in (root / ifcode).iterdir():
            check = RowChecker(cfg, spec, folder.name)
            _, recs = read_batch(folder, ifcode)
            for name, records in recs.items():
                for n, raw in enumerate(records, 1):
                    text = raw.decode(codec)
                    assert raw.count(b"\x05") == len(spec.fields) - 1, (name, n)
                    assert check.check(raw) is None, (name, n, check.check(raw), text)
                    has_chinese[ifcode] += any(ord(ch) > 0x7F for ch in text)
    assert has_chinese["CS_SHEET"] and has_chinese["SP_STEP"] and has_chinese["EC_LOG"]


def test_max_rows_per_file(cfg, tmp_path):
    generate_landing(cfg, tmp_path, START, 1, 200, SEED, redeliveries=False, max_rows_per_file=25)
    entries = read_chk(tmp_path / "EC_LOG" / START / f"EC_LOG_{START}.chk")
    assert len(entries) > 1 and all(e.row_count <= 25 for e in entries)
    assert [int(e.file_name[-7:-4]) for e in entries] == list(range(1, len(entries) + 1))


# ------------------------------------------------------------------ determinism and splitting
def test_deterministic(cfg, run3, tmp_path):
    root, _ = run3
    generate_landing(cfg, tmp_path, START, DAYS, SUBS, SEED)
    assert _tree(tmp_path) == _tree(root)


def test_days_split_across_workers(cfg, run3, tmp_path):
    """Workers writing sub-ranges of the days (and the monthly batches apart) write the same bytes."""
    root, _ = run3
    generate_days(cfg, tmp_path, START, DAYS, SUBS, SEED, "20130102", "20130103")
    generate_days(cfg, tmp_path, START, DAYS, SUBS, SEED, "20130101", "20130101")
    generate_monthly(cfg, tmp_path, START, DAYS, SUBS, SEED)
    assert _tree(tmp_path) == _tree(root)


def test_other_seed_differs(cfg, run3, tmp_path):
    root, _ = run3
    generate_landing(cfg, tmp_path, START, 1, SUBS, SEED + 1)
    f = f"CC_CALL/{START}/CC_CALL_{START}_001.dat"
    assert (tmp_path / f).read_bytes() != (root / f).read_bytes()


# ------------------------------------------------------------------ semantics
def test_redelivery(cfg, run3):
    root, summary = run3
    folder = root / "CC_CALL" / "20130102"
    assert str(folder) in summary.redelivered
    entries = read_chk(folder / "CC_CALL_20130102.chk")
    listed = {e.file_name for e in entries}
    old = {p.name for p in folder.glob("*.dat")} - listed
    assert old and min(int(n[-7:-4]) for n in listed) > max(int(n[-7:-4]) for n in old)
    assert _ts(entries[0].gen_time) > _ts("20130103020000")
    first = summary.first_chk[str(folder)].decode("ascii").splitlines()
    assert {line.split("|")[0] for line in first} == old
    assert all((folder / line.split("|")[0]).stat().st_size == int(line.split("|")[1]) for line in first)


def test_objects_change_across_batches(cfg, run3):
    """Daily batches are incremental: an object accepted on D reappears later with a later update_time."""
    root, _ = run3
    for ifcode, key in (("FLT_TICKET", "fault_id"), ("CS_SHEET", "sheet_id"), ("SP_ORDER", "order_id")):
        seen: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
        for date, _, _, r in _rows(cfg, root, ifcode):
            seen[r[key]].append((date, r["update_time"]))
        later = [k for k, v in seen.items() if len({d for d, _ in v}) > 1 and
                 max(v)[1] > min(v)[1]]
        assert later, ifcode


def test_monthly_snapshots(cfg, run3):
    root, _ = run3
    by_month = collections.defaultdict(list)
    for date, _, _, r in _rows(cfg, root, "SUBS"):
        by_month[date].append(r)
    arrive = sum(1 for r in by_month["201212"] if r["status"] != "REMOVED")
    assert abs(arrive - SUBS) <= SUBS * 0.05
    jan = by_month["201301"]
    assert any(r["open_date"].startswith("201301") for r in jan)            # new users
    assert any(r["status"] == "REMOVED" and r["remove_date"].startswith("201301") for r in jan)   # churn
    assert {r["product_line"] for r in jan} >= {"MOB", "BB", "FIX"}
    gb4 = cfg.codes.gb_prefix()
    assert all(r["county_code"][:4] == gb4[r["city_code"]] for r in jan)
    for date, _, _, r in _rows(cfg, root, "APPEAL"):
        assert r["transfer_time"][:6] == date


def test_points_identity(cfg, month):
    """balance(M) = balance(prev M) + earned - redeemed - expired + adjusted, per customer and points type."""
    bal = {m: {(r["cust_id"], r["points_type"]): int(r["balance"])
               for d, _, _, r in _rows(cfg, month, "PTS_BAL") if d == m} for m in ("201212", "201301")}
    delta = collections.Counter()
    for _, _, _, r in _rows(cfg, month, "PTS_TXN"):
        if r["txn_time"].startswith("201301"):
            sign = -1 if r["txn_type"] in ("REDEEM", "EXPIRE") else 1
            delta[(r["cust_id"], r["points_type"])] += sign * int(r["points"])
    keys = set(bal["201212"]) | set(bal["201301"])
    assert delta and all(bal["201301"].get(k, 0) == bal["201212"].get(k, 0) + delta[k] for k in keys)
    types = collections.Counter(r["txn_type"] for *_, r in _rows(cfg, month, "PTS_TXN"))
    assert set(types) == {"EARN", "REDEEM", "EXPIRE", "ADJUST"}
    exch = {r["exch_id"]: r for *_, r in _rows(cfg, month, "PTS_EXCH")}
    for *_, r in _rows(cfg, month, "PTS_TXN"):
        if r["txn_type"] == "REDEEM":
            assert int(exch[r["exch_id"]]["points_used"]) == int(r["points"])


def test_window_edges_and_links(cfg, month):
    """The deliberate boundary cases exist: fault closed 24 h after accept, duplicate report 24 h later, call
    answered again 48 h later, queue+ring 20 s and 15 s, callback 48 h after its trigger; links resolve."""
    cur = {}
    for ifcode, key in (("FLT_TICKET", "fault_id"), ("CC_CALL", "call_id"), ("OB_TASK", "task_id"),
                        ("CS_SHEET", "sheet_id"), ("BILL_ADJ", "adj_id")):
        best = {}
        for date, f, n, r in _rows(cfg, month, ifcode):
            o = (r["update_time"], date, f, n)
            if r[key] not in best or o > best[r[key]][0]:
                best[r[key]] = (o, r)
        cur[ifcode] = [v[1] for v in best.values()]

    def sec(a, b):
        return (_ts(b) - _ts(a)).total_seconds()

    flt = cur["FLT_TICKET"]
    assert any(r["ticket_status"] == "CLOSED" and r["urban_rural"] == "U" and r["product_line"] in ("FIX", "BB")
               and not r["suspend_sec"] and sec(r["accept_time"], r["close_time"]) == 86400 for r in flt)
    by_nbr = collections.defaultdict(list)
    for r in flt:
        if r["ticket_status"] not in ("CANCELLED", "TEST"):
            by_nbr[r["acc_nbr"]].append(r["accept_time"])
    assert any(sec(a, b) == 86400 for v in by_nbr.values() for a in v for b in v)
    calls = [r for r in cur["CC_CALL"] if r["answer_time"]]
    qr = [int(r["queue_sec"]) + int(r["ring_sec"]) for r in calls]
    assert 20 in qr and 15 in qr
    sl20 = sum(1 for x in qr if x <= 20) / sum(1 for r in cur["CC_CALL"] if r["agent_req_time"])
    assert 0.7 < sl20 < 0.9
    by_caller = collections.defaultdict(list)
    for r in calls:
        by_caller[r["caller_no"]].append(r["answer_time"])
    assert any(sec(a, b) == 48 * 3600 for k, v in by_caller.items() if k for a in v for b in v)
    cbs = [r for r in cur["OB_TASK"] if r["task_type"] == "CALLBACK" and r["exec_time"]]
    assert any(sec(r["trigger_time"], r["exec_time"]) == 48 * 3600 for r in cbs)
    assert any(sec(r["trigger_time"], r["exec_time"]) > 48 * 3600 for r in cbs)
    sheets = {r["sheet_id"] for r in cur["CS_SHEET"]}
    faults = {r["fault_id"] for r in flt}
    assert any(r["related_fault_id"] in faults for r in cur["CS_SHEET"])
    assert any(r["related_type"] == "CMPL" and r["related_id"] in sheets for r in cur["BILL_ADJ"])


# ------------------------------------------------------------------ bad inputs
# kind -> (interface, variant, what the reason names after "<kind>:", or None when it is the kind alone)
_ROW_KINDS = {
    "BAD_ENCODING": [("FLT_TICKET", "lone_80", None), ("CC_CALL", "ff", None), ("SUBS", "lead_at_end", None),
                     ("CS_SHEET", "bad_trail", None), ("EC_LOG", "invalid_byte", None), ("EC_LOG", "truncated", None)],
    "FIELD_COUNT": [("HALL_QUEUE", "missing", None), ("PTS_BAL", "extra", None)],
    "NULL_VIOLATION": [("CC_CALL", None, "update_time"), ("SUBS", "cust_id", "cust_id")],
    "BAD_VALUE": [("FLT_TICKET", None, "accept_time"), ("SUBS", "D", "open_date"), ("SP_STEP", "N", "step_seq"),
                  ("CC_CALL", "B", "ivr_self_flag"), ("BILL_ADJ", "F", "amount_fen")],
    "BAD_CODE": [("OB_TASK", None, "task_type"), ("CS_SHEET", "special_city", "city_code"),
                 ("SP_ORDER", "county", "county_code")],
    "RULE": [("FLT_TICKET", "R1", "R1"), ("CC_CALL", "R2", "R2"), ("PTS_TXN", "R1", "R1"), ("APPEAL", "R1", "R1"),
             ("SUBS", "R3", "R3"), ("SUBS", "G1", "G1")],
}
ROW_CASES = [(kind, ifcode, variant, kind if named is None else f"{kind}:{named}")
             for kind, cases in _ROW_KINDS.items() for ifcode, variant, named in cases]


@pytest.mark.parametrize("kind,ifcode,variant,reason", ROW_CASES)
def test_bad_rows(cfg, tmp_path, kind, ifcode, variant, reason):
    date = "20130105" if cfg.interface(ifcode).freq == "D" else "201301"
    case = make_bad_batch(cfg, tmp_path, kind, ifcode, date, variant=variant, line_no=5, parts=2)
    name = f"{ifcode}_{date}_002.dat"
    assert case.expect.status == "LOADED" and case.rows == ((name, 5, reason),)
    assert case.expect.total >= 1000 and case.expect.batch_id == f"{ifcode}_{date}_002"
    spec = cfg.interface(ifcode)
    entries, recs = read_batch(case.folder, ifcode)
    assert sum(e.row_count for e in entries) == case.expect.total
    check = RowChecker(cfg, spec, date)
    found = [(n, i, check.check(raw)) for n, rs in recs.items() for i, raw in enumerate(rs, 1) if check.check(raw)]
    assert found == [(name, 5, reason)]


def test_bad_rows_respect_threshold(cfg, tmp_path):
    case = make_bad_batch(cfg, tmp_path, "BAD_CODE", "HALL_QUEUE", "20130105", bad_rows=3, threshold=0.01)
    assert len(case.rows) == 3 and case.expect.total == 300
    assert [line for _, line, _ in case.rows] == [7, 8, 9]


def test_reject_rate(cfg, tmp_path):
    case = make_bad_batch(cfg, tmp_path, "REJECT_RATE", "BILL_ADJ", "20130105")
    assert (case.expect.status, case.reason) == ("REJECTED", "REJECT_RATE")
    assert len(case.rows) == 1 and case.expect.total == 20


@pytest.mark.parametrize("variant", VARIANTS["CHK_MALFORMED"])
def test_chk_malformed(cfg, tmp_path, variant):
    case = make_bad_batch(cfg, tmp_path, "CHK_MALFORMED", "CC_CALL", "20130105", variant=variant)
    assert (case.expect.status, case.reason, case.expect.batch_id) == ("REJECTED", "CHK_MALFORMED", None)
    data = (case.folder / "CC_CALL_20130105.chk").read_bytes()
    lines = data.split(b"\n")
    broken = (data == b"" or b"\r" in data or max(data) > 0x7F or b"" in lines[:-1]
              or any(len(x.split(b"|")) != 5 for x in lines if x)
              or any(not (f := x.split(b"|"))[1].isdigit() or not f[2].isdigit() or f[4][8:10] > b"23"
                     for x in lines if x))
    assert broken


@pytest.mark.parametrize("variant", VARIANTS["NAME_MISMATCH"])
def test_name_mismatch(cfg, tmp_path, variant):
    case = make_bad_batch(cfg, tmp_path, "NAME_MISMATCH", "SUBS", "201301", variant=variant)
    assert (case.expect.status, case.reason) == ("REJECTED", "NAME_MISMATCH")
    entries = read_chk(case.folder / "SUBS_201301.chk")
    pat = re.compile(r"SUBS_201301_[0-9]{3}\.dat")
    names = [e.file_name for e in entries]
    assert (not all(pat.fullmatch(n) for n in names) or any(e.data_date != "201301" for e in entries)
            or len(set(names)) < len(names))


@pytest.mark.parametrize("kind", ["FILE_MISSING", "SIZE_MISMATCH", "COUNT_MISMATCH", "WAITING"])
def test_batch_faults(cfg, tmp_path, kind):
    case = make_bad_batch(cfg, tmp_path, kind, "FLT_TICKET", "20130105", parts=2)
    chk = case.folder / "FLT_TICKET_20130105.chk"
    if kind == "WAITING":
        assert not chk.exists() and list(case.folder.glob("*.dat"))
        assert case.expect.status == "WAITING"
        return
    assert (case.expect.status, case.reason) == ("REJECTED", kind)
    entries = read_chk(chk)
    assert case.expect.batch_id == f"FLT_TICKET_20130105_{len(entries):03d}"
    present = {p.name: p.read_bytes() for p in case.folder.glob("*.dat")}
    if kind == "FILE_MISSING":
        assert any(e.file_name not in present for e in entries)
    elif kind == "SIZE_MISMATCH":
        assert any(len(present[e.file_name]) != e.size_bytes for e in entries)
    else:
        assert all(len(present[e.file_name]) == e.size_bytes for e in entries)
        assert any(len(split_records(present[e.file_name])) != e.row_count for e in entries)
        assert case.expect.total == sum(len(split_records(b)) for b in present.values())


@pytest.mark.parametrize("kind", ["STALE_CHK", "SKIPPED", "REDELIVERY"])
def test_staged(cfg, tmp_path, kind):
    case = make_bad_batch(cfg, tmp_path, kind, "CS_SHEET", "20130105")
    chk = case.folder / "CS_SHEET_20130105.chk"
    first_bytes = chk.read_bytes()
    first = read_chk(chk)
    assert case.first.status == "LOADED" and case.first.batch_id == "CS_SHEET_20130105_001"
    exp = case.advance()
    assert not case.pending and chk.read_bytes() != first_bytes
    second = read_chk(chk)
    loaded_seq = max(int(e.file_name[-7:-4]) for e in first)
    low = min(int(e.file_name[-7:-4]) for e in second)
    same = sorted((e.file_name, e.size_bytes, e.row_count) for e in first) == \
        sorted((e.file_name, e.size_bytes, e.row_count) for e in second)
    if kind == "SKIPPED":
        assert same and exp.status == "SKIPPED"
    elif kind == "STALE_CHK":
        assert not same and low <= loaded_seq and (exp.status, exp.reason) == ("REJECTED", "STALE_CHK")
    else:
        assert low > loaded_seq and exp.status == "LOADED" and exp.total == sum(e.row_count for e in second)
        assert exp.batch_id == f"CS_SHEET_20130105_{max(int(e.file_name[-7:-4]) for e in second):03d}"


def test_every_kind_is_known():
    assert set(BATCH_KINDS) >= {"CHK_MALFORMED", "NAME_MISMATCH", "FILE_MISSING", "SIZE_MISMATCH", "COUNT_MISMATCH",
                                "REJECT_RATE", "STALE_CHK", "SKIPPED", "REDELIVERY", "WAITING"}


# ------------------------------------------------------------------ the config drives layout and codes
def test_field_order_follows_config(cfg, tmp_path):
    from dataclasses import replace

    spec = cfg.interface("HALL_QUEUE")
    rev = replace(spec, fields=tuple(reversed(spec.fields)))
    cfg2 = replace(cfg, interfaces={**cfg.interfaces, "HALL_QUEUE": rev})
    generate_landing(cfg, tmp_path / "a", START, 1, 200, SEED, redeliveries=False)
    generate_landing(cfg2, tmp_path / "b", START, 1, 200, SEED, redeliveries=False)
    a = [r for *_, r in _rows(cfg, tmp_path / "a", "HALL_QUEUE")]
    b = [r for *_, r in _rows(cfg2, tmp_path / "b", "HALL_QUEUE")]
    assert a and a == b
    raw = (tmp_path / "b" / "HALL_QUEUE" / START / f"HALL_QUEUE_{START}_001.dat").read_bytes().split(b"\n")[0]
    assert raw.decode("gbk").split("\x05")[-1] == a[0]["ticket_id"]


def test_codes_come_from_config(cfg, tmp_path):
    from dataclasses import replace

    from csqm.generate.codebook import GeneratorConfigError

    spec = cfg.interface("FLT_TICKET")
    fields = tuple(replace(f, codes=tuple(c for c in f.codes if c != "TEST")) if f.name == "ticket_status" else f
                   for f in spec.fields)
    cfg2 = replace(cfg, interfaces={**cfg.interfaces, "FLT_TICKET": replace(spec, fields=fields)})
    with pytest.raises(GeneratorConfigError, match="TEST"):
        generate_landing(cfg2, tmp_path, START, 1, 100, SEED)


def test_folded_facts_do_not_depend_on_which_rows_are_written(cfg):
    """The month ledger (PTS_BAL) folds the facts of every day, written or not (generate_monthly writes none): a
    subject must draw the same random numbers either way. ADJUST's time was drawn only for written rows, so 2,987
    of SF0.1's 3,359,176 January balances differed between generate_monthly and generate_landing."""
    from csqm.generate.world import World

    def facts(written: bool) -> dict[int, list]:
        w = World(cfg, "20130101", 31, 200_000, 1)
        lo, hi = (w.start_day, w.end_day) if written else (1, 0)
        return {d: w.run("pts", d, lo, hi).facts.get("pts", []) for d in range(w.start_day, w.end_day + 1)}

    written, unwritten = facts(True), facts(False)
    assert sum(len(v) for v in written.values()) > 300_000
    assert written == unwritten
