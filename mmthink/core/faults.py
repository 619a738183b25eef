"""Faults: call policies, guarded calls (the one owner of retries), model locks, output checks.

A run can take minutes on a GPU and hours in a batch, so a failing tool must never lose one:

* **Guarded calls**: every reasoner turn, render, critique and compose call runs under a timeout
  and a retry policy (:func:`guarded_call`, :func:`stall_guard` for streams); nothing else retries.
  The result is validated (:func:`check_output` plus the check each modality registers for its kind
  of file), so an empty or undecodable file, or NaN / silent output, is a fault, not a draft.
* **Model locks**: a shared model is used by one call at a time unless it says ``thread_safe = True``;
  a call that hangs past its timeout is abandoned (Python cannot kill a thread) and gives up its
  claim on the model, so a retry or another run can go ahead.
* **Disk full** is never retried: it fails the run with the reason, keeping what was written.

Checkpoints live in :mod:`mmthink.core.checkpoints`, review decisions in :mod:`mmthink.core.review`.
"""

from __future__ import annotations

import contextvars
import errno
import math
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from mmthink.errors import BackendError, InputError

T = TypeVar("T")


# ----------------------------------------------------------------------- faults
class Fault(BackendError):
    """A tool or critic call that failed for good; ``kind`` says how, ``fatal`` whether the run must stop."""

    kind = "exception"

    def __init__(self, what: str, cause: str, *, attempts: int = 1, fatal: bool = True) -> None:
        self.what = what
        self.cause = cause
        self.attempts = attempts
        self.fatal = fatal
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{what} failed{tries}: {cause}")


class CallTimeout(Fault):
    kind = "timeout"


class InvalidOutput(Fault):
    kind = "invalid"


class DiskFull(Fault):
    """No space left (or over quota): another attempt cannot help, so it is never retried and always ends
    the run. Its message is the run's one reason, wherever it shows: ``disk full while <doing what> (<detail>)``."""

    kind = "disk_full"

    def __init__(self, what: str, cause: str = "", *, attempts: int = 1, fatal: bool = True) -> None:
        super().__init__(what, cause, attempts=attempts, fatal=True)
        self.args = (f"disk full while {_doing(what)}" + (f" ({cause})" if cause else ""),)


def _doing(what: str) -> str:
    """A guarded call's name as the activity it names ("render of <tag id=d1>" -> "rendering <tag id=d1>")."""
    doings = (("render of ", "rendering "), ("critique of ", "critiquing "), ("compose", "composing the final"))
    for noun, verb in doings:
        if what.startswith(noun):
            return verb + what[len(noun) :]
    return what


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NO_SPACE_WORDS = ("no space left on device", "disk quota exceeded", "database or disk is full")
"""How a full disk reads in a message that lost its errno: an encoder's log (ffmpeg), SQLite."""
_DETERMINISTIC = (ValueError, TypeError, KeyError, IndexError, AttributeError, NotImplementedError)
"""Errors that the same input reproduces: retrying is pointless, the reasoner must change the draft."""


def is_disk_full(exc: BaseException) -> bool:
    """A full disk anywhere in the error's chain: ENOSPC/EDQUOT, SQLite's "database or disk is full",
    or an encoder that died of it (moviepy reports ffmpeg's log under a broken pipe)."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 8:
        if isinstance(e, DiskFull) or (isinstance(e, OSError) and e.errno in _NO_SPACE):
            return True
        if type(e).__module__ == "sqlite3" and getattr(e, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
            return True
        if any(w in str(e).lower() for w in _NO_SPACE_WORDS):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def no_space_detail(exc: BaseException) -> str:
    """A short, single-line detail for a disk-full error (never an encoder's whole log)."""
    e: BaseException | None = exc
    for _ in range(8):
        if e is None:
            break
        if isinstance(e, DiskFull):
            return e.cause
        if isinstance(e, OSError) and e.errno in _NO_SPACE:
            return os.strerror(e.errno or errno.ENOSPC)
        e = e.__cause__ or e.__context__
    text = str(exc).lower()
    for w in _NO_SPACE_WORDS:
        if w in text:
            return w[0].upper() + w[1:]
    return "No space left on device"


def disk_full_reason(exc: BaseException, what: str | None = None) -> str:
    """The one reason a run that died of a full disk gives (CLI, manifest, RunResult)."""
    if isinstance(exc, DiskFull):
        return str(exc)
    if what is None:
        what = "writing the run folder"
        e: BaseException | None = exc
        for _ in range(8):
            if e is None:
                break
            if type(e).__module__ == "sqlite3":
                what = "saving the checkpoint"
                break
            if isinstance(e, OSError) and e.filename:
                what = f"writing {os.path.basename(str(e.filename))}"
                break
            e = e.__cause__ or e.__context__
    return str(DiskFull(what, no_space_detail(exc)))


def retryable(exc: BaseException) -> bool:
    """Worth another attempt: hangs, flaky output, runtime/backend/IO errors; never bad input or a full disk."""
    if is_disk_full(exc) or isinstance(exc, InputError):
        return False
    if getattr(exc, "retryable", True) is False:  # e.g. a 401 from a server, or missing weights
        return False
    if isinstance(exc, (CallTimeout, InvalidOutput)):
        return True
    if isinstance(exc, OSError):
        return True
    return not isinstance(exc, _DETERMINISTIC)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, Fault):
        return exc.cause
    if is_disk_full(exc):
        return no_space_detail(exc)
    return f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------- policies
@dataclass
class CallPolicy:
    """How long one call may take and how often it is tried."""

    timeout_s: float | None = 300.0
    attempts: int = 2  # total, including the first
    backoff_s: float = 0.5
    backoff_factor: float = 2.0

    def validate(self, name: str) -> CallPolicy:
        t = self.timeout_s
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0):
            raise InputError(f"policy.{name}.timeout_s", f"must be a positive number or None, got {self.timeout_s!r}")
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or not 1 <= self.attempts <= 10:
            raise InputError(f"policy.{name}.attempts", f"must be an integer in 1..10, got {self.attempts!r}")
        for key in ("backoff_s", "backoff_factor"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InputError(f"policy.{name}.{key}", f"must be a finite number >= 0, got {v!r}")
        return self

    def delay(self, attempt: int) -> float:
        return float(self.backoff_s) * float(self.backoff_factor) ** max(0, attempt - 1)


@dataclass
class FaultPolicy:
    """One :class:`CallPolicy` per kind of call; ``reason`` times the wait between two streamed pieces."""

    render: CallPolicy = field(default_factory=lambda: CallPolicy(timeout_s=300.0, attempts=2))
    critique: CallPolicy = field(default_factory=lambda: CallPolicy(timeout_s=120.0, attempts=2))
    compose: CallPolicy = field(default_factory=lambda: CallPolicy(timeout_s=900.0, attempts=2))
    reason: CallPolicy = field(default_factory=lambda: CallPolicy(timeout_s=600.0, attempts=2))
    validate_output: bool = True

    def validate(self) -> FaultPolicy:
        for name in ("render", "critique", "compose", "reason"):
            if not isinstance(getattr(self, name), CallPolicy):
                raise InputError(
                    f"policy.{name}",
                    f"must be a CallPolicy, got {type(getattr(self, name)).__name__}",
                    "e.g. CallPolicy(timeout_s=60, attempts=2)",
                )
            getattr(self, name).validate(name)
        return self

    @classmethod
    def quick(cls, timeout_s: float = 5.0, attempts: int = 2, backoff_s: float = 0.05) -> FaultPolicy:
        """Short timeouts for tests and fault drills."""
        p = CallPolicy(timeout_s, attempts, backoff_s)
        return cls(render=p, critique=p, compose=p, reason=p)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------- shared models
_locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_locks_by_id: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def shared_model(obj: Any) -> Any:
    """The model object a handler or composer ends up calling (``.backend``, ``.tool``, ``.handler``)."""
    for _ in range(4):
        nxt = next((getattr(obj, a) for a in ("backend", "tool", "handler") if getattr(obj, a, None) is not None), None)
        if nxt is None:
            break
        obj = nxt
    return obj


def model_lock(obj: Any) -> threading.Lock | None:
    """One lock per shared model, so threads sharing it take turns; None for ``thread_safe`` models."""
    model = shared_model(obj)
    if obj is None or getattr(model, "thread_safe", False):
        return None
    with _locks_guard:
        try:
            lock = _locks.get(model)
            if lock is None:
                lock = _locks[model] = threading.Lock()
        except TypeError:  # not weak-referenceable: key by id for the process lifetime
            lock = _locks_by_id.setdefault(id(model), threading.Lock())
        return lock


def abandon_lock(obj: Any) -> None:
    """A call that timed out gives up its claim: later calls get a fresh lock instead of waiting forever."""
    model = shared_model(obj)
    with _locks_guard:
        try:
            if model in _locks:
                _locks[model] = threading.Lock()
        except TypeError:
            if id(model) in _locks_by_id:
                _locks_by_id[id(model)] = threading.Lock()


# ----------------------------------------------------------------------- guarded calls
def call_with_timeout(fn: Callable[[], T], timeout_s: float | None, what: str, model: Any = None) -> T:
    """Run ``fn`` in a daemon worker thread, holding ``model``'s lock, and stop waiting after ``timeout_s``.

    Python cannot kill a thread: a hung call is abandoned, and its model's lock with it, so the
    next call can try again (a retry, or another run sharing the model). A model that declares
    ``cannot_stall`` (plain Python in this process that waits on nothing: the embedded renderer) is called
    in the caller's thread: the hand-over to a watchdog thread and back costs more than the call on a small
    picture, and two processes doing it side by side left a tenth of both cores idle.
    """
    lock = model_lock(model)
    if timeout_s is None or getattr(shared_model(model), "cannot_stall", False):  # nothing to watch: call it here
        if lock is None:
            return fn()
        with lock:
            return fn()
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            if lock is not None:
                with lock:
                    box["value"] = fn()
            else:
                box["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e
        finally:
            done.set()

    ctx = contextvars.copy_context()
    t = threading.Thread(target=ctx.run, args=(work,), name=f"mmthink:{what}"[:60], daemon=True)
    t.start()
    if not done.wait(timeout_s):
        if lock is not None:
            abandon_lock(model)
        raise CallTimeout(what, f"no result within {timeout_s:g} s (the call hangs)")
    if "error" in box:
        raise box["error"]
    return box["value"]


def guarded_call(
    fn: Callable[[], T],
    policy: CallPolicy,
    what: str,
    *,
    model: Any = None,
    check: Callable[[T], None] | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call with a timeout, validate, retry what is worth retrying; raise :class:`Fault` when done trying.

    ``on_retry(attempt, error, delay)`` is told about every failed attempt that will be retried,
    so the trace can record it. Deterministic errors (ValueError, TypeError ...) come back as a
    non-fatal Fault: the input is at fault, and the reasoner can change it.
    """
    last: BaseException | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            value = call_with_timeout(fn, policy.timeout_s, what, model)
            if check is not None:
                check(value)
            return value
        except Exception as e:
            last = e
            if attempt < policy.attempts and retryable(e):
                delay = policy.delay(attempt)
                if on_retry is not None:
                    on_retry(attempt, e, delay)
                time.sleep(delay)
                continue
            break
    assert last is not None
    raise as_fault(last, what, attempt)


def as_fault(exc: BaseException, what: str, attempts: int = 1) -> Fault:
    if isinstance(exc, DiskFull):
        return exc
    if isinstance(exc, Fault):
        exc.attempts = max(exc.attempts, attempts)
        exc.args = (
            f"{what} failed" + (f" after {exc.attempts} attempts" if exc.attempts > 1 else "") + f": {exc.cause}",
        )
        return exc
    if is_disk_full(exc):
        full = DiskFull(what, no_space_detail(exc), attempts=attempts)
        full.__cause__ = exc
        return full
    # a deterministic error is the draft's problem, not the backend's; missing weights end the run
    fatal = bool(getattr(exc, "fatal", retryable(exc)))
    f = Fault(what, describe_error(exc), attempts=attempts, fatal=fatal)
    f.__cause__ = exc
    return f


def guarded_write(fn: Callable[[], T], what: str) -> T:
    """Disk writes: a full disk becomes a :class:`DiskFull` fault (never retried)."""
    try:
        return fn()
    except OSError as e:
        if is_disk_full(e):
            raise DiskFull(what, no_space_detail(e)) from e
        raise Fault(what, f"{type(e).__name__}: {e}") from e
    except InputError as e:  # the tool handed back something that cannot be stored (bad extension, not bytes)
        raise Fault(what, f"the output cannot be stored: {e}") from e


_END = object()


def stall_guard(
    open_stream: Callable[[], Iterator[T]], stall_s: float | None, what: str, model: Any = None
) -> Generator[T, None, None]:
    """Open and iterate a stream in a worker thread; raise :class:`CallTimeout` if no piece comes for ``stall_s``.

    Closing this iterator (the consumer found its tag) stops the worker at its next piece.
    """
    lock = model_lock(model)
    if stall_s is None:  # nothing to watch for: iterate here (under the model's lock, if it has one)
        if lock is None:
            yield from open_stream()
            return
        with lock:
            yield from open_stream()
        return
    q: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            if lock is not None:
                lock.acquire()
            stream: Any = None
            try:
                stream = open_stream()
                for item in stream:
                    q.put(("item", item))
                    if stop.is_set():
                        break
            finally:
                close = getattr(stream, "close", None)
                if callable(close):
                    close()
                if lock is not None:
                    lock.release()
            q.put(("end", _END))
        except BaseException as e:
            q.put(("error", e))

    ctx = contextvars.copy_context()
    threading.Thread(target=ctx.run, args=(work,), name=f"mmthink:{what}"[:60], daemon=True).start()
    try:
        while True:
            try:
                kind, item = q.get(timeout=stall_s)
            except queue.Empty:
                if lock is not None:
                    abandon_lock(model)
                raise CallTimeout(what, f"nothing streamed for {stall_s:g} s (the reasoner hangs)") from None
            if kind == "item":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()


# ----------------------------------------------------------------------- output validation
def check_output(art: Any, what: str, check: Callable[[Any], None] | None = None) -> None:
    """Reject output that no critic should ever see: no bytes at all, then the handler's own checks
    (zero-size or undecodable pictures, NaN or silent audio, files that are not what they claim)."""
    data = getattr(art, "data", None)
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise InvalidOutput(what, "the backend returned no data (empty file)")
    if check is not None:
        check(art)
