"""The runs of operations.md §7 from conf/schedule.yaml: the chain and its order, stop-on-failure, the monthly gate,
the crontab, the Airflow tasks, and the DAG file (built only where Airflow is installed)."""
from __future__ import annotations

import ast
import datetime as dt
import shutil
from pathlib import Path

import pytest
from csqm import cli, schedule
from csqm.config import DEFAULT_CONF_DIR, ConfigError

DAG_FILE = Path(__file__).resolve().parents[1] / "schedules" / "airflow_dag.py"
V = {"D": "20130103", "R": "20130104", "M": "201301"}


@pytest.fixture(scope="module")
def sched():
    return schedule.load(DEFAULT_CONF_DIR)


def _argvs(sched, name):
    return [st.argv(V) for _, st in schedule.plan(sched, name)]


def test_daily_chain_follows_operations_7(sched):
    """ingest → silver → gold → dq → backup DAILY, then after gold the monthly run: gold M → dq M → backup MONTHLY."""
    assert _argvs(sched, "daily") == [
        ["ingest", "--all", "--date", "20130103"], ["silver", "--date", "20130103"], ["gold", "--date", "20130103"],
        ["dq", "--date", "20130103"], ["backup", "--all", "--type", "DAILY"],
        ["gold", "--month", "201301"], ["dq", "--month", "201301"], ["backup", "--all", "--type", "MONTHLY"]]
    daily, monthly = sched.run("daily"), sched.run("monthly")
    assert [(s.id, s.after) for s in daily.steps] == [("ingest", ()), ("silver", ("ingest",)), ("gold", ("silver",)),
                                                     ("dq", ("gold",)), ("backup", ("dq",))]
    assert (monthly.follows.run, monthly.follows.step, monthly.follows.when) == ("daily", "gold", "month_closed")
    assert [s.id for s in daily.steps + monthly.steps if s.soft] == ["dq", "dq_m"]
    assert (daily.cron, daily.date, monthly.cron) == ("0 5 * * *", "yesterday", None)


def test_weekly_is_retention_on_sunday_at_three(sched):
    assert _argvs(sched, "weekly") == [["retention", "--as-of", "20130104"]]
    assert (sched.run("weekly").cron, sched.run("weekly").date) == ("0 3 * * 0", "today")


def test_every_step_is_a_valid_cli_call(sched):
    """The definition only names commands and options the CLI accepts."""
    for name in ("daily", "weekly"):
        for argv in _argvs(sched, name):
            assert cli._parse(argv).job == argv[0]


def test_dates_come_from_the_clock_in_shanghai(sched):
    now = dt.datetime(2013, 1, 3, 21, 30, tzinfo=dt.UTC)   # 2013-01-04 05:30 in Shanghai
    assert schedule.values_for(sched, sched.run("daily"), now) == {"D": "20130103", "R": "20130104"}
    assert schedule.values_for(sched, sched.run("weekly"), now) == {"D": "20130104", "R": "20130104"}
    assert schedule.values_for(sched, sched.run("daily"), now, date="20130110") == {"D": "20130110", "R": "20130110"}


def _run(sched, fail: set[str], month: str | None):
    calls: list[str] = []

    def call(argv):
        calls.append(" ".join(argv))
        return 1 if argv[0] in fail else 0

    out = schedule.execute(sched, "daily", {"D": "20130103", "R": "20130104"}, call, lambda _: month, log=lambda _: 0)
    return calls, {o.step: o.status for o in out}


def test_a_failed_step_stops_the_run(sched):
    calls, st = _run(sched, {"silver"}, "201301")
    assert calls == ["ingest --all --date 20130103", "silver --date 20130103"]
    assert st == {"ingest": "SUCCESS", "silver": "FAILED", "gold": "BLOCKED", "dq": "BLOCKED", "backup": "BLOCKED",
                  "gold_m": "BLOCKED", "dq_m": "BLOCKED", "backup_m": "BLOCKED"}


def test_a_failed_dq_still_backs_up_and_the_monthly_run_follows_a_closed_month(sched):
    calls, st = _run(sched, {"dq"}, "201301")
    assert calls[3:] == ["dq --date 20130103", "backup --all --type DAILY", "gold --month 201301",
                         "dq --month 201301", "backup --all --type MONTHLY"]
    assert st["dq"] == "FAILED" and st["dq_m"] == "FAILED" and st["backup"] == st["backup_m"] == "SUCCESS"


def test_no_closed_month_skips_the_monthly_steps(sched):
    calls, st = _run(sched, set(), None)
    assert len(calls) == 5 and [st[s] for s in ("gold_m", "dq_m", "backup_m")] == ["SKIPPED"] * 3


def test_cron_rendering(sched):
    assert schedule.cron(sched, "/opt/csqm/bin/csqm", ["--env", "cluster"], "/var/log/csqm") == (
        "# csqm runs (operations.md §7), rendered by `csqm schedule --cron` from conf/schedule.yaml; do not edit.\n"
        "# Times are Asia/Shanghai (CRON_TZ; where cron ignores it, run the host in that zone).\n"
        "SHELL=/bin/bash\n"
        "CRON_TZ=Asia/Shanghai\n"
        "# daily: ingest --all --date {D} -> silver --date {D} -> gold --date {D} -> dq --date {D} -> "
        "backup --all --type DAILY\n"
        "#   then, after gold, when month_closed: gold --month {M} -> dq --month {M} -> backup --all --type MONTHLY\n"
        "0 5 * * * flock /var/lock/csqm.lock /opt/csqm/bin/csqm schedule --run daily --env cluster "
        ">> /var/log/csqm/daily.log 2>&1\n"
        "# weekly: retention --as-of {R}\n"
        "0 3 * * 0 flock /var/lock/csqm.lock /opt/csqm/bin/csqm schedule --run weekly --env cluster "
        ">> /var/log/csqm/weekly.log 2>&1\n")


def test_cli_prints_the_crontab_and_runs_a_schedule(monkeypatch, capsys, tmp_path):
    from csqm.commands import ops_report
    from csqm.pipeline import jobs

    assert cli.main(["schedule", "--cron", "--env", "local", "--out", str(tmp_path / "csqm.cron")]) == 0
    assert "0 5 * * * flock /var/lock/csqm.lock csqm schedule --run daily >>" in (tmp_path / "csqm.cron").read_text()
    seen = []
    monkeypatch.setattr(ops_report, "_call", lambda argv: seen.append(argv) or (1 if argv[0] == "gold" else 0))
    monkeypatch.setattr(jobs, "_spark", lambda cfg: None)
    monkeypatch.setattr(schedule, "due_month", lambda spark, cfg: "201301")
    assert cli.main(["schedule", "--run", "daily", "--date", "20130105", "--lake-root", "/x/lake"]) == 1
    assert seen == [["ingest", "--all", "--date", "20130105", "--lake-root", "/x/lake"],
                    ["silver", "--date", "20130105", "--lake-root", "/x/lake"],
                    ["gold", "--date", "20130105", "--lake-root", "/x/lake"]]
    assert capsys.readouterr().err.strip().endswith(
        "daily 20130105 stopped: gold FAILED, dq BLOCKED, backup BLOCKED, gold_m BLOCKED, dq_m BLOCKED, "
        "backup_m BLOCKED")


@pytest.mark.parametrize("edit, message", [
    (("weekly:", "weekly:\n    color: red"), "schedule.yaml:runs.weekly.color: unknown key"),
    (('"{R}"', '"{X}"'), "runs.weekly.steps[0].args: unknown placeholder {X}"),
    (("after: [ingest]", "after: [gold]"), "runs.daily.steps[1].after: 'gold' is not an earlier step"),
    (('"0 3 * * 0"', '"0 3 * *"'), "runs.weekly.cron: '0 3 * *' is not a five-field cron expression"),
    (("step: gold,", "step: nope,"), "runs.monthly.follows: no step 'nope' in run 'daily'"),
])
def test_the_definition_is_loaded_strictly(tmp_path, edit, message):
    conf = tmp_path / "conf"
    conf.mkdir()
    text = (DEFAULT_CONF_DIR / "schedule.yaml").read_text()
    assert edit[0] in text
    (conf / "schedule.yaml").write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("*", r"\*").replace("[", r"\[")):
        schedule.load(conf)


def test_airflow_tasks_mirror_the_definition(sched):
    tasks = {t.task_id: t for t in schedule.airflow_tasks(sched, "daily", "csqm", ["--env", "cluster"])}
    d = "{{ data_interval_end.in_timezone('Asia/Shanghai').subtract(days=1).strftime('%Y%m%d') }}"
    m = "{{ ti.xcom_pull(task_ids='month_closed') }}"
    assert {k: (t.bash_command, t.upstream, t.trigger_rule) for k, t in tasks.items()} == {
        "ingest": (f"csqm ingest --all --date {d} --env cluster", (), "all_success"),
        "silver": (f"csqm silver --date {d} --env cluster", ("ingest",), "all_success"),
        "gold": (f"csqm gold --date {d} --env cluster", ("silver",), "all_success"),
        "dq": (f'csqm dq --date {d} --env cluster; echo "rc=$?"', ("gold",), "all_success"),
        "backup": ("csqm backup --all --type DAILY --env cluster", ("dq",), "all_success"),
        "month_closed": ("csqm schedule --due-month --env cluster", ("gold",), "all_success"),
        "gold_m": (f"csqm gold --month {m} --env cluster", ("month_closed",), "all_success"),
        "dq_m": (f'csqm dq --month {m} --env cluster; echo "rc=$?"', ("gold_m",), "all_success"),
        "backup_m": ("csqm backup --all --type MONTHLY --env cluster", ("dq_m",), "all_success"),
        "dq_check": ("case \"{{ ti.xcom_pull(task_ids='dq') }}\" in rc=0|None) exit 0;; *) exit 1;; esac",
                     ("backup", "backup_m"), "all_done"),
        "dq_m_check": ("case \"{{ ti.xcom_pull(task_ids='dq_m') }}\" in rc=0|None) exit 0;; *) exit 1;; esac",
                       ("backup", "backup_m"), "all_done"),
    }
    assert schedule.SKIP_EXIT == 99   # BashOperator's default skip_on_exit_code: no closed month skips gold_m..


def test_dag_file_is_valid_python():
    ast.parse(DAG_FILE.read_text(encoding="utf-8"), str(DAG_FILE))


@pytest.mark.integration   # needs Apache Airflow (pip install '.[airflow]'): `make test-integration`
def test_dag_file_builds_the_dags(tmp_path, monkeypatch):
    import importlib.util
    import runpy

    assert importlib.util.find_spec("airflow"), "Apache Airflow is not installed (pip install '.[airflow]')"

    shutil.copytree(DEFAULT_CONF_DIR, tmp_path / "conf")
    monkeypatch.setenv("CSQM_CONF_DIR", str(tmp_path / "conf"))
    ns = runpy.run_path(str(DAG_FILE))
    daily, weekly = ns["csqm_daily"], ns["csqm_weekly"]
    assert daily.dag_id == "csqm_daily" and weekly.dag_id == "csqm_weekly"
    assert set(daily.task_dict) == {"ingest", "silver", "gold", "dq", "backup", "month_closed", "gold_m", "dq_m",
                                    "backup_m", "dq_check", "dq_m_check"}
    assert daily.task_dict["silver"].upstream_task_ids == {"ingest"}
    assert daily.task_dict["gold_m"].upstream_task_ids == {"month_closed"}
    assert list(weekly.task_dict) == ["retention"]
    assert all(t.pool == "csqm_lake" for t in daily.tasks)


def test_the_committed_cron_file_is_the_rendering(sched):
    """schedules/csqm.cron = `csqm schedule --cron --env cluster --out schedules/csqm.cron` (regenerate on change)."""
    assert (DAG_FILE.parent / "csqm.cron").read_text() == schedule.cron(sched, "csqm", ["--env", "cluster"])
