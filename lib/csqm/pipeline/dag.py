"""Run steps that depend on one another a few at a time, each as soon as everything it needs is done (silver builds)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def in_dependency_order(items: Sequence[str], needs: Mapping[str, Sequence[str]], work: Callable[[str], T],
                        parallelism: int, name: str = "step") -> Iterator[tuple[str, T]]:
    """Yield (item, work(item)) as items finish; an item starts once the items it needs that are listed have finished.

    Ready items start in list order, so with parallelism 1 the items run one by one exactly in the given order. A
    failure stops new starts, lets the running items finish (their writes are whole commits) and is raised."""
    listed = set(items)
    deps = {i: set(needs.get(i, ())) & listed for i in items}
    pending, done = list(items), set()
    running: dict[Future, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix=name) as pool:
        while pending or running:
            for item in [i for i in pending if deps[i] <= done][:max(1, parallelism) - len(running)]:
                pending.remove(item)
                running[pool.submit(work, item)] = item
            if not running:
                raise ValueError(f"{name}s wait on each other: {', '.join(pending)}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in sorted(finished, key=lambda f: items.index(running[f])):
                item = running.pop(f)
                result = f.result()
                done.add(item)
                yield item, result
