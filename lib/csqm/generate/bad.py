"""Bad landing inputs for tests: batch-level faults (sources.md §3 first table) and bad rows at known lines.

    case = make_bad_batch(cfg, landing_root, "BAD_CODE", "FLT_TICKET", "20130105")
    case.expect.rows   -> [("FLT_TICKET_20130105_001.dat", 7, "BAD_CODE:fault_phen_l1")]

Every bad row starts from a valid generated record of the interface and is corrupted in one place; the expected
reason is cross-checked with the pure-Python reading of the contract (check.RowChecker). Kinds that need an
earlier loaded batch (STALE_CHK, SKIPPED, REDELIVERY) write a valid first delivery; ingest it, then call
`case.advance()` to write the next delivery and get its expected outcome.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from csqm.config import Config, InterfaceSpec

from .check import RowChecker
from .codebook import CODEC
from .common import DAY, HOUR, T, day_of, month_add, month_first
from .writer import chk_line, chk_name, data_name, folder_of, record_count

BATCH_KINDS = ("CHK_MALFORMED", "NAME_MISMATCH", "FILE_MISSING", "SIZE_MISMATCH", "COUNT_MISMATCH", "REJECT_RATE",
               "STALE_CHK", "SKIPPED", "REDELIVERY", "WAITING")
ROW_KINDS = ("BAD_ENCODING", "FIELD_COUNT", "NULL_VIOLATION", "BAD_VALUE", "BAD_CODE", "RULE")
VARIANTS = {
    "CHK_MALFORMED": ("field_count", "cr", "blank_line", "non_ascii", "non_numeric_size", "non_numeric_count",
                      "bad_gen_time", "empty"),
    "NAME_MISMATCH": ("wrong_name", "wrong_date", "name_other_date", "listed_twice"),
    "BAD_ENCODING": ("lone_80", "ff", "lead_at_end", "bad_trail"),            # GBK interfaces
    "BAD_ENCODING_UTF8": ("invalid_byte", "truncated", "lone_continuation", "overlong"),
    "FIELD_COUNT": ("missing", "extra"),
    "BAD_VALUE": ("T", "D", "N", "B", "F"),
    "BAD_CODE": ("wrong_case", "unknown", "special_city", "county"),
    "NULL_VIOLATION": ("last_required",),   # or the name of a required field
    "RULE": ("R1", "R2", "R3", "G1"),       # the rule ids the interface has
}


@dataclass(frozen=True)
class Expect:
    """Expected outcome of one delivery (sources.md §3, ops_batch_log / ops_quarantine)."""

    status: str                                  # LOADED, REJECTED, SKIPPED, WAITING
    reason: str | None                           # batch reason_code
    batch_id: str | None                         # None where the contract logs none (CHK_MALFORMED, NAME_MISMATCH…)
    rows: tuple[tuple[str, int, str], ...] = ()  # quarantined (file_name, line_no, reason_code)
    total: int | None = None                     # records of the batch (Σ row_count) when known
    files: tuple[str, ...] = ()                  # data files listed by the .chk


@dataclass
class BadCase:
    kind: str
    variant: str
    ifcode: str
    data_date: str
    folder: Path
    first: Expect                                # outcome of the delivery already written
    expect: Expect                               # outcome of the last delivery
    pending: list[tuple[Callable[[], list[Path]], Expect]] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    note: str = ""

    @property
    def reason(self) -> str | None:
        return self.expect.reason

    @property
    def rows(self) -> tuple[tuple[str, int, str], ...]:
        return self.expect.rows

    def advance(self) -> Expect:
        """Write the next delivery (after the previous one was ingested); returns its expected outcome."""
        if not self.pending:
            raise RuntimeError(f"{self.kind}: no further delivery")
        write, exp = self.pending.pop(0)
        self.paths.extend(write())
        return exp


# ------------------------------------------------------------------ low level
def default_gen_time(data_date: str) -> str:
    if len(data_date) == 8:
        return T((day_of(data_date) + 1) * DAY + 2 * HOUR + 17 * 60)
    m = int(data_date)
    return T((month_first(month_add(m, 1)) + 2) * DAY + 3 * HOUR)


def file_bytes(records: Sequence[bytes]) -> bytes:
    return b"\n".join(records) + b"\n" if records else b""


def write_batch(landing_root: str | Path, spec: InterfaceSpec, data_date: str, parts: list[list[bytes]],
                seq_start: int = 1, chk_overrides: Mapping[int, Mapping[str, str]] | Callable[[list[str]], bytes]
                | None = None, gen_time: str | None = None, write_control: bool = True,
                skip_parts: Sequence[int] = ()) -> list[Path]:
    """Write .dat parts (records as raw bytes, joined with b'\\n', trailing newline) with consecutive seq from
    seq_start, then the .chk LAST. chk_overrides: {part index: {chk field: value}} to falsify a line, or a
    function(correct lines) -> the .chk bytes. skip_parts: parts listed in the .chk but not written."""
    folder = folder_of(landing_root, spec.ifcode, data_date)
    folder.mkdir(parents=True, exist_ok=True)
    gen_time = gen_time or default_gen_time(data_date)
    written, lines = [], []
    for k, recs in enumerate(parts):
        name = data_name(spec.ifcode, data_date, seq_start + k)
        data = file_bytes(recs)
        if k not in skip_parts:
            (folder / name).write_bytes(data)
            written.append(folder / name)
        vals = {"file_name": name, "size_bytes": str(len(data)), "row_count": str(record_count(data)),
                "data_date": data_date, "gen_time": gen_time}
        if isinstance(chk_overrides, Mapping):
            vals.update(chk_overrides.get(k, {}))
        lines.append("|".join(vals[f] for f in ("file_name", "size_bytes", "row_count", "data_date", "gen_time"))
                     + "\n")
    if write_control:
        path = folder / chk_name(spec.ifcode, data_date)
        if callable(chk_overrides):
            path.write_bytes(chk_overrides(lines))
        else:
            path.write_bytes("".join(lines).encode("ascii"))
        written.append(path)
    return written


# ------------------------------------------------------------------ valid records
def valid_records(cfg: Config, ifcode: str, data_date: str, n: int | None = None, seed: int = 1,
                  subscribers: int = 300) -> list[list[str]]:
    """Valid generated records of the interface for data_date, in the config's field order. With n, exactly n
    records: missing ones are copies with a suffixed key (still valid, distinct keys)."""
    key = (id(cfg), ifcode, data_date, seed, subscribers)
    got = _VALID.get(key)
    if got is None:
        got = _VALID[key] = _generate_valid(cfg, ifcode, data_date, seed, subscribers)
        if len(_VALID) > 64:
            _VALID.pop(next(iter(_VALID)))
    spec = cfg.interface(ifcode)
    out = [list(r) for r in got]
    if n is None:
        return out
    keys = [i for i, f in enumerate(spec.fields) if f.name in spec.key and f.type == "S"]
    base = len(out)
    for j in range(base, n):
        rec = list(out[j % base])
        for i in keys:
            rec[i] = f"{rec[i]}X{j:06d}"
        out.append(rec)
    return out[:n]


_VALID: dict[tuple, list[tuple[str, ...]]] = {}


def _generate_valid(cfg: Config, ifcode: str, data_date: str, seed: int, subscribers: int) -> list[tuple[str, ...]]:
    from .world import World
    spec = cfg.interface(ifcode)
    if spec.freq == "D":
        # the records of data_date; an interface with none that day (few subscribers) borrows the next days'
        w = World(cfg, data_date, 45, subscribers, seed)
        recs = []
        for _, batches in w.daily_batches(w.start_day, w.end_day):
            recs.extend(batches.get(ifcode, []))
            if len(recs) >= 50:
                break
    else:
        m = int(data_date)
        w = World(cfg, f"{data_date}01", 1, subscribers, seed)
        if ifcode == "SUBS":
            recs = list(w.pop.snapshot_rows(m))
        elif ifcode == "PTS_BAL":
            w.book.advance_to(m)
            recs = list(w.book.rows(m))
        elif ifcode == "APPEAL":
            recs = [x.rec for x in w.appeals(m)]
        else:
            recs = [x.rec for x in w.escalations(m)]
    layout = w.layouts[ifcode]
    out = [tuple(layout.reorder(r)) for r in recs]
    if not out:
        raise ValueError(f"no valid {ifcode} record generated for {data_date}")
    return out


def encode(spec: InterfaceSpec, rec: Sequence[str]) -> bytes:
    return "\x05".join(rec).encode(CODEC[spec.encoding])


# ------------------------------------------------------------------ row corruptions
def _first(spec: InterfaceSpec, pred) -> int:
    for i, f in enumerate(spec.fields):
        if pred(f):
            return i
    raise ValueError(f"{spec.ifcode}: no field for this corruption")


def _bad_field_index(spec: InterfaceSpec) -> int:
    """A non-key S field (the last one) to carry undecodable bytes."""
    idx = [i for i, f in enumerate(spec.fields) if f.type == "S" and f.name not in spec.key]
    return idx[-1] if idx else len(spec.fields) - 1


_ENC = {"lone_80": b"\x80", "ff": b"\xff", "lead_at_end": b"\xb2", "bad_trail": b"\xb2\x30",
        "invalid_byte": b"\xff", "truncated": "中".encode()[:2], "lone_continuation": b"\x80",
        "overlong": b"\xc0\xaf"}


def _month_shift(yyyymm: str, k: int) -> str:
    return str(month_add(int(yyyymm), k))


def _rule_break(spec: InterfaceSpec, rid: str, rec: list[str], data_date: str) -> list[str]:
    ix = {f.name: i for i, f in enumerate(spec.fields)}
    r = list(rec)

    def put(name: str, value: str) -> None:
        r[ix[name]] = value
    key = (spec.ifcode, rid)
    if rid == "R1" and "suspend_sec" in ix:
        put("suspend_sec", "-60")
    elif key == ("SP_STEP", "R1"):
        put("step_seq", "0")
    elif key == ("SP_STEP", "R2"):
        put("limit_min", "0")
    elif key == ("CC_CALL", "R1"):
        put("queue_sec", "-1")
    elif key == ("CC_CALL", "R2"):
        put("agent_req_time", "")
    elif key == ("EC_LOG", "R1"):
        put("resp_ms", "-5")
    elif key == ("BILL_ADJ", "R1"):
        put("amount_fen", "0")
    elif key == ("PTS_TXN", "R1"):
        put("points", "0")
    elif key == ("PTS_EXCH", "R1"):
        put("qty", "0")
    elif key == ("PTS_EXCH", "R2"):
        put("points_used", "-1")
    elif key in (("APPEAL", "R1"), ("ESCAL", "R1")):
        put("transfer_time" if spec.ifcode == "APPEAL" else "receive_time", _month_shift(data_date, -1) + "15100000")
    elif key == ("SUBS", "R1"):
        put("open_date", _month_shift(data_date, 1) + "02")
        put("remove_date", "")
        put("status", "ACTIVE")
    elif key == ("SUBS", "R2"):
        put("remove_date", _month_shift(data_date, -1) + "20")
        put("status", "REMOVED")
        put("open_date", _month_shift(data_date, -24) + "01")
    elif key == ("SUBS", "R3"):
        put("remove_date", "")
        put("status", "REMOVED")
    elif key == ("SUBS", "G1"):
        seg = r[ix["cust_segment"]]
        put("cust_segment", "GOV" if seg == "PUB" else "PUB")
    elif key == ("PTS_BAL", "R1"):
        put("expire_ye_points", "-1")
    else:
        raise ValueError(f"no corruption for rule {spec.ifcode}.{rid}")
    return r


def corrupt(cfg: Config, spec: InterfaceSpec, kind: str, variant: str, rec: list[str], data_date: str) -> bytes:
    """The raw bytes of `rec` broken the way (kind, variant) says."""
    codec = CODEC[spec.encoding]
    r = list(rec)
    if kind == "BAD_ENCODING":
        i = _bad_field_index(spec)
        fields = [v.encode(codec) for v in r]
        fields[i] = fields[i] + _ENC[variant]
        return b"\x05".join(fields)
    if kind == "FIELD_COUNT":
        r = r[:-1] if variant == "missing" else r + [""]
    elif kind == "NULL_VIOLATION":
        if variant == "last_required":
            i = max(i for i, f in enumerate(spec.fields) if f.required)
        else:
            i = _first(spec, lambda f: f.name == variant and f.required)
        r[i] = ""
    elif kind == "BAD_VALUE":
        i = _first(spec, lambda f: f.type == variant)
        r[i] = {"T": "20130230120000", "D": "20131301", "N": "12a", "B": "2", "F": "1.50"}[variant]
    elif kind == "BAD_CODE":
        if variant == "wrong_case":
            i = _first(spec, lambda f: f.type == "C" and r[spec.fields.index(f)] != r[spec.fields.index(f)].lower())
            r[i] = r[i].lower()
        elif variant == "unknown":
            i = _first(spec, lambda f: f.type == "C" and f.required)
            r[i] = "UNK"
        elif variant == "special_city":
            i = _first(spec, lambda f: f.name == "city_code")
            r[i] = "9999"
        else:
            i = _first(spec, lambda f: f.check == "county")
            city = r[_first(spec, lambda f: f.name == "city_code")]
            other = next(c.gb_code for c in cfg.codes.cities if c.city_code != city)
            r[i] = other[:4] + "21"
    elif kind == "RULE":
        r = _rule_break(spec, variant, r, data_date)
    else:
        raise ValueError(f"unknown row kind {kind!r}")
    return encode(spec, r)


def expected_reason(spec: InterfaceSpec, kind: str, variant: str, rec: list[str]) -> str:
    if kind in ("BAD_ENCODING", "FIELD_COUNT"):
        return kind
    if kind == "NULL_VIOLATION":
        i = max(i for i, f in enumerate(spec.fields) if f.required) if variant == "last_required" else \
            _first(spec, lambda f: f.name == variant)
        return f"NULL_VIOLATION:{spec.fields[i].name}"
    if kind == "BAD_VALUE":
        return f"BAD_VALUE:{spec.fields[_first(spec, lambda f: f.type == variant)].name}"
    if kind == "BAD_CODE":
        if variant == "wrong_case":
            i = _first(spec, lambda f: f.type == "C" and rec[spec.fields.index(f)] != rec[spec.fields.index(f)].lower())
        elif variant == "unknown":
            i = _first(spec, lambda f: f.type == "C" and f.required)
        elif variant == "special_city":
            i = _first(spec, lambda f: f.name == "city_code")
        else:
            i = _first(spec, lambda f: f.check == "county")
        return f"BAD_CODE:{spec.fields[i].name}"
    return f"RULE:{variant}"


def _suitable(spec: InterfaceSpec, kind: str, variant: str, rec: list[str]) -> bool:
    ix = {f.name: i for i, f in enumerate(spec.fields)}
    if kind == "RULE" and (spec.ifcode, variant) == ("CC_CALL", "R2"):
        return rec[ix["answer_time"]] != ""
    if kind == "RULE" and (spec.ifcode, variant) == ("SUBS", "R3"):
        return rec[ix["status"]] != "REMOVED"
    if kind == "BAD_CODE" and variant == "wrong_case":
        return any(f.type == "C" and rec[i] != rec[i].lower() for i, f in enumerate(spec.fields))
    return True


# ------------------------------------------------------------------ cases
def _default_variant(kind: str, spec: InterfaceSpec) -> str:
    if kind == "BAD_ENCODING":
        return "invalid_byte" if spec.encoding == "UTF-8" else "lone_80"
    if kind == "RULE":
        if not spec.rules:
            raise ValueError(f"{spec.ifcode} has no row rule")
        return spec.rules[0].id
    if kind == "BAD_VALUE":
        for t in ("T", "D", "N", "F", "B"):
            if any(f.type == t for f in spec.fields):
                return t
    if kind == "BAD_CODE":
        return "wrong_case"
    return VARIANTS.get(kind, ("default",))[0]


def _batch_id(ifcode: str, date: str, seq: int) -> str:
    return f"{ifcode}_{date}_{seq:03d}"


def make_bad_batch(cfg: Config, landing_root: str | Path, kind: str, ifcode: str, data_date: str, *,
                   variant: str | None = None, seed: int = 1, bad_rows: int = 1, line_no: int = 7,
                   parts: int = 1, threshold: float | None = None, total: int | None = None,
                   subscribers: int = 300) -> BadCase:
    """Write one bad batch (or the first delivery of a staged case) of `ifcode` for `data_date`.

    Row kinds put `bad_rows` corrupted records at lines line_no, line_no+1, … of the LAST part (of `parts`),
    in a batch of at least ceil(bad_rows / threshold) records so that it still loads (threshold defaults to the
    config's ingest.reject_threshold); REJECT_RATE uses a small batch so that it is rejected."""
    spec = cfg.interface(ifcode)
    if kind not in BATCH_KINDS + ROW_KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    variant = variant or _default_variant(kind, spec)
    thr = cfg.env.ingest.reject_threshold if threshold is None else threshold
    root = Path(landing_root)
    folder = folder_of(root, ifcode, data_date)
    if (folder / chk_name(ifcode, data_date)).exists() or any(folder.glob("*.dat")):
        raise FileExistsError(f"{folder} already holds a batch")
    if kind in ROW_KINDS:
        need = total or max(20, -(-bad_rows // thr) if thr > 0 else 1_000_000)
        return _row_case(cfg, root, spec, kind, variant, data_date, seed, bad_rows, line_no, parts, int(need),
                         subscribers)
    if kind == "REJECT_RATE":
        n = total or 20
        case = _row_case(cfg, root, spec, "BAD_VALUE", _default_variant("BAD_VALUE", spec), data_date, seed,
                         bad_rows, line_no, parts, n, subscribers)
        e = case.expect
        exp = Expect("REJECTED", "REJECT_RATE", e.batch_id, e.rows, e.total, e.files)
        if bad_rows <= thr * n:
            raise ValueError("REJECT_RATE needs bad_rows > threshold × total")
        return BadCase("REJECT_RATE", "bad_value", ifcode, data_date, folder, exp, exp, paths=case.paths)
    recs = [encode(spec, r) for r in valid_records(cfg, ifcode, data_date, total, seed, subscribers)]
    chunks = _chunks(recs, parts)
    names = [data_name(ifcode, data_date, k + 1) for k in range(len(chunks))]
    bid = _batch_id(ifcode, data_date, len(chunks))
    ok = Expect("LOADED", None, bid, (), len(recs), tuple(names))
    case = BadCase(kind, variant, ifcode, data_date, folder, ok, ok)

    def done(exp: Expect, paths: list[Path]) -> BadCase:
        case.first = case.expect = exp
        case.paths = paths
        return case

    if kind == "WAITING":
        return done(Expect("WAITING", None, None), write_batch(root, spec, data_date, chunks, write_control=False))
    if kind == "CHK_MALFORMED":
        return done(Expect("REJECTED", "CHK_MALFORMED", None),
                    write_batch(root, spec, data_date, chunks, chk_overrides=_malformed(variant)))
    if kind == "NAME_MISMATCH":
        return done(Expect("REJECTED", "NAME_MISMATCH", None),
                    write_batch(root, spec, data_date, chunks, chk_overrides=_mismatch(variant, ifcode, data_date)))
    if kind == "FILE_MISSING":
        chunks2 = chunks + [chunks[-1][:1]]
        bid2 = _batch_id(ifcode, data_date, len(chunks2))
        return done(Expect("REJECTED", "FILE_MISSING", bid2),
                    write_batch(root, spec, data_date, chunks2, skip_parts=(len(chunks2) - 1,)))
    if kind in ("SIZE_MISMATCH", "COUNT_MISMATCH"):
        last = len(chunks) - 1
        data = file_bytes(chunks[last])
        if kind == "SIZE_MISMATCH":
            over = {last: {"size_bytes": str(len(data) + 1)}}
            exp = Expect("REJECTED", kind, bid)
        else:
            over = {last: {"row_count": str(record_count(data) + 1)}}
            exp = Expect("REJECTED", kind, bid, (), len(recs), tuple(names))   # rows_total = actual count
        return done(exp, write_batch(root, spec, data_date, chunks, chk_overrides=over))
    # staged kinds: a valid first delivery, then the next one
    case.paths = write_batch(root, spec, data_date, chunks)
    later = default_gen_time(data_date)[:8] + "113000"
    if kind == "SKIPPED":
        case.pending = [(lambda: write_batch(root, spec, data_date, chunks, gen_time=later),
                         Expect("SKIPPED", None, bid))]
    elif kind == "STALE_CHK":
        # lowest listed seq (001) is not above the loaded batch seq: the loaded parts plus one new part
        extra = [encode(spec, r) for r in valid_records(cfg, ifcode, data_date, None, seed + 1, subscribers)][:3]

        def stale() -> list[Path]:
            p = write_batch(root, spec, data_date, [extra], seq_start=len(chunks) + 1, write_control=False)
            lines = [chk_line(nm, len(file_bytes(c)), len(c), data_date, later)
                     for nm, c in zip(names, chunks, strict=True)]
            nm = data_name(ifcode, data_date, len(chunks) + 1)
            lines.append(chk_line(nm, len(file_bytes(extra)), len(extra), data_date, later))
            path = folder / chk_name(ifcode, data_date)
            path.write_bytes("".join(lines).encode("ascii"))
            return p + [path]
        case.pending = [(stale, Expect("REJECTED", "STALE_CHK", _batch_id(ifcode, data_date, len(chunks) + 1)))]
    elif kind == "REDELIVERY":
        more = [encode(spec, r) for r in valid_records(cfg, ifcode, data_date, None, seed + 1, subscribers)][:5]
        new = _chunks(recs[1:] + more, parts)   # corrected content: one record withdrawn, a few late ones added
        seq0 = len(chunks) + 1
        names2 = tuple(data_name(ifcode, data_date, seq0 + k) for k in range(len(new)))
        case.pending = [(lambda: write_batch(root, spec, data_date, new, seq_start=seq0, gen_time=later),
                         Expect("LOADED", None, _batch_id(ifcode, data_date, seq0 + len(new) - 1), (),
                                sum(len(c) for c in new), names2))]
        case.note = "the first batch becomes REPLACED"
    case.expect = case.pending[-1][1]
    return case


def _chunks(recs: list[bytes], parts: int) -> list[list[bytes]]:
    parts = max(1, min(parts, len(recs))) if recs else 1
    size = -(-len(recs) // parts) if recs else 0
    return [recs[k * size:(k + 1) * size] for k in range(parts)] if recs else [[]]


def _malformed(variant: str) -> Callable[[list[str]], bytes]:
    def f(lines: list[str]) -> bytes:
        first = lines[0]
        fs = first.rstrip("\n").split("|")
        if variant == "field_count":
            bad = "|".join(fs[:4]) + "\n"
        elif variant == "cr":
            return "".join(x.replace("\n", "\r\n") for x in lines).encode("ascii")
        elif variant == "blank_line":
            return ("".join(lines) + "\n").encode("ascii")
        elif variant == "non_ascii":
            return ("".join(lines)).encode("ascii") + "说明\n".encode("gbk")
        elif variant == "non_numeric_size":
            bad = "|".join([fs[0], fs[1] + "a"] + fs[2:]) + "\n"
        elif variant == "non_numeric_count":
            bad = "|".join(fs[:2] + ["1O"] + fs[3:]) + "\n"
        elif variant == "bad_gen_time":
            bad = "|".join(fs[:4] + [fs[4][:8] + "250000"]) + "\n"
        elif variant == "empty":
            return b""
        else:
            raise ValueError(f"unknown CHK_MALFORMED variant {variant!r}")
        return (bad + "".join(lines[1:])).encode("ascii")
    return f


def _mismatch(variant: str, ifcode: str, date: str) -> Callable[[list[str]], bytes]:
    def f(lines: list[str]) -> bytes:
        fs = lines[0].rstrip("\n").split("|")
        if variant == "wrong_name":
            fs[0] = fs[0].replace(f"_{date}_", f"-{date}-")
        elif variant == "wrong_date":
            fs[3] = _other_date(date)
        elif variant == "name_other_date":
            fs[0] = fs[0].replace(f"_{date}_", f"_{_other_date(date)}_")
        elif variant == "listed_twice":
            return ("".join(lines) + lines[0]).encode("ascii")
        else:
            raise ValueError(f"unknown NAME_MISMATCH variant {variant!r}")
        return ("|".join(fs) + "\n" + "".join(lines[1:])).encode("ascii")
    return f


def _other_date(date: str) -> str:
    if len(date) == 8:
        d = dt.date(int(date[:4]), int(date[4:6]), int(date[6:])) + dt.timedelta(days=1)
        return d.strftime("%Y%m%d")
    return _month_shift(date, 1)


def _row_case(cfg: Config, root: Path, spec: InterfaceSpec, kind: str, variant: str, data_date: str, seed: int,
              bad_rows: int, line_no: int, parts: int, total: int, subscribers: int) -> BadCase:
    if kind == "BAD_ENCODING" and spec.encoding == "UTF-8" and variant in VARIANTS["BAD_ENCODING"]:
        raise ValueError(f"{spec.ifcode} is UTF-8: use one of {VARIANTS['BAD_ENCODING_UTF8']}")
    recs = valid_records(cfg, spec.ifcode, data_date, max(total, line_no + bad_rows), seed, subscribers)
    chunks = _chunks(recs, parts)
    last = chunks[-1]
    if line_no + bad_rows - 1 > len(last):
        raise ValueError(f"line {line_no}+{bad_rows} beyond the last part ({len(last)} records)")
    checker = RowChecker(cfg, spec, data_date)
    out_chunks = [[encode(spec, r) for r in c] for c in chunks]
    name = data_name(spec.ifcode, data_date, len(chunks))
    rows = []
    pool = [r for r in recs if _suitable(spec, kind, variant, r)]
    if not pool:
        raise ValueError(f"no {spec.ifcode} record suits {kind}/{variant}")
    for j in range(bad_rows):
        pos = line_no - 1 + j
        rec = last[pos]
        if not _suitable(spec, kind, variant, rec):
            src = list(pool[j % len(pool)])
            keys = [i for i, f in enumerate(spec.fields) if f.name in spec.key and f.type == "S"]
            for i in keys:
                src[i] = f"{src[i]}B{j:04d}"
            rec = src
        raw = corrupt(cfg, spec, kind, variant, rec, data_date)
        want = expected_reason(spec, kind, variant, rec)
        got = checker.check(raw)
        if got != want:
            raise AssertionError(f"{spec.ifcode} {kind}/{variant}: the corrupted row reads as {got}, not {want}")
        out_chunks[-1][pos] = raw
        rows.append((name, pos + 1, want))
    paths = write_batch(root, spec, data_date, out_chunks)
    names = tuple(data_name(spec.ifcode, data_date, k + 1) for k in range(len(chunks)))
    exp = Expect("LOADED", None, _batch_id(spec.ifcode, data_date, len(chunks)), tuple(rows), len(recs), names)
    return BadCase(kind, variant, spec.ifcode, data_date, folder_of(root, spec.ifcode, data_date), exp, exp,
                   paths=paths)
