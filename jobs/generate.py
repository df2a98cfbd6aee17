"""spark-submit door to `csqm generate`."""
import sys

from csqm.cli import main

raise SystemExit(main(["generate", *sys.argv[1:]]))
