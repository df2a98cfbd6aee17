"""Data-quality rules DQ01–DQ10 (operations.md §6): rules as data in conf/quality.yaml, results in ops_dq_result."""
