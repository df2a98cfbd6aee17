"""PTS_TXN (points ledger), PTS_EXCH (exchange orders) and PTS_BAL (month-end balances).

Balances are consistent with the ledger: for every customer and points type,
balance(M) = balance(prev M) + earned − redeemed − expired + adjusted over txn_time in M (gold RC01).
The base month (December before the first day) holds the opening balances. Ledger per day:
  EARN CONSUME / REWARD_MOB per instance on the customer's earn day (base = last month's bill),
  EARN REWARD_TENURE per long-standing customer, EARN REWARD_ACT (activity points, half expire after 90 days),
  ADJUST (signed), REDEEM for every SUCCESS exchange (txn_time = order_time, points = points_used),
  EXPIRE of REWARD_ACT points after 90 days, and on 31 December the year-end EXPIRE of last year's CONSUME points.
"""
from __future__ import annotations

from collections.abc import Callable

from .common import (
    DAY,
    HOUR,
    WEB_HOURS,
    Collector,
    D,
    T,
    count,
    date_of,
    emit_versions,
    hu,
    month_add,
    month_first,
    month_of,
    plan_versions,
    time_in_day,
)
from .subscribers import MOB

TXN_FIELDS = ("txn_id", "cust_id", "points_type", "txn_type", "points", "txn_time", "earn_year", "base_amt_fen",
              "prod_inst_id", "exch_id", "update_time")
EXCH_FIELDS = ("exch_id", "cust_id", "acc_nbr", "city_code", "exch_channel", "gift_id", "gift_cat", "qty",
               "points_used", "cost_fen", "order_time", "exch_status", "finish_time", "update_time")
BAL_FIELDS = ("cust_id", "points_type", "main_acc_nbr", "city_code", "cust_segment", "vip_level", "balance",
              "expire_ye_points")

PT = ("CONSUME", "REWARD_TENURE", "REWARD_MOB", "REWARD_ACT")
CONSUME, TENURE, MOBR, ACT = range(4)
# gift catalog: (gift_id, category, points, cost in fen)
_GIFTS = [("G1001", "BILL", 1000, 1000), ("G1002", "BILL", 3000, 3000), ("G2001", "GOODS", 2500, 1800),
          ("G2002", "GOODS", 6000, 4500), ("G2003", "GOODS", 12000, 9000), ("G3001", "SERVICE", 500, 0),
          ("G3002", "SERVICE", 800, 0), ("G4001", "PARTNER", 1500, 1000), ("G4002", "PARTNER", 2000, 1400)]
_YEAR_END_T = 23 * HOUR + 55 * 60   # the year-end clearing time on 31 December
_LAST_ORDER_T = 23 * HOUR + 50 * 60


class PointsModel:
    """Static points facts: accounts, opening balances, earn days, exchangers."""

    def __init__(self, w):
        cb = w.cb
        cb.need("PTS_TXN", "points_type", *PT)
        cb.need("PTS_BAL", "points_type", *PT)
        cb.need("PTS_TXN", "txn_type", "EARN", "REDEEM", "EXPIRE", "ADJUST")
        cb.need("PTS_EXCH", "gift_cat", *{g[1] for g in _GIFTS})
        cb.need("PTS_EXCH", "exch_status", "SUCCESS", "FAILED", "CANCELLED", "PENDING")
        self.channel = cb.pick("PTS_EXCH", "exch_channel", {"MALL": 30, "APP": 20, "WEB": 15, "HALL": 20, "SMS": 10,
                                                            "HOTLINE": 5})
        self.w = w
        pop = w.pop
        seed = w.seed
        n = len(pop.c_city)
        self.has_mob = bytearray(n)
        for i in range(len(pop.cust)):
            if pop.pl[i] == MOB:
                self.has_mob[pop.cust[i]] = 1
        self.has_act = bytearray(1 if hu(seed, c, 0, 73) < 0.25 else 0 for c in range(n))
        self.init: dict[tuple[int, int], int] = {}
        self.x0: dict[int, int] = {}
        self.eligible: list[int] = []
        self.act_custs: list[int] = []
        self.base_custs = 0
        for c in range(n):
            if pop.c_born[c] != pop.base:
                continue
            self.base_custs += 1
            u = hu(seed, c, 0, 79)
            bal = 0 if u < 0.08 else min(60000, int(300 + 1500 * (u / (1.02 - u)) ** 0.8))
            self.init[(c, CONSUME)] = bal
            self.x0[c] = bal * 35 // 100
            if bal >= 1600:
                self.eligible.append(c)
            if pop.c_tenure_ok[c]:
                self.init[(c, TENURE)] = 200 + int(hu(seed, c, 0, 83) * 2800)
            if self.has_mob[c]:
                self.init[(c, MOBR)] = int(hu(seed, c, 0, 89) * 1500)
            if self.has_act[c]:
                self.init[(c, ACT)] = int(hu(seed, c, 0, 97) * 400)
                self.act_custs.append(c)
        self._earn_groups: dict[int, dict[int, list[int]]] = {}
        # activity points already in the opening balance expire during the first 90 days (half of them)
        self.legacy_expiry: dict[int, list[tuple[int, int]]] = {}
        d0 = month_first(month_add(pop.base, 1))
        for c in self.act_custs:
            pts = self.init[(c, ACT)] // 2
            if pts >= 50:
                self.legacy_expiry.setdefault(d0 + (c * 13) % 90, []).append((c, pts))

    def accounts(self, c: int) -> list[int]:
        pop = self.w.pop
        out = [CONSUME]
        if pop.c_tenure_ok[c]:
            out.append(TENURE)
        if self.has_mob[c]:
            out.append(MOBR)
        if self.has_act[c]:
            out.append(ACT)
        return out

    @staticmethod
    def earn_dom(c: int) -> int:
        return 1 + (c * 11 + 3) % 28

    def earn_group(self, m: int, dom: int) -> list[int]:
        """Instances arrived at the end of prev(m) whose customer earns on day-of-month dom."""
        g = self._earn_groups.get(m)
        if g is None:
            pop = self.w.pop
            g = {}
            for lst in pop.arrivals(month_add(m, -1)):
                for i in lst:
                    g.setdefault(self.earn_dom(pop.cust[i]), []).append(i)
            for v in g.values():
                v.sort()
            if len(self._earn_groups) > 2:
                self._earn_groups.pop(min(self._earn_groups))
            self._earn_groups[m] = g
        return g.get(dom, [])

    def act_earns(self, day: int) -> list[tuple[int, int, int, bool]]:
        """Activity points earned on `day`: [(customer, points, txn_time, expires after 90 days)]."""
        if not self.act_custs:
            return []
        r = self.w.rng("ptsact", day)
        n = count(r, len(self.act_custs) * 0.004, floor=1)
        out = []
        for _ in range(n):
            c = self.act_custs[r.randrange(len(self.act_custs))]
            out.append((c, 10 * r.randint(5, 50), day * DAY + 9 * HOUR + r.randrange(10 * HOUR), r.random() < 0.5))
        return out


def _txn(out: Collector, day: int, tid: str, cust: str, t: int, ttype: str, pts: int, when: int, year: str,
         base: str = "", pid: str = "", exch: str = "") -> None:
    ts = T(when)
    out.add(day, "PTS_TXN", [tid, cust, PT[t], ttype, str(pts), ts, year, base, pid, exch, ts])


def gen_ledger(w, day: int, out: Collector) -> None:
    """EARN / ADJUST / EXPIRE rows of `day` (REDEEM rows come with the exchanges)."""
    r = w.rng("pts", day)
    pop, pm = w.pop, w.points
    m = month_of(day)
    dom = day - month_first(m) + 1
    ymd = D(day)
    year = ymd[:4]
    emit = out.want(day)
    fact = out.fact
    k = 0
    if m > pop.base and dom <= 28:
        prev = month_add(m, -1)
        for i in pm.earn_group(m, dom):
            c = pop.cust[i]
            b = pop.bill(i, prev)
            if not b or b <= 0:
                continue
            when = day * DAY + HOUR + r.randrange(4 * HOUR)
            vip = pop.c_vip[c]
            pts = b // 100 * (3 if vip <= 1 else 2) // 2
            cid = pop.cust_id(i)
            if pts > 0:
                fact("pts", (c, CONSUME, pts))
                fact("earn", (c, pts))
                if emit:
                    _txn(out, day, f"T{ymd}{k:07d}", cid, CONSUME, "EARN", pts, when, year, str(b), pop.pid(i))
                k += 1
            if pop.pl[i] == MOB:
                o = pop.offer_at(i, prev)
                pts = 10 + (o[2] // 1000 if o else 0)
                fact("pts", (c, MOBR, pts))
                if emit:
                    _txn(out, day, f"T{ymd}{k:07d}", cid, MOBR, "EARN", pts, when + 1, year, "", pop.pid(i))
                k += 1
            if i == pop.c_first[c] and pop.c_tenure_ok[c]:
                pts = 20 + 10 * min(6, (day - pop.open_day[i]) // 365)
                fact("pts", (c, TENURE, pts))
                if emit:
                    _txn(out, day, f"T{ymd}{k:07d}", cid, TENURE, "EARN", pts, when + 2, year, "", pop.pid(i))
                k += 1
    if m > pop.base:
        for c, pts, when, _ in pm.act_earns(day):
            fact("pts", (c, ACT, pts))
            if emit:
                _txn(out, day, f"T{ymd}A{k:06d}", f"53{c:010d}", ACT, "EARN", pts, when, year)
            k += 1
        src = day - 90
        if month_of(src) > pop.base:
            for j, (c, pts, _, expires) in enumerate(pm.act_earns(src)):
                if expires:
                    fact("pts", (c, ACT, -pts))
                    if emit:
                        _txn(out, day, f"T{ymd}E{j:06d}", f"53{c:010d}", ACT, "EXPIRE", pts,
                             day * DAY + 1800 + j, D(src)[:4])
        for j, (c, pts) in enumerate(pm.legacy_expiry.get(day, ())):
            fact("pts", (c, ACT, -pts))
            if emit:
                _txn(out, day, f"T{ymd}L{j:06d}", f"53{c:010d}", ACT, "EXPIRE", pts, day * DAY + 1200 + j,
                     str(int(year) - 1))
        base_n = pm.base_custs
        for j in range(count(r, max(0.1, base_n * 0.00005))):
            c = r.randrange(base_n)
            pts = r.randint(1, 50) * 10 * (-1 if r.random() < 0.3 else 1)
            when = time_in_day(r, day, WEB_HOURS) // 60 * 60   # drawn written or not: the next draws must not move
            fact("pts", (c, CONSUME, pts))
            if emit:
                _txn(out, day, f"T{ymd}J{j:06d}", f"53{c:010d}", CONSUME, "ADJUST", pts, when, year)
        d = date_of(day)
        if d.month == 12 and d.day == 31:
            left = w.book.year_end_left(d.year)
            for j, c in enumerate(sorted(left)):
                pts = left[c]
                if pts > 0:
                    fact("pts", (c, CONSUME, -pts))
                    if emit:
                        _txn(out, day, f"T{ymd}Y{j:07d}", f"53{c:010d}", CONSUME, "EXPIRE", pts,
                             day * DAY + _YEAR_END_T, str(d.year - 1))


def gen_exchanges(w, day: int, out: Collector) -> None:
    """PTS_EXCH orders of `day` and the REDEEM ledger rows of the successful ones."""
    r = w.rng("exch", day)
    pop, pm = w.pop, w.points
    if not pm.eligible or month_of(day) <= pop.base:
        return
    ymd = D(day)
    for k in range(count(r, pm.base_custs * 0.0006, floor=1)):
        c = pm.eligible[r.randrange(len(pm.eligible))]
        cap = pm.init[(c, CONSUME)] * 3 // 10
        gifts = [g for g in _GIFTS if g[2] <= cap] or [_GIFTS[5]]
        gid, cat, price, cost = gifts[r.randrange(len(gifts))]
        qty = 2 if r.random() < 0.1 and price * 2 <= cap else 1
        used = price * qty
        order = min(time_in_day(r, day, WEB_HOURS), day * DAY + _LAST_ORDER_T)
        u = r.random()
        if u < 0.90:
            status = "SUCCESS"
        elif u < 0.95:
            status = "FAILED"
        elif u < 0.98:
            status = "CANCELLED"
        else:
            status = "PENDING"
        quick = cat in ("BILL", "SERVICE")
        fin = None
        if status in ("SUCCESS", "FAILED"):
            fin = order + (r.randint(5, 300) if quick else r.randint(DAY, 5 * DAY))
            end = fin
        elif status == "CANCELLED":
            end = order + r.randint(600, 20 * HOUR)
        else:
            end = order
        eid = f"PX{ymd}{k:06d}"
        i = pop.c_first[c]
        times = [order] if end == order else [order, end]
        plan = plan_versions(r, times, late_p=0.0)
        head = [eid, f"53{c:010d}", pop.nbr(i), pop.city_codes[pop.c_city[c]], pm.channel(r), gid, cat, str(qty),
                str(used), str(cost * qty) if cost else ("0" if r.random() < 0.5 else ""), T(order)]

        def build(v: int, head=head, times=times, status=status, fin=fin) -> list:
            if v == 0 and len(times) > 1:
                return head + ["PENDING", "", T(times[0])]
            return head + [status, "" if fin is None else T(fin), T(times[-1])]
        emit_versions(out, plan, "PTS_EXCH", build)
        if status == "SUCCESS":
            out.fact("pts", (c, CONSUME, -used))
            out.fact("redeem", (c, used))
            if out.want(day):
                _txn(out, day, f"T{ymd}R{k:06d}", f"53{c:010d}", CONSUME, "REDEEM", used, order, "", exch=eid)


class PointsBook:
    """Month-end balances, advanced month by month from the base-month opening balances with the full ledger."""

    def __init__(self, w):
        self.w = w
        pm = w.points
        self.month = w.pop.base
        self.bal: dict[tuple[int, int], int] = dict(pm.init)
        self.x: dict[int, int] = {}              # CONSUME points of last year still to be cleared on 31 Dec
        self.year_earn: dict[int, int] = {}
        self._x0 = dict(pm.x0)
        self.on_month: Callable[[int], None] | None = None   # called after each month is reached (writes PTS_BAL)

    def advance_to(self, m: int) -> None:
        while self.month < m:
            self._apply(month_add(self.month, 1))

    def _apply(self, m: int) -> None:
        net, redeem, earn = self.w.points_month(m)
        if m % 100 == 1:
            if self._x0 is not None:
                self.x = self._x0
                self._x0 = None
            else:
                self.x = {c: min(max(self.bal.get((c, CONSUME), 0), 0), e) for c, e in self.year_earn.items() if e > 0}
            self.year_earn = {}
        for key, v in net.items():
            self.bal[key] = self.bal.get(key, 0) + v
        x = self.x
        for c, v in redeem.items():
            if c in x:
                x[c] = max(0, x[c] - v)
        ye = self.year_earn
        for c, v in earn.items():
            ye[c] = ye.get(c, 0) + v
        if m % 100 == 12:
            self.x = {}
        self.month = m
        if self.on_month:
            self.on_month(m)

    def year_end_left(self, year: int) -> dict[int, int]:
        """CONSUME points of year-1 left at the 31 December clearing: X after November minus December redemptions."""
        self.advance_to(year * 100 + 11)
        left = dict(self.x)
        for d in range(month_first(year * 100 + 12), month_first(year * 100 + 12) + 31):
            for c, v in self.w.day_facts("exch", d).get("redeem", ()):
                if c in left:
                    left[c] = max(0, left[c] - v)
        return left

    def rows(self, m: int):
        """PTS_BAL rows of month m (generator field order); the book must stand at m (see on_month)."""
        if self.month != m:
            raise RuntimeError(f"points book stands at {self.month}, not {m}")
        pop, pm = self.w.pop, self.w.points
        from .subscribers import SEG_L2, VIP
        dec = m % 100 == 12
        for c in range(len(pop.c_city)):
            if pop.c_born[c] > m:
                continue
            i = pop.c_first[c]
            head = [f"53{c:010d}"]
            tail = [pop.nbr(i), pop.city_codes[pop.c_city[c]], SEG_L2[pop.c_l2[c]], VIP[pop.c_vip[c]]]
            for t in pm.accounts(c):
                if t == CONSUME:
                    exp = "0" if dec else str(self.x.get(c, 0))
                else:
                    exp = "" if t == ACT else "0"
                yield head + [PT[t]] + tail + [str(self.bal.get((c, t), 0)), exp]
