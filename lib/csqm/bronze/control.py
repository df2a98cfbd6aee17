"""Batch-level checks of sources.md §1 and §3 on the control file, in the contract's order (pure Python)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChkLine:
    """One line of a .chk: a data file of the batch."""

    file_name: str
    size_bytes: int
    row_count: int
    data_date: str
    gen_time: str

    @property
    def seq(self) -> int:
        return int(self.file_name[-7:-4])


@dataclass(frozen=True)
class LoadedBatch:
    """What ops_batch_log says of the batch currently LOADED for a folder."""

    batch_id: str
    seq: int
    files: tuple[tuple[str, int, int], ...]  # (name, size, count)


@dataclass(frozen=True)
class Decision:
    """Outcome of the pre-read checks: proceed (reason None, status None), SKIPPED, or REJECTED with a reason."""

    status: str | None
    reason: str | None
    lines: tuple[ChkLine, ...] = ()
    batch_id: str | None = None
    detail: str = ""


def is_folder_date(name: str, freq: str) -> bool:
    """Folders whose name is not a date of the interface's frequency are ignored (sources.md §1.3)."""
    fmt, n = ("%Y%m%d", 8) if freq == "D" else ("%Y%m", 6)
    if len(name) != n or not name.isdigit():
        return False
    try:
        dt.datetime.strptime(name, fmt)
    except ValueError:
        return False
    return True


def _valid_gen_time(s: str) -> bool:
    if not re.fullmatch(r"[0-9]{14}", s):
        return False
    try:
        dt.datetime.strptime(s, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def parse_chk(data: bytes) -> tuple[tuple[ChkLine, ...] | None, str]:
    """Parse a .chk; returns (lines, "") or (None, why) for CHK_MALFORMED."""
    if not data:
        return None, "empty .chk"
    if any(b > 0x7F for b in data):
        return None, "non-ASCII byte"
    if b"\r" in data:
        return None, "carriage return"
    text = data.decode("ascii")
    rows = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    out = []
    for i, row in enumerate(rows, 1):
        if row == "":
            return None, f"line {i}: blank line"
        parts = row.split("|")
        if len(parts) != 5:
            return None, f"line {i}: {len(parts)} fields, expected 5"
        name, size, count, date, gen = parts
        if not size.isdigit() or not count.isdigit():
            return None, f"line {i}: non-numeric size or count"
        if not _valid_gen_time(gen):
            return None, f"line {i}: bad gen_time {gen!r}"
        out.append(ChkLine(name, int(size), int(count), date, gen))
    return tuple(out), ""


def check_names(lines: Sequence[ChkLine], ifcode: str, date: str) -> str:
    """NAME_MISMATCH: each name is <IFCODE>_<date>_<seq3>.dat of this folder, data_date = date, no file twice."""
    pat = re.compile(re.escape(f"{ifcode}_{date}_") + r"(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})\.dat")
    seen = set()
    for ln in lines:
        if not pat.fullmatch(ln.file_name):
            return f"{ln.file_name}: name does not match {ifcode}_{date}_<seq3>.dat"
        if ln.data_date != date:
            return f"{ln.file_name}: data_date {ln.data_date} != {date}"
        if ln.file_name in seen:
            return f"{ln.file_name}: listed twice"
        seen.add(ln.file_name)
    return ""


def decide(data: bytes, ifcode: str, date: str, present: Mapping[str, int],
           loaded: LoadedBatch | None) -> Decision:
    """Run the checks up to SIZE_MISMATCH (record counts need the data and come later)."""
    lines, why = parse_chk(data)
    if lines is None:
        return Decision("REJECTED", "CHK_MALFORMED", detail=why)
    why = check_names(lines, ifcode, date)
    if why:
        return Decision("REJECTED", "NAME_MISMATCH", lines, detail=why)
    batch_id = f"{ifcode}_{date}_{max(ln.seq for ln in lines):03d}"
    missing = [ln.file_name for ln in lines if ln.file_name not in present]
    if missing:
        return Decision("REJECTED", "FILE_MISSING", lines, batch_id, f"{missing[0]} absent")
    if loaded is not None:
        same = tuple(sorted((ln.file_name, ln.size_bytes, ln.row_count) for ln in lines))
        if same == tuple(sorted(loaded.files)):
            return Decision("SKIPPED", None, lines, batch_id, "same files as the loaded batch")
        low = min(ln.seq for ln in lines)
        if low <= loaded.seq:
            return Decision("REJECTED", "STALE_CHK", lines, batch_id,
                            f"lowest seq {low:03d} <= loaded batch seq {loaded.seq:03d}")
    for ln in lines:
        if present[ln.file_name] != ln.size_bytes:
            return Decision("REJECTED", "SIZE_MISMATCH", lines, batch_id,
                            f"{ln.file_name}: {present[ln.file_name]} bytes, .chk says {ln.size_bytes}")
    return Decision(None, None, lines, batch_id)
