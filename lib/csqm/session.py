"""The only SparkSession builder: Delta from local jars, Shanghai time, settings from the env profile."""
from __future__ import annotations

import glob
import os
from pathlib import Path

from pyspark.sql import SparkSession

from csqm.config import Env

# Fixed by the contract or needed by the byte parser; profiles cannot switch these off.
FIXED_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.session.timeZone": "Asia/Shanghai",
    "spark.sql.legacy.javaCharsets": "true",  # decode(..., 'GBK')
    "spark.sql.legacy.codingErrorAction": "true",  # structurally valid GBK pairs never raise
    "spark.databricks.delta.retentionDurationCheck.enabled": "true",
    "spark.databricks.delta.properties.defaults.enableDeletionVectors": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.debug.maxToStringFields": "500",  # wide bronze plans: no truncation warning
}


def local_jars(jars_dir: str) -> list[str]:
    """The Delta jars fetched at set-up; fail clearly if set-up has not run."""
    jars = sorted(glob.glob(os.path.join(jars_dir, "*.jar")))
    if not jars:
        raise RuntimeError(f"no Delta jars in {jars_dir}: run `make setup` first")
    return jars


def get_spark(env: Env, extra_conf: dict[str, str] | None = None) -> SparkSession:
    """Build (or reuse) the session; spark-submit --jars may already have put the jars on the classpath."""
    b = SparkSession.builder.appName(env.app_name)
    if env.master and not os.environ.get("CSQM_SPARK_SUBMIT"):
        b = b.master(env.master)
    conf = {**env.spark_conf, **(extra_conf or {}), **FIXED_CONF}
    log_conf = Path(__file__).resolve().parents[2] / "conf" / "log4j2.properties"
    if log_conf.exists():
        opts = conf.get("spark.driver.extraJavaOptions", "")
        conf["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log_conf.as_uri()} {opts}".strip()
    if "spark.jars" not in conf:
        conf["spark.jars"] = ",".join(local_jars(env.jars_dir))
    for k, v in conf.items():
        b = b.config(k, v)
    return b.getOrCreate()
