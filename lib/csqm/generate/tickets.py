"""FLT_TICKET (faults), CS_SHEET (complaint / consult sheets) and BILL_ADJ (refunds and compensation).

Faults spawn duplicate reports (one exactly 24 h later per day), complaints about the fault (related_fault_id),
refunds for overdue repairs, repair callbacks and the hotline call that reported them. Complaints spawn
refunds (related_type CMPL), callbacks and their hotline call; they are archived days after they finish.
About 11 % of the valid complaints are repeats: the same number complains again within 30 days of a complaint
of the run (one per month exactly 720 h after the earlier one, the edge of silver's 30-day repeat window).
"""
from __future__ import annotations

from .calls import make_call
from .common import (
    CONTACT_HOURS,
    DAY,
    HOUR,
    OFFICE_HOURS,
    Collector,
    D,
    Pick,
    T,
    count,
    day_of,
    emit_versions,
    hu,
    month_add,
    month_first,
    month_last,
    month_of,
    plan_versions,
    time_in_day,
)
from .proactive import callback_task
from .subscribers import BB, DL, FIX, ITV, MOB, PL, VAS

FLT_FIELDS = ("fault_id", "prod_inst_id", "acc_nbr", "city_code", "county_code", "urban_rural", "product_line",
              "accept_time", "accept_channel", "fault_phen_l1", "dispatch_time", "appoint_time", "arrive_time",
              "close_time", "suspend_sec", "fault_cause_l1", "ticket_status", "maint_team_id", "callback_result",
              "callback_time", "update_time")
CS_FIELDS = ("sheet_id", "sheet_type", "prod_inst_id", "acc_nbr", "cust_id", "city_code", "product_line",
             "accept_time", "accept_channel", "accept_staff_id", "cmpl_phen_l1", "cmpl_phen_l2", "urgent_level",
             "valid_flag", "dispatch_time", "first_contact_time", "finish_time", "suspend_sec", "sheet_status",
             "resp_flag", "supervise_flag", "callback_result", "related_fault_id", "update_time")
ADJ_FIELDS = ("adj_id", "acct_id", "cust_id", "prod_inst_id", "acc_nbr", "city_code", "product_line", "refund_type",
              "reason_l1", "amount_fen", "apply_time", "approve_level", "decide_time", "adj_status", "related_type",
              "related_id", "update_time")

_PHEN_L2 = {"NET": ("宽带网速慢", "宽带经常掉线", "手机信号差", "通话断续", "3G上网慢"),
            "BILL": ("话费争议", "套餐外收费", "扣费不明", "积分扣减异议", "宽带续费争议"),
            "SVC": ("装维人员态度差", "营业员服务态度", "10000号接通难", "修障超时", "预约上门不准时"),
            "PROD": ("业务开通失败", "套餐变更未生效", "天翼定制机问题", "iTV节目卡顿"),
            "MKT": ("宣传与实际不符", "未经同意开通业务", "促销赠品未兑现"),
            "OTH": ("其他", "建议增加营业厅", "号码变更咨询")}


REPEAT_WINDOW = 30          # days: a repeat complaint follows an earlier one of the same number within 720 h
REPEAT_SHARE = 0.11         # of the valid complaints, the share that repeats one of the previous 30 days
CMPL_PER_SHEET_CMPL = 1.3   # valid complaints per first CMPL sheet of gen_sheets (complaints about faults add ~30 %)
# how many days before the repeat its earlier complaint was accepted (0 = the same day): mostly the first week;
# _REPEAT_LAG[n] draws among 0..n-1 (early in the run only the run's days count)
_REPEAT_LAG = [None] + [Pick([(j, 1.0 / (j + 2)) for j in range(n)]) for n in range(1, REPEAT_WINDOW + 1)]


def limit_hours(pl: int, ur: str) -> int:
    """Fault repair limit of operations.md §2 (the generator aims its durations at it)."""
    if pl == DL:
        return 4
    if pl == MOB or ur == "R":
        return 48
    return 24


class TicketModel:
    def __init__(self, cb):
        self.flt_channel = cb.pick("FLT_TICKET", "accept_channel", {
            "HOTLINE": 68, "WEB": 4, "APP": 5, "WECHAT": 4, "HALL": 5, "FIELD": 5, "ACCMGR": 3, "SMS": 2, "QQ": 1,
            "UPPER": 1, "LETTER": 0.5})
        self.phen = {pl: cb.pick("FLT_TICKET", "fault_phen_l1", w) for pl, w in {
            FIX: {"NO_DIAL": 50, "NOISE": 30, "DROP": 8, "OTH": 12},
            BB: {"NO_NET": 45, "SLOW": 25, "DROP": 20, "OTH": 10},
            ITV: {"TV": 80, "NO_NET": 10, "OTH": 10},
            MOB: {"NO_SIGNAL": 60, "DROP": 20, "NO_NET": 15, "OTH": 5},
            DL: {"NO_NET": 50, "DROP": 35, "SLOW": 10, "OTH": 5}}.items()}
        self.cause = cb.pick("FLT_TICKET", "fault_cause_l1", {"LINE": 30, "EQUIP": 10, "TERM": 20, "USER": 10,
                                                              "NET": 10, "THIRD": 5, "NONE": 15})
        self.flt_cb = cb.pick("FLT_TICKET", "callback_result", {"SAT": 80, "NEUTRAL": 9, "DISSAT": 5, "NOREACH": 6})
        cb.need("FLT_TICKET", "ticket_status", "OPEN", "CLOSED", "CANCELLED", "TEST")
        self.fault_pl = {FIX: 0.02, BB: 0.025, ITV: 0.015, DL: 0.03, MOB: 0.0015}
        self.cmpl_channel = cb.pick("CS_SHEET", "accept_channel", {
            "HOTLINE": 70, "HALL": 8, "WEB": 4, "APP": 3, "WECHAT": 4, "WEIBO": 1, "LETTER": 1, "UPPER": 4,
            "ACCMGR": 3, "FIELD": 1, "SMS": 1})
        self.consult_channel = cb.pick("CS_SHEET", "accept_channel", {
            "HOTLINE": 65, "HALL": 15, "WEB": 5, "APP": 5, "WECHAT": 6, "QQ": 2, "YIXIN": 1, "ACCMGR": 1})
        self.cmpl_phen = cb.pick("CS_SHEET", "cmpl_phen_l1", {"NET": 30, "BILL": 28, "SVC": 22, "PROD": 10,
                                                              "MKT": 6, "OTH": 4})
        self.consult_phen = cb.pick("CS_SHEET", "cmpl_phen_l1", {"PROD": 45, "BILL": 25, "NET": 10, "OTH": 20})
        self.cs_cb = cb.pick("CS_SHEET", "callback_result", {"SAT": 72, "NEUTRAL": 12, "DISSAT": 9, "NOREACH": 7})
        self.sheet_types = [("CMPL", 1.0, 1), ("CONSULT", 3.0, 2), ("QUERY", 1.5, 1), ("SUGGEST", 0.2, 0),
                            ("PRAISE", 0.15, 0)]
        cb.need("CS_SHEET", "sheet_type", *[t for t, _, _ in self.sheet_types])
        cb.need("CS_SHEET", "sheet_status", "OPEN", "FINISHED", "ARCHIVED", "CANCELLED")
        cb.need("CS_SHEET", "urgent_level", "URGENT", "NORMAL")
        self.cmpl_pl = Pick([(MOB, 40), (BB, 35), (FIX, 15), (ITV, 6), (DL, 2), (VAS, 2)])
        cb.need("BILL_ADJ", "refund_type", "REFUND", "COMP", "PENALTY", "RENT_WAIVE")
        cb.need("BILL_ADJ", "reason_l1", "BILL_ERR", "SVC_FAIL", "NET_FAULT", "OVERDUE", "GOODWILL", "OTH")
        cb.need("BILL_ADJ", "adj_status", "APPLIED", "APPROVED", "REJECTED", "CANCELLED")
        cb.need("BILL_ADJ", "related_type", "CMPL", "FAULT", "ORDER", "APPEAL", "ESCAL")
        cb.need("BILL_ADJ", "approve_level", "COUNTY", "CITY", "PROV")


# ------------------------------------------------------------------ refunds
def make_refund(w, r, out: Collector, adj_id: str, i: int, apply_t: int, rtype: str, reason: str,
                related_type: str, related_id: str, amount: int) -> None:
    pop = w.pop
    level = "COUNTY" if amount <= 5000 else ("CITY" if amount <= 50000 else "PROV")
    u = r.random()
    decide = None
    if u < 0.80:
        status = "APPROVED"
    elif u < 0.91:
        status = "REJECTED"
    elif u < 0.94:
        status = "CANCELLED"
    else:
        status = "APPLIED"     # still waiting for approval
    if status in ("APPROVED", "REJECTED"):
        decide = apply_t + (r.randint(HOUR, 70 * HOUR) if r.random() < 0.9 else r.randint(73 * HOUR, 200 * HOUR))
        end = decide
    elif status == "CANCELLED":
        end = apply_t + r.randint(2 * HOUR, 48 * HOUR)
    else:
        end = apply_t
    times = [apply_t] if end == apply_t else [apply_t, end]
    plan = plan_versions(r, times)
    if i >= 0:
        head = [adj_id, pop.acct_id(i), pop.cust_id(i), pop.pid(i), pop.nbr(i), pop.city(i), PL[pop.pl[i]]]
    else:
        head = [adj_id, "", "", "", "", w.cb.city_codes[w.cb.city_pick(r)], ""]
    tail = [related_type, related_id]

    def build(k: int) -> list:
        if k == 0:
            return head + [rtype, reason, str(amount), T(apply_t), level, "",
                           "APPLIED" if len(times) > 1 else status] + tail + [T(apply_t)]
        return head + [rtype, reason, str(amount), T(apply_t), level, "" if decide is None else T(decide),
                       status] + tail + [T(end)]
    emit_versions(out, plan, "BILL_ADJ", build)


def gen_refunds(w, day: int, out: Collector) -> None:
    """Refunds not tied to a ticket: billing errors, goodwill, penalties; and compensation for last month's
    appeals and escalations (related_type APPEAL / ESCAL)."""
    r = w.rng("adj", day)
    pop = w.pop
    n_users = pop.ref_size(day)
    n = count(r, n_users * 0.00012, floor=3)
    ymd = D(day)
    kinds = Pick([(("REFUND", "BILL_ERR"), 60), (("RENT_WAIVE", "GOODWILL"), 20), (("PENALTY", "GOODWILL"), 8),
                  (("REFUND", "OTH"), 7), (("COMP", "SVC_FAIL"), 5)])
    for k in range(n):
        i = pop.pick(r, (MOB, BB, FIX)[r.randrange(3)], day)
        rtype, reason = kinds(r)
        amount = r.randint(300, 30000) if rtype != "PENALTY" else r.randint(5000, 60000)
        make_refund(w, r, out, f"AJN{ymd}{k:05d}", i, time_in_day(r, day, OFFICE_HOURS), rtype, reason, "", "", amount)
    m = month_of(day)
    prev = month_add(m, -1)
    if prev >= w.first_month and day - month_first(m) < 10:
        for kind, rows in (("APPEAL", w.appeals(prev)), ("ESCAL", w.escalations(prev))):
            for k, row in enumerate(rows):
                amt, i = row.amount, row.inst
                if amt > 0 and k % 10 == day - month_first(m):
                    make_refund(w, r, out, f"AJ{kind[0]}{ymd}{k:05d}", i, time_in_day(r, day, OFFICE_HOURS),
                                "COMP", "SVC_FAIL", kind, row.id, amt)


# ------------------------------------------------------------------ faults
def gen_faults(w, day: int, out: Collector) -> None:
    r = w.rng("flt", day)
    pop, m = w.pop, w.tickets
    arr = pop.ref_arrivals(day)
    means = {pl: len(arr[pl]) * rate / 30.4 for pl, rate in m.fault_pl.items()}
    total = sum(means.values())
    n = count(r, total, floor=3)
    pl_pick = Pick([(pl, v + 0.01) for pl, v in means.items()])
    ymd = D(day)
    edge24, edge_dup, edge_cb = w.edge_day(1, day), w.edge_day(2, day), w.edge_day(3, day)
    for k in range(n):
        pl = pl_pick(r)
        i = pop.pick(r, pl, day, hot=0.25)
        t = time_in_day(r, day, CONTACT_HOURS)
        fid = f"FT{ymd}{k:06d}"
        exact = edge24 and pl in (FIX, BB) and pop.ur(i) == "U"
        info = _fault(w, r, out, fid, i, t, m.flt_channel(r), exact_24h=exact, cb_edge=edge_cb)
        if exact:
            edge24 = False
        if info is None:
            continue
        if info["cb_task"]:
            edge_cb = False
        # duplicate report: exactly 24 h later once a day, otherwise a few within 24 h
        if edge_dup or r.random() < 0.03:
            t2 = t + (24 * HOUR if edge_dup else r.randint(HOUR, 23 * HOUR))
            edge_dup = False
            _fault(w, r, out, f"FT{ymd}D{k:05d}", i, t2, "HOTLINE", dup_of=info)
        # complaint about the fault: mostly overdue repairs
        if r.random() < (0.25 if info["overdue"] else 0.02):
            tc = (info["close"] + r.randint(HOUR, 20 * HOUR)) if info["close"] and r.random() < 0.4 else \
                t + r.randint(12 * HOUR, 40 * HOUR)
            make_sheet(w, r, out, f"CS{ymd}F{k:05d}", "CMPL", i, tc, "HOTLINE", "NET", related_fault=fid)
        if info["overdue"] and info["close"] and r.random() < 0.15:
            make_refund(w, r, out, f"AJF{ymd}{k:05d}", i, info["close"] + r.randint(HOUR, 48 * HOUR),
                        ("COMP", "RENT_WAIVE")[r.randrange(2)], "OVERDUE", "FAULT", fid, r.randint(500, 5000))


def _fault(w, r, out: Collector, fid: str, i: int, t: int, channel: str, exact_24h: bool = False,
           cb_edge: bool = False, dup_of: dict | None = None) -> dict | None:
    pop, m = w.pop, w.tickets
    pl = pop.pl[i]
    ur = pop.ur(i)
    city = pop.city(i)
    u = r.random()
    phen = m.phen.get(pl, m.phen[BB])(r)
    head = [fid, pop.pid(i) if r.random() < 0.97 else "", pop.nbr(i), city,
            pop.county(i) if r.random() < 0.95 else "", ur if r.random() < 0.95 else "", PL[pl], T(t), channel, phen]
    if channel == "HOTLINE" and r.random() < 0.9:
        phone = w.phone_of(i)
        if phone:
            _, crec, _ = make_call(w, r, "C" + fid[2:10] + "F" + fid[10:], 0, phone, city, pop.vip(i), "FAULT",
                                   answer_at=t - r.randint(60, 400), related=fid)
            out.add(_day_of_rec(crec), "CC_CALL", crec)
    if not exact_24h and not dup_of and u < 0.004:
        out.add(t // DAY, "FLT_TICKET", head + ["", "", "", "", "", "", "TEST", "", "", "", T(t + 60)])
        return None
    if not exact_24h and (u < 0.03 or (dup_of and u < 0.3)):
        cancel = t + r.randint(600, 3 * HOUR)
        plan = plan_versions(r, (t, cancel))
        emit_versions(out, plan, "FLT_TICKET", lambda k: head + ["", "", "", "", "", "", "OPEN" if k == 0 else
                                                                 "CANCELLED", "", "", "", T(t if k == 0 else cancel)])
        return None
    L = limit_hours(pl, ur) * HOUR
    v = r.random()
    susp = None
    if exact_24h:
        net = 24 * HOUR
    elif dup_of and dup_of["close"]:
        net = max(1800, dup_of["close"] - t + r.randint(0, 1800))
    elif v < 0.84:
        net = int(L * r.uniform(0.08, 0.95))
    elif v < 0.965:
        net = int(L * r.uniform(1.0, 2.2))
    elif v < 0.99:
        net = int(L * r.uniform(2.2, 4.5))
    else:
        net = r.randint(20, 40) * DAY   # stays open: in backlog for the whole window
    if not exact_24h and not dup_of and r.random() < 0.09:
        susp = r.randint(1800, 6 * HOUR)
    close = t + net + (susp or 0)
    dispatch = t + r.randint(60, 1800) if r.random() < 0.95 else None
    dispatch = min(dispatch, close - 60) if dispatch else None
    appoint = arrive = None
    if dispatch and pl != MOB and r.random() < 0.8 and close - dispatch > 2 * HOUR:
        appoint = dispatch + int((close - dispatch) * r.uniform(0.3, 0.75)) // 1800 * 1800
        appoint = max(appoint, dispatch + 1800)
        arrive = appoint + (r.randint(-1800, 300) if r.random() < 0.85 else r.randint(900, 5400))
        arrive = max(dispatch + 600, min(arrive, close - 300))
    cause = m.cause(r)
    team = f"MT{city[1:]}{r.randint(1, 40):03d}"
    cb_t = cb_res = None
    if r.random() < 0.65:
        cb_t, cb_res = close + r.randint(1800, 30 * HOUR), m.flt_cb(r)
    times = [t] + [x for x in (dispatch, arrive, close, cb_t) if x is not None]
    plan = plan_versions(r, times, resend_p=0.01)
    susp_s = "" if susp is None else str(susp)
    if susp is None and r.random() < 0.3:
        susp_s = "0"

    def build(k: int) -> list:
        tk = times[k]
        closed = close <= tk
        return head + ["" if dispatch is None or dispatch > tk else T(dispatch),
                       "" if appoint is None or dispatch > tk else T(appoint),
                       "" if arrive is None or arrive > tk else T(arrive),
                       T(close) if closed else "", susp_s if closed else "", cause if closed else "",
                       "CLOSED" if closed else "OPEN", team if dispatch is not None and dispatch <= tk else "",
                       cb_res if cb_t is not None and cb_t <= tk else "", T(cb_t) if cb_t is not None and cb_t <= tk
                       else "", T(tk)]
    emit_versions(out, plan, "FLT_TICKET", build)
    cb_task = False
    if not dup_of and r.random() < 0.45:
        cb_task = True
        callback_task(w, r, out, "OB" + fid, i, "REPAIR", fid, close, edge=cb_edge)
    return {"close": close, "overdue": net > L, "cb_task": cb_task and cb_edge}


def _day_of_rec(rec: list) -> int:
    return day_of(rec[-1][:8])


# ------------------------------------------------------------------ complaint / consult sheets
def gen_sheets(w, day: int, out: Collector) -> None:
    r = w.rng("cs", day)
    pop, m = w.pop, w.tickets
    n_users = pop.ref_size(day)
    ymd = D(day)
    k = 0
    edge_reply = w.edge_day(4, day)
    for stype, mult, floor in m.sheet_types:
        n = count(r, n_users * 0.003 * mult / 30.4, floor=floor)
        for _ in range(n):
            i = pop.pick(r, m.cmpl_pl(r), day, hot=0.3)
            t = time_in_day(r, day, CONTACT_HOURS)
            if stype == "CMPL":
                ch, phen = m.cmpl_channel(r), m.cmpl_phen(r)
            else:
                ch, phen = m.consult_channel(r), m.consult_phen(r)
            done = make_sheet(w, r, out, f"CS{ymd}{k:06d}", stype, i, t, ch, phen, reply_edge=edge_reply)
            if done:
                edge_reply = False
            k += 1
    if out.active:      # never when only the day's facts are wanted: repeats look up earlier days' facts
        _repeat_sheets(w, day, out)


def _first_cmpl(w, day: int, out: Collector | None = None) -> list[tuple]:
    """The day's first (not repeat) complaint sheets that end valid, keep their number and are CMPL:
    [(sheet_id, instance, accept_time, ok, phen)] with ok true. The day being generated reads its own facts."""
    facts = out.facts.get("cmpl", ()) if out is not None else w.day_facts("cs", day).get("cmpl", ())
    return [f for f in facts if f[3]]


def _edge_repeat_day(w, m: int) -> tuple[int, tuple] | None:
    """(day, earlier sheet fact) of month m's exact-720 h repeat: the first day g of m inside the run, at least
    30 days after its first day, whose day g-30 has a first complaint to repeat; None if no such day."""
    key = ("cmpl-edge", m)
    if key not in w.memo:
        got = None
        for g in range(max(month_first(m), w.start_day + REPEAT_WINDOW), min(month_last(m), w.end_day) + 1):
            sheets = _first_cmpl(w, g - REPEAT_WINDOW)
            if sheets:
                got = (g, sheets[int(hu(w.seed, 17, g) * len(sheets))])
                break
        w.memo[key] = got
    return w.memo[key]


def _natural_repeat_share(w, day: int, out: Collector, oldest: int) -> float:
    """Share of the first complaints of days oldest..day whose instance had one in the 720 h before."""
    facts = sorted((t, i) for d in range(oldest, day + 1) for _, i, t, _, _ in _first_cmpl(w, d, out if d == day
                                                                                            else None))
    last: dict[int, int] = {}
    rep = 0
    for t, i in facts:
        if t - last.get(i, t - REPEAT_WINDOW * DAY - 1) <= REPEAT_WINDOW * DAY:
            rep += 1
        last[i] = t
    return rep / len(facts) if facts else 0.0


def _repeat_sheets(w, day: int, out: Collector) -> None:
    """Repeat complaints accepted on `day`: the number of a first complaint of the previous 30 days (of the run's
    days once the run has started) complains again, mostly about the same thing."""
    r = w.rng("cs-rep", day)
    m = w.tickets
    ymd = D(day)
    oldest = day - REPEAT_WINDOW + 1
    if day >= w.start_day:
        oldest = max(oldest, w.start_day)
    # repeats the picks already make (a small base draws its 'hot' instances again and again) count towards the share
    natural = _natural_repeat_share(w, day, out, oldest)
    base = max(1.0, w.pop.ref_size(day) * 0.003 / 30.4) * CMPL_PER_SHEET_CMPL
    mean = base * max(0.0, REPEAT_SHARE - natural) / (1.0 - REPEAT_SHARE)
    for k in range(count(r, mean)):
        for _ in range(4):
            d = day - _REPEAT_LAG[day - oldest + 1](r)
            sheets = _first_cmpl(w, d, out if d == day else None)
            if not sheets:
                continue
            _, i, t0, _, phen0 = sheets[r.randrange(len(sheets))]
            t = time_in_day(r, day, CONTACT_HOURS)
            if t < t0 + HOUR:
                t = t0 + r.randint(HOUR, 6 * HOUR)
                if t // DAY != day:
                    continue
            phen = phen0 if r.random() < 0.75 else m.cmpl_phen(r)
            make_sheet(w, r, out, f"CS{ymd}R{k:05d}", "CMPL", i, t, m.cmpl_channel(r), phen, first=False)
            break
    edge = _edge_repeat_day(w, month_of(day))
    if edge is not None and edge[0] == day:
        _, i, t0, _, phen0 = edge[1]
        make_sheet(w, r, out, f"CS{ymd}E00000", "CMPL", i, t0 + REPEAT_WINDOW * DAY, "HOTLINE", phen0,
                   first=False, keep=True)


def make_sheet(w, r, out: Collector, sid: str, stype: str, i: int, t: int, channel: str, phen: str,
               related_fault: str = "", reply_edge: bool = False, first: bool = True, keep: bool = False) -> bool:
    """One sheet with its lifecycle; returns True when it used the reply-window edge. A first complaint
    (first=True) is recorded as a "cmpl" fact (sheet_id, instance, accept_time, ok, phen), ok = it stays valid
    and keeps its number; keep=True forces that."""
    pop, m = w.pop, w.tickets
    pl = pop.pl[i]
    city = pop.city(i)
    nbr = pop.nbr(i)
    cmpl = stype == "CMPL"
    u = r.random()
    no_pid = r.random() < 0.05
    no_nbr = not no_pid and r.random() < 0.02 and not keep
    urgent = cmpl and r.random() < 0.12
    l2s = _PHEN_L2[phen]
    head = [sid, stype, "" if no_pid else pop.pid(i), "" if no_nbr else nbr, pop.cust_id(i), city,
            "" if no_pid else PL[pl], T(t), channel,
            f"K{r.randint(10000, 10999)}" if channel in ("HOTLINE", "HALL", "UPPER", "LETTER") else "", phen,
            l2s[r.randrange(len(l2s))] if r.random() < 0.9 else "", "URGENT" if urgent else "NORMAL"]
    if channel == "HOTLINE" and r.random() < 0.85:
        phone = w.phone_of(i)
        if phone:
            svc = "CMPL" if cmpl else ("QUERY" if stype == "QUERY" else "CONSULT")
            _, crec, _ = make_call(w, r, "C" + sid[2:10] + "S" + sid[10:], 0, phone, city, pop.vip(i), svc,
                                   answer_at=t - r.randint(60, 600), related=sid)
            out.add(_day_of_rec(crec), "CC_CALL", crec)
    valid = "1"
    if u < 0.03 and not keep:
        valid = "0"
    cancelled = (u < 0.015 or (valid == "0" and r.random() < 0.5)) and not keep
    if cmpl and first:
        out.fact("cmpl", (sid, i, t, valid == "1" and not cancelled and not no_nbr, phen))
    if cancelled:
        cancel = t + r.randint(HOUR, 10 * HOUR)
        plan = plan_versions(r, (t, cancel))
        emit_versions(out, plan, "CS_SHEET", lambda k: head + [valid, "", "", "", "", "OPEN" if k == 0 else
                                                               "CANCELLED", "", "", "", related_fault,
                                                               T(t if k == 0 else cancel)])
        return False
    fcr_p = 0.28 if cmpl else (0.85 if stype in ("CONSULT", "QUERY") else 0.6)
    dispatch = first = None
    susp = None
    used_edge = False
    if r.random() < fcr_p and not related_fault:
        finish = t + r.randint(120, 1500)
    else:
        dispatch = t + r.randint(300, 3600)
        v = r.random()
        if reply_edge and cmpl:
            first, used_edge = t + 24 * HOUR, True   # window edge: first contact exactly at the 24 h reply limit
        elif v < 0.88:
            first = t + r.randint(1800, 22 * HOUR)
        elif v < 0.97:
            first = t + r.randint(24 * HOUR + 60, 60 * HOUR)
        L = (24 if urgent else 48) * HOUR
        v = r.random()
        if v < 0.88:
            net = int(L * r.uniform(0.2, 0.97))
        elif v < 0.985:
            net = int(L * r.uniform(1.0, 2.5))
        else:
            net = r.randint(20, 40) * DAY      # long open: backlog
        if r.random() < 0.06:
            susp = r.randint(HOUR, 24 * HOUR)
        finish = t + net + (susp or 0)
        if first is not None:
            finish = max(finish, first + 600)
        finish = max(finish, dispatch + 600)
    resp = ""
    if cmpl:
        v = r.random()
        resp = "1" if v < 0.45 else ("0" if v < 0.95 else "")
    sup = ("1" if r.random() < 0.04 else "0") if cmpl and r.random() < 0.9 else ""
    cb_t = cb_res = None
    if (cmpl and r.random() < 0.75) or (not cmpl and r.random() < 0.05):
        cb_t, cb_res = finish + r.randint(2 * HOUR, 30 * HOUR), m.cs_cb(r)
    archive = finish + r.randint(3, 8) * DAY if r.random() < 0.7 else None
    times = [t] + [x for x in (dispatch, first, finish, cb_t) if x is not None]
    times.sort()
    if archive is not None:
        archive = max(archive, times[-1] + HOUR)
        times.append(archive)
    plan = plan_versions(r, times, resend_p=0.01)
    susp_s = "" if susp is None else str(susp)

    def build(k: int) -> list:
        tk = times[k]
        fin = finish <= tk
        status = "ARCHIVED" if archive is not None and archive <= tk else ("FINISHED" if fin else "OPEN")
        return head + [valid, "" if dispatch is None or dispatch > tk else T(dispatch),
                       "" if first is None or first > tk else T(first), T(finish) if fin else "",
                       susp_s if fin else "", status, resp if fin else "", sup,
                       cb_res if cb_t is not None and cb_t <= tk else "", related_fault, T(tk)]
    emit_versions(out, plan, "CS_SHEET", build)
    if cmpl and resp == "1" and r.random() < 0.22:
        rtype = "REFUND" if phen == "BILL" else ("COMP" if r.random() < 0.6 else "RENT_WAIVE")
        reason = {"BILL": "BILL_ERR", "NET": "NET_FAULT"}.get(phen, "SVC_FAIL")
        make_refund(w, r, out, "AJC" + sid[2:], i, finish + r.randint(600, 6 * HOUR), rtype, reason, "CMPL", sid,
                    r.randint(500, 30000))
    if cmpl and r.random() < 0.35:
        callback_task(w, r, out, "OB" + sid, i, "CMPL", sid, finish)
    return used_edge
