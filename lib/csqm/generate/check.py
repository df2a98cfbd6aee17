"""A pure-Python reading of the landing contract (sources.md §1-§3) for tests and for bad.py's self-check:
split and validate records, read a batch folder. Independent of the Spark ingest on purpose."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from csqm.config import Config, InterfaceSpec

_N = re.compile(r"-?[0-9]{1,18}")
_F = re.compile(r"-?[0-9]{1,15}")
_DIG8 = re.compile(r"[0-9]{8}")
_DIG14 = re.compile(r"[0-9]{14}")
_DIG6 = re.compile(r"[0-9]{6}")


def gbk_ok(b: bytes) -> bool:
    """Structural GBK check of sources.md §2."""
    i, n = 0, len(b)
    while i < n:
        x = b[i]
        if x <= 0x7F:
            i += 1
            continue
        if not 0x81 <= x <= 0xFE or i + 1 >= n:
            return False
        y = b[i + 1]
        if not (0x40 <= y <= 0x7E or 0x80 <= y <= 0xFE):
            return False
        i += 2
    return True


def utf8_ok(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def split_records(data: bytes) -> list[bytes]:
    """Records of a data file: split at 0x0A, one 0x0D before it dropped; the last may lack 0x0A."""
    if not data:
        return []
    parts = data.split(b"\n")
    if data.endswith(b"\n"):
        parts.pop()
    return [p[:-1] if p.endswith(b"\r") and (k < len(parts) - 1 or data.endswith(b"\n")) else p
            for k, p in enumerate(parts)]


def _date(s: str) -> dt.date | None:
    if not _DIG8.fullmatch(s):
        return None
    try:
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None


def _ts(s: str) -> dt.datetime | None:
    if not _DIG14.fullmatch(s):
        return None
    try:
        return dt.datetime.strptime(s, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def typed(ftype: str, s: str):
    """Typed value of a non-empty field, or raise ValueError (BAD_VALUE)."""
    if ftype in ("S", "C"):
        return s
    if ftype == "N":
        if not _N.fullmatch(s):
            raise ValueError(s)
        return int(s)
    if ftype == "F":
        if not _F.fullmatch(s):
            raise ValueError(s)
        return int(s)
    if ftype == "B":
        if s not in ("0", "1"):
            raise ValueError(s)
        return int(s)
    if ftype == "D":
        d = _date(s)
        if d is None:
            raise ValueError(s)
        return d
    if ftype == "T":
        t = _ts(s)
        if t is None:
            raise ValueError(s)
        return t
    raise ValueError(f"unknown type {ftype}")


def _ym(x) -> str | None:
    return None if x is None else f"{x.year:04d}{x.month:02d}"


def _last_day(month: str) -> dt.date:
    y, m = int(month[:4]), int(month[4:6])
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _nn(*xs) -> bool:
    return all(x is None or x >= 0 for x in xs)


# Row rules of sources.md §4 (the same predicates as conf/sources.yaml); None = SQL NULL = pass.
Rule = Callable[[Mapping, str], "bool | None"]
RULES: dict[tuple[str, str], Rule] = {
    ("FLT_TICKET", "R1"): lambda v, d: _nn(v["suspend_sec"]),
    ("CS_SHEET", "R1"): lambda v, d: _nn(v["suspend_sec"]),
    ("SP_ORDER", "R1"): lambda v, d: _nn(v["suspend_sec"]),
    ("SP_STEP", "R1"): lambda v, d: None if v["step_seq"] is None else v["step_seq"] >= 1,
    ("SP_STEP", "R2"): lambda v, d: v["limit_min"] is None or v["limit_min"] > 0,
    ("CC_CALL", "R1"): lambda v, d: _nn(v["queue_sec"], v["ring_sec"], v["talk_sec"], v["hold_sec"], v["acw_sec"]),
    ("CC_CALL", "R2"): lambda v, d: v["answer_time"] is None or v["agent_req_time"] is not None,
    ("EC_LOG", "R1"): lambda v, d: _nn(v["resp_ms"]),
    ("BILL_ADJ", "R1"): lambda v, d: None if v["amount_fen"] is None else v["amount_fen"] > 0,
    ("PTS_TXN", "R1"): lambda v, d: (v["txn_type"] in ("EARN", "REDEEM", "EXPIRE") and v["points"] > 0)
    or (v["txn_type"] == "ADJUST" and v["points"] != 0),
    ("PTS_EXCH", "R1"): lambda v, d: v["qty"] > 0,
    ("PTS_EXCH", "R2"): lambda v, d: v["points_used"] >= 0,
    ("APPEAL", "R1"): lambda v, d: _ym(v["transfer_time"]) == d,
    ("ESCAL", "R1"): lambda v, d: _ym(v["receive_time"]) == d,
    ("SUBS", "R1"): lambda v, d: v["open_date"] <= _last_day(d),
    ("SUBS", "R2"): lambda v, d: v["remove_date"] is None or _ym(v["remove_date"]) == d,
    ("SUBS", "R3"): lambda v, d: (v["status"] == "REMOVED") == (v["remove_date"] is not None),
    ("SUBS", "G1"): lambda v, d: v["cust_segment_l2"][:len(v["cust_segment"]) + 1] == v["cust_segment"] + "_",
    ("PTS_BAL", "R1"): lambda v, d: v["expire_ye_points"] is None or v["expire_ye_points"] >= 0,
}


class RowChecker:
    """check(raw_record_bytes) -> None when the row loads, else the reason_code of the first failing check."""

    def __init__(self, cfg: Config, spec: InterfaceSpec, data_date: str):
        self.spec = spec
        self.data_date = data_date
        self.gb4 = cfg.codes.gb_prefix()
        self.ok = utf8_ok if spec.encoding == "UTF-8" else gbk_ok
        self.codec = "utf-8" if spec.encoding == "UTF-8" else "gbk"
        self.fields = spec.fields
        self.names = spec.field_names
        self.rules = []
        for r in spec.rules:
            fn = RULES.get((spec.ifcode, r.id))
            if fn is None:
                raise ValueError(f"the generator checker has no Python reading of rule {spec.ifcode}.{r.id}: {r.expr}")
            self.rules.append((r.id, fn))

    def values(self, raw: bytes) -> list[str]:
        return [f.decode(self.codec, errors="replace") for f in raw.split(b"\x05")]

    def check(self, raw: bytes) -> str | None:
        parts = raw.split(b"\x05")
        if not all(self.ok(p) for p in parts):
            return "BAD_ENCODING"
        if len(parts) != len(self.fields):
            return "FIELD_COUNT"
        vals = [p.decode(self.codec) for p in parts]
        for f, v in zip(self.fields, vals, strict=True):
            if f.required and v == "":
                return f"NULL_VIOLATION:{f.name}"
        typed_vals = {}
        for f, v in zip(self.fields, vals, strict=True):
            if v == "":
                typed_vals[f.name] = None
                continue
            try:
                typed_vals[f.name] = typed(f.type, v)
            except ValueError:
                return f"BAD_VALUE:{f.name}"
        city = typed_vals.get("city_code")
        for f, v in zip(self.fields, vals, strict=True):
            if v == "":
                continue
            if f.type == "C" and v not in f.codes:
                return f"BAD_CODE:{f.name}"
            if f.check == "county":
                pre = self.gb4.get(city or "")
                if not (_DIG6.fullmatch(v) and pre is not None and v[:4] == pre):
                    return f"BAD_CODE:{f.name}"
        for rid, fn in self.rules:
            if fn(typed_vals, self.data_date) is False:
                return f"RULE:{rid}"
        return None


@dataclass(frozen=True)
class ChkEntry:
    file_name: str
    size_bytes: int
    row_count: int
    data_date: str
    gen_time: str


def read_chk(path: Path) -> list[ChkEntry]:
    data = path.read_bytes()
    data.decode("ascii")
    text = data.decode("ascii")
    if "\r" in text:
        raise ValueError("carriage return in .chk")
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    out = []
    for line in lines:
        f = line.split("|")
        if len(f) != 5:
            raise ValueError(f"bad .chk line {line!r}")
        out.append(ChkEntry(f[0], int(f[1]), int(f[2]), f[3], f[4]))
    return out


def read_batch(folder: Path, ifcode: str) -> tuple[list[ChkEntry], dict[str, list[bytes]]]:
    """The .chk entries of a batch folder and the records of every listed file (checked against size and count)."""
    date = folder.name
    entries = read_chk(folder / f"{ifcode}_{date}.chk")
    recs = {}
    for e in entries:
        data = (folder / e.file_name).read_bytes()
        if len(data) != e.size_bytes:
            raise ValueError(f"{e.file_name}: size {len(data)} != {e.size_bytes}")
        rs = split_records(data)
        if len(rs) != e.row_count:
            raise ValueError(f"{e.file_name}: {len(rs)} records != {e.row_count}")
        recs[e.file_name] = rs
    return entries, recs


def check_batch(cfg: Config, folder: Path, ifcode: str) -> list[tuple[str, int, str]]:
    """Quarantine findings [(file_name, line_no, reason_code)] of a batch folder (empty = every row loads)."""
    spec = cfg.interface(ifcode)
    checker = RowChecker(cfg, spec, folder.name)
    _, recs = read_batch(folder, ifcode)
    bad = []
    for name, rows in recs.items():
        for n, raw in enumerate(rows, 1):
            why = checker.check(raw)
            if why:
                bad.append((name, n, why))
    return bad
