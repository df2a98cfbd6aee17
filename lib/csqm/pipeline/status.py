"""What the lake holds, printed for people: per-interface batches and rows, and where the lake lives."""
from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from csqm import io
from csqm.config import Config


def batch_summary(spark: SparkSession, cfg: Config):
    """Per interface: batches by status and rows of the batches currently loaded."""
    log = io.read(spark, cfg, "ops_batch_log")
    loaded = F.col("status") == "LOADED"
    return (log.groupBy("ifcode").agg(
        F.sum(loaded.cast("int")).alias("loaded"),
        F.sum((F.col("status") == "REJECTED").cast("int")).alias("rejected"),
        F.sum((F.col("status") == "REPLACED").cast("int")).alias("replaced"),
        F.sum((F.col("status") == "SKIPPED").cast("int")).alias("skipped"),
        F.sum((F.col("status") == "WAITING").cast("int")).alias("waiting"),
        F.sum(F.when(loaded, F.col("rows_total"))).alias("rows_total"),
        F.sum(F.when(loaded, F.col("rows_loaded"))).alias("rows_loaded"),
        F.sum(F.when(loaded, F.col("rows_quarantined"))).alias("rows_quarantined"),
        F.sum(F.when(loaded, F.col("rows_dup"))).alias("rows_dup"),
    ).orderBy("ifcode"))


def print_tables(spark: SparkSession, cfg: Config) -> None:
    """Every Delta table of the lake, layer by layer, with its rows and latest version."""
    for layer in ("bronze", "silver", "gold", "ops", "manual", "reference"):
        names = io.tables_in_layer(cfg, layer)
        if not names:
            continue
        print(f"{layer}:")
        for t in names:
            print(f"  {t:<30} {io.read(spark, cfg, t).count():>10,} rows   v{io.latest_version(spark, cfg, t)}")


def print_status(spark: SparkSession, cfg: Config) -> None:
    print(f"lake: {cfg.env.lake_root}\nlanding: {cfg.env.landing_root}")
    if not io.table_exists(spark, cfg, "ops_batch_log"):
        print("no batches ingested yet")
        return
    rows = batch_summary(spark, cfg).collect()
    head = ("interface", "batches", "rejected", "replaced", "skipped", "waiting", "rows", "loaded",
            "quarantined", "duplicate")
    print("bronze, per interface (rows of the batches currently loaded):")
    print("  " + " ".join(f"{h:>11}" if i else f"{h:<13}" for i, h in enumerate(head)))
    for r in rows:
        vals = (r.ifcode, r.loaded, r.rejected, r.replaced, r.skipped, r.waiting, r.rows_total, r.rows_loaded,
                r.rows_quarantined, r.rows_dup)
        print("  " + " ".join(f"{v or 0:>11}" if i else f"{v:<13}" for i, v in enumerate(vals)))
    print_tables(spark, cfg)
