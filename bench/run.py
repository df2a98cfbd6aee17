"""Benchmark harness (started with ingest): generate days at a scale, time their ingest against the I/O floor.

    python -m bench.run [--subscribers N] [--day yyyymmdd] [--out bench/out]

Prints a table and writes bench/out/bench.json: per stage rows, bytes, seconds, rows/s, MB/s; and the ratio of the
ingest time to the I/O floor (Spark reading the same landing files and writing them as Delta with no logic).
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from csqm import audit
from csqm.config import load_config
from csqm.generate import generate_landing
from csqm.pipeline.ingest import ingest
from csqm.session import get_spark


def _landing_files(root: Path) -> list[Path]:
    """Every data file of the landing tree (what the catch-up ingest reads)."""
    return sorted(root.glob("*/*/*.dat"))


def io_floor(spark, files: list[Path], lake: Path) -> float:
    """Read every file with the same reader and write its lines as Delta in one commit, no parsing or checks."""
    t0 = time.time()
    df = spark.read.format("binaryFile").load([f.resolve().as_uri() for f in files])
    lines = df.selectExpr("regexp_extract(path, '/([A-Z_]+)/[0-9]+/[^/]+$', 1) AS ifcode",
                          "explode(split(decode(content, 'ISO-8859-1'), '\\n')) AS line")
    lines.write.format("delta").mode("overwrite").partitionBy("ifcode").save(str(lake))
    return time.time() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench")
    p.add_argument("--subscribers", type=int, default=100_000)
    p.add_argument("--day", default="20130102")
    p.add_argument("--out", default="bench/out")
    ns = p.parse_args(argv)
    out = Path(ns.out).resolve()
    shutil.rmtree(out / "work", ignore_errors=True)
    work = out / "work"
    cfg = load_config(overrides={"landing_root": str(work / "landing"), "lake_root": str(work / "lake"),
                                 "backup_root": str(work / "backup")})
    first = f"{ns.day[:6]}01"
    days = int(ns.day[6:]) - int(first[6:]) + 1
    t0 = time.time()
    gen = generate_landing(cfg, cfg.env.landing_root, first, days, ns.subscribers, seed=1, redeliveries=False)
    t_gen = time.time() - t0
    spark = get_spark(cfg.env)
    files = _landing_files(Path(cfg.env.landing_root))
    n_bytes = sum(f.stat().st_size for f in files)
    run = audit.start(spark, cfg, "ingest", {"date": ns.day}, ns.day)
    t0 = time.time()
    s = ingest(spark, cfg, run, date=ns.day, log=lambda _: None)
    t_ing = time.time() - t0
    rows = sum(r.rows_total or 0 for r in s.results)
    t_floor = io_floor(spark, files, work / "floor")
    stages = {
        "generate (all days)": {"rows": gen.rows, "bytes": gen.bytes, "seconds": t_gen},
        f"ingest all <= {ns.day}": {"rows": rows, "bytes": n_bytes, "seconds": t_ing},
        "I/O floor": {"rows": rows, "bytes": n_bytes, "seconds": t_floor},
    }
    print(f"subscribers={ns.subscribers} days={days} files={len(files)} master={cfg.env.master}")
    print(f"{'stage':<22}{'rows':>12}{'MB':>10}{'s':>9}{'rows/s':>12}{'MB/s':>9}")
    for name, st in stages.items():
        mb = st["bytes"] / 1e6
        print(f"{name:<22}{st['rows']:>12,}{mb:>10.1f}{st['seconds']:>9.1f}{st['rows'] / st['seconds']:>12,.0f}"
              f"{mb / st['seconds']:>9.2f}")
    ratio = t_ing / t_floor
    print(f"ingest / I/O floor = {ratio:.2f}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"subscribers": ns.subscribers, "day": ns.day, "stages": stages,
                                                "ingest_over_floor": ratio}, indent=2))
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
