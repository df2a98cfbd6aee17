"""EC_LOG: e-channel sessions (web, app, WeChat, SMS 10001, ...) as several log rows each (UTF-8)."""
from __future__ import annotations

from .common import (
    LATE_FROM,
    WEB_HOURS,
    Collector,
    D,
    Pick,
    T,
    count,
    time_in_day,
)
from .subscribers import BB, FIX, MOB

EC_FIELDS = ("elog_id", "session_id", "channel_type", "city_code", "acc_nbr", "login_flag", "visit_time", "func_code",
             "func_cat", "result_flag", "fail_reason", "pay_amt_fen", "resp_ms", "cs_solved_flag", "rating",
             "new_register_flag", "client_os", "update_time")

_FUNC = {"LOGIN": ("LG_PWD", "LG_SMS"), "QUERY": ("Q_BILL", "Q_BAL", "Q_FLOW", "Q_PKG", "Q_POINTS", "Q_DETAIL"),
         "TRANS": ("T_PKG_CHG", "T_FLOW_PKG", "T_VAS_SUB", "T_VAS_UNSUB", "T_BB_RENEW"),
         "PAY": ("P_RECHARGE", "P_BILL_PAY"), "EXCH": ("X_GIFT",), "ONLINE_CS": ("CS_CHAT",),
         "OTH": ("O_NEWS", "O_HALL_MAP", "O_ACTIVITY")}
_FAIL = ("余额不足", "系统繁忙，请稍后再试", "验证码错误", "业务互斥，无法办理", "支付超时")
_OS = {"APP": ("Android 4.1", "Android 4.2", "Android 2.3", "iOS 6.1", "iOS 7.0"),
       "WEB": ("Windows 7", "Windows XP", "Windows 8", "Mac OS X"),
       "WAP": ("Android 4.0", "Symbian S60", "iOS 6.1"), "WECHAT": ("Android", "iOS"), "YIXIN": ("Android", "iOS"),
       "WEIBO": ("Android", "iOS", "Windows 7"), "QQ": ("Windows 7", "Android"), "KIOSK": ("Windows XP Embedded",),
       "SMS": ("",)}
_PAY_AMT = (3000, 5000, 5000, 10000, 10000, 20000, 30000, 10000)


class EcModel:
    def __init__(self, cb):
        self.channel = cb.pick("EC_LOG", "channel_type", {"WEB": 20, "APP": 35, "WECHAT": 20, "SMS": 10, "WAP": 5,
                                                          "YIXIN": 3, "WEIBO": 2, "QQ": 2, "KIOSK": 3})
        self.cat_login = cb.pick("EC_LOG", "func_cat", {"QUERY": 40, "TRANS": 15, "PAY": 18, "EXCH": 3,
                                                        "ONLINE_CS": 10, "OTH": 14})
        self.cat_anon = cb.pick("EC_LOG", "func_cat", {"QUERY": 50, "ONLINE_CS": 20, "OTH": 20, "PAY": 10})
        self.cat_sms = cb.pick("EC_LOG", "func_cat", {"QUERY": 70, "TRANS": 25, "EXCH": 5})
        self.cat_kiosk = cb.pick("EC_LOG", "func_cat", {"PAY": 60, "QUERY": 35, "OTH": 5})
        self.rating = cb.pick("EC_LOG", "rating", {"1": 80, "2": 13, "3": 7})
        cb.need("EC_LOG", "func_cat", "LOGIN")
        self.nbr_pl = Pick([(MOB, 70), (FIX, 15), (BB, 15)])


def gen_ec(w, day: int, out: Collector) -> None:
    r = w.rng("ec", day)
    pop, m = w.pop, w.ec
    n_users = pop.ref_size(day)
    n = count(r, n_users * 0.02, floor=30)
    ymd = D(day)
    add = out.add
    want = out.want
    k_row = 0
    cities = w.cb.city_codes
    for s in range(n):
        ch = m.channel(r)
        sid = f"{ch[:2]}{ymd}{s:07d}"
        t = time_in_day(r, day, WEB_HOURS)
        logged = ch == "SMS" or r.random() < (0.6 if ch == "KIOSK" else 0.78)
        if logged:
            i = pop.pick(r, MOB if ch == "SMS" else m.nbr_pl(r), day, hot=0.1)
            nbr, city = pop.nbr(i), pop.city(i)
        else:
            nbr, city = "", cities[w.cb.city_pick(r)]
        oses = _OS[ch]
        os_ = oses[r.randrange(len(oses))]
        if ch == "SMS":
            cats = [m.cat_sms(r) for _ in range(r.randint(1, 2))]
        elif ch == "KIOSK":
            cats = ["LOGIN"] * logged + [m.cat_kiosk(r) for _ in range(r.randint(1, 2))]
        else:
            nrows = 1 + min(7, int(r.expovariate(1 / 1.8)))
            pick = m.cat_login if logged else m.cat_anon
            cats = ["LOGIN"] * logged + [pick(r) for _ in range(nrows)]
        new_reg = logged and ch in ("APP", "WEB", "WECHAT") and r.random() < 0.03
        for j, cat in enumerate(cats):
            if j:
                t += r.randint(5, 180)
            upd = t + (1 if r.random() < 0.3 else 0)
            deliv = upd // 86400
            if upd % 86400 >= LATE_FROM and r.random() < 0.3:
                deliv += 1
            res = fail = pay = solved = rating = ""
            if cat in ("TRANS", "PAY", "EXCH"):
                ok = r.random() < 0.93
                res = "1" if ok else "0"
                if not ok:
                    fail = _FAIL[r.randrange(len(_FAIL))]
                if cat == "PAY":
                    pay = str(_PAY_AMT[r.randrange(len(_PAY_AMT))])
                if r.random() < 0.03:
                    rating = m.rating(r)
            elif cat == "ONLINE_CS":
                v = r.random()
                solved = "1" if v < 0.72 else ("0" if v < 0.92 else "")
                if r.random() < 0.45:
                    rating = m.rating(r)
            resp = str(int(r.lognormvariate(5.85, 0.7))) if r.random() < 0.99 else ""
            funcs = _FUNC[cat]
            func = funcs[r.randrange(len(funcs))] if r.random() < 0.98 else ""
            if want(deliv):
                add(deliv, "EC_LOG", [f"E{ymd}{k_row:08d}", sid, ch, city, nbr, "1" if logged else "0", T(t), func, cat,
                                      res, fail, pay, resp, solved, rating, "1" if (new_reg and j == 0) else "0", os_,
                                      T(upd)])
            k_row += 1
