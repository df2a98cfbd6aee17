"""Repeat complaints (silver repeat_cnt_30d) and the flag mix of the regulator lists (APPEAL, ESCAL) at small scale:
300 subscribers x 31 days, read back with plain Python (no Spark)."""
from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pytest
from csqm.generate import generate_days, generate_landing, generate_monthly
from csqm.generate.check import RowChecker, read_batch

START, DAYS, SUBS = "20130101", 31, 300
WINDOW = dt.timedelta(hours=720)
SEEDS = (7, 11, 23)


def _rows(cfg, root: Path, ifcode: str) -> list[tuple[str, str, int, dict]]:
    """(folder date, file, line, record as dict) of every current batch; every record passes the row checks."""
    spec = cfg.interface(ifcode)
    out = []
    for folder in sorted((root / ifcode).iterdir()):
        check = RowChecker(cfg, spec, folder.name)
        entries, recs = read_batch(folder, ifcode)
        for e in entries:
            for n, raw in enumerate(recs[e.file_name], 1):
                assert check.check(raw) is None, (ifcode, e.file_name, n, check.check(raw))
                out.append((folder.name, e.file_name, n, dict(zip(spec.field_names, raw.decode("gbk").split("\x05"),
                                                                  strict=True))))
    return out


def _ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y%m%d%H%M%S")


@pytest.fixture(scope="module", params=SEEDS)
def land(cfg, tmp_path_factory, request):
    root = tmp_path_factory.mktemp(f"rep{request.param}")
    generate_landing(cfg, root, START, DAYS, SUBS, request.param)
    # current state of every sheet (sources.md §1.5)
    best = {}
    for date, f, n, r in _rows(cfg, root, "CS_SHEET"):
        o = (r["update_time"], date, f, n)
        if r["sheet_id"] not in best or o > best[r["sheet_id"]][0]:
            best[r["sheet_id"]] = (o, r)
    sheets = {k: v[1] for k, v in best.items()}
    appeals = [r for *_, r in _rows(cfg, root, "APPEAL")]
    escals = [r for *_, r in _rows(cfg, root, "ESCAL")]
    return root, sheets, appeals, escals, request.param


def _valid_cmpl(sheets: dict) -> dict[str, dict]:
    return {k: r for k, r in sheets.items()
            if r["sheet_type"] == "CMPL" and r["valid_flag"] == "1" and r["sheet_status"] != "CANCELLED"}


def _repeat_gaps(sheets: dict) -> tuple[list[dt.timedelta], int]:
    """Gaps between each valid CMPL and the earlier valid CMPL sheets of its subject (silver.md §2 repeat_cnt_30d:
    acc_nbr, else C:cust_id) within 720 h; and the number of valid CMPL with repeat_cnt_30d > 0."""
    subj = collections.defaultdict(list)
    for k, r in _valid_cmpl(sheets).items():
        s = r["acc_nbr"] or (f"C:{r['cust_id']}" if r["cust_id"] else "")
        if s:
            subj[s].append((_ts(r["accept_time"]), k))
    gaps, repeats = [], 0
    for v in subj.values():
        v.sort()
        for n, (t, _) in enumerate(v):
            g = [t - t2 for t2, _ in v[:n] if t - t2 <= WINDOW]
            gaps += g
            repeats += bool(g)
    return gaps, repeats


def test_repeat_complaints(land):
    _, sheets, *_ = land
    gaps, repeats = _repeat_gaps(sheets)
    assert any(g < WINDOW for g in gaps)             # a number complained twice within 30 days
    assert WINDOW in gaps                            # the window edge: exactly 720 h after an earlier complaint
    n = len(_valid_cmpl(sheets))
    assert n >= 30 and 0.05 <= repeats / n <= 0.3, (repeats, n)


def test_appeal_flags_mix(land):
    _, sheets, appeals, *_ = land
    assert len(appeals) >= 6
    vals = {f: {r[f] for r in appeals} for f in ("counted_flag", "resp_flag", "satisfied_flag")}
    assert vals["counted_flag"] == {"0", "1"}
    assert sum(r["counted_flag"] == "1" for r in appeals) > len(appeals) / 2      # mostly counted
    assert vals["resp_flag"] == {"0", "1", ""}
    assert {"0", "1"} <= vals["satisfied_flag"]
    _replies_and_links(appeals, "transfer_time", sheets)


def test_escalation_flags_mix(land):
    _, sheets, _, escals, _ = land
    assert len(escals) >= 6
    vals = {f: {r[f] for r in escals} for f in ("counted_flag", "resp_flag", "appeal_after_flag")}
    assert vals["counted_flag"] == {"0", "1"}
    assert sum(r["counted_flag"] == "1" for r in escals) > len(escals) / 2
    assert vals["resp_flag"] == {"0", "1", ""}
    assert {"0", "1"} <= vals["appeal_after_flag"]
    _replies_and_links(escals, "receive_time", sheets)


def _replies_and_links(rows: list[dict], start: str, sheets: dict) -> None:
    replied = [r for r in rows if r["reply_time"]]
    assert any(r["reply_time"] <= r["reply_deadline"] for r in replied)
    assert any(r["reply_time"] > r["reply_deadline"] for r in replied)
    assert all(r["satisfied_flag"] == "" for r in rows if not r["reply_time"] and "satisfied_flag" in r)
    assert all(r["result_code"] == "PENDING" for r in rows if not r["reply_time"])
    cmpl = _valid_cmpl(sheets)
    linked = [r for r in rows if r["local_sheet_id"]]
    assert any(r["local_sheet_id"] in cmpl for r in linked)          # a real valid complaint of the run
    assert len(linked) < len(rows)
    for r in linked:
        s = cmpl.get(r["local_sheet_id"])
        if s is not None:
            assert s["accept_time"] < r[start]
            assert not r["acc_nbr"] or not s["acc_nbr"] or r["acc_nbr"] == s["acc_nbr"]


def test_split_workers_same_bytes(cfg, land, tmp_path):
    """Repeats look back over earlier days: workers writing parts of the days still write the same bytes."""
    root, seed = land[0], land[4]
    generate_days(cfg, tmp_path, START, DAYS, SUBS, seed, "20130117", "20130131")
    generate_days(cfg, tmp_path, START, DAYS, SUBS, seed, "20130101", "20130116")
    generate_monthly(cfg, tmp_path, START, DAYS, SUBS, seed)
    for ifcode in ("CS_SHEET", "CC_CALL", "OB_TASK", "BILL_ADJ", "APPEAL", "ESCAL"):
        a = {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / ifcode).rglob("*")) if p.is_file()}
        b = {str(p.relative_to(tmp_path)): p.read_bytes() for p in sorted((tmp_path / ifcode).rglob("*"))
             if p.is_file()}
        assert a == b, ifcode
