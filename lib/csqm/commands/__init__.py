"""Command groups beyond the core chain: each module here adds its sub-commands to `csqm` and maps them to jobs.

A module defines `add_parsers(sub, h)` (h = csqm.cli: its `_common`, `_dates`, `_date`, `_month` helpers) and
`JOBS: dict[str, Callable[[Config, argparse.Namespace], int]]`. Modules must not import pyspark at import time.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    """Every command-group module of this package, in name order."""
    return [importlib.import_module(f"{__name__}.{m.name}") for m in sorted(pkgutil.iter_modules(__path__),
                                                                           key=lambda m: m.name)]


def jobs() -> dict:
    """Sub-command name -> job function over all groups."""
    out: dict = {}
    for m in modules():
        clash = set(out) & set(m.JOBS)
        if clash:
            raise RuntimeError(f"{m.__name__} redefines command(s) {sorted(clash)}")
        out.update(m.JOBS)
    return out
