"""spark-submit door to `csqm status`."""
import sys

from csqm.cli import main

raise SystemExit(main(["status", *sys.argv[1:]]))
