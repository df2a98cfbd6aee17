"""The three notebooks are stored without outputs and run headless (nbclient) against the shared pipeline lake, all
in one kernel so a single Spark JVM starts (local[1], 1 shuffle partition)."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from csqm import io
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from ops_lakes import gold_lake
from pyspark.sql import functions as F

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_complaints_escalations", "02_hotline_service_level", "03_time_travel"]


def _text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []))


def test_notebooks_are_stored_without_outputs():
    for name in NAMES:
        nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.outputs == [] and c.execution_count is None for c in code), name
        assert all("import csqm" in c.source or "from csqm" in c.source or "nb." in c.source or "print" in c.source
                   for c in code), name


@pytest.fixture(scope="module")
def lake(spark, lakes):
    return gold_lake(spark, lakes)


@pytest.fixture(scope="module")
def executed(lake, tmp_path_factory):
    """Every notebook executed in order in one kernel reading the pipeline lake (read only)."""
    env = {**os.environ, "CSQM_LAKE_ROOT": lake.env.lake_root, "CSQM_SPARK_MASTER": "local[1]",
           "CSQM_SHUFFLE_PARTITIONS": "1", "CSQM_PII_SALT": lake.env.pii_salt}
    env.pop("MPLBACKEND", None)              # the kernel's inline backend renders the figures as PNG outputs
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(tmp_path_factory.mktemp("nb")))
    out = {}
    try:
        for name in NAMES:
            nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
            NotebookClient(nb, km=km, timeout=600, allow_errors=False).execute(reset_kc=False)
            out[name] = nb
    finally:
        km.shutdown_kernel(now=True)
    return out


def test_complaints_notebook(executed, lake, spark):
    nb = executed["01_complaints_escalations"]
    gold = io.read(spark, lake, "gld_complaint_d")
    days = sorted(r[0] for r in gold.select("day_id").distinct().collect())
    total = gold.agg(F.sum("cmpl_cnt")).first()[0]
    text = _text(nb)
    assert f"gld_complaint_d holds {len(days)} days: {days[0]}..{days[-1]}" in text
    assert f"total complaints: {total}" in text
    assert _images(nb) == 2


def test_hotline_notebook(executed, lake, spark):
    nb = executed["02_hotline_service_level"]
    text = _text(nb)
    assert "city   hour  calls    SL20   ASA s  repeat" in text
    calls = io.read(spark, lake, "gld_hotline_10000_d", "city_code = '0531'").agg(F.sum("hl_inbound_cnt"))
    per_hour = [ln.split() for ln in text.splitlines() if ln.startswith("0531 ")]
    assert per_hour and all(len(p) == 6 for p in per_hour)
    if len(per_hour) < 60:                    # the cell prints the first 60 (city, hour) rows: all of 0531's here
        assert sum(int(p[2]) for p in per_hour) == calls.first()[0]
    assert _images(nb) == 2


def test_time_travel_notebook(executed, lake, spark):
    from delta.tables import DeltaTable

    nb = executed["03_time_travel"]
    text = _text(nb)
    hist = DeltaTable.forPath(spark, io.table_path(lake, "gld_complaint_d")).history().select("version")
    latest = hist.agg(F.max("version")).first()[0]
    assert f", latest version {latest}" in text and "first published in version" in text
    assert "cmpl_per_10k_rate" in text
