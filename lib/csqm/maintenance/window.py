"""Time-travel windows (operations.md §4): which versions of a table can still be read, against the promise."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from csqm import io
from csqm.config import Config
from csqm.errors import JobFailed
from csqm.io import backup as store

DAY_MS = 86_400_000
ENFORCE_CONF = "spark.databricks.delta.vacuum.enforceTimeTravelWithinDeletedFileRetentionDuration"


class OutOfWindow(JobFailed):
    """A version/timestamp outside the readable window; the message starts with OUT_OF_WINDOW and names backups."""


@dataclass(frozen=True)
class Commit:
    version: int
    ms: int  # commit timestamp, epoch milliseconds
    text: str  # the same in the session time zone


@dataclass(frozen=True)
class Window:
    """A table's promised and actual time-travel windows."""

    table: str
    layer: str
    promise_days: int
    latest: int
    promise_version: int  # the version current at now - promise_days (older versions are not promised)
    promise_ts: str
    oldest_version: int | None  # the oldest version that can really be read
    oldest_ts: str | None

    @property
    def kept(self) -> bool:
        return self.oldest_version is not None and self.oldest_version <= self.promise_version

    @property
    def first_allowed(self) -> int:
        """Time travel is served from here on: inside the promise and readable."""
        return max(self.promise_version, self.oldest_version if self.oldest_version is not None else self.latest + 1)


@contextmanager
def checked_time_travel(spark: SparkSession) -> Iterator[None]:
    """Delta 4.4 refuses any version committed before now - deletedFileRetentionDuration, which would refuse the
    version *current* at now - window that §4 promises (7-day bronze: 7 = 7). Inside this block that blanket check is
    off: callers read only versions resolve() has checked (inside the promise, every data file present)."""
    with io.spark_conf(spark, ENFORCE_CONF, "false"):
        yield


def commits(spark: SparkSession, cfg: Config, table: str) -> list[Commit]:
    """Every commit still in the log, oldest first, with Delta's (monotonic) commit timestamps."""
    from delta.tables import DeltaTable

    h = DeltaTable.forPath(spark, io.table_path(cfg, table)).history()
    rows = h.select("version", F.unix_millis("timestamp").alias("ms"),
                    F.date_format("timestamp", "yyyy-MM-dd HH:mm:ss").alias("text")).collect()
    return sorted((Commit(int(r.version), int(r.ms), r.text) for r in rows), key=lambda c: c.version)


def to_ms(spark: SparkSession, ts: str) -> int:
    """A user timestamp ('yyyy-MM-dd[ HH:mm:ss]', session time zone) in epoch milliseconds."""
    v = spark.range(1).select(F.unix_millis(F.to_timestamp(F.lit(ts))).alias("ms")).first().ms
    if v is None:
        raise JobFailed(f"{ts!r} is not a timestamp (yyyy-MM-dd HH:mm:ss)")
    return int(v)


def table_window(spark: SparkSession, cfg: Config, table: str, now_ms: int | None = None) -> Window:
    """Promise floor (version current at now - days) and the oldest version that is really readable."""
    layer = io.layer_of(table)
    days = cfg.retention.layers[layer].time_travel_days
    cs = commits(spark, cfg, table)
    by_v = {c.version: c for c in cs}
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = now_ms - days * DAY_MS
    before = [c for c in cs if c.ms <= cutoff]
    promise = before[-1].version if before else 0
    oldest = store.oldest_readable(spark, io.table_path(cfg, table))
    pts = by_v[promise].text if promise in by_v else "(gone from the log)"
    return Window(table, layer, days, cs[-1].version, promise, pts, oldest,
                  by_v[oldest].text if oldest in by_v else None)


def backups_hint(cfg: Config, table: str, limit: int = 3) -> str:
    """The newest backups of a table, for the OUT_OF_WINDOW message."""
    layer = io.layer_of(table)
    folder = Path(cfg.env.backup_root) / "_manifests" / layer / table
    ids = sorted((p.stem for p in folder.glob("*.json") if not p.name.startswith(".")),
                 key=lambda s: s.rsplit("_", 1)[-1], reverse=True)[:limit] if folder.is_dir() else []
    listed = ", ".join(ids) if ids else f"none under {cfg.env.backup_root}/_manifests/{layer}/{table}"
    return f"restore it from a backup: csqm restore --backup-id <id> --target <path> (backups of {table}: {listed})"


def resolve(spark: SparkSession, cfg: Config, table: str, version: int | None = None,
            timestamp: str | None = None, window: Window | None = None) -> int:
    """The version to read for a version or timestamp, refused with OUT_OF_WINDOW outside the readable window."""
    if (version is None) == (timestamp is None):
        raise JobFailed("give exactly one of version or timestamp")
    w = window or table_window(spark, cfg, table)
    if timestamp is not None:
        ms = to_ms(spark, timestamp)
        older = [c for c in commits(spark, cfg, table) if c.ms <= ms]
        if not older:
            raise OutOfWindow(f"OUT_OF_WINDOW: {table} has no version at or before {timestamp}; "
                              f"{backups_hint(cfg, table)}")
        version = older[-1].version
    if version > w.latest or version < 0:
        raise JobFailed(f"{table} has no version {version} (latest is {w.latest})")
    if version < w.first_allowed:
        raise OutOfWindow(
            f"OUT_OF_WINDOW: {table} version {version} is outside the {w.promise_days}-day time-travel window of "
            f"layer {w.layer} (oldest version served: {w.first_allowed}, committed "
            f"{w.promise_ts if w.first_allowed == w.promise_version else w.oldest_ts}); {backups_hint(cfg, table)}")
    return version
