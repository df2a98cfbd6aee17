"""APPEAL (regulator appeals, month M = transferred in M) and ESCAL (escalations, month M = received in M).

About half of them follow a real complaint sheet of the previous weeks (same number; local_sheet_id mostly set).
Reply times stay before the list is generated (day 5 of M+1); later replies are still PENDING.
Each month's list, however short (at least 6 rows), mixes its flags: counted_flag 0 and 1 (mostly 1), resp_flag
0 / 1 / NULL, satisfied_flag 0 / 1, appeal_after_flag 0 / 1, replies before and after the deadline, rows with and
without a local_sheet_id of a real valid complaint.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .common import DAY, HOUR, T, count, month_add, month_first, month_last, rng
from .subscribers import BB, FIX, MOB, PL

APPEAL_FIELDS = ("appeal_id", "appeal_org", "appeal_way", "acc_nbr", "city_code", "product_line",
                 "bureau_receive_time", "transfer_time", "appeal_cat_l1", "appeal_cat_l2", "local_sheet_id",
                 "counted_flag", "resp_flag", "reply_deadline", "reply_time", "result_code", "comp_amt_fen",
                 "satisfied_flag")
ESCAL_FIELDS = ("escal_id", "escal_level", "source_org", "source_ref_no", "acc_nbr", "city_code", "product_line",
                "receive_time", "cmpl_phen_l1", "local_sheet_id", "counted_flag", "resp_flag", "reply_deadline",
                "reply_time", "result_code", "refund_fen", "appeal_after_flag")

_CAT_L2 = {"SVC": ("服务态度", "承诺未兑现", "营业厅服务"), "NET": ("信号覆盖", "宽带质量", "网络故障修复慢"),
           "BILL": ("乱收费", "扣费争议", "套餐资费争议")}
_SOURCE = {"GROUP": "中国电信集团客服部", "PROV": "山东省公司客户服务部", "GOV": "12345政府服务热线",
           "CA": "消费者协会12315", "MEDIA": "网络媒体", "LEADER": "总经理信箱"}


@dataclass(frozen=True)
class RegRow:
    id: str
    inst: int          # product instance, -1 if none
    amount: int        # compensation / refund in fen
    rec: list


def _mixed(r, n: int, draw: Callable[[], str], must: Sequence[str], pinned: set[int],
           among: Sequence[int] | None = None) -> list[str]:
    """n draws in which every value of `must` occurs (among the given rows, if any): a missing value overwrites a
    random row that is neither pinned nor the first holder of another wanted value; that row is then pinned."""
    vals = [draw() for _ in range(n)]
    rows = list(range(n)) if among is None else list(among)
    held = {vals[k]: k for k in reversed(rows)}
    keep = {held[v] for v in must if v in held}
    for v in must:
        if v in held:
            continue
        free = [k for k in rows if k not in pinned and k not in keep]
        if not free:
            break
        k = free[r.randrange(len(free))]
        vals[k] = v
        held[v] = k
        keep.add(k)
        pinned.add(k)
    return vals


def _flag(r, p1: float, p_set: float) -> str:
    """'1' with probability p1, NULL with 1 - p_set, else '0'."""
    v = r.random()
    return ("1" if v < p1 else "0") if v < p_set else ""


def _plan(r, n: int, days: tuple[int, int, int], start_day: int) -> tuple[list[str], list[str], list[int]]:
    """Per row: the reply kind (ON before the deadline, LATE after it, NONE), the link to a local complaint
    (SHEET: local_sheet_id of a recent valid complaint of the number; NBR: such a complaint, id not given; NONE)
    and the day. Rows pinned to a kind or a link get a day where it can happen."""
    first, last, reply_last = days
    pinned: set[int] = set()
    replies = _mixed(r, n, lambda: "ON" if (v := r.random()) < 0.80 else ("LATE" if v < 0.92 else "NONE"),
                     ("ON", "LATE"), pinned)
    for_reply = set(pinned)
    links = _mixed(r, n, lambda: "SHEET" if (v := r.random()) < 0.4 else ("NBR" if v < 0.5 else "NONE"),
                   ("SHEET", "NONE"), pinned)
    link_lo = min(max(first, start_day + 3), last)       # a linked row pinned: its complaint inside the run
    out = []
    for k in range(n):
        lo, hi = first, last
        if k in for_reply:
            hi = max(first, reply_last)
        elif k in pinned:
            lo = link_lo
        out.append(r.randint(lo, hi))
    return replies, links, out


def _subject(w, r, transfer_day: int, link: str) -> tuple[int, str]:
    """(instance, local sheet id or '') for an appeal or escalation: for a link, a valid complaint sheet of the
    previous 20 days (of the run's days if the transfer is in the run) of the same number."""
    if link != "NONE":
        oldest = transfer_day - 20
        if transfer_day > w.start_day:
            oldest = max(oldest, w.start_day)
        oldest = max(oldest, w.start_day - w.window)
        for _ in range(8 if oldest < transfer_day else 0):
            d = r.randint(oldest, transfer_day - 1)
            sheets = [f for f in w.day_facts("cs", d).get("cmpl", ()) if f[3]]
            if sheets:
                sid, i = sheets[r.randrange(len(sheets))][:2]
                return i, (sid if link == "SHEET" else "")
    i = w.pop.pick(r, (MOB, BB, FIX)[r.randrange(3)], transfer_day)
    return i, ""


def _reply(r, kind: str, start: int, deadline: int, cap: int) -> int | None:
    if kind == "ON":
        t = start + int((deadline - start) * r.uniform(0.1, 0.98))
    elif kind == "LATE":
        t = deadline + min(r.randint(HOUR, 5 * DAY), max(HOUR, cap - deadline))
    else:
        return None
    return t if t <= cap else None


def _satisfied(r, replies: list[int | None], pinned: set[int], p1: float) -> list[str]:
    """satisfied_flag of the replied rows (NULL otherwise; '1' with probability p1), both values among them."""
    done = [k for k, t in enumerate(replies) if t is not None]
    vals = _mixed(r, len(replies), lambda: "1" if r.random() < p1 else "0", ("1", "0"), pinned, done)
    return [v if replies[k] is not None else "" for k, v in enumerate(vals)]


# Real rates are a few per million users a month; a sample world of thousands of users gets at least this many,
# so every gold grain of the regulator tables sees counts above one.
MONTHLY_FLOOR = 60


def appeals(w, m: int) -> list[RegRow]:
    r = rng(w.seed, "appeal", m)
    pop, cb = w.pop, w.cb
    orgs = cb.pick("APPEAL", "appeal_org", {"MIIT": 30, "SDCA": 70})
    ways = cb.pick("APPEAL", "appeal_way", {"PHONE": 60, "WEB": 30, "LETTER": 10})
    cats = cb.pick("APPEAL", "appeal_cat_l1", {"SVC": 40, "NET": 25, "BILL": 35})
    results = cb.pick("APPEAL", "result_code", {"MEDIATED": 50, "SETTLED": 22, "WITHDRAWN": 14, "REJECTED": 14})
    cb.need("APPEAL", "result_code", "PENDING")
    first, last = month_first(m), month_last(m)
    cap = month_first(month_add(m, 1)) * DAY + 4 * DAY + 2 * HOUR   # the list is generated on day 5 of M+1
    n_users = sum(len(a) for a in pop.arrivals(month_add(m, -1)))
    n = count(r, n_users * 3e-6, floor=MONTHLY_FLOOR)
    kinds, links, days = _plan(r, n, (first, last, last - 11), w.start_day)
    counted = _mixed(r, n, lambda: "1" if r.random() < 0.92 else "0", ("1", "0"), set())
    resp = _mixed(r, n, lambda: _flag(r, 0.5, 0.93), ("1", "0", ""), set())
    rows = []
    for k in range(n):
        transfer = days[k] * DAY + 9 * HOUR + r.randrange(8 * HOUR)
        i, sheet = _subject(w, r, days[k], links[k])
        org = orgs(r)
        deadline = transfer + (10 if org == "MIIT" else 5) * DAY
        rows.append((transfer, i, sheet, org, deadline, _reply(r, kinds[k], transfer, deadline, cap)))
    sat = _satisfied(r, [x[5] for x in rows], set(), 0.7)
    out = []
    for k, (transfer, i, sheet, org, deadline, reply) in enumerate(rows):
        res = results(r) if reply is not None else "PENDING"
        amt = r.randint(10, 500) * 100 if res in ("MEDIATED", "SETTLED") and r.random() < 0.4 else 0
        cat = cats(r)
        rec = [f"SS{m}{k:04d}", org, ways(r) if r.random() < 0.97 else "", pop.nbr(i) if r.random() < 0.97 else "",
               pop.city(i), PL[pop.pl[i]] if r.random() < 0.95 else "",
               T(transfer - r.randint(HOUR, 4 * DAY)) if r.random() < 0.95 else "", T(transfer), cat,
               _CAT_L2[cat][r.randrange(3)], sheet, counted[k], resp[k], T(deadline),
               "" if reply is None else T(reply), res,
               str(amt) if amt else ("0" if res in ("MEDIATED", "SETTLED") else ""), sat[k]]
        out.append(RegRow(rec[0], i, amt, rec))
    return out


def escalations(w, m: int) -> list[RegRow]:
    r = rng(w.seed, "escal", m)
    pop, cb = w.pop, w.cb
    levels = cb.pick("ESCAL", "escal_level", {"GROUP": 15, "PROV": 30, "GOV": 25, "CA": 10, "MEDIA": 10,
                                              "LEADER": 10})
    phen = cb.pick("ESCAL", "cmpl_phen_l1", {"NET": 30, "BILL": 30, "SVC": 25, "PROD": 8, "MKT": 5, "OTH": 2})
    results = cb.pick("ESCAL", "result_code", {"MEDIATED": 55, "SETTLED": 20, "WITHDRAWN": 15, "REJECTED": 10})
    cb.need("ESCAL", "result_code", "PENDING")
    first, last = month_first(m), month_last(m)
    cap = month_first(month_add(m, 1)) * DAY + 4 * DAY + 2 * HOUR
    n_users = sum(len(a) for a in pop.arrivals(month_add(m, -1)))
    n = count(r, n_users * 4e-6, floor=MONTHLY_FLOOR)
    kinds, links, days = _plan(r, n, (first, last, last - 4), w.start_day)
    counted = _mixed(r, n, lambda: "1" if r.random() < 0.9 else "0", ("1", "0"), set())
    resp = _mixed(r, n, lambda: _flag(r, 0.55, 0.93), ("1", "0", ""), set())
    after = _mixed(r, n, lambda: ("1" if r.random() < 0.06 else "0") if r.random() < 0.9 else "", ("1", "0"), set())
    out = []
    for k in range(n):
        recv = days[k] * DAY + 8 * HOUR + r.randrange(10 * HOUR)
        i, sheet = _subject(w, r, days[k], links[k])
        level = levels(r)
        deadline = recv + r.choice((24, 48, 72)) * HOUR
        reply = _reply(r, kinds[k], recv, deadline, cap)
        res = results(r) if reply is not None else "PENDING"
        amt = r.randint(5, 300) * 100 if res in ("MEDIATED", "SETTLED") and r.random() < 0.3 else 0
        rec = [f"YJ{m}{k:04d}", level, _SOURCE[level] if r.random() < 0.95 else "", f"DB{m}{k:05d}",
               pop.nbr(i) if r.random() < 0.97 else "", pop.city(i), PL[pop.pl[i]] if r.random() < 0.95 else "",
               T(recv), phen(r) if r.random() < 0.97 else "", sheet, counted[k], resp[k], T(deadline),
               "" if reply is None else T(reply), res, str(amt) if amt else "", after[k]]
        out.append(RegRow(rec[0], i, amt, rec))
    return out
