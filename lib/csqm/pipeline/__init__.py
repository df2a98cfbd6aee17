"""Wires storage to transforms: one function per job, the only place they meet."""
from __future__ import annotations

from csqm.pipeline.jobs import JOBS

__all__ = ["JOBS"]
