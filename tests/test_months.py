"""Month arithmetic on yyyymm strings."""
from __future__ import annotations

from csqm.months import between, shift


def test_shift_crosses_years_both_ways():
    assert [shift("201212", 1), shift("201301", -1), shift("201306", 0)] == ["201301", "201212", "201306"]
    assert [shift("201301", -13), shift("201311", 14)] == ["201112", "201501"]


def test_between_includes_both_ends():
    assert between("201211", "201302") == ["201211", "201212", "201301", "201302"]
    assert between("201302", "201302") == ["201302"] and between("201303", "201302") == []
