"""One module per gold table: TABLE, sources(silver) -> the populations its catalog entry counts, and optionally
finish(rows, sources) for a VALUE column no expression can state. Everything else is in conf/metrics.yaml."""
