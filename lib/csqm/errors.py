"""Errors the CLI reports on one line."""


class JobFailed(RuntimeError):
    """A job step failed; the message says which step and why."""


class UsageError(ValueError):
    """A bad argument found after parsing (e.g. an unknown table); reported on one line, exit code 2."""
