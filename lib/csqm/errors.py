"""Errors the CLI reports on one line."""


class JobFailed(RuntimeError):
    """A job step failed; the message says which step and why."""
