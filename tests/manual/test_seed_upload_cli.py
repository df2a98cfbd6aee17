"""On a new lake, business staff's first upload works: the deployment seeds (dim_metric included) come first."""
from __future__ import annotations

from pathlib import Path

from csqm import cli, io

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_first_upload_on_a_new_lake_seeds_the_dims_then_applies(spark, tmp_roots, capsys):
    roots = ["--landing-root", tmp_roots.env.landing_root, "--lake-root", tmp_roots.env.lake_root,
             "--backup-root", tmp_roots.env.backup_root]
    rc = cli.main(["upload", "--table", "man_kpi_target", "--file", str(SAMPLES / "man_kpi_target_2013.csv"),
                   "--user", "ops", *roots])
    assert rc == 0, capsys.readouterr().out
    assert "9 row(s) upserted" in capsys.readouterr().out
    codes = {r.metric_code for r in io.read(spark, tmp_roots, "dim_metric").collect()}
    assert len(codes) == sum(len(t.metrics) for t in tmp_roots.section("metrics").tables.values())
    assert {r.metric_code for r in io.read(spark, tmp_roots, "man_kpi_target").collect()} <= codes
    assert io.read(spark, tmp_roots, "dim_city").count() > 0
