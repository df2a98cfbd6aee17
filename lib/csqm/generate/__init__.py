"""Landing-file generator: realistic, deterministic source files of the 16 interfaces (sources.md) for demos,
tests and benchmarks.

    generate_landing(cfg, landing_root, start="20130101", days=31, subscribers=3000, seed=7)

writes every daily batch of start..start+days-1 and the monthly batches (SUBS and PTS_BAL from December of the
year before the first day through the last month reached; APPEAL and ESCAL for every month reached).
The same (start, days, subscribers, seed) gives byte-identical files. `generate_days` writes a sub-range of the
daily batches with the same bytes as a full run (for parallel benchmark workers); `generate_monthly` writes
the monthly batches alone. Bad inputs for tests: `csqm.generate.bad`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from csqm.config import Config

from .common import DAY, HOUR, D, T, day_of, month_add, month_first, month_last, rng
from .world import World
from .writer import (
    chk_line,
    encode_parts,
    folder_of,
    write_chk,
    write_parts,
    write_stream,
)

__all__ = ["GenerateSummary", "InterfaceCount", "World", "generate_days", "generate_landing", "generate_monthly"]

# interfaces some of whose daily batches are redelivered (never PTS_TXN: the ledger must match PTS_BAL)
REDELIVERABLE = ("CC_CALL", "HALL_QUEUE", "EC_LOG", "FLT_TICKET", "CS_SHEET", "SP_ORDER", "OB_TASK", "SMS_CALLBACK")


@dataclass(frozen=True)
class InterfaceCount:
    """Per interface: data files written (superseded parts of redeliveries included), records of the current
    batches (Σ row_count of the .chk files) and bytes of all data files written."""

    files: int = 0
    rows: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class GenerateSummary:
    interfaces: Mapping[str, InterfaceCount]
    batches: tuple[str, ...]                      # batch folders written (absolute paths)
    redelivered: tuple[str, ...] = field(default=())   # folders whose batch was redelivered
    # folder -> the .chk bytes of the first delivery of a redelivered batch (its data files stay on disk), so a
    # driver can stage the redelivery in time: write this .chk, ingest, then put back the final one
    first_chk: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.interfaces.values())

    @property
    def bytes(self) -> int:
        return sum(c.bytes for c in self.interfaces.values())

    @property
    def files(self) -> int:
        return sum(c.files for c in self.interfaces.values())


class _Tally:
    def __init__(self):
        self.counts: dict[str, list[int]] = {}
        self.batches: list[str] = []
        self.redelivered: list[str] = []
        self.first_chk: dict[str, bytes] = {}

    def add(self, ifcode: str, written: list[tuple[str, int, int]], current: bool) -> None:
        c = self.counts.setdefault(ifcode, [0, 0, 0])
        c[0] += len(written)
        c[2] += sum(s for _, s, _ in written)
        if current:
            c[1] += sum(n for _, _, n in written)

    def summary(self, order) -> GenerateSummary:
        return GenerateSummary({k: InterfaceCount(*self.counts[k]) for k in order if k in self.counts},
                               tuple(self.batches), tuple(self.redelivered), dict(self.first_chk))


def _gen_time_daily(idx: int, day: int, seed: int) -> int:
    return (day + 1) * DAY + 2 * HOUR + (3 * idx + seed % 7) * 60 + (day * 7 + idx * 13) % 60


def _write_batch(w: World, root: Path, ifcode: str, date: str, records, max_rows: int, gen_t: int,
                 tally: _Tally, redeliver_t: int | None = None) -> None:
    layout = w.layouts[ifcode]
    folder = folder_of(root, ifcode, date)
    if redeliver_t is not None and isinstance(records, list) and len(records) >= 2:
        r = rng(w.seed, "redeliver-drop", ifcode, date)
        first = [rec for rec in records if r.random() >= 0.03]
        if len(first) == len(records):
            first = records[:-1]     # the first delivery missed the last record
        old = write_parts(folder, ifcode, date, encode_parts(layout, first, max_rows), 1)
        tally.add(ifcode, old, current=False)
        tally.first_chk[str(folder)] = "".join(chk_line(n, s, c, date, T(gen_t)) for n, s, c in old).encode("ascii")
        new = write_parts(folder, ifcode, date, encode_parts(layout, records, max_rows), len(old) + 1)
        tally.add(ifcode, new, current=True)
        write_chk(folder, ifcode, date, new, T(redeliver_t))
        tally.redelivered.append(str(folder))
    else:
        parts = write_stream(folder, ifcode, date, layout, records, max_rows)
        tally.add(ifcode, parts, current=True)
        write_chk(folder, ifcode, date, parts, T(gen_t))
    tally.batches.append(str(folder))


def _redelivers(w: World, ifcode: str, day: int) -> bool:
    if ifcode not in REDELIVERABLE:
        return False
    if (ifcode == "CC_CALL" and day == w.start_day + 1) or (ifcode == "FLT_TICKET" and day == w.start_day + 2):
        return True
    return rng(w.seed, "redeliver", ifcode, day).random() < 0.03


def _daily(w: World, root: Path, lo: int, hi: int, redeliveries: bool, max_rows: int, tally: _Tally,
           progress: Callable[[str], None] | None, on_day: Callable[[int], None] | None = None) -> None:
    order = list(w.cfg.interfaces)
    for day, batches in w.daily_batches(lo, hi):
        date = D(day)
        for ifcode in w.daily:
            recs = batches.get(ifcode, [])
            idx = order.index(ifcode)
            red = (day + 2) * DAY + 10 * HOUR + idx * 60 if redeliveries and _redelivers(w, ifcode, day) else None
            _write_batch(w, root, ifcode, date, recs, max_rows, _gen_time_daily(idx, day, w.seed), tally, red)
        if progress:
            progress(f"{date}: {sum(len(v) for v in batches.values())} daily records")
        if on_day:
            on_day(day)


def _monthly_regulator(w: World, root: Path, m: int, max_rows: int, tally: _Tally) -> None:
    gen_t = (month_first(month_add(m, 1)) + 4) * DAY + 2 * HOUR
    for k, (ifcode, rows) in enumerate((("APPEAL", w.appeals(m)), ("ESCAL", w.escalations(m)))):
        if ifcode in w.layouts:
            _write_batch(w, root, ifcode, str(m), [x.rec for x in rows], max_rows, gen_t + 600 * k, tally)


def _monthly_snapshot(w: World, root: Path, ifcode: str, m: int, max_rows: int, tally: _Tally) -> None:
    if ifcode not in w.layouts:
        return
    rows = w.pop.snapshot_rows(m) if ifcode == "SUBS" else w.book.rows(m)
    gen_t = (month_first(month_add(m, 1)) + 2) * DAY + 3 * HOUR + (0 if ifcode == "SUBS" else 1800)
    _write_batch(w, root, ifcode, str(m), rows, max_rows, gen_t, tally)


def _hook_balances(w: World, root: Path, max_rows: int, tally: _Tally) -> None:
    """PTS_BAL of a month is written when the points book reaches it (the book only moves forward)."""
    last = w.last_month

    def write(m: int) -> None:
        if m <= last:
            _monthly_snapshot(w, root, "PTS_BAL", m, max_rows, tally)
    w.book.on_month = write
    write(w.book.month)


def generate_landing(cfg: Config, landing_root: str | Path, start: str, days: int, subscribers: int, seed: int,
                     redeliveries: bool = True, max_rows_per_file: int = 200_000,
                     progress: Callable[[str], None] | None = None) -> GenerateSummary:
    """Write all daily and monthly batches of the run under landing_root; returns what was written."""
    w = World(cfg, start, days, subscribers, seed)
    root = Path(landing_root)
    tally = _Tally()
    months = w.months()
    pending_reg = [m for m in months if m >= w.first_month]

    def on_day(day: int) -> None:
        # a month's regulator lists as soon as its last day is written (their complaint look-ups are still cached)
        while pending_reg and (month_last(pending_reg[0]) <= day):
            _monthly_regulator(w, root, pending_reg.pop(0), max_rows_per_file, tally)

    _hook_balances(w, root, max_rows_per_file, tally)
    _daily(w, root, w.start_day, w.end_day, redeliveries, max_rows_per_file, tally, progress, on_day)
    for m in pending_reg:
        _monthly_regulator(w, root, m, max_rows_per_file, tally)
    w.book.advance_to(w.last_month)
    for m in months:
        _monthly_snapshot(w, root, "SUBS", m, max_rows_per_file, tally)
        if progress:
            progress(f"{m}: monthly snapshots")
    return tally.summary(list(cfg.interfaces))


def generate_days(cfg: Config, landing_root: str | Path, start: str, days: int, subscribers: int, seed: int,
                  day_from: str, day_to: str, redeliveries: bool = True, max_rows_per_file: int = 200_000,
                  progress: Callable[[str], None] | None = None) -> GenerateSummary:
    """Only the daily batches day_from..day_to of the run (start, days, subscribers, seed): the same bytes as
    generate_landing writes for them, so worker processes can split the days."""
    w = World(cfg, start, days, subscribers, seed)
    lo, hi = max(w.start_day, day_of(day_from)), min(w.end_day, day_of(day_to))
    tally = _Tally()
    if lo <= hi:
        _daily(w, Path(landing_root), lo, hi, redeliveries, max_rows_per_file, tally, progress)
    return tally.summary(list(cfg.interfaces))


def generate_monthly(cfg: Config, landing_root: str | Path, start: str, days: int, subscribers: int, seed: int,
                     max_rows_per_file: int = 200_000, progress: Callable[[str], None] | None = None
                     ) -> GenerateSummary:
    """Only the monthly batches (SUBS, PTS_BAL, APPEAL, ESCAL) of the run."""
    w = World(cfg, start, days, subscribers, seed)
    root = Path(landing_root)
    tally = _Tally()
    _hook_balances(w, root, max_rows_per_file, tally)
    for m in w.months():
        if m >= w.first_month:
            _monthly_regulator(w, root, m, max_rows_per_file, tally)
        _monthly_snapshot(w, root, "SUBS", m, max_rows_per_file, tally)
        w.book.advance_to(m)
        if progress:
            progress(f"{m}: monthly batches")
    return tally.summary(list(cfg.interfaces))
