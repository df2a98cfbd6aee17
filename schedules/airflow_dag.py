"""Airflow DAGs of the csqm runs (operations.md §7), built from conf/schedule.yaml like the crontab: one DAG per
clocked run (csqm_daily with its monthly continuation, csqm_weekly), one BashOperator per step calling the same CLI.

Deploy: install csqm with the `airflow` extra on the Airflow workers, copy this file into the dags folder, create the
pool (`airflow pools set csqm_lake 1 "one csqm job at a time"`), and set CSQM_CONF_DIR / CSQM_ENV / CSQM_BIN if the
defaults (the package's conf/, profile cluster, `csqm` on PATH) do not fit.
"""
from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

from csqm.config import DEFAULT_CONF_DIR
from csqm.schedule import airflow_tasks
from csqm.schedule import load as load_schedule

CONF_DIR = os.environ.get("CSQM_CONF_DIR", str(DEFAULT_CONF_DIR))
EXTRA = ["--env", os.environ.get("CSQM_ENV", "cluster")]
CSQM = os.environ.get("CSQM_BIN", "csqm")


def build(name: str, schedule) -> DAG:
    """One DAG: a clocked run and the runs that follow it, tasks wired as the definition says."""
    run = schedule.run(name)
    dag = DAG(dag_id=f"csqm_{name}", schedule=run.cron, catchup=False, max_active_runs=1,
              start_date=pendulum.datetime(2013, 1, 1, tz=schedule.timezone), tags=["csqm"],
              default_args={"pool": schedule.pool, "retries": 0})
    ops = {}
    for t in airflow_tasks(schedule, name, CSQM, EXTRA):
        ops[t.task_id] = BashOperator(task_id=t.task_id, bash_command=t.bash_command, trigger_rule=t.trigger_rule,
                                      dag=dag)
        for up in t.upstream:
            ops[up] >> ops[t.task_id]
    return dag


_schedule = load_schedule(Path(CONF_DIR))
for _name, _run in _schedule.runs.items():
    if _run.cron is not None:
        globals()[f"csqm_{_name}"] = build(_name, _schedule)
