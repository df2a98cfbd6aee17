"""Row validation of an upload file before anything is written (operations.md §1): header, NULLs, types, codes,
duplicate keys. Pure Python over the (small) file; table rules that need Spark run in csqm.pipeline.manual."""
from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from csqm.io.upload import RawFile
from csqm.manual.spec import ColumnSpec, TableSpec

OP = "op"
OPS = ("U", "D")


@dataclass(frozen=True)
class RowError:
    """One line of <file>.errors.csv; row_no 0 = the header / the file as a whole."""

    row_no: int
    column: str
    value: str
    error_code: str
    message: str

    def as_tuple(self) -> tuple:
        return (self.row_no, self.column, self.value, self.error_code, self.message)


@dataclass
class Checked:
    """Typed records (column -> value, plus op and row_no) of a file that passed, or the errors found."""

    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class BadValue(ValueError):
    """A cell that does not match its column type; the message says what was expected."""


def _text(v: Any) -> str:
    """Cell as text: integral numbers without '.0' (spreadsheets store 2013 as 2013.0)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.strftime("%Y%m%d") if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.strftime("%Y%m%d")
    return str(v)


def _digits(v: Any, width: int, fmt: str, what: str) -> str:
    s = _text(v).strip()
    try:
        dt.datetime.strptime(s, fmt)
    except ValueError:
        raise BadValue(f"expected {what}") from None
    if len(s) != width or not s.isdigit():
        raise BadValue(f"expected {what}")
    return s


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = _digits(v, 8, "%Y%m%d", "a date yyyymmdd")
    return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise BadValue("expected an integer")
    if isinstance(v, int):
        n = v
    elif isinstance(v, float) and v.is_integer():
        n = int(v)
    else:
        s = _text(v).strip()
        if not s.lstrip("-").isdigit():
            raise BadValue("expected an integer")
        n = int(s)
    if not -2**31 <= n < 2**31:
        raise BadValue("integer out of range")
    return n


def _decimal(v: Any, precision: int, scale: int) -> decimal.Decimal:
    try:
        d = decimal.Decimal(repr(v) if isinstance(v, float) else _text(v).strip())
    except decimal.InvalidOperation:
        raise BadValue(f"expected a number with at most {scale} decimals") from None
    if not d.is_finite():
        raise BadValue("expected a finite number")
    exp = d.normalize().as_tuple().exponent
    if isinstance(exp, int) and -exp > scale:
        raise BadValue(f"more than {scale} decimals")
    if abs(d) >= decimal.Decimal(10) ** (precision - scale):
        raise BadValue(f"out of range for DECIMAL({precision},{scale})")
    return d


def _double(v: Any) -> float:
    try:
        x = float(v) if isinstance(v, int | float) else float(_text(v).strip())
    except ValueError:
        raise BadValue("expected a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise BadValue("expected a finite number")
    return x


def convert(col: ColumnSpec, v: Any) -> Any:
    """A non-empty cell as the column's Python value, or BadValue."""
    if col.decimal:
        return _decimal(v, *col.decimal)
    match col.type:
        case "int":
            return _int(v)
        case "double":
            return _double(v)
        case "date":
            return _date(v)
        case "year":
            return _digits(v, 4, "%Y", "a year yyyy")
        case "month":
            return _digits(v, 6, "%Y%m", "a month yyyymm")
        case "code":
            return _text(v).strip()
        case _:
            return _text(v)


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def check_header(spec: TableSpec, raw: RawFile) -> list[RowError]:
    """MISSING_COLUMN / UNKNOWN_COLUMN (a name twice is UNKNOWN_COLUMN too); EMPTY_FILE when no data row.
    NOT NULL columns may be left out of a file that only deletes (every op D); keys never."""
    if not raw.header or not raw.rows:
        return [RowError(0, "", "", "EMPTY_FILE", "the file has no data rows")]
    known = {*spec.names, OP}
    errs, seen = [], set()
    for h in raw.header:
        if h not in known:
            errs.append(RowError(0, h, h, "UNKNOWN_COLUMN", f"{spec.name} has no column {h!r}"))
        elif h in seen:
            errs.append(RowError(0, h, h, "UNKNOWN_COLUMN", f"column {h!r} appears twice in the header"))
        seen.add(h)
    upserts = OP not in seen or any(_empty(v) or _text(v).strip() != "D"
                                    for v in (dict(zip(raw.header, r, strict=False)).get(OP) for r in raw.rows))
    errs += [RowError(0, c.name, "", "MISSING_COLUMN", f"required column {c.name!r} is missing from the header")
             for c in spec.columns
             if c.name not in seen and ((c.key and c.default is None) or (c.required and upserts))]
    return errs


def _cell_errors(spec: TableSpec, rec: dict[str, Any], cells: Mapping[str, Any], row_no: int,
                 allowed: Mapping[str, frozenset[str] | None]) -> list[RowError]:
    """Type, NULL and code checks of one row; fills rec with typed values."""
    errs = []
    delete = rec[OP] == "D"
    for col in spec.columns:
        v = cells.get(col.name)
        shown = "" if v is None else _text(v)
        if _empty(v):
            rec[col.name] = col.default
            if rec[col.name] is None and (col.key or (col.required and not delete)):
                errs.append(RowError(row_no, col.name, "", "NULL_VIOLATION", f"{col.name} must not be empty"))
            continue
        try:
            rec[col.name] = convert(col, v)
        except BadValue as e:
            errs.append(RowError(row_no, col.name, shown, "BAD_VALUE", f"{col.name}: {e}"))
            continue
        codes = allowed.get(col.name)
        if col.type == "code" and codes is not None and rec[col.name] not in codes and not (
                col.star and rec[col.name] == "*"):
            errs.append(RowError(row_no, col.name, shown, "BAD_CODE", f"{col.name}: {shown!r} is not a valid code"))
    return errs


def check_rows(spec: TableSpec, raw: RawFile, allowed: Mapping[str, frozenset[str] | None]) -> Checked:
    """Every row checked (all errors reported, not just the first); DUP_KEY for a key seen on an earlier row."""
    out = Checked(errors=check_header(spec, raw))
    if out.errors:
        return out
    width = len(raw.header)
    first_row: dict[tuple, int] = {}
    for row, row_no in zip(raw.rows, raw.row_nos, strict=True):
        if len(row) > width and not _blank(row[width:]):
            out.errors.append(RowError(row_no, "", "", "BAD_VALUE", f"row has {len(row)} fields, header has {width}"))
            continue
        cells = dict(zip(raw.header, row, strict=False))
        op = "U" if _empty(cells.get(OP)) else _text(cells[OP]).strip()
        rec: dict[str, Any] = {OP: op, "row_no": row_no}
        if op not in OPS:
            out.errors.append(RowError(row_no, OP, op, "BAD_VALUE", "op must be U (upsert) or D (delete)"))
            rec[OP] = "U"
        errs = _cell_errors(spec, rec, cells, row_no, allowed)
        out.errors += errs
        if any(e.column in spec.keys for e in errs):
            continue
        key = tuple(rec[k] for k in spec.keys)
        if key in first_row:
            out.errors.append(RowError(row_no, ",".join(spec.keys), "|".join(map(_text, key)), "DUP_KEY",
                                       f"same key as data row {first_row[key]}"))
        else:
            first_row[key] = row_no
        out.records.append(rec)
    return out


def _blank(cells: tuple) -> bool:
    return all(_empty(v) for v in cells)


def resolve_codes(spec: TableSpec, lookup: Callable[[str], frozenset[str] | None]) -> dict[str, frozenset[str] | None]:
    """Allowed codes per code column: literal lists as given, references through lookup(reference)."""
    return {c.name: (frozenset(c.codes) if isinstance(c.codes, tuple) else lookup(c.codes))
            for c in spec.columns if c.type == "code"}
