"""Errors a user can act on.

Every error raised at an API boundary names the field that is wrong and how to fix it,
so that the CLI can print one line and exit non-zero without a traceback.
"""

from __future__ import annotations


class MMThinkError(Exception):
    """Base class for every error mmthink raises on purpose."""


class InputError(MMThinkError, ValueError):
    """A request, option or file given by the user is invalid."""

    def __init__(self, field: str, problem: str, fix: str = "") -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        msg = f"{field}: {problem}"
        if fix:
            msg += f" ({fix})"
        super().__init__(msg)


class BackendError(MMThinkError, RuntimeError):
    """A model or tool failed; the run records it and recovers or stops cleanly."""


class ModelUnavailable(BackendError):
    """Weights that are not on this machine: retrying cannot help, and no draft can succeed without them,
    so the run stops at once with this message (which says how to provide the weights)."""

    retryable = False
    fatal = True


class BundleError(MMThinkError):
    """A trace bundle is malformed, tampered with, or unsafe to open."""
