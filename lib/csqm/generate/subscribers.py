"""The subscriber base: customers and product instances, their monthly timeline, and the SUBS snapshot rows.

`subscribers` instances exist in the base month (December of the year before the first day). Each later month
opens new instances (new customers and add-ons) and removes some (churn; more among broadband users whose
agreement ran out unrenewed). Per-month attributes (status, bill, offer migration, agreement renewal) are
stateless functions of (seed, instance, month), so any month can be written without replaying the others.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterator

from .common import (
    D,
    Pick,
    count,
    hu,
    month_add,
    month_first,
    month_last,
    month_of,
    rng,
)

PL = ("FIX", "BB", "MOB", "ITV", "DL", "VAS", "OTH")
FIX, BB, MOB, ITV, DL, VAS, OTH = range(7)
SEG_L2 = {"GOV_IND": "GOV", "GOV_SME": "GOV", "PUB_HOME": "PUB", "PUB_IND": "PUB", "PUB_CAMPUS": "PUB"}
VIP = ("DIAMOND", "GOLD", "SILVER", "NORMAL")
CERT = ("ID", "PASSPORT", "ORG", "OTH")

# offer catalog: (offer_id, offer_type, monthly fee in fen, product line or -1 for bundles)
_SINGLE = {
    MOB: [("OF1001", 1900, 14), ("OF1002", 2900, 18), ("OF1003", 3900, 18), ("OF1004", 4900, 14), ("OF1005", 5900, 10),
          ("OF1006", 8900, 9), ("OF1007", 12900, 8), ("OF1008", 18900, 5), ("OF1009", 28900, 4)],
    BB: [("OF2001", 5000, 25), ("OF2002", 8000, 30), ("OF2003", 10000, 25), ("OF2004", 12000, 12),
         ("OF2005", 15000, 8)],
    FIX: [("OF3001", 1500, 40), ("OF3002", 2000, 40), ("OF3003", 2500, 20)],
    ITV: [("OF4001", 2000, 60), ("OF4002", 3000, 40)],
    DL: [("OF5001", 80000, 50), ("OF5002", 150000, 35), ("OF5003", 300000, 15)],
    VAS: [("OF6001", 500, 60), ("OF6002", 1000, 40)],
    OTH: [("OF7001", 1000, 100)],
}
_BUNDLE_PUB = [("OF8001", 8900, 20), ("OF8002", 12900, 30), ("OF8003", 15900, 25), ("OF8004", 18900, 15),
               ("OF8005", 22900, 10)]
_BUNDLE_GOV = [("OF9001", 19900, 60), ("OF9002", 39900, 40)]

OFFERS: list[tuple[str, str, int]] = []          # index -> (offer_id, type, fee_fen)
_OFFER_PICK: dict[int, Pick] = {}
for _pl, _lst in _SINGLE.items():
    _OFFER_PICK[_pl] = Pick([(len(OFFERS) + k, w) for k, (_, _, w) in enumerate(_lst)])
    OFFERS.extend((o, "SINGLE", fee) for o, fee, _ in _lst)
_BPUB = Pick([(len(OFFERS) + k, w) for k, (_, _, w) in enumerate(_BUNDLE_PUB)])
OFFERS.extend((o, "BUNDLE", fee) for o, fee, _ in _BUNDLE_PUB)
_BGOV = Pick([(len(OFFERS) + k, w) for k, (_, _, w) in enumerate(_BUNDLE_GOV)])
OFFERS.extend((o, "BUNDLE", fee) for o, fee, _ in _BUNDLE_GOV)
_SINGLE_IDX = {pl: [i for i in range(len(OFFERS)) if OFFERS[i][0] in {o for o, _, _ in lst}]
               for pl, lst in _SINGLE.items()}

# product bundles by segment L2: (product lines, bundled?, weight)
_PATTERNS = {
    "PUB_HOME": Pick([(((FIX, BB), True), 30), (((FIX, BB, ITV), True), 18), (((BB,), False), 20),
                      (((FIX,), False), 10), (((BB, MOB), True), 12), (((FIX, BB, MOB, ITV), True), 5),
                      (((BB, ITV), True), 5)]),
    "PUB_IND": Pick([(((MOB,), False), 82), (((MOB, MOB), False), 5), (((MOB, VAS), False), 6), (((BB,), False), 5),
                     (((MOB, OTH), False), 2)]),
    "PUB_CAMPUS": Pick([(((MOB,), False), 80), (((MOB, BB), True), 20)]),
    "GOV_SME": Pick([(((FIX, BB), True), 35), (((FIX, FIX, BB), True), 15), (((MOB, MOB, MOB), False), 20),
                     (((DL,), False), 5), (((FIX, BB, MOB), True), 15), (((FIX, VAS), False), 10)]),
    "GOV_IND": Pick([(((DL, FIX), False), 25), (((MOB,) * 5, False), 25), (((FIX, FIX, FIX, DL), False), 20),
                     (((BB, FIX), True), 15), (((DL, DL, MOB, MOB), False), 15)]),
}
_L2 = Pick([("PUB_HOME", 39.5), ("PUB_IND", 47), ("PUB_CAMPUS", 7.5), ("GOV_SME", 4.5), ("GOV_IND", 1.5)])
_VIP = {"GOV": Pick([(0, 5), (1, 15), (2, 25), (3, 55)]), "PUB": Pick([(0, 0.5), (1, 3), (2, 9), (3, 87.5)])}
_TENURE = Pick([((1, 12), 12), ((12, 24), 15), ((24, 36), 15), ((36, 60), 25), ((60, 180), 33)])
_ADDON = Pick([(MOB, 55), (BB, 20), (ITV, 15), (FIX, 5), (VAS, 5)])
_NBR_MOB = ("133", "153", "180", "181", "189")


class Population:
    """Customers and product instances (columnar lists) and the month timeline."""

    def __init__(self, seed: int, cities: tuple, gb4: dict[str, str], city_pick: Pick, base_month: int,
                 last_month: int, subscribers: int):
        self.seed = seed
        self.city_codes = tuple(c.city_code for c in cities)
        self.gb4 = gb4
        self.city_pick = city_pick
        self.base = base_month
        self.last = last_month
        self.months = []
        m = base_month
        while m <= last_month:
            self.months.append(m)
            m = month_add(m, 1)
        # customers
        self.c_city: list[int] = []
        self.c_county: list[str] = []
        self.c_ur: list[str] = []
        self.c_l2: list[str] = []
        self.c_vip: list[int] = []
        self.c_born: list[int] = []       # month the customer appears (points accounts start)
        self.c_first: list[int] = []      # first instance (main number)
        self.c_insts: list[list[int]] = []
        self.c_tenure_ok: list[bool] = []  # tenure >= 24 months at creation (REWARD_TENURE account)
        # instances
        self.cust = array("i")
        self.pl = array("b")
        self.pre = array("b")
        self.open_day = array("i")
        self.remove_day = array("i")
        self.offer = array("h")
        self.fee = array("i")
        self.mig_month = array("i")
        self.mig_offer = array("h")
        self.agr0 = array("i")
        self.real_name = array("b")
        self._counties: dict[int, tuple[list[str], list[str]]] = {}
        self._intern: dict[str, str] = {}
        self._certs: dict[int, tuple[str, str]] = {}
        self._arrivals: dict[int, list[array]] = {}
        self.new_order_day: dict[int, list[int]] = {}   # NEW order accept day -> instances
        self.del_order_day: dict[int, list[int]] = {}   # DEL order accept day -> instances
        self.open_by_day: dict[int, list[int]] = {}     # open day -> new MOB/BB instances (SMS callback)
        self.lapse_by_month: dict[int, list[int]] = {}  # month -> BB instances whose agreement lapses unrenewed
        self._build(subscribers)

    # ------------------------------------------------------------------ build
    def _county(self, r, ci: int) -> tuple[str, str]:
        lists = self._counties.get(ci)
        if lists is None:
            g = self.gb4[self.city_codes[ci]]
            nu, nr = 3 + int(hu(self.seed, ci, 0, 1) * 6), 3 + int(hu(self.seed, ci, 0, 2) * 7)
            lists = self._counties[ci] = ([f"{g}{k:02d}" for k in range(2, 2 + nu)],
                                          [f"{g}{k:02d}" for k in range(21, 21 + nr)])
        if r.random() < 0.64:
            return r.choice(lists[0]), "U"
        return r.choice(lists[1]), "R"

    def _new_customer(self, r, open_day: int, month: int, tenure_ok: bool) -> int:
        c = len(self.c_city)
        ci = self.city_pick(r)
        county, ur = self._county(r, ci)
        l2 = _L2(r)
        self.c_city.append(ci)
        self.c_county.append(self._intern.setdefault(county, county))
        self.c_ur.append(ur)
        self.c_l2.append(l2)
        self.c_vip.append(_VIP[SEG_L2[l2]](r))
        self.c_born.append(month)
        self.c_first.append(-1)
        self.c_insts.append([])
        self.c_tenure_ok.append(tenure_ok)
        return c

    def _add_instance(self, r, c: int, pl: int, open_day: int, bundle_offer: int, bundle_n: int) -> int:
        i = len(self.cust)
        l2 = self.c_l2[c]
        self.cust.append(c)
        self.pl.append(pl)
        self.pre.append(1 if pl == MOB and l2 in ("PUB_IND", "PUB_CAMPUS") and r.random() < 0.62 else 0)
        self.open_day.append(open_day)
        self.remove_day.append(-1)
        if bundle_offer >= 0:
            off, fee = bundle_offer, OFFERS[bundle_offer][2] // bundle_n // 100 * 100
        elif r.random() < 0.02 and pl in (VAS, OTH, FIX):
            off, fee = -1, 0
        else:
            off = _OFFER_PICK[pl](r)
            fee = OFFERS[off][2]
        self.offer.append(off)
        self.fee.append(fee)
        # one offer migration (upsell mostly) in some month of the horizon
        mig, mig_off = 0, -1
        if off >= 0 and OFFERS[off][1] == "SINGLE" and r.random() < 0.015 * len(self.months):
            mig = self.months[r.randrange(len(self.months))]
            opts = _SINGLE_IDX[pl]
            k = opts.index(off)
            k2 = min(len(opts) - 1, k + 1) if r.random() < 0.7 else max(0, k - 1)
            if opts[k2] != off:
                mig_off = opts[k2]
            else:
                mig = 0
        self.mig_month.append(mig)
        self.mig_offer.append(mig_off)
        agr = -1
        if (pl == BB and r.random() < 0.7) or (pl == MOB and r.random() < 0.15) or (pl == ITV and r.random() < 0.3):
            agr = month_first(self.base) + r.randrange(730)
            if agr <= open_day:
                agr = open_day + 365
        self.agr0.append(agr)
        if agr >= 0 and pl == BB:
            lm = self._lapse_month(i)
            if lm:
                self.lapse_by_month.setdefault(lm, []).append(i)
        old = open_day < month_first(self.base) - 3 * 365
        self.real_name.append(1 if r.random() < (0.75 if (pl == MOB and old) else 0.97) else 0)
        self.c_insts[c].append(i)
        if self.c_first[c] < 0:
            self.c_first[c] = i
        return i

    def _customer_with_instances(self, r, first_open: int, span_end: int, month: int, tenure_ok: bool) -> None:
        c = self._new_customer(r, first_open, month, tenure_ok)
        pls, bundled = _PATTERNS[self.c_l2[c]](r)
        boff = -1
        if bundled:
            boff = (_BGOV if self.c_l2[c].startswith("GOV") else _BPUB)(r)
        for k, pl in enumerate(pls):
            od = first_open if (k == 0 or bundled or span_end <= first_open) else r.randint(first_open, span_end)
            self._add_instance(r, c, pl, od, boff, len(pls))

    def _build(self, n: int) -> None:
        r = rng(self.seed, "population", self.base)
        b_first, b_last = month_first(self.base), month_last(self.base)
        self._base_new = min(n // 10, count(r, 0.016 * n, floor=15))   # opened during the base month itself
        churn = int(0.0115 * n)    # removed during the base month: the base month ends with ~n instances in service
        while len(self.cust) < n - self._base_new + churn:
            lo, hi = _TENURE(r)
            tm = r.uniform(lo, hi)
            first_open = max(b_first - 20 * 365, b_last - int(tm * 30.44) - r.randrange(28))
            self._customer_with_instances(r, first_open, b_last, self.base, tm >= 24)
        for m in self.months:
            self._evolve(m)
        self._index_orders()

    def agreement(self, i: int, m: int) -> int:
        """Agreement expiry day seen in the snapshot of month m (renewals applied in their expiry month), -1 if none."""
        e = self.agr0[i]
        if e < 0:
            return -1
        while True:
            me = month_of(e)
            if me > m or hu(self.seed, i, me, 31) >= 0.6:
                return e
            e += 730 if hu(self.seed, i, me, 37) < 0.3 else 365

    def _lapse_month(self, i: int) -> int:
        """First month whose agreement expiry is not renewed (0 if none inside the horizon)."""
        e = self.agr0[i]
        while e >= 0:
            me = month_of(e)
            if me > self.last:
                return 0
            if hu(self.seed, i, me, 31) >= 0.6:
                return me
            e += 730 if hu(self.seed, i, me, 37) < 0.3 else 365
        return 0

    def _evolve(self, m: int) -> None:
        r = rng(self.seed, "timeline", m)
        first, last = month_first(m), month_last(m)
        ndays = last - first + 1
        opened_before = [i for i in range(len(self.cust))
                         if self.open_day[i] < first and self.remove_day[i] < 0]
        n_serv = len(opened_before)
        # churn
        pre = [i for i in opened_before if self.pre[i]]
        post = [i for i in opened_before if not self.pre[i]]
        chosen = set(r.sample(pre, min(len(pre), count(r, 0.022 * len(pre)))))
        chosen.update(r.sample(post, min(len(post), count(r, 0.008 * len(post), floor=min(len(post), 4)))))
        lapsed = set()
        for i in self.lapse_by_month.get(m, ()):
            if self.open_day[i] < first and self.remove_day[i] < 0 and hu(self.seed, i, m, 41) < 0.25:
                lapsed.add(i)
        chosen |= lapsed
        for i in sorted(chosen):
            lo = max(first, min(last, self.agreement(i, m))) if i in lapsed else first
            self.remove_day[i] = r.randint(lo, last)
        # new instances: new customers (bundles) and add-ons of existing customers
        k = self._base_new if m == self.base else count(r, 0.016 * n_serv, floor=15)
        target = len(self.cust) + k
        while len(self.cust) < target:
            od = first + r.randrange(ndays)
            if r.random() < 0.72 or n_serv == 0:
                self._customer_with_instances(r, od, od, m, False)
            else:
                c = self.cust[opened_before[r.randrange(n_serv)]]
                self._add_instance(r, c, _ADDON(r), od, -1, 1)

    def _index_orders(self) -> None:
        b_first = month_first(self.base)
        for i in range(len(self.cust)):
            od, pl = self.open_day[i], self.pl[i]
            if od >= b_first - 20:
                lag = 0 if pl in (MOB, VAS, OTH) else (1, 1, 2, 2, 2, 3, 3, 4, 5, 7)[int(hu(self.seed, i, 0, 43) * 10)]
                self.new_order_day.setdefault(od - lag, []).append(i)
                if pl in (MOB, BB):
                    self.open_by_day.setdefault(od, []).append(i)
            rd = self.remove_day[i]
            if rd >= 0 and pl in (FIX, BB, ITV, DL):
                lag = (0, 0, 1, 1, 2)[int(hu(self.seed, i, 0, 47) * 5)]
                self.del_order_day.setdefault(rd - lag, []).append(i)

    # ------------------------------------------------------------------ per instance attributes
    def pid(self, i: int) -> str:
        return f"37{i:010d}"

    def cust_id(self, i: int) -> str:
        return f"53{self.cust[i]:010d}"

    def acct_id(self, i: int) -> str:
        return f"73{self.cust[i]:010d}"

    def city(self, i: int) -> str:
        return self.city_codes[self.c_city[self.cust[i]]]

    def county(self, i: int) -> str:
        return self.c_county[self.cust[i]]

    def ur(self, i: int) -> str:
        return self.c_ur[self.cust[i]]

    def vip(self, i: int) -> str:
        return VIP[self.c_vip[self.cust[i]]]

    def nbr(self, i: int) -> str:
        pl = self.pl[i]
        if pl == MOB:
            return _NBR_MOB[i % 5] + f"{(i * 48271 + 20130000) % 100000000:08d}"
        area = self.city(i)
        if pl == FIX:
            return area + ("8", "6", "5")[i % 3] + f"{(i * 7919 + 1234567) % 10000000:07d}"
        body = f"{(i * 7919 + 34567890) % 100000000:08d}"
        return {BB: "ad", ITV: "itv", DL: "DL", VAS: "vs", OTH: "ot"}[pl] + area[1:] + body

    def offer_at(self, i: int, m: int) -> tuple[str, str, int] | None:
        off = self.offer[i]
        if self.mig_month[i] and m >= self.mig_month[i]:
            off = self.mig_offer[i]
            return OFFERS[off]
        if off < 0:
            return None
        o = OFFERS[off]
        return (o[0], o[1], self.fee[i])

    def cert(self, c: int) -> tuple[str, str]:
        got = self._certs.get(c)
        if got is None:
            got = self._certs[c] = self._cert(c)
        return got

    def _cert(self, c: int) -> tuple[str, str]:
        l2 = self.c_l2[c]
        u = hu(self.seed, c, 0, 53)
        if l2.startswith("GOV"):
            if u < 0.85:
                return "ORG", f"{(c * 7877 + 10000000) % 100000000:08d}-{c % 10}"
            return "ID", self._idcard(c)
        if u < 0.965:
            return "ID", self._idcard(c)
        if u < 0.985:
            return "PASSPORT", f"G{(c * 6007 + 3000000) % 100000000:08d}"
        return "OTH", f"JG{(c * 911) % 10000000:07d}"

    def _idcard(self, c: int) -> str:
        born = 18000 + int(hu(self.seed, c, 0, 59) * 16000)   # ~1949..1993 as days before 2000
        d = D(-born)
        body = f"{self.c_county[c]}{d}{c % 1000:03d}"
        s = sum(int(ch) * w for ch, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), strict=False))
        return body + "10X98765432"[s % 11]

    # ------------------------------------------------------------------ months
    def arrivals(self, m: int) -> list[array]:
        """Instances arrived (in service) at the end of month m, by product line (the reference snapshot)."""
        m = max(m, self.base)
        got = self._arrivals.get(m)
        if got is None:
            last = month_last(m)
            got = [array("i") for _ in PL]
            od, rd, pl = self.open_day, self.remove_day, self.pl
            for i in range(len(self.cust)):
                if od[i] <= last and (rd[i] < 0 or rd[i] > last):
                    got[pl[i]].append(i)
            if len(self._arrivals) > 3:
                self._arrivals.pop(min(self._arrivals))
            self._arrivals[m] = got
        return got

    def ref_arrivals(self, day: int) -> list[array]:
        """arrivals() of the previous month-end snapshot of `day` (the reference snapshot of that day's events)."""
        return self.arrivals(month_add(month_of(day), -1))

    def ref_size(self, day: int) -> int:
        """How many instances the reference snapshot of `day` holds, over all product lines."""
        return sum(len(a) for a in self.ref_arrivals(day))

    def pick(self, r, pl: int, day: int, hot: float = 0.3) -> int:
        """An instance of product line pl in service on `day`, from the previous month-end snapshot; a 'hot' 3 %
        of the base draws `hot` of the picks (repeat faults, complaints, callers)."""
        lst = self.ref_arrivals(day)[pl]
        if not lst:
            lst = self.ref_arrivals(day)[MOB] or self.arrivals(self.base)[MOB]
        n = len(lst)
        for _ in range(4):
            if r.random() < hot:
                i = lst[r.randrange(max(1, n // 33))]
            else:
                i = lst[r.randrange(n)]
            if self.remove_day[i] < 0 or self.remove_day[i] > day:
                return i
        return i

    def month_state(self, i: int, m: int, first: int, last: int) -> tuple[str, int | None, str]:
        """(status, bill_amt_fen or None, active_flag) of instance i in its month-m snapshot row; one hash draw."""
        od, rd = self.open_day[i], self.remove_day[i]
        u = hu(self.seed, i, m, 61)
        ub = (u * 7919.0) % 1.0
        ua = (u * 104729.0) % 1.0
        if first <= rd <= last:
            status = "REMOVED"
        elif first <= od:
            status = "ACTIVE"
        elif u < (0.04 if self.pre[i] else 0.02):
            status = "SUSP_ARREARS"
        elif u > 0.99:
            status = "SUSP_REQ"
        else:
            status = "ACTIVE"
        if status == "ACTIVE":
            active = "1" if (od >= first or ua < 0.93) else "0"
        elif status == "REMOVED":
            active = "1" if ua < 0.5 else "0"
        else:
            active = "0"
        if ub < 0.004:
            return status, None, active
        if status == "SUSP_REQ":
            return status, 0, active
        off = self.offer[i]
        if self.mig_month[i] and m >= self.mig_month[i]:
            fee = OFFERS[self.mig_offer[i]][2]
        else:
            fee = self.fee[i] if off >= 0 else 0
        if status == "SUSP_ARREARS":
            return status, (fee // 2 if ub < 0.5 else 0), active
        if fee == 0:
            base = 500 + int(ub * 4500)
        elif ub < 0.62:
            base = fee
        elif ub < 0.92:
            base = int(fee * (1.0 + (ub - 0.62) * 3)) + 37
        else:
            base = int(fee * 0.6)
        if od > first or 0 <= rd <= last:
            a, b = max(first, od), min(last, rd if rd >= 0 else last)
            base = base * max(1, b - a + 1) // (last - first + 1)
        return status, base, active

    def status(self, i: int, m: int) -> str:
        return self.month_state(i, m, month_first(m), month_last(m))[0]

    def bill(self, i: int, m: int) -> int | None:
        return self.month_state(i, m, month_first(m), month_last(m))[1]

    def snapshot_rows(self, m: int) -> Iterator[list]:
        """SUBS rows of month m in the generator's field order (sources.md §4.15)."""
        first, last = month_first(m), month_last(m)
        od, rd, cust, pre, rn = self.open_day, self.remove_day, self.cust, self.pre, self.real_name
        c_city, c_county, c_ur, c_l2, c_vip = self.c_city, self.c_county, self.c_ur, self.c_l2, self.c_vip
        agr0 = self.agr0
        codes = self.city_codes
        state, offer_at, cert, nbr = self.month_state, self.offer_at, self.cert, self.nbr
        mi = (m // 100) * 12 + m % 100
        for i in range(len(cust)):
            o_d, r_d = od[i], rd[i]
            if o_d > last or 0 <= r_d < first:
                continue
            c = cust[i]
            st, b, active = state(i, m, first, last)
            o = offer_at(i, m)
            ag = self.agreement(i, m) if agr0[i] >= 0 else -1
            ct, cn = cert(c)
            l2 = c_l2[c]
            om = month_of(o_d)
            yield [f"37{i:010d}", f"53{c:010d}", f"73{c:010d}", nbr(i), ct, cn, codes[c_city[c]], c_county[c], c_ur[c],
                   PL[self.pl[i]], SEG_L2[l2], l2, VIP[c_vip[c]], "PRE" if pre[i] else "POST",
                   o[0] if o else "", o[1] if o else "", str(o[2]) if o else "",
                   D(o_d), D(r_d) if st == "REMOVED" else "", st, str(mi - (om // 100) * 12 - om % 100),
                   "" if b is None else str(b), active, "1" if rn[i] else "0", D(ag) if ag >= 0 else ""]


SUBS_FIELDS = ("prod_inst_id", "cust_id", "acct_id", "acc_nbr", "cert_type", "cert_nbr", "city_code", "county_code",
               "urban_rural", "product_line", "cust_segment", "cust_segment_l2", "vip_level", "pay_type", "offer_id",
               "offer_type", "offer_fee_fen", "open_date", "remove_date", "status", "tenure_months", "bill_amt_fen",
               "active_flag", "real_name_flag", "agreement_exp_date")
