"""Bounded retry of Delta commits that lost an optimistic-concurrency race (a conflict means nothing was committed)."""
from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger("csqm.io.retry")
F = TypeVar("F", bound=Callable)

MAX_ATTEMPTS = 5
BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
CONFLICT_NAMES = ("ConcurrentAppendException", "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException",
                  "ConcurrentTransactionException", "ConcurrentWriteException", "MetadataChangedException",
                  "ProtocolChangedException", "DeltaConcurrentModificationException")


def is_conflict(e: BaseException) -> bool:
    """A Delta commit conflict, whether delta-spark converted it to its Python class or py4j left it as Java text."""
    names = {c.__name__ for c in type(e).__mro__}
    if names & set(CONFLICT_NAMES):
        return True
    text = str(e)[:2000]
    return any(f"io.delta.exceptions.{n}" in text or f"delta.exceptions.{n}" in text for n in CONFLICT_NAMES)


def retry_conflicts(fn: F) -> F:
    """Retry fn on a commit conflict with exponential backoff and jitter, at most MAX_ATTEMPTS times; log each retry."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return fn(*args, **kwargs)
            except Exception as e:
                if not is_conflict(e) or attempt == MAX_ATTEMPTS:
                    raise
                delay = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                log.warning("commit conflict in %s (attempt %d/%d, retry in %.1fs): %s", fn.__name__, attempt,
                            MAX_ATTEMPTS, delay, str(e).splitlines()[0][:300])
                time.sleep(delay)
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]
