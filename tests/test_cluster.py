"""A real Spark standalone cluster on this machine (master and one worker on 127.0.0.1, started with spark-class of the
installed pyspark): `make dist`, then `csqm daily --date 20130103` submitted in client mode with spark-submit on a
copy of the shared lake's landing files into a fresh lake; every gold table equals the local pipeline's (lake B, see
ops_lakes)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pyspark
import pytest
from chispa import assert_df_equality
from csqm import io
from ops_lakes import gold_lake

ROOT = Path(__file__).resolve().parents[1]
SPARK_HOME = Path(pyspark.__file__).parent
DAY = "20130103"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(path: Path, needle: str, proc: subprocess.Popen, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        if path.exists() and needle in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise AssertionError(f"{needle!r} not seen in {path}:\n{path.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A master and a worker (1 core, 1 GB) bound to 127.0.0.1; both stopped by the finalizer, whatever happened."""
    tmp = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(tmp),
           "SPARK_WORKER_DIR": str(tmp / "work"), "PYSPARK_PYTHON": sys.executable}
    port = _port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    procs: list[subprocess.Popen] = []
    try:
        with open(tmp / "master.log", "w") as log:
            procs.append(subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                           "--port", str(port), "--webui-port", str(_port())],
                                          env=env, stdout=log, stderr=subprocess.STDOUT))
        _wait_for(tmp / "master.log", "I have been elected leader", procs[0], 90)
        with open(tmp / "worker.log", "w") as log:
            procs.append(subprocess.Popen([spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host",
                                           "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(_port()),
                                           "--work-dir", str(tmp / "work")],
                                          env=env, stdout=log, stderr=subprocess.STDOUT))
        _wait_for(tmp / "worker.log", "Successfully registered with master", procs[1], 90)
        yield {"url": url, "env": env, "tmp": tmp}
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.mark.integration   # a real standalone cluster, ~20 min on 2 cores: `make test-integration`
def test_daily_on_a_standalone_cluster_equals_the_local_run(cluster, lakes, spark, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(["make", "-s", "-o", "setup", "dist", f"DIST={dist}"], cwd=ROOT, check=True, capture_output=True)
    assert {p.name for p in (dist / "jars").iterdir()} == {"delta-spark_4.2_2.13-4.4.0.jar", "delta-storage-4.4.0.jar"}
    (dist / "conf" / "env" / "tiny.yaml").write_text(   # the cluster is one 1-core worker: few partitions
        "spark:\n  master: null\n  conf:\n    spark.sql.shuffle.partitions: \"1\"\n"
        "    spark.default.parallelism: \"1\"\n    spark.databricks.delta.snapshotPartitions: \"1\"\n"
        "    spark.sql.adaptive.enabled: \"false\"\n")
    landing = tmp_path / "landing"
    shutil.copytree(lakes["a"].env.landing_root, landing)
    lake = tmp_path / "lake"
    env = {**cluster["env"], "CSQM_SPARK_SUBMIT": "1", "CSQM_PII_SALT": lakes["b"].env.pii_salt}
    cmd = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", cluster["url"], "--deploy-mode", "client",
           "--name", "csqm-daily-it", "--driver-memory", "1g", "--executor-memory", "768m",
           "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=1", "--conf", "spark.ui.enabled=false",
           "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
           "--jars", ",".join(str(p) for p in sorted((dist / "jars").glob("*.jar"))),
           "--py-files", str(dist / "csqm.zip"), str(dist / "jobs" / "daily.py"), "--date", DAY, "--env", "tiny",
           "--landing-root", str(landing), "--lake-root", str(lake), "--backup-root", str(tmp_path / "backup")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=2400, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "csqm daily: finished" in done.stdout
    assert "app-" in (cluster["tmp"] / "worker.log").read_text()         # the executor ran on the cluster's worker
    b = gold_lake(spark, lakes)
    fresh = replace(b, env=replace(b.env, lake_root=str(lake)))
    tables = list(b.section("metrics").tables)
    compared = 0
    for t in tables:
        if not io.table_exists(spark, b, t):
            assert not io.table_exists(spark, fresh, t), t
            continue
        want, got = (io.read(spark, c, t) for c in (b, fresh))
        cols = [c for c in want.columns if not c.startswith("_")]
        assert_df_equality(got.select(*cols), want.select(*cols), ignore_row_order=True, ignore_nullable=True)
        compared += 1
    assert compared >= 10
