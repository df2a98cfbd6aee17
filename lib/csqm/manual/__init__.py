"""Manual-entry and reference tables (operations.md §1): table specs, row validation, upload and seeding."""
