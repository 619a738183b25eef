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
    """A model or tool failed; the run records it and recovers or stops cleanly.

    ``retryable=False`` marks an error that another attempt cannot fix (a wrong key, a prompt
    over the context window); ``retryable=True`` one that another attempt may well fix (a
    stream cut short). Unmarked errors are left to the caller's judgement
    (:func:`mmthink.core.faults.retryable` reads the attribute).
    """

    def __init__(self, *args: object, retryable: bool | None = None) -> None:
        super().__init__(*args)
        if retryable is not None:
            self.retryable = retryable


class ModelUnavailable(BackendError):
    """Weights that are not on this machine: retrying cannot help, and no draft can succeed without them,
    so the run stops at once with this message (which says how to provide the weights)."""

    retryable = False
    fatal = True


class ContextOverflow(BackendError):
    """The prompt does not fit the server's context window: the same prompt fails again, so it is final."""

    retryable = False

    def __init__(self, message: str, *, context_size: int | None = None, prompt_tokens: int | None = None) -> None:
        super().__init__(message)
        self.context_size = context_size
        self.prompt_tokens = prompt_tokens


class DeadlineReached(BackendError):
    """A reasoner call was cut at the run's deadline (``max_seconds``); what streamed before it stands."""

    retryable = False

    def __init__(self, message: str, *, deadline: float | None = None) -> None:
        super().__init__(message)
        self.deadline = deadline


class BundleError(MMThinkError):
    """A trace bundle is malformed, tampered with, or unsafe to open."""


class RunBusy(MMThinkError):
    """Another process is writing this run folder (a run, a resume or a review decision): one writer per run.

    The CLI exits 7 for it; nothing was written by the refused call."""
