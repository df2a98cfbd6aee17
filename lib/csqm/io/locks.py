"""Per-table lock files: no two writers of one table at the same time (operations.md §7), a stale lock is taken over."""
from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from csqm.errors import JobFailed

STALE_AFTER_S = 12 * 3600  # no job holds a table this long; an older lock is left over from a killed run


class TableLocked(JobFailed):
    """Another run holds the table's lock; the message names that run."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _is_stale(owner: dict, path: Path) -> bool:
    """Stale: its process is gone (same host), or it is older than STALE_AFTER_S, or it is unreadable and old."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    if age > STALE_AFTER_S:
        return True
    if owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int):
        return not _alive(owner["pid"])
    return not owner and age > 60


def _try_take(path: Path, me: dict) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(me, f)
    return True


@contextmanager
def table_lock(root: str, table: str, run_id: str, job: str, wait_s: float = 30.0) -> Iterator[None]:
    """Hold <root>/_locks/<table>.lock while writing; wait up to wait_s for another run, then fail naming it."""
    folder = Path(root) / "_locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.lock"
    me = {"run_id": run_id, "job": job, "pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    deadline = time.time() + wait_s
    while not _try_take(path, me):
        owner = _owner(path)
        if owner.get("run_id") == run_id and owner.get("pid") == os.getpid():
            yield  # re-entrant within one run
            return
        if _is_stale(owner, path):
            print(f"  lock {table}: taking over a stale lock of run {owner.get('run_id')} ({owner.get('job')})")
            path.unlink(missing_ok=True)
            continue
        if time.time() >= deadline:
            raise TableLocked(f"table {table} is being written by run {owner.get('run_id')} (job {owner.get('job')}, "
                              f"pid {owner.get('pid')} on {owner.get('host')}); waited {wait_s:.0f}s, try again later")
        time.sleep(0.5)
    try:
        yield
    finally:
        if _owner(path).get("run_id") == run_id:
            path.unlink(missing_ok=True)
