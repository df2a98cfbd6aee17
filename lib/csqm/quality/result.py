"""The outcome of one data-quality check, shared by the DQ runner and the gold reconciliation (DQ04)."""
from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("ERROR", "WARN")


@dataclass(frozen=True)
class DqOutcome:
    """One rule checked on one table partition: a row of ops_dq_result (run_id and run_day added by the runner).

    rule_id: DQ01..DQ10, or an RCxx id for reconciliation checks reported under DQ04 (the runner keeps it as given).
    partition: "day_id=yyyymmdd" / "month_id=yyyymm" / "" for an unpartitioned table or a batch ("batch=...").
    observed / expected: human-readable values (e.g. "3 duplicate keys" / "0"); detail: free text (examples)."""

    rule_id: str
    table_name: str
    partition: str
    severity: str
    passed: bool
    observed: str
    expected: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"DqOutcome {self.rule_id}: severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def failed_error(self) -> bool:
        """An ERROR rule that did not pass: it fails the DQ run (operations.md §6)."""
        return self.severity == "ERROR" and not self.passed

    def message(self) -> str:
        """One line naming rule, table, partition, observed and expected."""
        where = f"{self.table_name}[{self.partition}]" if self.partition else self.table_name
        text = f"{self.rule_id} {where}: observed {self.observed}, expected {self.expected}"
        return f"{text} ({self.detail})" if self.detail else text
