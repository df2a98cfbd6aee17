"""CC_CALL (10000 hotline) and HALL_QUEUE (business-hall queue tickets)."""
from __future__ import annotations

from .common import (
    CONTACT_HOURS,
    HOUR,
    OFFICE_HOURS,
    Collector,
    D,
    Pick,
    T,
    count,
    plan_versions,
    time_in_day,
    weekday,
)
from .subscribers import BB, FIX, MOB

CC_FIELDS = ("call_id", "caller_no", "called_no", "city_code", "vip_level", "call_start_time", "service_type",
             "ivr_self_flag", "agent_req_time", "queue_sec", "ring_sec", "answer_time", "release_time", "release_stage",
             "talk_sec", "hold_sec", "acw_sec", "agent_id", "skill_group", "outsource_flag", "transfer_cnt", "rating",
             "related_sheet_id", "update_time")
HQ_FIELDS = ("ticket_id", "hall_id", "city_code", "county_code", "acc_nbr", "biz_type", "take_time", "call_time",
             "finish_time", "window_no", "staff_id", "ticket_status", "rating", "update_time")

_OTHER_MOB = ("138", "139", "150", "186", "131", "187")


class CallModel:
    """Code pickers for calls, built once per world from the config's code lists."""

    def __init__(self, cb):
        self.service = cb.pick("CC_CALL", "service_type", {"QUERY": 34, "TRANS": 15, "CONSULT": 20, "CMPL": 5,
                                                            "FAULT": 12, "PAY": 6, "OTH": 8})
        self.ivr_service = cb.pick("CC_CALL", "service_type", {"QUERY": 60, "PAY": 25, "OTH": 15})
        self.rating = cb.pick("CC_CALL", "rating", {"1": 86, "2": 9, "3": 5})
        cb.need("CC_CALL", "release_stage", "IVR", "QUEUE", "RING", "AGENT")
        cb.need("CC_CALL", "vip_level", "DIAMOND", "GOLD")
        self.biz = cb.pick("HALL_QUEUE", "biz_type", {"TRANS": 45, "PAY": 25, "QUERY": 12, "CONSULT": 8, "CMPL": 3,
                                                      "FAULT": 2, "OTH": 5})
        self.hall_rating = cb.pick("HALL_QUEUE", "rating", {"1": 88, "2": 8, "3": 4})
        cb.need("HALL_QUEUE", "ticket_status", "DONE", "ABANDON", "OPEN")
        self.caller_pl = Pick([(MOB, 66), (FIX, 34)])


def _skill(service: str, vip: str) -> str:
    if vip in ("DIAMOND", "GOLD"):
        return "VIP"
    return {"FAULT": "TECH", "CMPL": "CMPL", "PAY": "BILL", "QUERY": "GEN", "TRANS": "BIZ"}.get(service, "GEN")


def _queue_ring(r) -> tuple[int, int]:
    """Queue + ring seconds of an answered call: ~72 % within 15 s, ~86 % within 20 s, with exact 15 s and 20 s."""
    v = r.random()
    if v < 0.70:
        tot = r.randint(2, 14)
    elif v < 0.72:
        tot = 15
    elif v < 0.845:
        tot = r.randint(16, 19)
    elif v < 0.865:
        tot = 20
    else:
        tot = 21 + int(r.expovariate(1 / 45.0))
    ring = r.randint(2, min(6, tot))
    return tot - ring, ring


def make_call(w, r, call_id: str, t0: int, caller: str, city: str, vip: str, service: str,
              agent: bool = True, answered: bool | None = None, answer_at: int | None = None,
              qr: tuple[int, int] | None = None, related: str = "") -> tuple[int, list, int | None]:
    """One inbound call. Returns (update_time, record, answer_time). With answer_at, t0 is derived backwards."""
    m = w.calls
    ivr = r.randint(15, 90)
    rel_stage, ivr_self = "IVR", "0"
    req = q = rg = ans = None
    talk = hold = acw = None
    agent_id = skill = outs = transfer = rating = ""
    if answer_at is not None:
        agent, answered = True, True
    if not agent:
        ivr_self = "1" if r.random() < 0.6 else "0"
        rel = t0 + ivr + r.randint(0, 60)
    else:
        if answered is None:
            u = r.random()
            answered = u >= 0.075
            abandon_ring = 0.06 <= u < 0.075
        else:
            abandon_ring = False
        if answered:
            q, rg = qr or _queue_ring(r)
            if answer_at is not None:
                ans = answer_at
                req = ans - q - rg
                t0 = req - ivr
            else:
                req = t0 + ivr
                ans = req + q + rg
            talk = int(min(3600, 30 + r.lognormvariate(4.9, 0.7)))
            hold = r.randint(5, 90) if r.random() < 0.3 else 0
            acw = r.randint(8, 60) if r.random() < 0.98 else None
            rel = ans + talk + hold
            rel_stage = "AGENT"
            skill = _skill(service, vip) if r.random() < 0.98 else ""
            agent_id = f"A{r.randint(10000, 10799)}"
            outs = "1" if r.random() < 0.35 else "0"
            transfer = "0" if r.random() < 0.9 else ("1" if r.random() < 0.8 else "2")
            if r.random() < 0.55:
                rating = m.rating(r)
        else:
            req = t0 + ivr
            if abandon_ring:
                q, rg = r.randint(0, 40), r.randint(3, 15)
                rel_stage = "RING"
            else:
                q, rg = r.randint(3, 150), None
                rel_stage = "QUEUE"
            rel = req + q + (rg or 0)
            skill = _skill(service, vip)
    upd = rel + (acw or 0) + r.randint(1, 5)
    rec = [call_id, caller, "10000", city, vip, T(t0), service, ivr_self,
           "" if req is None else T(req), "" if q is None else str(q), "" if rg is None else str(rg),
           "" if ans is None else T(ans), T(rel), rel_stage,
           "" if talk is None else str(talk), "" if hold is None else str(hold), "" if acw is None else str(acw),
           agent_id, skill, outs, transfer, rating, related, T(upd)]
    return upd, rec, ans


def caller_of(w, r, day: int) -> tuple[str, str, str, int]:
    """(caller_no, city_code, vip_level, instance or -1) of an inbound caller."""
    pop = w.pop
    u = r.random()
    if u < 0.80:
        i = pop.pick(r, w.calls.caller_pl(r), day, hot=0.35)
        vip = pop.vip(i) if r.random() < 0.92 else ""
        return pop.nbr(i), pop.city(i), vip, i
    if u < 0.95:
        nbr = _OTHER_MOB[r.randrange(6)] + f"{r.randrange(100000000):08d}"
        city = w.cb.city_codes[w.cb.city_pick(r)] if r.random() < 0.7 else ""
        return nbr, city, "", -1
    return "", "", "", -1


def gen_calls(w, day: int, out: Collector) -> None:
    r = w.rng("call", day)
    pop = w.pop
    n_users = pop.ref_size(day)
    n = count(r, n_users * 0.0075 * (0.85 if weekday(day) >= 5 else 1.0), floor=30)
    ymd = D(day)
    edge48 = w.edge_day(5, day)
    edge_qr = w.edge_day(6, day)
    for k in range(n):
        cid = f"C{ymd}{k:07d}"
        t0 = time_in_day(r, day, CONTACT_HOURS)
        caller, city, vip, i = caller_of(w, r, day)
        agent = r.random() < 0.56
        service = (w.calls.service if agent else w.calls.ivr_service)(r) if r.random() < 0.97 else ""
        qr = None
        if edge_qr and k == 1:
            qr = (16, 4)      # window edge: queue + ring exactly 20 s
        elif edge_qr and k == 2:
            qr = (12, 3)      # window edge: exactly 15 s
        if qr:
            agent = True
        upd, rec, ans = make_call(w, r, cid, t0, caller, city, vip, service, agent=agent,
                                  answered=True if qr else None, qr=qr)
        out.add(_deliv(r, upd), "CC_CALL", rec)
        if edge48 and ans is not None and i >= 0:
            # the same caller answered again exactly 48 h later (is_repeat_48h window edge)
            edge48 = False
            upd2, rec2, _ = make_call(w, r, f"C{ymd}R{k:06d}", 0, caller, city, vip, service,
                                      answer_at=ans + 48 * HOUR)
            out.add(_deliv(r, upd2), "CC_CALL", rec2)


def _deliv(r, upd: int) -> int:
    return plan_versions(r, (upd,))[0][0]


# ------------------------------------------------------------------ halls
def build_halls(w) -> list[list[tuple[str, str]]]:
    """Per city: [(hall_id, county_code)]; a fixed network of halls, not scaled by the subscriber count."""
    r = w.rng("halls", 0)
    halls = []
    for ci, c in enumerate(w.cb.cities):
        n = 4 + int((c.weight or 0.05) * 120)
        lst = []
        for k in range(n):
            county, _ = w.pop._county(r, ci)
            lst.append((f"H{c.city_code}{k + 1:03d}", county))
        halls.append(lst)
    return halls


def gen_hall(w, day: int, out: Collector) -> None:
    r = w.rng("hall", day)
    pop, m = w.pop, w.calls
    n_users = pop.ref_size(day)
    n = count(r, n_users * 0.003 * (1.15 if weekday(day) >= 5 else 1.0), floor=15)
    ymd = D(day)
    for k in range(n):
        ci = w.cb.city_pick(r)
        hall, county = w.halls[ci][r.randrange(len(w.halls[ci]))]
        city = w.cb.city_codes[ci]
        take = time_in_day(r, day, OFFICE_HOURS)
        if r.random() < 0.65:
            i = pop.pick(r, (MOB, FIX, BB)[r.randrange(3)], day)
            nbr = pop.nbr(i)
        else:
            nbr = ""
        biz = m.biz(r)
        wait = int(r.lognormvariate(5.9, 0.9)) + 5
        u = r.random()
        win, staff, rating = "", "", ""
        call = fin = None
        if u < 0.035:
            status, upd = "ABANDON", take + wait + r.randint(60, 600)
        elif u < 0.06:
            call = take + wait
            status, upd = "ABANDON", call + r.randint(120, 300)
            win = f"{r.randint(1, 12):02d}"
        else:
            call = take + wait
            fin = call + int(60 + r.lognormvariate(5.8, 0.6))
            status, upd = "DONE", fin + r.randint(1, 30)
            win, staff = f"{r.randint(1, 12):02d}", f"S{city}{r.randint(1, 200):03d}"
            if r.random() < 0.45:
                rating = m.hall_rating(r)
        rec = [f"Q{ymd}{k:07d}", hall, city, county, nbr, biz, T(take), "" if call is None else T(call),
               "" if fin is None else T(fin), win, staff, status, rating, T(upd)]
        if r.random() < 0.005:
            # the queue system sent the ticket while still waiting; the final state follows a day later
            out.add(day, "HALL_QUEUE", [rec[0], hall, city, county, nbr, biz, T(take), "", "", "", "", "OPEN", "",
                                        T(take + 1)])
            out.add(day + 1, "HALL_QUEUE", rec)
        else:
            out.add(_deliv(r, upd), "HALL_QUEUE", rec)
