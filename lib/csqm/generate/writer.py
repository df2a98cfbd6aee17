"""Landing files exactly as sources.md §1-§2: `<root>/<IFCODE>/<date>/<IFCODE>_<date>_<seq3>.dat` parts, then the
`.chk` control file written last (`file_name|size_bytes|row_count|data_date|gen_time\\n`, ASCII)."""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .codebook import Layout


def folder_of(landing_root: str | Path, ifcode: str, date: str) -> Path:
    return Path(landing_root) / ifcode / date


def data_name(ifcode: str, date: str, seq: int) -> str:
    if not 1 <= seq <= 999:
        raise ValueError(f"seq {seq} outside 001-999")
    return f"{ifcode}_{date}_{seq:03d}.dat"


def chk_name(ifcode: str, date: str) -> str:
    return f"{ifcode}_{date}.chk"


def chk_line(name: str, size: int, rows: int, date: str, gen_time: str) -> str:
    return f"{name}|{size}|{rows}|{date}|{gen_time}\n"


def record_count(data: bytes) -> int:
    """sources.md §2: 0 for an empty file, else the number of 0x0A bytes (+1 without a final 0x0A)."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_parts(folder: Path, ifcode: str, date: str, blobs: Sequence[bytes], seq_start: int = 1
                ) -> list[tuple[str, int, int]]:
    """Write data files with consecutive seq from seq_start; returns [(file_name, size, row_count)]."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, data in enumerate(blobs):
        name = data_name(ifcode, date, seq_start + k)
        _atomic_write(folder / name, data)
        out.append((name, len(data), record_count(data)))
    return out


def write_chk(folder: Path, ifcode: str, date: str, entries: Sequence[tuple[str, int, int]], gen_time: str) -> Path:
    """Write (replace) the control file; call it after every data file of the batch is in place."""
    text = "".join(chk_line(n, s, c, date, gen_time) for n, s, c in entries)
    path = folder / chk_name(ifcode, date)
    _atomic_write(path, text.encode("ascii"))
    return path


def split(records: Sequence, max_rows: int) -> list[Sequence]:
    if max_rows < 1:
        raise ValueError("max_rows_per_file must be >= 1")
    if not records:
        return [records]
    return [records[k:k + max_rows] for k in range(0, len(records), max_rows)]


def encode_parts(layout: Layout, records: Sequence[list], max_rows: int) -> list[bytes]:
    return [layout.encode(part) for part in split(records, max_rows)]


def write_stream(folder: Path, ifcode: str, date: str, layout: Layout, records: Iterable[list], max_rows: int,
                 seq_start: int = 1) -> list[tuple[str, int, int]]:
    """Like write_parts(encode_parts(...)) but consuming an iterator part by part (bounded memory)."""
    if max_rows < 1:
        raise ValueError("max_rows_per_file must be >= 1")
    out: list[tuple[str, int, int]] = []
    chunk: list = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) == max_rows:
            out += write_parts(folder, ifcode, date, [layout.encode(chunk)], seq_start + len(out))
            chunk = []
    if chunk or not out:
        out += write_parts(folder, ifcode, date, [layout.encode(chunk)], seq_start + len(out))
    return out
