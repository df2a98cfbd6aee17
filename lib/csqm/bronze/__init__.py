"""Bronze ingest: landing files to typed, validated Delta rows."""
