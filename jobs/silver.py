"""spark-submit door to `csqm silver`."""
import sys

from csqm.cli import main

raise SystemExit(main(["silver", *sys.argv[1:]]))
