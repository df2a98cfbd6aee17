"""Manual-upload files: read CSV (UTF-8, BOM allowed, RFC 4180) or .xlsx (first sheet), write error reports and
empty templates (operations.md §1). Values are returned raw; typing and validation live in csqm.manual.validate."""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ERROR_HEADER = ("row_no", "column", "value", "error_code", "message")
FORMATS = ("csv", "xlsx")


class UploadFileError(ValueError):
    """The file cannot be read at all (not UTF-8, not an xlsx workbook, unknown extension)."""


@dataclass(frozen=True)
class RawFile:
    """Header and data rows of an upload file; row_nos[i] = 1-based data row number of rows[i] (blank rows skipped
    but counted, so a row number matches what the user sees: spreadsheet row = row_no + 1)."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_nos: tuple[int, ...]


def file_format(path: Path) -> str:
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise UploadFileError(f"{Path(path).name}: unsupported file type {ext!r}; use .csv or .xlsx")
    return ext


def _blank(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and v.strip() == "") for v in row)


def _collect(records: list[Sequence[Any]]) -> RawFile:
    if not records:
        return RawFile((), (), ())
    header = tuple("" if h is None else str(h) for h in records[0])
    while header and header[-1] == "":  # trailing empty header cells (spreadsheets)
        header = header[:-1]
    rows, nos = [], []
    for i, r in enumerate(records[1:], 1):
        if not _blank(r):
            rows.append(tuple(r))
            nos.append(i)
    return RawFile(header, tuple(rows), tuple(nos))


def read_csv(path: Path) -> RawFile:
    """UTF-8 (BOM allowed), comma-separated, RFC 4180 quoting; every value a string ('' = empty)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise UploadFileError(f"{Path(path).name}: not UTF-8 ({e.reason} at byte {e.start})") from None
    return _collect(list(csv.reader(text.splitlines(keepends=True), strict=True)))


def read_xlsx(path: Path) -> RawFile:
    """First worksheet; row 1 = header. Cells keep their type (str, int, float, datetime)."""
    try:
        import openpyxl
    except ModuleNotFoundError:
        raise UploadFileError("reading .xlsx needs openpyxl: pip install -e '.[xlsx]'") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException: all "not a workbook"
        raise UploadFileError(f"{Path(path).name}: not an .xlsx workbook ({type(e).__name__})") from None
    try:
        return _collect([list(r) for r in wb.worksheets[0].iter_rows(values_only=True)])
    finally:
        wb.close()


def read_upload(path: Path) -> RawFile:
    """Header and rows of an upload file, by extension."""
    return read_xlsx(path) if file_format(path) == "xlsx" else read_csv(path)


def error_report_path(path: Path) -> Path:
    """<file>.errors.csv next to the uploaded file."""
    return Path(f"{path}.errors.csv")


def write_errors(path: Path, errors: Sequence[Sequence[Any]]) -> Path:
    """Write the error report (UTF-8 with BOM so spreadsheet tools show 中文); returns its path."""
    out = error_report_path(path)
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(ERROR_HEADER)
        w.writerows(errors)
    return out


def remove_stale_report(path: Path) -> None:
    """A successful upload leaves no error report of an earlier attempt behind."""
    error_report_path(path).unlink(missing_ok=True)


def write_template(path: Path, header: Sequence[str], fmt: str) -> Path:
    """An empty file with just the header row, for business staff to fill in."""
    path = Path(path)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerow(header)
        return path
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(list(header))
    for cell in ws[1]:
        cell.number_format = "@"
    wb.save(path)
    return path


def merge_manual(df, cfg, table: str, keys: Sequence[str], columns: Sequence[str], op_col: str,
                 meta: dict | None) -> int:
    """One atomic MERGE of an upload: op D deletes the matched row, op U replaces or inserts it (only `columns` are
    written, so the op column never reaches the table). Returns the committed version."""
    from delta.tables import DeltaTable

    from csqm import io

    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    values = {c: f"s.`{c}`" for c in columns}
    m = (DeltaTable.forPath(df.sparkSession, io.table_path(cfg, table)).alias("t").merge(df.alias("s"), on)
         .whenMatchedDelete(condition=f"s.`{op_col}` = 'D'")
         .whenMatchedUpdate(set=values)
         .whenNotMatchedInsert(condition=f"s.`{op_col}` = 'U'", values=values))
    with io.commit_metadata(df.sparkSession, meta):
        m.execute()
    return io.latest_version(df.sparkSession, cfg, table)
