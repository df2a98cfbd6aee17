"""The daily / monthly / weekly runs of operations.md §7 as one definition (conf/schedule.yaml), so the crontab, the
Airflow DAG and `csqm schedule --run` can never disagree about steps, order or stop-on-failure."""
from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from csqm.config import ConfigError, read_yaml, take

FILE = "schedule.yaml"
PLACEHOLDERS = ("D", "R", "M")
DATES = ("yesterday", "today")
CONDITIONS = ("month_closed",)
_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")
SKIP_EXIT = 99   # Airflow's BashOperator marks a task skipped on this exit code


@dataclass(frozen=True)
class Step:
    """One CLI call of a run; `after` must have succeeded first; a soft step's failure does not stop the run."""

    id: str
    args: tuple[str, ...]
    after: tuple[str, ...] = ()
    soft: bool = False

    def argv(self, values: Mapping[str, str]) -> list[str]:
        """The CLI arguments with {D}/{R}/{M} filled in."""
        return [a.format(**values) for a in self.args]


@dataclass(frozen=True)
class Follows:
    """A run without a clock: it continues another run after `step` when `when` holds."""

    run: str
    step: str
    when: str


@dataclass(frozen=True)
class RunDef:
    name: str
    steps: tuple[Step, ...]
    cron: str | None = None
    date: str | None = None
    follows: Follows | None = None

    def step(self, sid: str) -> Step:
        return next(s for s in self.steps if s.id == sid)


@dataclass(frozen=True)
class Schedule:
    timezone: str
    lock: str
    pool: str
    runs: Mapping[str, RunDef]

    def run(self, name: str) -> RunDef:
        try:
            return self.runs[name]
        except KeyError:
            raise ConfigError(f"{FILE}: unknown run {name!r}; known: {', '.join(self.runs)}") from None

    def followers(self, name: str) -> list[RunDef]:
        """The runs that continue run `name` (e.g. monthly after daily's gold step)."""
        return [r for r in self.runs.values() if r.follows and r.follows.run == name]


# ---------------------------------------------------------------- loading
def _step(d: Any, where: str, earlier: list[str]) -> Step:
    s = take(d, where, ("id", "args"), ("after", "soft"))
    args = s["args"]
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{where}.args: expected a non-empty list of strings")
    for a in args:
        for name in re.findall(r"\{(\w*)\}", a):
            if name not in PLACEHOLDERS:
                raise ConfigError(f"{where}.args: unknown placeholder {{{name}}} (known: D, R, M)")
    after = tuple(str(x) for x in s.get("after") or ())
    for a in after:
        if a not in earlier:
            raise ConfigError(f"{where}.after: {a!r} is not an earlier step of this run")
    return Step(str(s["id"]), tuple(args), after, bool(s.get("soft", False)))


def _cron(v: Any, where: str) -> str:
    fields = str(v).split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ConfigError(f"{where}.cron: {v!r} is not a five-field cron expression")
    return " ".join(fields)


def _run(name: str, d: Any, where: str) -> RunDef:
    r = take(d, where, ("steps",), ("cron", "date", "follows"))
    if ("cron" in r) == ("follows" in r):
        raise ConfigError(f"{where}: exactly one of cron or follows")
    if "date" in r and r["date"] not in DATES:
        raise ConfigError(f"{where}.date: must be one of {DATES}")
    steps: list[Step] = []
    for i, s in enumerate(r["steps"] or []):
        steps.append(_step(s, f"{where}.steps[{i}]", [x.id for x in steps]))
    if not steps:
        raise ConfigError(f"{where}.steps: at least one step")
    follows = None
    if "follows" in r:
        f = take(r["follows"], f"{where}.follows", ("run", "step", "when"))
        if f["when"] not in CONDITIONS:
            raise ConfigError(f"{where}.follows.when: must be one of {CONDITIONS}")
        follows = Follows(str(f["run"]), str(f["step"]), str(f["when"]))
    return RunDef(name, tuple(steps), _cron(r["cron"], where) if "cron" in r else None, r.get("date"), follows)


def load(conf_dir: Path) -> Schedule:
    """conf/schedule.yaml, strictly: unknown keys, unknown placeholders and dangling dependencies are errors."""
    d = take(read_yaml(conf_dir / FILE), FILE, ("timezone", "lock", "pool", "runs"))
    runs = {str(n): _run(str(n), v, f"{FILE}:runs.{n}") for n, v in (d["runs"] or {}).items()}
    for r in runs.values():
        f = r.follows
        if f and (f.run not in runs or f.step not in [s.id for s in runs[f.run].steps]):
            raise ConfigError(f"{FILE}:runs.{r.name}.follows: no step {f.step!r} in run {f.run!r}")
    try:
        ZoneInfo(str(d["timezone"]))
    except Exception:
        raise ConfigError(f"{FILE}:timezone: unknown time zone {d['timezone']!r}") from None
    return Schedule(str(d["timezone"]), str(d["lock"]), str(d["pool"]), runs)


# ---------------------------------------------------------------- planning
def plan(s: Schedule, name: str) -> list[tuple[RunDef, Step]]:
    """The steps `csqm schedule --run name` executes, in order: the run's own steps, then those of the runs that
    follow it (guarded by their condition)."""
    out = [(s.run(name), st) for st in s.run(name).steps]
    for f in s.followers(name):
        out += [(f, st) for st in f.steps]
    return out


def values_for(s: Schedule, run: RunDef, now: dt.datetime | None = None, date: str | None = None,
               month: str | None = None) -> dict[str, str]:
    """{D} = --date or yesterday, {R} = the run date (today), {M} = --month; all in the schedule's time zone."""
    today = (now or dt.datetime.now(ZoneInfo(s.timezone))).astimezone(ZoneInfo(s.timezone)).date()
    d = date or (today - dt.timedelta(days=1 if run.date == "yesterday" else 0)).strftime("%Y%m%d")
    out = {"D": d, "R": date or today.strftime("%Y%m%d")}
    if month:
        out["M"] = month
    return out


@dataclass
class Outcome:
    run: str
    step: str
    argv: list[str]
    status: str          # SUCCESS, FAILED, SKIPPED (condition false), BLOCKED (a step it needs did not succeed)
    rc: int | None = None


def execute(s: Schedule, name: str, values: Mapping[str, str], call: Callable[[list[str]], int],
            condition: Callable[[str], str | None], log: Callable[[str], None] = print) -> list[Outcome]:
    """Run the plan step by step. A step runs only if every step in its `after` (and, for the first step of a
    follower, the step it follows) succeeded or soft-failed; a follower runs only when its condition yields a
    month, which becomes {M}."""
    done: dict[tuple[str, str], str] = {}
    vals = dict(values)
    gates: dict[str, bool] = {}
    out: list[Outcome] = []
    for run, step in plan(s, name):
        needs = [(run.name, a) for a in step.after]
        if run.follows and not step.after:
            needs.append((run.follows.run, run.follows.step))
        ready = all(done.get(n) in ("SUCCESS", "SOFT_FAILED") for n in needs)
        if run.follows and run.name not in gates and ready:
            month = vals.get("M") or condition(run.follows.when)
            gates[run.name] = month is not None
            if month:
                vals["M"] = month
        status = "SKIPPED" if gates.get(run.name) is False else None if ready else "BLOCKED"
        argv = step.argv(vals) if status is None else list(step.args)
        rc = None
        if status is None:
            log(f"schedule {name}: {run.name}.{step.id}: csqm {shlex.join(argv)}")
            rc = call(argv)
            status = "SUCCESS" if rc == 0 else "FAILED"
        done[(run.name, step.id)] = "SOFT_FAILED" if status == "FAILED" and step.soft else status
        out.append(Outcome(run.name, step.id, argv, status, rc))
        if status != "SUCCESS":
            log(f"schedule {name}: {run.name}.{step.id}: {status}")
    return out


# ---------------------------------------------------------------- cron
def cron(s: Schedule, csqm: str = "csqm", extra: Sequence[str] = (), log_dir: str = "/var/log/csqm") -> str:
    """A crontab: one line per clocked run, under the shared lock, calling `csqm schedule --run`."""
    lines = ["# csqm runs (operations.md §7), rendered by `csqm schedule --cron` from conf/schedule.yaml; do not edit.",
             f"# Times are {s.timezone} (CRON_TZ; where cron ignores it, run the host in that zone).",
             "SHELL=/bin/bash", f"CRON_TZ={s.timezone}"]
    for r in s.runs.values():
        if r.cron is None:
            continue
        chain = " -> ".join(" ".join(st.args) for st in r.steps)
        lines.append(f"# {r.name}: {chain}")
        for f in s.followers(r.name):
            lines.append(f"#   then, after {f.follows.step}, when {f.follows.when}: "
                         + " -> ".join(" ".join(st.args) for st in f.steps))
        cmd = shlex.join([csqm, "schedule", "--run", r.name, *extra])
        lines.append(f"{r.cron} flock {shlex.quote(s.lock)} {cmd} >> {log_dir}/{r.name}.log 2>&1")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- airflow
TZ_NOW = "data_interval_end.in_timezone('{tz}')"


@dataclass(frozen=True)
class TaskSpec:
    """One Airflow task: id, bash command, upstream task ids, trigger rule."""

    task_id: str
    bash_command: str
    upstream: tuple[str, ...]
    trigger_rule: str = "all_success"


def airflow_tasks(s: Schedule, name: str, csqm: str = "csqm", extra: Sequence[str] = ()) -> list[TaskSpec]:
    """The tasks of one DAG (a clocked run and its followers): the same CLI calls, dates as Jinja templates; a follower
    starts with a gate task printing {M} (or exiting 99 = skipped); a soft step records its exit code and a check
    task at the end fails the DAG run if it was not 0, after the steps behind it ran."""
    now = TZ_NOW.format(tz=s.timezone)
    tpl = {"D": "{{ " + now + ".subtract(days=1).strftime('%Y%m%d') }}",
           "R": "{{ " + now + ".strftime('%Y%m%d') }}"}
    ext = " ".join(shlex.quote(e) for e in extra)
    run = s.run(name)
    tasks: list[TaskSpec] = []
    soft: list[str] = []

    def add(r: RunDef, vals: dict[str, str], first_up: tuple[str, ...]) -> None:
        for st in r.steps:
            cmd = " ".join([csqm, *(_quote_tpl(a) for a in st.argv(vals)), ext]).strip()
            up = st.after or first_up
            if st.soft:   # the task succeeds so the steps behind it run; its exit code goes to XCom for the check
                cmd += '; echo "rc=$?"'
                soft.append(st.id)
            tasks.append(TaskSpec(st.id, cmd, up))

    add(run, tpl, ())
    for f in s.followers(name):
        gate = f.follows.when
        tasks.append(TaskSpec(gate, f"{csqm} schedule --due-month {ext}".strip(),
                              (f.follows.step,)))
        add(f, {**tpl, "M": "{{ ti.xcom_pull(task_ids='" + gate + "') }}"}, (gate,))
    leaves = tuple(t.task_id for t in tasks if not any(t.task_id in o.upstream for o in tasks))
    for sid in soft:   # fails only if the soft step ran and failed (None: it did not run, skipped or blocked)
        rc = "{{ ti.xcom_pull(task_ids='" + sid + "') }}"
        tasks.append(TaskSpec(f"{sid}_check", f'case "{rc}" in rc=0|None) exit 0;; *) exit 1;; esac', leaves,
                              "all_done"))
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{FILE}: step ids must be unique across run {name} and its followers: {ids}")
    return tasks


def _quote_tpl(a: str) -> str:
    """Quote a CLI argument for bash unless it is a Jinja template (rendered to a plain value first)."""
    return a if a.startswith("{{") else shlex.quote(a)


# ---------------------------------------------------------------- conditions
def due_month(spark, cfg) -> str | None:
    """month_closed: HM (the latest month with SUBS, PTS_BAL, APPEAL and ESCAL all loaded) if no gold run for that
    month has succeeded yet, else None."""
    from csqm import io
    from csqm.pipeline.gold import MONTH_CLOSE, loaded_dates

    loaded = loaded_dates(spark, cfg)
    closed = set.intersection(*[set(loaded.get(c, [])) for c in MONTH_CLOSE])
    if not closed:
        return None
    hm = max(closed)
    if io.table_exists(spark, cfg, "ops_run_audit"):
        done = io.read(spark, cfg, "ops_run_audit", f"job_name = 'gold' AND data_date = '{hm}' AND status = 'SUCCESS'")
        if not done.isEmpty():
            return None
    return hm
