"""Keeping data safe (operations.md §3–§5): properties, retention, VACUUM, time-travel windows, backup, restore."""
