"""SP_ORDER (provisioning orders) and SP_STEP (their steps).

NEW orders belong to the instances the timeline opens (completed on the open date), DEL orders to removed
fixed/broadband instances (completed on the remove date); MOVE, CHG and RES orders are drawn from the base;
a few NEW orders are cancelled or stay open. Steps partition accept → complete, with returns and overtime.
"""
from __future__ import annotations

from .common import (
    DAY,
    HOUR,
    OFFICE_HOURS,
    Collector,
    D,
    Pick,
    T,
    count,
    emit_versions,
    month_of,
    plan_versions,
    time_in_day,
)
from .proactive import callback_task
from .subscribers import BB, DL, FIX, ITV, MOB, OTH, PL, VAS
from .tickets import make_refund

ORD_FIELDS = ("order_id", "cust_order_id", "order_type", "prod_inst_id", "acc_nbr", "cust_id", "city_code",
              "county_code", "urban_rural", "product_line", "access_type", "offer_id", "accept_time", "accept_channel",
              "appoint_time", "arrive_time", "complete_time", "cancel_time", "order_status", "suspend_sec",
              "install_team_id", "install_fee_fen", "callback_result", "update_time")
STEP_FIELDS = ("order_id", "step_seq", "step_code", "handler_dept", "start_time", "end_time", "limit_min",
               "return_flag", "update_time")

INSTALL_LINES = (FIX, BB, ITV, DL)
# (step_code, limit minutes, share of the accept -> complete span)
_INSTALL_STEPS = [("ACCEPT", 30, 0.02), ("DISPATCH", 60, 0.04), ("RESOURCE", 480, 0.15), ("OUTSIDE", 2880, 0.60),
                  ("DATA", 240, 0.10), ("REPLY", 120, 0.05), ("COMPLETE", 60, 0.04)]
_SIMPLE_STEPS = [("ACCEPT", 30, 0.10), ("DATA", 240, 0.70), ("COMPLETE", 60, 0.20)]
_DEPT = {"ACCEPT": "客户服务中心", "DISPATCH": "调度中心", "RESOURCE": "资源管理中心", "OUTSIDE": "装维中心",
         "DATA": "网络操作维护中心", "REPLY": "装维中心", "COMPLETE": "客户服务中心", "ARCHIVE": "综合部"}
_ACCESS = {BB: Pick([("FTTH", 45), ("ADSL", 35), ("LAN", 20)]), FIX: Pick([("PSTN", 80), ("FTTH", 20)]),
           ITV: Pick([("FTTH", 60), ("LAN", 25), ("ADSL", 15)]), DL: Pick([("FTTH", 50), ("OTH", 50)]),
           MOB: Pick([("CDMA", 100)]), VAS: Pick([("", 70), ("OTH", 30)]), OTH: Pick([("", 60), ("OTH", 40)])}
_FEE = {BB: (0, 0, 10000, 20000), FIX: (0, 0, 5000), ITV: (0,), DL: (100000, 200000), MOB: ("", 0), VAS: ("",),
        OTH: ("",)}


class OrderModel:
    def __init__(self, cb):
        cb.need("SP_ORDER", "order_type", "NEW", "MOVE", "CHG", "DEL", "RES")
        cb.need("SP_ORDER", "order_status", "OPEN", "COMPLETED", "CANCELLED")
        cb.need("SP_ORDER", "access_type", "FTTH", "ADSL", "LAN", "PSTN", "CDMA", "OTH")
        cb.need("SP_STEP", "step_code", *(s for s, _, _ in _INSTALL_STEPS), "ARCHIVE")
        self.channel = cb.pick("SP_ORDER", "accept_channel", {"HALL": 58, "ACCMGR": 12, "WEB": 6, "APP": 6,
                                                              "HOTLINE": 10, "FIELD": 6, "WECHAT": 2})
        self.cb = cb.pick("SP_ORDER", "callback_result", {"SAT": 78, "NEUTRAL": 10, "DISSAT": 6, "NOREACH": 6})
        self.city_name = {c.city_code: c.name_cn for c in cb.cities}


def gen_orders(w, day: int, out: Collector) -> None:
    r = w.rng("ord", day)
    pop = w.pop
    ymd = D(day)
    k = 0
    arr = pop.ref_arrivals(day)
    # NEW orders of the instances opening in a few days (completed on the open date)
    for i in pop.new_order_day.get(day, ()):
        od = pop.open_day[i]
        if od == day:
            acc = time_in_day(r, day, OFFICE_HOURS)
            comp = acc + r.randint(600, 4 * HOUR)
        else:
            acc = time_in_day(r, day, OFFICE_HOURS)
            comp = None
        _order(w, r, out, f"SO{ymd}{k:06d}", "NEW", i, acc, complete_day=od, complete_t=comp)
        k += 1
    # NEW orders that are cancelled or never finish (no instance is ever opened for them)
    n_new = len(pop.new_order_day.get(day, ()))
    for _ in range(count(r, n_new * 0.05 + 0.3)):
        i = pop.pick(r, (BB, FIX, ITV)[r.randrange(3)], day, hot=0.0)
        _order(w, r, out, f"SO{ymd}{k:06d}", "NEW", i, time_in_day(r, day, OFFICE_HOURS), dead=True)
        k += 1
    # DEL orders of instances being removed
    for i in pop.del_order_day.get(day, ()):
        acc = time_in_day(r, day, OFFICE_HOURS)
        rd = pop.remove_day[i]
        comp = acc + r.randint(1800, 6 * HOUR) if rd == day else None
        _order(w, r, out, f"SO{ymd}{k:06d}", "DEL", i, acc, complete_day=rd, complete_t=comp)
        k += 1
    n_wire = len(arr[FIX]) + len(arr[BB]) + len(arr[ITV])
    n_all = sum(len(a) for a in arr)
    for otype, n in (("MOVE", count(r, n_wire * 0.003 / 30.4, floor=1)),
                     ("CHG", count(r, n_all * 0.004 / 30.4, floor=1)),
                     ("RES", count(r, n_all * 0.0008 / 30.4))):
        for _ in range(n):
            pl = (FIX, BB, ITV)[r.randrange(3)] if otype == "MOVE" else (MOB, BB, FIX, MOB)[r.randrange(4)]
            i = pop.pick(r, pl, day, hot=0.05)
            acc = time_in_day(r, day, OFFICE_HOURS)
            if otype == "MOVE":
                span = r.randint(20 * HOUR, 6 * DAY) if r.random() < 0.9 else r.randint(6 * DAY, 10 * DAY)
                if pop.ur(i) == "R":
                    span = int(span * 1.4)
            elif otype == "CHG":
                span = r.randint(1800, 30 * HOUR)
            else:
                span = r.randint(1800, 8 * HOUR)
            _order(w, r, out, f"SO{ymd}{k:06d}", otype, i, acc, complete_t=acc + span,
                   dead=otype == "MOVE" and r.random() < 0.03)
            k += 1


def _order(w, r, out: Collector, oid: str, otype: str, i: int, acc: int, complete_day: int | None = None,
           complete_t: int | None = None, dead: bool = False) -> None:
    pop, m = w.pop, w.orders
    pl = pop.pl[i]
    install = pl in INSTALL_LINES and otype in ("NEW", "MOVE")
    city = pop.city(i)
    ur = pop.ur(i)
    suspend = None
    appoint = arrive = comp = cancel = None
    if dead:
        if r.random() < 0.65:
            cancel = acc + r.randint(HOUR, 6 * DAY)
        # else: stays open for good (overdue backlog)
    elif complete_t is not None:
        comp = complete_t
    else:
        cday = complete_day if complete_day is not None else acc // DAY + 1
        if install:
            appoint = cday * DAY + (9 + r.randrange(8)) * HOUR + (1800 if r.random() < 0.5 else 0)
            arrive = appoint + (r.randint(-1800, 0) if r.random() < 0.85 else r.randint(900, 5400))
            comp = arrive + r.randint(1800, 3 * HOUR)
        else:
            comp = cday * DAY + (9 + r.randrange(9)) * HOUR + r.randrange(HOUR)
        comp = max(comp, acc + 1800)
    if install and comp is not None and appoint is None and otype == "MOVE":
        appoint = max(acc + 2 * HOUR, comp - r.randint(2 * HOUR, 5 * HOUR)) // 1800 * 1800
        arrive = appoint + (r.randint(-1800, 0) if r.random() < 0.85 else r.randint(900, 3600))
        arrive = min(max(arrive, acc + HOUR), comp - 600)
    if comp is not None and r.random() < 0.08:
        suspend = r.randint(2 * HOUR, 24 * HOUR)
    appoint_set = acc + r.randint(HOUR, 4 * HOUR) if appoint is not None else None
    if appoint_set is not None and appoint_set > appoint:
        appoint_set = acc + 60
    cb_t = cb_res = None
    if comp is not None and install and r.random() < 0.55:
        cb_t, cb_res = comp + r.randint(4 * HOUR, 3 * DAY), m.cb(r)
    end = comp if comp is not None else cancel
    times = sorted({acc} | {x for x in (appoint_set, arrive, end, cb_t) if x is not None})
    plan = plan_versions(r, times, resend_p=0.005)
    o = pop.offer_at(i, month_of(acc // DAY))
    fees = _FEE[pl]
    fee = fees[r.randrange(len(fees))] if otype == "NEW" else ("" if otype != "MOVE" else 5000 * (r.random() < 0.3))
    access = _ACCESS[pl](r)
    no_nbr = dead and r.random() < 0.5
    head = [oid, f"CO{oid[2:]}", otype, "" if dead else pop.pid(i), "" if no_nbr else pop.nbr(i),
            pop.cust_id(i) if not dead or r.random() < 0.5 else "", city, pop.county(i) if r.random() < 0.97 else "",
            ur if r.random() < 0.97 else "", PL[pl], access, o[0] if o else "", T(acc), m.channel(r)]
    team = f"IT{city[1:]}{r.randint(1, 60):03d}" if install else ""
    fee_s = str(fee) if fee != "" else ""
    susp_s = "" if suspend is None else str(suspend)

    def build(k: int) -> list:
        tk = times[k]
        done = comp is not None and comp <= tk
        canc = cancel is not None and cancel <= tk
        ap = appoint is not None and appoint_set is not None and appoint_set <= tk
        return head + [T(appoint) if ap else "", T(arrive) if arrive is not None and arrive <= tk else "",
                       T(comp) if done else "", T(cancel) if canc else "",
                       "COMPLETED" if done else ("CANCELLED" if canc else "OPEN"), susp_s if done else "",
                       team if ap or done else "", fee_s, cb_res if cb_t is not None and cb_t <= tk else "", T(tk)]
    emit_versions(out, plan, "SP_ORDER", build)
    _steps(w, r, out, oid, install, city, acc, comp, cancel, ur)
    if comp is not None and install and r.random() < 0.4:
        callback_task(w, r, out, "OB" + oid, i, "INSTALL", oid, comp)
    if comp is not None and install and comp - acc > 5 * DAY and r.random() < 0.1:
        make_refund(w, r, out, "AJO" + oid[2:], i, comp + r.randint(HOUR, 24 * HOUR), "COMP", "OVERDUE", "ORDER", oid,
                    r.randint(1000, 10000))


def _steps(w, r, out: Collector, oid: str, install: bool, city: str, acc: int, comp: int | None,
           cancel: int | None, ur: str) -> None:
    spec = list(_INSTALL_STEPS if install else _SIMPLE_STEPS)
    if install and r.random() < 0.06:
        k = [s for s, _, _ in spec].index("OUTSIDE")
        spec[k:k + 1] = [("OUTSIDE", 2880, 0.2, 1), ("RESOURCE", 480, 0.1), ("OUTSIDE", 2880, 0.3)]
    end_all = comp if comp is not None else (cancel if cancel is not None else acc + 30 * DAY)
    span = max(600, end_all - acc)
    weights = [x[2] * r.uniform(0.5, 1.5) for x in spec]
    tot = sum(weights)
    dept = w.orders.city_name.get(city, "") + "分公司"
    t = acc
    seq = 0
    for (x, wgt) in zip(spec, weights, strict=True):
        code, limit = x[0], x[1]
        if code == "OUTSIDE" and ur == "R":
            limit = 4320
        ret = len(x) > 3
        start = t
        end = start + max(60, int(span * wgt / tot))
        if comp is not None and code == "COMPLETE":
            end = comp
        seq += 1
        if comp is None and end >= end_all:
            # order cancelled / never finished: this step stays open (or is closed by the cancel)
            end = cancel if (cancel is not None and r.random() < 0.5) else None
            _step(r, out, oid, seq, code, dept + _DEPT[code], start, end, limit, ret)
            return
        end = min(end, end_all) if comp is not None else end
        _step(r, out, oid, seq, code, dept + _DEPT[code], start, end, limit, ret)
        t = end
    if comp is not None:
        seq += 1
        arch_end = comp + (r.randint(HOUR, 3 * DAY) if r.random() < 0.9 else r.randint(3 * DAY + HOUR, 6 * DAY))
        _step(r, out, oid, seq, "ARCHIVE", dept + _DEPT["ARCHIVE"], comp, arch_end, 4320, False)


def _step(r, out: Collector, oid: str, seq: int, code: str, dept: str, start: int, end: int | None, limit: int,
          ret: bool) -> None:
    lim = str(limit) if r.random() < 0.97 else ""
    times = [start] if end is None else [start, max(start, end)]
    plan = plan_versions(r, times)
    base = [oid, str(seq), code, dept, T(start)]
    emit_versions(out, plan, "SP_STEP", lambda k: base + [T(times[1]) if k == 1 else "", lim, "1" if ret else "0",
                                                          T(times[k])])
