"""`python -m csqm` runs the CLI."""
from csqm.cli import main

raise SystemExit(main())
