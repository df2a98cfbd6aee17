"""Shared helpers of the generator: time as integer seconds, fast formatting, seeded RNGs, pickers, the collector.

Time is an int: seconds since 2000-01-01 00:00:00 local time (CST, no DST); a day is an int day index.
Months are ints yyyymm. Every random draw comes from `rng(seed, *parts)` (string-seeded, so independent of
PYTHONHASHSEED) or from the stateless hash `hu(...)`; nothing reads the clock.
"""
from __future__ import annotations

import datetime as _dt
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from typing import Any

EPOCH = _dt.date(2000, 1, 1)
DAY = 86400
HOUR = 3600
M64 = (1 << 64) - 1

# ----------------------------------------------------------------- days, months, timestamps
_HMS = [f"{h:02d}{m:02d}{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_YMD: dict[int, str] = {}


def day_of(yyyymmdd: str) -> int:
    d = _dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    return (d - EPOCH).days


def date_of(day: int) -> _dt.date:
    return EPOCH + _dt.timedelta(days=day)


def D(day: int) -> str:
    """Day index -> 'yyyymmdd'."""
    s = _YMD.get(day)
    if s is None:
        s = _YMD[day] = date_of(day).strftime("%Y%m%d")
    return s


def T(sec: int) -> str:
    """Seconds -> 'yyyymmddHHMMSS'."""
    d, r = divmod(sec, DAY)
    s = _YMD.get(d)
    if s is None:
        s = _YMD[d] = date_of(d).strftime("%Y%m%d")
    return s + _HMS[r]


_MONTH: dict[int, int] = {}


def month_of(day: int) -> int:
    m = _MONTH.get(day)
    if m is None:
        d = date_of(day)
        m = _MONTH[day] = d.year * 100 + d.month
    return m


def month_add(m: int, k: int) -> int:
    i = (m // 100) * 12 + (m % 100 - 1) + k
    return (i // 12) * 100 + i % 12 + 1


_MFIRST: dict[int, int] = {}


def month_first(m: int) -> int:
    d = _MFIRST.get(m)
    if d is None:
        d = _MFIRST[m] = (_dt.date(m // 100, m % 100, 1) - EPOCH).days
    return d


def month_last(m: int) -> int:
    return month_first(month_add(m, 1)) - 1


def month_days(m: int) -> range:
    return range(month_first(m), month_first(month_add(m, 1)))


def weekday(day: int) -> int:
    return (day + 5) % 7  # 2000-01-01 was a Saturday; Monday = 0


# ----------------------------------------------------------------- randomness
def rng(seed: int, *parts: Any) -> random.Random:
    """A fresh RNG for one (seed, subject, day...) stream."""
    return random.Random("csqm|" + "|".join(str(p) for p in (seed,) + parts))


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def hu(seed: int, a: int, b: int = 0, c: int = 0) -> float:
    """Stateless uniform [0, 1) from integers (per-instance, per-month attributes)."""
    x = ((((seed * 0x9E3779B1 + a) * 0x85EBCA6B + b) * 0xC2B2AE35 + c) * 0x27D4EB2F165667C5) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return (x ^ (x >> 31)) / 18446744073709551616.0


def count(r: random.Random, mean: float, floor: int = 0) -> int:
    """A count around `mean` (±15 %, stochastic rounding), at least `floor`."""
    x = mean * r.uniform(0.85, 1.15)
    n = int(x)
    if r.random() < x - n:
        n += 1
    return max(floor, n)


class Pick:
    """Weighted choice with a precomputed cumulative table."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]] | dict):
        pairs = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
        self.items = [p[0] for p in pairs]
        self.cum, t = [], 0.0
        for _, w in pairs:
            t += w
            self.cum.append(t)
        self.total = t

    def __call__(self, r: random.Random) -> Any:
        return self.items[bisect(self.cum, r.random() * self.total)]

    def at(self, u: float) -> Any:
        return self.items[bisect(self.cum, u * self.total)]


# hourly shape of customer contacts (peaks 9-11 h and 14-17 h)
CONTACT_HOURS = Pick([(h, w) for h, w in enumerate(
    [0.25, 0.12, 0.08, 0.06, 0.06, 0.15, 0.5, 1.6, 4.2, 7.2, 7.6, 6.6, 4.0, 4.6, 6.8, 7.2, 7.0, 5.2, 3.6,
     3.2, 2.8, 2.2, 1.2, 0.6])])
# daytime business (halls, field work)
OFFICE_HOURS = Pick([(h, w) for h, w in enumerate(
    [0, 0, 0, 0, 0, 0, 0, 0, 3, 7, 8, 7, 4, 4, 7, 8, 7, 5, 3, 1.5, 0.8, 0, 0, 0])])
# web / app traffic: evening heavy
WEB_HOURS = Pick([(h, w) for h, w in enumerate(
    [1.5, 0.8, 0.4, 0.3, 0.3, 0.4, 1.0, 2.5, 4.0, 5.5, 6.0, 6.0, 5.5, 5.0, 5.5, 5.5, 5.5, 5.5, 5.5,
     6.5, 7.5, 7.5, 6.0, 3.5])])


def time_in_day(r: random.Random, day: int, hours: Pick) -> int:
    return day * DAY + hours(r) * HOUR + r.randrange(HOUR)


# ----------------------------------------------------------------- versions of an object across daily batches
LATE_FROM = 22 * HOUR  # a change from 22:00 on may only reach the next day's batch (sources.md §1.5)


def plan_versions(r: random.Random, times: Sequence[int], late_p: float = 0.3,
                  resend_p: float = 0.0) -> list[tuple[int, int]]:
    """Which milestone each daily batch carries: [(delivery_day, milestone_index)].

    The batch of day D carries the latest milestone whose update_time falls on D; a milestone late on D may be
    shifted to D+1 (then D+1 keeps the later of the two); with resend_p the first version is resent after the last.
    Draws do not depend on which days are written, so any split of the days gives the same files.
    """
    best: dict[int, int] = {}
    for k, t in enumerate(times):
        d, rem = divmod(t, DAY)
        if rem >= LATE_FROM and late_p and r.random() < late_p:
            d += 1
        if best.get(d, -1) < k:
            best[d] = k
    if resend_p and len(best) >= 2 and r.random() < resend_p:
        d = max(best) + r.randint(1, 3)
        best.setdefault(d, 0)
    return sorted(best.items())


class Collector:
    """Receives the records of one generator day; keeps only deliveries inside [lo, hi] and ≤ gen_day + window."""

    __slots__ = ("facts", "gen_day", "hi", "items", "lo")

    def __init__(self, gen_day: int, lo: int, hi: int, window: int):
        self.gen_day = gen_day
        self.lo = lo
        self.hi = min(hi, gen_day + window)
        self.items: dict[tuple[int, str], list] = {}
        self.facts: dict[str, list] = {}

    def want(self, day: int) -> bool:
        return self.lo <= day <= self.hi

    def add(self, day: int, ifcode: str, rec: list) -> None:
        if self.lo <= day <= self.hi:
            k = (day, ifcode)
            lst = self.items.get(k)
            if lst is None:
                lst = self.items[k] = []
            lst.append(rec)

    def fact(self, kind: str, value: Any) -> None:
        self.facts.setdefault(kind, []).append(value)

    @property
    def active(self) -> bool:
        return self.lo <= self.hi


def emit_versions(out: Collector, plan: list[tuple[int, int]], ifcode: str, build: Callable[[int], list]) -> None:
    for d, k in plan:
        if out.lo <= d <= out.hi:
            out.add(d, ifcode, build(k))
