"""OB_TASK (care calls, reminders, notices, callbacks after a closed fault / completed order / finished complaint)
and SMS_CALLBACK (new-user SMS survey on the 3rd day after opening)."""
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
from .subscribers import PL

OB_FIELDS = ("task_id", "task_type", "task_scene", "ob_channel", "prod_inst_id", "acc_nbr", "city_code",
             "product_line", "plan_date", "trigger_ref_id", "trigger_time", "exec_time", "reach_flag", "result_code",
             "task_status", "update_time")
SMS_FIELDS = ("callback_id", "prod_inst_id", "acc_nbr", "cert_nbr", "cust_id", "city_code", "product_line",
              "open_date", "open_channel_id", "dev_staff_id", "offer_id", "real_name_flag", "plan_date", "send_time",
              "send_status", "reply_time", "reply_text", "reply_code", "follow_up_result", "update_time")

_REPLY_TEXT = {"1": ("1", "满意", "1满意", "很满意，谢谢"), "2": ("2", "不满意", "2 不满意"),
               "3": ("3", "不是我办的", "非本人办理"), "4": ("4", "没告诉我资费", "资费没说清楚"),
               "9": ("?", "你好", "TD", "退订", "什么意思")}
_FOLLOW = ("已核实，用户确认本人办理", "已解释资费，用户认可", "已转投诉处理", "外呼未接通",
           "用户要求取消业务，已转营业厅")


class ProactiveModel:
    def __init__(self, cb):
        self.cb_result = cb.pick("OB_TASK", "result_code", {"SAT": 75, "NEUTRAL": 12, "DISSAT": 6, "REFUSED": 4,
                                                            "OTH": 3})
        cb.need("OB_TASK", "task_type", "CARE_CALL", "SMS_REMIND", "CALLBACK", "NOTICE")
        cb.need("OB_TASK", "task_status", "PLANNED", "DONE", "FAILED", "CANCELLED")
        cb.need("OB_TASK", "ob_channel", "OUTCALL", "SMS")
        cb.need("OB_TASK", "task_scene", "REPAIR", "INSTALL", "CMPL")
        self.care = Pick([(("CARE_CALL", "BIRTHDAY", "OUTCALL"), 10), (("CARE_CALL", "TENURE", "OUTCALL"), 8),
                          (("CARE_CALL", "HIGHVALUE", "OUTCALL"), 12), (("CARE_CALL", "OTH", "OUTCALL"), 4),
                          (("SMS_REMIND", "ARREARS", "SMS"), 16), (("SMS_REMIND", "USAGE", "SMS"), 16),
                          (("SMS_REMIND", "EXPIRE", "SMS"), 13), (("NOTICE", "OUTAGE", "SMS"), 8),
                          (("NOTICE", "CUTOVER", "OUTCALL"), 6), (("NOTICE", "STOPRES", "SMS"), 7)])
        for _t, sc, _ch in self.care.items:
            cb.need("OB_TASK", "task_scene", sc)
        self.reply = cb.pick("SMS_CALLBACK", "reply_code", {"1": 70, "2": 7, "3": 4, "4": 6, "9": 13})
        self.replies = 0   # SMS replies generated so far (gen_sms runs day by day, in order)
        cb.need("SMS_CALLBACK", "send_status", "OK", "FAIL", "PENDING")
        cb.need("SMS_CALLBACK", "product_line", "MOB", "BB")


def _emit_task(r, out: Collector, base: list, created: int, exec_t: int | None, reach: bool | None,
               result: str | None, status: str, end: int) -> None:
    """The OB_TASK versions of one task: PLANNED at creation, then its outcome at `end` (a single version when the
    two coincide)."""
    times = [created] if end == created else [created, end]
    plan = plan_versions(r, times)
    planned = base + ["", "", "", "PLANNED", T(created)]
    outcome = base + ["" if exec_t is None else T(exec_t), "" if reach is None else ("1" if reach else "0"),
                      result or "", status, T(end)]
    emit_versions(out, plan, "OB_TASK", lambda k: planned if k == 0 and len(times) > 1 else outcome)


def callback_task(w, r, out: Collector, task_id: str, i: int, scene: str, trigger_id: str, trigger_t: int,
                  edge: bool = False) -> None:
    """A CALLBACK task triggered by a closed fault / completed order / finished complaint."""
    pop, m = w.pop, w.proactive
    plan_day = trigger_t // DAY if trigger_t % DAY < 18 * HOUR else trigger_t // DAY + 1
    created = trigger_t + r.randint(60, 900)
    channel = "OUTCALL" if r.random() < 0.8 else "SMS"
    u = r.random()
    exec_t = reach = result = None
    if edge:
        exec_t = trigger_t + 48 * HOUR  # window edge: exactly the 48 h callback limit
    elif u < 0.03:
        status, end = "CANCELLED", created + r.randint(HOUR, 20 * HOUR)
    elif u < 0.05:
        status, end = "PLANNED", created   # never executed: stays planned
    elif u < 0.87:
        exec_t = trigger_t + r.randint(HOUR // 2, 47 * HOUR + 1800)
    else:
        exec_t = trigger_t + r.randint(48 * HOUR + 600, 120 * HOUR)
    if exec_t is not None:
        exec_t = max(exec_t, plan_day * DAY + 8 * HOUR) if not edge else exec_t
        reach = r.random() < (0.72 if channel == "OUTCALL" else 0.95)
        if reach and (channel == "OUTCALL" or r.random() < 0.4):
            result = m.cb_result(r)
        status, end = ("DONE" if reach else "FAILED"), exec_t + r.randint(30, 600)
    base = [task_id, "CALLBACK", scene, channel, pop.pid(i), pop.nbr(i), pop.city(i), PL[pop.pl[i]], D(plan_day),
            trigger_id, T(trigger_t)]
    _emit_task(r, out, base, created, exec_t, reach, result, status, end)


def gen_care(w, day: int, out: Collector) -> None:
    """Care calls, reminders and notices planned for `day`."""
    r = w.rng("ob", day)
    pop, m = w.pop, w.proactive
    arr = pop.ref_arrivals(day)
    n = count(r, sum(len(a) for a in arr) * 0.0025, floor=5)
    ymd = D(day)
    for k in range(n):
        ttype, scene, channel = m.care(r)
        pl = (2, 2, 2, 1, 0)[r.randrange(5)]
        i = pop.pick(r, pl, day, hot=0.0)
        created = day * DAY + 7 * HOUR + r.randrange(2 * HOUR)
        u = r.random()
        exec_t = reach = result = None
        if u < 0.05:
            status, end = "CANCELLED", created + r.randint(600, 4 * HOUR)
        elif u < 0.08:
            status, end = "FAILED", day * DAY + 20 * HOUR + r.randrange(HOUR)   # not executed in time
        else:
            exec_t = time_in_day(r, day, OFFICE_HOURS) if channel == "OUTCALL" else created + r.randint(HOUR, 3 * HOUR)
            exec_t = max(exec_t, created + 60)
            reach = r.random() < (0.7 if channel == "OUTCALL" else 0.96)
            if reach and channel == "OUTCALL":
                result = m.cb_result(r)
            status, end = ("DONE" if reach else "FAILED"), exec_t + r.randint(30, 300)
        # end is always after created here, so every task has its PLANNED version
        base = [f"OB{ymd}{k:06d}", ttype, scene, channel, pop.pid(i), pop.nbr(i), pop.city(i), PL[pop.pl[i]], ymd,
                "", ""]
        _emit_task(r, out, base, created, exec_t, reach, result, status, end)


RARE_REPLIES = ("3", "2", "4")   # not opened by the user, dissatisfied, tariff not explained


def gen_sms(w, day: int, out: Collector) -> None:
    """SMS survey of the MOB/BB instances opened 3 days before `day` (plan_date = open_date + 3)."""
    r = w.rng("sms", day)
    pop, m = w.pop, w.proactive
    ymd = D(day)
    for k, i in enumerate(pop.open_by_day.get(day - 3, ())):
        c = pop.cust[i]
        ct, cn = pop.cert(c)
        o = pop.offer_at(i, month_of(day - 3))
        created = day * DAY + 8 * HOUR + r.randrange(1800)
        u = r.random()
        send = reply = None
        code = text = follow = ""
        follow_t = None
        if u < 0.05:
            status, send = "FAIL", created + r.randint(HOUR, 3 * HOUR)
        elif u < 0.07:
            status = "PENDING"
        else:
            status, send = "OK", created + r.randint(HOUR, 3 * HOUR)
            if r.random() < 0.58:
                reply = send + r.randint(60, 30 * HOUR)
                code = m.reply(r)
                m.replies += 1
                if m.replies % 10 == 0:   # every 10th reply is a rare outcome in turn, so small runs show them all
                    code = RARE_REPLIES[(m.replies // 10 - 1) % len(RARE_REPLIES)]
                opts = _REPLY_TEXT[code]
                text = opts[r.randrange(len(opts))]
                if code in ("2", "3", "4") and r.random() < 0.8:
                    follow_t = reply + r.randint(4 * HOUR, 30 * HOUR)
                    follow = _FOLLOW[r.randrange(len(_FOLLOW))]
        times = [created] + [t for t in (send, reply, follow_t) if t is not None]
        plan = plan_versions(r, times)
        base = [f"NU{ymd}{k:06d}", pop.pid(i), pop.nbr(i), cn if ct == "ID" or r.random() < 0.5 else "",
                pop.cust_id(i), pop.city(i), PL[pop.pl[i]], D(pop.open_day[i]),
                f"CH{pop.city(i)}{(i * 31) % 900 + 100:04d}", f"D{(i * 17) % 90000 + 10000:06d}",
                o[0] if o else "", str(pop.real_name[i]), ymd]

        def build(v: int, base=base, times=times, status=status, send=send, reply=reply, text=text, code=code,
                  follow=follow, follow_t=follow_t) -> list:
            t = times[v]
            if v == 0:
                return base + ["", "PENDING", "", "", "", "", T(t)]
            rp = reply is not None and reply <= t
            fu = follow_t is not None and follow_t <= t
            return base + [T(send) if send is not None else "", status, T(reply) if rp else "", text if rp else "",
                           code if rp else "", follow if fu else "", T(t)]
        emit_versions(out, plan, "SMS_CALLBACK", build)
