"""One small module per silver table (silver.md §1–§15), each a pure builder on the shared mechanics.

Convention of a table module:
    TABLE     the table name (slv_..._d / slv_..._m)
    KEY       the key columns (silver.md §0.6), unique over the whole table
    PARTITION 'day_id' or 'month_id'
    DDL       the output schema in column order (the schema contract); the last column is _batch_id. The pipeline
              appends _run_id and _load_ts when it writes.
    build(...) -> DataFrame   keyword-only DataFrame inputs named after what they are (cur = the current state of the
              table's bronze interface, already reduced per key; subscribers = slv_subscriber_m (a DataFrame, or
              common.ScopedSnapshots in a scoped build, handed to enrich unchanged); thresholds =
              dim_kpi_threshold; other silver tables by name), plus salt: str. Returns exactly DDL's columns.

A builder may be given a subset of its rows, as long as the subset is closed under its windows (every row that shares a
subject with a given row within the window is also given): the incremental runs rely on that.
"""
