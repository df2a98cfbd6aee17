"""spark-submit door to `csqm ingest`."""
import sys

from csqm.cli import main

raise SystemExit(main(["ingest", *sys.argv[1:]]))
