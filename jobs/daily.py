"""spark-submit door to `csqm daily`."""
import sys

from csqm.cli import main

raise SystemExit(main(["daily", *sys.argv[1:]]))
