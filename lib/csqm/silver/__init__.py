"""Silver layer (明细宽表层): one builder per slv_* table, all composed from the shared mechanics in silver.common."""
