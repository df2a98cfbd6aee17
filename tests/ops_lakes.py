"""Which lake of the shared pipeline fixture the operations tests (report, notebooks, cluster) read gold from."""
from __future__ import annotations

from csqm import io


def gold_lake(spark, lakes):
    """Lake B (the full rebuild) when it holds gold; else lake A (day by day, equal to B by test_gold_e2e). Read only.
    (B holds no gold while the fixture copies only bronze/reference/manual to it: its gold run then finds no
    LOADED batch in ops_batch_log, so no horizon.)"""
    return lakes["b"] if io.table_exists(spark, lakes["b"], "gld_complaint_d") else lakes["a"]
