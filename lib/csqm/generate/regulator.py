"""APPEAL (regulator appeals, month M = transferred in M) and ESCAL (escalations, month M = received in M).

About half of them follow a real complaint sheet of the previous weeks (same number; local_sheet_id mostly set).
Reply times stay before the list is generated (day 5 of M+1); later replies are still PENDING.
"""
from __future__ import annotations

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


def _subject(w, r, transfer_day: int) -> tuple[int, str]:
    """(instance, local sheet id or '') for an appeal: a recent complaint sheet half of the time."""
    if r.random() < 0.5:
        for _ in range(3):
            d = transfer_day - r.randint(1, 20)
            if d < w.start_day - w.window:
                break
            sheets = w.day_facts("cs", d).get("cmpl", ())
            if sheets:
                sid, i, _ = sheets[r.randrange(len(sheets))]
                return i, (sid if r.random() < 0.8 else "")
    i = w.pop.pick(r, (MOB, BB, FIX)[r.randrange(3)], transfer_day)
    return i, ""


def _reply(r, start: int, deadline: int, cap: int) -> int | None:
    v = r.random()
    if v < 0.80:
        t = start + int((deadline - start) * r.uniform(0.1, 0.98))
    elif v < 0.92:
        t = deadline + r.randint(HOUR, 5 * DAY)
    else:
        return None
    return t if t <= cap else None


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
    out = []
    for k in range(count(r, n_users * 3e-6, floor=6)):
        day = r.randint(first, last)
        transfer = day * DAY + 9 * HOUR + r.randrange(8 * HOUR)
        i, sheet = _subject(w, r, day)
        org = orgs(r)
        deadline = transfer + (10 if org == "MIIT" else 5) * DAY
        reply = _reply(r, transfer, deadline, cap)
        res = results(r) if reply is not None else "PENDING"
        amt = r.randint(10, 500) * 100 if res in ("MEDIATED", "SETTLED") and r.random() < 0.4 else 0
        cat = cats(r)
        v = r.random()
        rec = [f"SS{m}{k:04d}", org, ways(r) if r.random() < 0.97 else "", pop.nbr(i) if r.random() < 0.97 else "",
               pop.city(i), PL[pop.pl[i]] if r.random() < 0.95 else "",
               T(transfer - r.randint(HOUR, 4 * DAY)) if r.random() < 0.95 else "", T(transfer), cat,
               _CAT_L2[cat][r.randrange(3)], sheet, "1" if r.random() < 0.92 else "0",
               ("1" if v < 0.5 else "0") if v < 0.93 else "", T(deadline), "" if reply is None else T(reply), res,
               str(amt) if amt else ("0" if res in ("MEDIATED", "SETTLED") else ""),
               ("1" if r.random() < 0.7 else "0") if reply is not None else ""]
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
    out = []
    for k in range(count(r, n_users * 4e-6, floor=6)):
        day = r.randint(first, last)
        recv = day * DAY + 8 * HOUR + r.randrange(10 * HOUR)
        i, sheet = _subject(w, r, day)
        level = levels(r)
        deadline = recv + r.choice((24, 48, 72)) * HOUR
        reply = _reply(r, recv, deadline, cap)
        res = results(r) if reply is not None else "PENDING"
        amt = r.randint(5, 300) * 100 if res in ("MEDIATED", "SETTLED") and r.random() < 0.3 else 0
        v = r.random()
        rec = [f"YJ{m}{k:04d}", level, _SOURCE[level] if r.random() < 0.95 else "", f"DB{m}{k:05d}",
               pop.nbr(i) if r.random() < 0.97 else "", pop.city(i), PL[pop.pl[i]] if r.random() < 0.95 else "",
               T(recv), phen(r) if r.random() < 0.97 else "", sheet, "1" if r.random() < 0.9 else "0",
               ("1" if v < 0.55 else "0") if v < 0.93 else "", T(deadline), "" if reply is None else T(reply), res,
               str(amt) if amt else "", ("1" if r.random() < 0.05 else "0") if r.random() < 0.9 else ""]
        out.append(RegRow(rec[0], i, amt, rec))
    return out
