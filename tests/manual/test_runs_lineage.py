"""csqm runs / csqm lineage over a small silver partition written by a tagged run."""
from __future__ import annotations

from dataclasses import replace

from csqm import audit, io
from csqm.bronze import schemas
from csqm.pipeline.audit_report import format_table, lineage, recent_runs


def test_lineage_of_a_silver_partition(spark, cfg, tmp_path, capsys):
    from csqm.pipeline.silver import CHANGES, CHANGES_DDL

    c = replace(cfg, env=replace(cfg.env, lake_root=str(tmp_path / "lake")))
    brz = audit.start(spark, c, "ingest", {}, "20130105")
    io.ensure_table(spark, c, "ops_batch_log", schemas.schema(schemas.BATCH_LOG_DDL), ["data_date"], brz.meta)
    cols = schemas.schema(schemas.BATCH_LOG_DDL).fieldNames()
    row = {"ifcode": "FLT_TICKET", "data_date": "20130105", "_batch_id": "FLT_TICKET_20130105_002",
           "chk_file": "FLT_TICKET_20130105.chk",
           "files": ["FLT_TICKET_20130105_001.dat", "FLT_TICKET_20130105_002.dat"],
           "status": "LOADED", "rows_loaded": 2, "bronze_version": 3}
    io.append(spark.createDataFrame([tuple(row.get(n) for n in cols)], schemas.schema(schemas.BATCH_LOG_DDL)), c,
              "ops_batch_log", brz.meta)
    audit.finish(spark, c, brz, "SUCCESS")
    run = audit.start(spark, c, "silver", {}, "20130105")
    df = spark.createDataFrame([("F1", "FLT_TICKET_20130105_002", "20130105"), ("F2", "FLT_TICKET_20130104_001",
                                "20130104")], "fault_id STRING, _batch_id STRING, day_id STRING")
    df.write.format("delta").partitionBy("day_id").save(io.table_path(c, "slv_fault_event_d"))  # v0, untagged
    v = io.replace_where(df.where("day_id = '20130105'"), c, "slv_fault_event_d", "day_id = '20130105'", run.meta)
    run.committed("slv_fault_event_d", v)
    io.ensure_table(spark, c, CHANGES, __import__("pyspark.sql.types", fromlist=["x"]).StructType.fromDDL(CHANGES_DDL))
    io.append(spark.createDataFrame([("slv_fault_event_d", "20130105", run.run_id, None)], CHANGES_DDL), c, CHANGES,
              run.meta)
    audit.finish(spark, c, run, "SUCCESS")

    lin = lineage(spark, c, "slv_fault_event_d", "20130105")
    assert [(w["version"], w["run_id"], w["job"]) for w in lin.writes] == [(1, run.run_id, "silver")]
    assert lin.runs[run.run_id]["versions"] == {"slv_fault_event_d": 1}
    assert lin.runs[run.run_id]["status"] == "SUCCESS"
    assert [(b["_batch_id"], b["files"]) for b in lin.batches] == [
        ("FLT_TICKET_20130105_002", ["FLT_TICKET_20130105_001.dat", "FLT_TICKET_20130105_002.dat"])]
    assert [(r.job_name, r.status) for r in recent_runs(spark, c, 5, None)] == [("silver", "SUCCESS"),
                                                                                 ("ingest", "SUCCESS")]
    assert [r.job_name for r in recent_runs(spark, c, 5, "ingest")] == ["ingest"]


def test_format_table_aligns_columns():
    assert format_table(["a", "bb"], [["xyz", "1"]]) == "a    bb\n---  --\nxyz  1"
