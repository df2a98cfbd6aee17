"""The generated world of one run (start, days, subscribers, seed): population, models and the per-day subjects.

A *subject* (faults, sheets, orders, calls, ...) generates, for one generator day g, every object that starts on g
with all its later versions; each version goes to the batch of the day its update_time falls on (sometimes the
next day), never later than g + WINDOW. Subject g uses only rng(seed, subject, g) and pure functions of the world,
so the batch of day X is the same whichever range of days a process writes (any X needs generator days
X-WINDOW..X only). Days before the first day are generated as warm-up so that early batches also carry
the later versions of objects accepted before the first day.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from csqm.config import Config

from . import (
    calls,
    echannel,
    orders,
    points,
    proactive,
    regulator,
    subscribers,
    tickets,
)
from .codebook import CodeBook, GeneratorConfigError, Layout
from .common import Collector, day_of, hu, month_add, month_days, month_of, rng
from .subscribers import FIX, MOB

WINDOW = 14

FIELDS = {
    "FLT_TICKET": tickets.FLT_FIELDS, "CS_SHEET": tickets.CS_FIELDS, "SP_ORDER": orders.ORD_FIELDS,
    "SP_STEP": orders.STEP_FIELDS, "CC_CALL": calls.CC_FIELDS, "HALL_QUEUE": calls.HQ_FIELDS,
    "EC_LOG": echannel.EC_FIELDS, "SMS_CALLBACK": proactive.SMS_FIELDS, "OB_TASK": proactive.OB_FIELDS,
    "BILL_ADJ": tickets.ADJ_FIELDS, "PTS_TXN": points.TXN_FIELDS, "PTS_EXCH": points.EXCH_FIELDS,
    "APPEAL": regulator.APPEAL_FIELDS, "ESCAL": regulator.ESCAL_FIELDS, "SUBS": subscribers.SUBS_FIELDS,
    "PTS_BAL": points.BAL_FIELDS,
}
# generation order inside a day (exchanges before the ledger: the year-end clearing needs the day's redemptions)
SUBJECTS: tuple[tuple[str, Callable], ...] = (
    ("flt", tickets.gen_faults), ("cs", tickets.gen_sheets), ("ord", orders.gen_orders), ("call", calls.gen_calls),
    ("hall", calls.gen_hall), ("ec", echannel.gen_ec), ("sms", proactive.gen_sms), ("ob", proactive.gen_care),
    ("adj", tickets.gen_refunds), ("exch", points.gen_exchanges), ("pts", points.gen_ledger),
)
_FN = dict(SUBJECTS)
_RETAIN = {"cs": ("cmpl",), "exch": ("redeem",)}      # per-day facts other subjects look up
_FOLD = ("pts", "exch")                                # facts folded into the month ledger


class World:
    def __init__(self, cfg: Config, start: str, days: int, subscribers_n: int, seed: int):
        if days < 1:
            raise ValueError("days must be >= 1")
        if subscribers_n < 1:
            raise ValueError("subscribers must be >= 1")
        self.cfg = cfg
        self.seed = int(seed)
        self.window = WINDOW
        self.start_day = day_of(start)
        self.end_day = self.start_day + days - 1
        self.first_month = month_of(self.start_day)
        self.last_month = month_of(self.end_day)
        self.base_month = (self.first_month // 100 - 1) * 100 + 12
        self.cb = CodeBook(cfg)
        self.layouts = {}
        for ifcode, spec in cfg.interfaces.items():
            if ifcode not in FIELDS:
                raise GeneratorConfigError(f"interface {ifcode!r} is not known to the generator")
            self.layouts[ifcode] = Layout(spec, FIELDS[ifcode])
        self.daily = tuple(i for i, s in cfg.interfaces.items() if s.freq == "D")
        self.pop = subscribers.Population(self.seed, self.cb.cities, self.cb.gb4, self.cb.city_pick,
                                          self.base_month, self.last_month, subscribers_n)
        self._check_subscriber_codes()
        self.calls = calls.CallModel(self.cb)
        self.tickets = tickets.TicketModel(self.cb)
        self.orders = orders.OrderModel(self.cb)
        self.proactive = proactive.ProactiveModel(self.cb)
        self.ec = echannel.EcModel(self.cb)
        self.halls = calls.build_halls(self)
        self.points = points.PointsModel(self)
        self.book = points.PointsBook(self)
        self._facts: dict[tuple[str, int], dict] = {}
        self._folded: set[tuple[str, int]] = set()
        self._month_acc: dict[int, tuple[dict, dict, dict]] = {}
        self._reg: dict[tuple[str, int], list] = {}
        self.memo: dict = {}          # pure per-world look-ups the subjects cache (e.g. edge cases of a month)

    def _check_subscriber_codes(self) -> None:
        cb = self.cb
        cb.need("SUBS", "product_line", *subscribers.PL)
        cb.need("SUBS", "cust_segment_l2", *subscribers.SEG_L2)
        cb.need("SUBS", "cust_segment", *set(subscribers.SEG_L2.values()))
        cb.need("SUBS", "vip_level", *subscribers.VIP)
        cb.need("SUBS", "cert_type", *subscribers.CERT)
        cb.need("SUBS", "status", "ACTIVE", "SUSP_ARREARS", "SUSP_REQ", "REMOVED")
        cb.need("SUBS", "offer_type", "SINGLE", "BUNDLE")
        cb.need("SUBS", "pay_type", "POST", "PRE")
        cb.need("SUBS", "urban_rural", "U", "R")

    # ------------------------------------------------------------------ helpers used by the subjects
    def rng(self, subject: str, day: int):
        return rng(self.seed, subject, day)

    def edge_day(self, kind: int, day: int) -> bool:
        """Days that carry a deliberate window-edge case of `kind`: the first day and ~15 % of the others."""
        return day == self.start_day or hu(self.seed, kind, day, 101) < 0.15

    def phone_of(self, i: int) -> str:
        """A number the customer of instance i calls from (the instance itself for MOB/FIX)."""
        pop = self.pop
        if pop.pl[i] in (MOB, FIX):
            return pop.nbr(i)
        for j in pop.c_insts[pop.cust[i]]:
            if pop.pl[j] in (MOB, FIX):
                return pop.nbr(j)
        return ""

    # ------------------------------------------------------------------ running subjects
    def run(self, subject: str, day: int, lo: int, hi: int) -> Collector:
        out = Collector(day, lo, hi, self.window)
        _FN[subject](self, day, out)
        key = (subject, day)
        keep = _RETAIN.get(subject)
        if keep:
            self._facts[key] = {k: out.facts.get(k, []) for k in keep}
        if subject in _FOLD and key not in self._folded:
            self._folded.add(key)
            self._fold(day, out.facts)
        return out

    def day_facts(self, subject: str, day: int) -> dict:
        got = self._facts.get((subject, day))
        if got is None:
            self.run(subject, day, 1, 0)
            got = self._facts[(subject, day)]
        return got

    def _fold(self, day: int, facts: dict) -> None:
        m = month_of(day)
        acc = self._month_acc.get(m)
        if acc is None:
            acc = self._month_acc[m] = ({}, {}, {})
        net, red, earn = acc
        for c, t, v in facts.get("pts", ()):
            net[(c, t)] = net.get((c, t), 0) + v
        for c, v in facts.get("redeem", ()):
            red[c] = red.get(c, 0) + v
        for c, v in facts.get("earn", ()):
            earn[c] = earn.get(c, 0) + v

    def points_month(self, m: int) -> tuple[dict, dict, dict]:
        """Ledger totals of month m over every day of m (generating missing days without writing them); consumed
        once by the points book."""
        for d in month_days(m):
            for s in ("exch", "pts"):
                if (s, d) not in self._folded:
                    self.run(s, d, 1, 0)
        return self._month_acc.pop(m, ({}, {}, {}))

    def appeals(self, m: int) -> list:
        key = ("appeal", m)
        if key not in self._reg:
            self._reg[key] = regulator.appeals(self, m)
        return self._reg[key]

    def escalations(self, m: int) -> list:
        key = ("escal", m)
        if key not in self._reg:
            self._reg[key] = regulator.escalations(self, m)
        return self._reg[key]

    # ------------------------------------------------------------------ daily batches
    def daily_batches(self, lo: int, hi: int) -> Iterator[tuple[int, dict[str, list]]]:
        """Yield (day, {ifcode: records}) for every day lo..hi, in order."""
        pending: dict[int, dict[str, list]] = {}
        for g in range(lo - self.window, hi + 1):
            for name, _ in SUBJECTS:
                col = self.run(name, g, lo, hi)
                for (d, ifc), recs in col.items.items():
                    pending.setdefault(d, {}).setdefault(ifc, []).extend(recs)
            if g >= lo:
                yield g, pending.pop(g, {})
            self._trim(g)

    def _trim(self, g: int) -> None:
        """Forget per-day facts nobody will look up again (appeals look back 20 days, repeat complaints 30)."""
        old = g - 60
        for key in [k for k in self._facts if k[1] < old]:
            del self._facts[key]

    def months(self) -> list[int]:
        out, m = [], self.base_month
        while m <= self.last_month:
            out.append(m)
            m = month_add(m, 1)
        return out
