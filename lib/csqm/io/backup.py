"""Backup storage: the Delta log files a version needs, the data files its snapshot references (log replay), and
incremental, atomic file copies between the lake and <backup_root> (operations.md §5). Local file systems only."""
from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from pyspark.sql import SparkSession

LOG = "_delta_log"
_COMMIT = re.compile(r"^(\d{20})\.json$")
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.(\d{10})\.(\d{10}))?\.parquet$")


@dataclass(frozen=True)
class DataFile:
    """One data file of a snapshot: path relative to the table folder (decoded), size, partition values."""

    path: str
    size: int
    partition: tuple[tuple[str, str | None], ...] = ()


def log_listing(table_dir: str) -> dict[str, int]:
    """File name -> size of the table's _delta_log folder (no sub-folders)."""
    d = Path(table_dir) / LOG
    return {e.name: e.stat().st_size for e in os.scandir(d) if e.is_file()} if d.is_dir() else {}


def commit_versions(names: dict[str, int] | list[str]) -> list[int]:
    return sorted(int(m.group(1)) for n in names if (m := _COMMIT.match(n)))


def complete_checkpoints(names: dict[str, int] | list[str]) -> dict[int, list[str]]:
    """Checkpoint version -> its file names, only checkpoints with all their parts present."""
    parts: dict[int, list[str]] = {}
    need: dict[int, int] = {}
    for n in names:
        m = _CHECKPOINT.match(n)
        if m:
            v = int(m.group(1))
            parts.setdefault(v, []).append(n)
            need[v] = int(m.group(3)) if m.group(3) else 1
    return {v: sorted(p) for v, p in parts.items() if len(p) == need[v]}


def log_segment(names: dict[str, int] | list[str], version: int) -> tuple[int | None, list[str]]:
    """(checkpoint version or None, log files) needed to rebuild `version`: the newest complete checkpoint <= version
    plus the commits from its version on (Delta reads the checkpoint version's commit too), or commits 0..version;
    raises when the log cannot rebuild it."""
    commits = set(commit_versions(names))
    cps = {v: p for v, p in complete_checkpoints(names).items() if v <= version}
    start = max(cps) if cps else None
    first = start if start is not None else 0  # Delta also needs the commit file of the checkpoint's version
    missing = [v for v in range(first, version + 1) if v not in commits]
    if missing:
        raise FileNotFoundError(f"log cannot rebuild version {version}: commit {missing[0]} is missing")
    files = (cps[start] if start is not None else []) + [f"{v:020d}.json" for v in range(first, version + 1)]
    return start, files


def oldest_rebuildable(names: dict[str, int] | list[str]) -> int | None:
    """The oldest version the log can still rebuild: 0 when commit 0 is there, else the oldest complete checkpoint
    followed by every later commit; None for an empty or broken log."""
    versions = commit_versions(names)
    if not versions:
        return None
    have = set(versions)
    starts = ([0] if 0 in have else []) + sorted(complete_checkpoints(names))
    for c in starts:
        if all(v in have for v in range(c, versions[-1] + 1)):
            return c
    return None


def split_segment(files: list[str]) -> tuple[list[str], list[str]]:
    """(checkpoint files, commit files) of a log segment."""
    return [f for f in files if ".checkpoint." in f], [f for f in files if f.endswith(".json")]


def _part(pv: dict | None) -> tuple[tuple[str, str | None], ...]:
    return tuple(sorted((pv or {}).items()))


def _checkpoint_adds(spark: SparkSession, table_dir: str, files: list[str]) -> dict[str, DataFile]:
    """Add actions of a checkpoint (parquet, read by Spark) keyed by their log path."""
    df = spark.read.parquet(*[str(Path(table_dir) / LOG / f) for f in files])
    add_fields = df.schema["add"].dataType.fieldNames()
    if "deletionVector" in add_fields:
        dv = df.where("add.deletionVector IS NOT NULL").limit(1).count()
        if dv:
            raise ValueError(f"{table_dir}: deletion vectors are in use (operations.md §4 forbids them)")
    rows = df.where("add IS NOT NULL").select("add.path", "add.size", "add.partitionValues").collect()
    return {r.path: DataFile(unquote(r.path), int(r.size), _part(r.partitionValues)) for r in rows}


def _apply(table_dir: str, live: dict[str, DataFile], name: str) -> None:
    """Apply one commit file's add/remove actions to the live set."""
    with open(Path(table_dir) / LOG / name, encoding="utf-8") as f:
        for line in f:
            a = json.loads(line) if line.strip() else {}
            if "add" in a:
                add = a["add"]
                if add.get("deletionVector"):
                    raise ValueError(f"{table_dir}: deletion vectors are in use (operations.md §4 forbids them)")
                if "://" in add["path"] or add["path"].startswith("/"):
                    raise ValueError(f"{table_dir}: data file {add['path']} is outside the table folder")
                live[add["path"]] = DataFile(unquote(add["path"]), int(add["size"]), _part(add.get("partitionValues")))
            elif "remove" in a:
                live.pop(a["remove"]["path"], None)


def replay(spark: SparkSession, table_dir: str, checkpoint_files: list[str], commits: list[str],
           on_version=None, live: dict[str, DataFile] | None = None) -> dict[str, DataFile]:
    """The live data files after applying `commits` (oldest first) on the checkpoint (or on `live`);
    on_version(v, live) is called after each commit."""
    if live is None:
        live = _checkpoint_adds(spark, table_dir, checkpoint_files) if checkpoint_files else {}
    for name in commits:
        _apply(table_dir, live, name)
        if on_version:
            on_version(int(name[:20]), live)
    return live


def snapshot_files(spark: SparkSession, table_dir: str, version: int,
                   names: dict[str, int] | None = None) -> tuple[list[str], list[DataFile]]:
    """(log files, data files) of one version of a table."""
    names = log_listing(table_dir) if names is None else names
    _, files = log_segment(names, version)
    live = replay(spark, table_dir, *split_segment(files))
    return files, sorted(live.values(), key=lambda d: d.path)


def oldest_readable(spark: SparkSession, table_dir: str) -> int | None:
    """The oldest version whose log can be rebuilt and whose data files all still exist (VACUUM deletes old ones)."""
    names = log_listing(table_dir)
    start = oldest_rebuildable(names)
    if start is None:
        return None
    _, seg = log_segment(names, start)
    exists: dict[str, bool] = {}

    def complete(live: dict[str, DataFile]) -> bool:
        return all(exists.setdefault(d.path, os.path.exists(os.path.join(table_dir, d.path))) for d in live.values())

    live = replay(spark, table_dir, *split_segment(seg))
    if complete(live):
        return start
    found: list[int] = []
    rest = [f"{v:020d}.json" for v in range(start + 1, commit_versions(names)[-1] + 1)]
    replay(spark, table_dir, [], rest, lambda v, lv: found or (complete(lv) and found.append(v)), live)
    return found[0] if found else None


# ------------------------------------------------------------------ copies
def copy_file(src: Path, dst: Path) -> None:
    """Copy through a temporary name and rename, so a killed copy never leaves a complete-looking file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def copy_missing(src_root: str, dst_root: str, files: list[tuple[str, int]]) -> tuple[int, int]:
    """Copy the (relative path, size) files not already at dst with the same size; returns (files, bytes) copied."""
    n = b = 0
    for rel, size in files:
        dst = Path(dst_root) / rel
        if dst.is_file() and dst.stat().st_size == size:
            continue
        src = Path(src_root) / rel
        if src.stat().st_size != size:
            raise OSError(f"{src}: size {src.stat().st_size} differs from the log's {size}")
        copy_file(src, dst)
        n, b = n + 1, b + size
    return n, b


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write a JSON file in one rename (a reader sees all of it or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def manifest_paths(backup_root: str) -> list[Path]:
    """Every complete manifest under <backup_root>/_manifests/<layer>/<table>/<backup_id>.json."""
    root = Path(backup_root) / "_manifests"
    return sorted(p for p in root.glob("*/*/*.json") if not p.name.startswith(".")) if root.is_dir() else []


def files_under(folder: str) -> dict[str, int]:
    """Relative path -> size of every file below folder."""
    base = Path(folder)
    out = {}
    for root, _, names in os.walk(base):
        for n in names:
            p = Path(root) / n
            out[str(p.relative_to(base))] = p.stat().st_size
    return out


def remove_files(folder: str, rels: list[str]) -> None:
    """Delete files (relative to folder), then the folders left empty."""
    for rel in rels:
        (Path(folder) / rel).unlink(missing_ok=True)
    for root, dirs, files in os.walk(folder, topdown=False):
        if not dirs and not files and root != folder:
            os.rmdir(root)


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=False)


def is_empty_dir(path: str) -> bool:
    return not Path(path).exists() or (Path(path).is_dir() and not any(Path(path).iterdir()))


def move_aside(path: str, suffix: str) -> str:
    """Rename an unreadable table folder out of the way (kept for inspection) and return the new name."""
    new = f"{path.rstrip('/')}.{suffix}"
    os.replace(path, new)
    return new
