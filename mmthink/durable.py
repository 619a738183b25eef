"""Durable runs: checkpoints beside the bundle, guarded tool calls, faults with causes, review decisions.

A run can take minutes on a GPU and hours in a batch, so nothing here may lose one:

* **Checkpoints** live in ``<run_dir>/.checkpoint.sqlite`` (thread id = run id). The dot name
  keeps the file out of ``.mmtrace`` zips and out of bundle verification, and it travels with
  the run folder, so ``mmthink resume RUN_DIR`` needs nothing else. It is deleted when the run
  ends (succeeded, failed, stopped): there is nothing left to resume.
* **Steps vs checkpoints**: a node appends its steps before LangGraph writes the checkpoint of
  that superstep, so a crash in between would make the resumed node append them again. Each
  checkpoint records how many steps the trace held (state key ``steps``); resuming cuts
  ``steps.jsonl`` back to that count before the node runs again (:func:`truncate_steps`). A node
  whose writes LangGraph saved before the crash is not run again, and its count is kept.
* **Guarded calls**: every render, critique and compose call runs in a worker thread with a
  timeout and a retry policy (:func:`guarded_call`); the result is validated
  (:func:`check_artifact`) so an empty file, a zero-size image or NaN / silent audio is a fault,
  not a draft. A shared model is used by one call at a time unless it says ``thread_safe = True``;
  a call that hangs past its timeout is abandoned (Python cannot kill a thread) and gives up its
  claim on the model, so a retry or another run can go ahead.
"""

from __future__ import annotations

import contextvars
import errno
import io
import os
import queue
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from .errors import BackendError, InputError

CHECKPOINT_FILE = ".checkpoint.sqlite"
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
    kind = "disk_full"


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DETERMINISTIC = (ValueError, TypeError, KeyError, IndexError, AttributeError, NotImplementedError)
"""Errors that the same input reproduces: retrying is pointless, the reasoner must change the draft."""


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, DiskFull) or (isinstance(exc, OSError) and exc.errno in _NO_SPACE)


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
        return f"disk full ({exc})"
    return f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------- policies
@dataclass
class CallPolicy:
    """How long one call may take and how often it is tried."""

    timeout_s: float | None = 300.0
    attempts: int = 2  # total, including the first
    backoff_s: float = 0.5
    backoff_factor: float = 2.0

    def validate(self, name: str) -> "CallPolicy":
        if self.timeout_s is not None and (not isinstance(self.timeout_s, (int, float)) or self.timeout_s <= 0):
            raise InputError(f"policy.{name}.timeout_s", f"must be a positive number or None, got {self.timeout_s!r}")
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or not 1 <= self.attempts <= 10:
            raise InputError(f"policy.{name}.attempts", f"must be an integer in 1..10, got {self.attempts!r}")
        if not isinstance(self.backoff_s, (int, float)) or self.backoff_s < 0:
            raise InputError(f"policy.{name}.backoff_s", f"must be >= 0, got {self.backoff_s!r}")
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

    def validate(self) -> "FaultPolicy":
        for name in ("render", "critique", "compose", "reason"):
            getattr(self, name).validate(name)
        return self

    @classmethod
    def quick(cls, timeout_s: float = 5.0, attempts: int = 2, backoff_s: float = 0.05) -> "FaultPolicy":
        """Short timeouts for tests and fault drills."""
        p = CallPolicy(timeout_s, attempts, backoff_s)
        return cls(render=p, critique=p, compose=p, reason=p)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------- shared models
_locks: "weakref.WeakKeyDictionary[Any, threading.Lock]" = weakref.WeakKeyDictionary()
_locks_by_id: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def shared_model(obj: Any) -> Any:
    """The model object a handler or composer ends up calling (``.backend``, ``.tool``, ``.handler``)."""
    for _ in range(4):
        nxt = next((getattr(obj, a) for a in ("backend", "tool", "handler") if getattr(obj, a, None) is not None),
                   None)
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
    next call can try again (a retry, or another run sharing the model).
    """
    lock = model_lock(model)
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


def guarded_call(fn: Callable[[], T], policy: CallPolicy, what: str, *, model: Any = None,
                 check: Callable[[T], None] | None = None,
                 on_retry: Callable[[int, BaseException, float], None] | None = None) -> T:
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
    if isinstance(exc, Fault):
        exc.attempts = max(exc.attempts, attempts)
        exc.args = (f"{what} failed" + (f" after {exc.attempts} attempts" if exc.attempts > 1 else "")
                    + f": {exc.cause}",)
        return exc
    if is_disk_full(exc):
        return DiskFull(what, describe_error(exc), attempts=attempts)
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
            raise DiskFull(what, f"disk full while writing ({e.strerror or e})") from e
        raise Fault(what, f"{type(e).__name__}: {e}") from e
    except InputError as e:  # the tool handed back something that cannot be stored (bad extension, not bytes)
        raise Fault(what, f"the output cannot be stored: {e}") from e


_END = object()


def stall_guard(open_stream: Callable[[], Iterator[T]], stall_s: float | None, what: str,
                model: Any = None) -> Iterator[T]:
    """Open and iterate a stream in a worker thread; raise :class:`CallTimeout` if no piece comes for ``stall_s``.

    Closing this iterator (the consumer found its tag) stops the worker at its next piece.
    """
    lock = model_lock(model)
    if stall_s is None and lock is None:
        yield from open_stream()
        return
    q: "queue.Queue[Any]" = queue.Queue()
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
SILENCE_PEAK = 1e-4
"""Peak amplitude (full scale 1.0) below which a clip counts as silent: about -80 dBFS."""


def check_artifact(art: Any, limits: Any = None, what: str = "draft") -> None:
    """Reject output that no critic should ever see: no bytes, no pixels, NaN or silent audio."""
    data = getattr(art, "data", None)
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise InvalidOutput(what, "the backend returned no data (empty file)")
    kind = getattr(art, "kind", None)
    if kind == "image":
        _check_image(art, what)
    elif kind == "audio":
        _check_audio(art, limits, what)
    elif kind == "video":
        if bytes(data[4:8]) != b"ftyp":
            raise InvalidOutput(what, "the video is not an MP4 file (no 'ftyp' box)")
        secs = (getattr(art, "meta", None) or {}).get("seconds")
        cap = getattr(limits, "max_video_seconds", None)
        if isinstance(secs, (int, float)) and cap and secs > cap:
            raise InvalidOutput(what, f"the video is {secs:.1f} s long, over the {cap:g} s limit")


def _check_image(art: Any, what: str) -> None:
    payload = getattr(art, "payload", None)
    size = getattr(payload, "size", None)
    if isinstance(size, tuple) and len(size) == 2 and (size[0] <= 0 or size[1] <= 0):
        raise InvalidOutput(what, f"the image has zero size ({size[0]}x{size[1]})")
    if _is_array(payload):
        import numpy as np

        arr = np.asarray(payload)
        if arr.size == 0:
            raise InvalidOutput(what, "the image has zero size")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise InvalidOutput(what, "the image holds NaN or infinite pixels")
    data = bytes(art.data)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if w == 0 or h == 0:
            raise InvalidOutput(what, f"the image has zero size ({w}x{h})")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            img.verify()
    except UnidentifiedImageError:
        raise InvalidOutput(what, "the image file cannot be decoded (not an image format Pillow reads)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise InvalidOutput(what, f"the image file cannot be decoded ({e})") from None
    if w <= 0 or h <= 0:
        raise InvalidOutput(what, f"the image has zero size ({w}x{h})")


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _check_audio(art: Any, limits: Any, what: str) -> None:
    import numpy as np

    payload = getattr(art, "payload", None)
    samples, rate = None, None
    if isinstance(payload, tuple) and len(payload) == 2 and _is_array(payload[0]):
        samples, rate = np.asarray(payload[0], dtype=np.float64), payload[1]
    elif _is_array(payload):
        samples = np.asarray(payload, dtype=np.float64)
    decoded, drate = _decode_audio(bytes(art.data), what)
    rate = rate or drate
    for name, arr in (("samples", samples), ("file", decoded)):
        if arr is None:
            continue
        if arr.size == 0:
            raise InvalidOutput(what, f"the audio {name} hold no samples")
        if not np.isfinite(arr).all():
            raise InvalidOutput(what, f"the audio {name} hold NaN or infinite values")
        peak = float(np.max(np.abs(arr)))
        if peak < SILENCE_PEAK:
            raise InvalidOutput(what, f"the audio is silent (peak {peak:.1e}, below -80 dBFS)")
    cap = getattr(limits, "max_audio_seconds", None)
    if cap and rate and decoded is not None:
        secs = decoded.shape[0] / float(rate)
        if secs > cap:
            raise InvalidOutput(what, f"the audio is {secs:.1f} s long, over the {cap:g} s limit")


def _decode_audio(data: bytes, what: str) -> tuple[Any, int | None]:
    """Samples scaled to [-1, 1] (float files keep NaNs as they are); None when no decoder knows it."""
    import numpy as np

    try:
        import soundfile as sf

        arr, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=False)
        return np.asarray(arr), int(rate)
    except ImportError:
        pass
    except Exception as e:  # soundfile.LibsndfileError and friends
        raise InvalidOutput(what, f"the audio file cannot be decoded ({e})") from None
    import wave

    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            width, rate, frames = w.getsampwidth(), w.getframerate(), w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise InvalidOutput(what, f"the audio file cannot be decoded ({e})") from None
    if width != 2:
        return None, rate
    return np.frombuffer(frames, "<i2").astype(np.float64) / 32768.0, rate


# ----------------------------------------------------------------------- checkpoints
def checkpoint_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / CHECKPOINT_FILE


def has_checkpoint(run_dir: str | Path) -> bool:
    return checkpoint_path(run_dir).is_file()


@contextmanager
def sqlite_checkpointer(run_dir: str | Path) -> Iterator[Any]:
    """A SqliteSaver on ``<run_dir>/.checkpoint.sqlite`` (created with the folder), closed afterwards."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = checkpoint_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # a new run starts from an empty, set-up database (a resume keeps its own)
        for suffix in ("-wal", "-shm", "-journal"):  # orphans of a lost database must not be replayed into this one
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        with open(path, "xb") as f:
            f.write(_empty_checkpoint_db())
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
    # WAL without a sync per commit: a killed process loses nothing (the log is in the OS cache);
    # only a power cut could drop the last superstep, which a resume simply runs again.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


_EMPTY_DB: bytes | None = None


def _empty_checkpoint_db() -> bytes:
    """The bytes of a checkpoint database with its tables made and WAL on, built once per process:
    copying them is cheaper than creating the schema in every run's file."""
    global _EMPTY_DB
    if _EMPTY_DB is None:
        import tempfile

        from langgraph.checkpoint.sqlite import SqliteSaver

        with tempfile.TemporaryDirectory(prefix="mmthink-ckpt-") as tmp:
            p = Path(tmp) / CHECKPOINT_FILE
            conn = sqlite3.connect(str(p))
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                SqliteSaver(conn).setup()
            finally:
                conn.close()
            _EMPTY_DB = p.read_bytes()
    return _EMPTY_DB


def remove_checkpoint(run_dir: str | Path) -> None:
    """Delete the checkpoint files, and the run folder too if nothing else was written into it."""
    root = Path(run_dir)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (root / f"{CHECKPOINT_FILE}{suffix}").unlink(missing_ok=True)
    try:
        root.rmdir()
    except OSError:
        pass


def truncate_steps(run_dir: str | Path, keep: int) -> int:
    """Keep the first ``keep`` lines of ``steps.jsonl``; returns how many whole lines were dropped.

    Called before a resume: steps past the last checkpoint belong to a node that will run again.
    """
    from .trace.writer import STEPS

    path = Path(run_dir) / STEPS
    if not path.is_file():
        return 0
    data = path.read_bytes()
    lines = data.split(b"\n")
    lines.pop()  # after the last newline: a torn write or nothing
    kept, count, dropped = bytearray(), 0, 0
    for raw in lines:
        if not raw.strip():
            continue
        if count < keep:
            kept += raw + b"\n"
            count += 1
        else:
            dropped += 1
    if bytes(kept) != data:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.truncate")
        with open(tmp, "wb") as f:
            f.write(bytes(kept))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return dropped


# ----------------------------------------------------------------------- review decisions
REVIEW_ACTIONS = ("approve", "revise", "abort")


@dataclass
class ReviewDecision:
    """What a person said about the planned final: go ahead, change this, or stop."""

    action: str
    note: str = ""

    @classmethod
    def approve(cls) -> "ReviewDecision":
        return cls("approve")

    @classmethod
    def revise(cls, note: str) -> "ReviewDecision":
        return cls("revise", note)

    @classmethod
    def abort(cls, reason: str = "") -> "ReviewDecision":
        return cls("abort", reason)

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "note": self.note}


def parse_decision(value: Any) -> ReviewDecision:
    """Accept a ReviewDecision, ``{"action": ..., "note": ...}``, or text: approve | abort [why] | revise NOTE."""
    if isinstance(value, ReviewDecision):
        d = value
    elif isinstance(value, dict):
        d = ReviewDecision(str(value.get("action", "")).strip().lower(),
                           str(value.get("note") or value.get("reason") or ""))
    elif isinstance(value, str):
        head, _, rest = value.strip().partition(" ")
        head = head.rstrip(":").lower()
        aliases = {"a": "approve", "ok": "approve", "yes": "approve", "y": "approve", "r": "revise",
                   "x": "abort", "stop": "abort", "q": "abort", "no": "abort"}
        d = ReviewDecision(aliases.get(head, head), rest.strip())
    else:
        raise InputError("decision", f"cannot read a review decision from {type(value).__name__}",
                         "use 'approve', 'revise: NOTE' or 'abort'")
    if d.action not in REVIEW_ACTIONS:
        raise InputError("decision", f"unknown action {d.action!r}", "use approve, revise (with a note) or abort")
    if d.action == "revise" and not d.note.strip():
        raise InputError("decision", "revise needs a note saying what to change", "e.g. 'revise: make the sky red'")
    return d

