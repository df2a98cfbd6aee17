"""Month arithmetic on yyyymm strings, the one form month ids take in the contract (partitions, batch folders)."""
from __future__ import annotations


def shift(month_id: str, k: int) -> str:
    """The month k months after (k < 0: before) a yyyymm string."""
    i = int(month_id[:4]) * 12 + int(month_id[4:6]) - 1 + k
    return f"{i // 12:04d}{i % 12 + 1:02d}"


def between(first: str, last: str) -> list[str]:
    """Every month from first to last, both included (empty when first > last)."""
    out, m = [], first
    while m <= last:
        out.append(m)
        m = shift(m, 1)
    return out
