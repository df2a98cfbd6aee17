"""csqm.pipeline.dag: steps start once what they need is done, a few at a time, failures stop the rest."""
from __future__ import annotations

import threading
import time

import pytest
from csqm.pipeline.dag import in_dependency_order

# the silver build graph's shape: a root, a chain below it, and independent items
NEEDS = {"sub": (), "refund": ("sub",), "cmpl": ("sub", "refund"), "fault": ("sub", "cmpl"), "bal": (),
         "txn": ("bal",), "exch": ()}
ITEMS = list(NEEDS)


class Recorder:
    """work() that logs when each item starts and ends and how many run at once."""

    def __init__(self, seconds: float = 0.3, fail: str | None = None):
        self.events: list[tuple[str, str]] = []
        self.lock, self.now, self.peak, self.seconds, self.fail = threading.Lock(), 0, 0, seconds, fail

    def __call__(self, item: str) -> str:
        with self.lock:
            self.events.append(("start", item))
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.seconds)
        with self.lock:
            self.now -= 1
            self.events.append(("end", item))
        if item == self.fail:
            raise RuntimeError(f"{item} failed")
        return item.upper()


def test_one_at_a_time_runs_in_the_given_order():
    rec = Recorder(0.0)
    out = list(in_dependency_order(ITEMS, NEEDS, rec, 1))
    assert out == [(i, i.upper()) for i in ITEMS]
    assert rec.events == [(e, i) for i in ITEMS for e in ("start", "end")]
    assert rec.peak == 1


def test_several_at_a_time_start_only_after_what_they_need():
    rec = Recorder()
    out = dict(in_dependency_order(ITEMS, NEEDS, rec, 3))
    assert out == {i: i.upper() for i in ITEMS}
    pos = {ev: n for n, ev in enumerate(rec.events)}
    for item, needs in NEEDS.items():
        for n in needs:
            assert pos[("end", n)] < pos[("start", item)], (item, n)
    assert rec.peak == 3   # sub, bal and exch have no needs: they start together
    assert {i for e, i in rec.events[:3]} == {"sub", "bal", "exch"}


def test_a_failure_stops_new_starts_and_is_raised():
    rec = Recorder(fail="refund")
    with pytest.raises(RuntimeError, match="refund failed"):
        list(in_dependency_order(ITEMS, NEEDS, rec, 2))
    started = {i for e, i in rec.events if e == "start"}
    assert "cmpl" not in started and "fault" not in started   # they need refund
    assert all(("end", i) in rec.events for i in started)      # what was running finished


def test_needs_outside_the_list_are_ignored_and_a_cycle_is_named():
    assert [i for i, _ in in_dependency_order(["b"], {"b": ("a",)}, str, 2)] == ["b"]
    with pytest.raises(ValueError, match="wait on each other: x, y"):
        list(in_dependency_order(["x", "y"], {"x": ("y",), "y": ("x",)}, str, 2))
