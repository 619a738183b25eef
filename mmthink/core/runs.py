"""Runs in flight in this process: their trace writers, in-memory artifacts and listeners, and the
few ways a node writes to the trace (a step, a token, a retry, a fatal fault, the close).

Every step goes to the trace first (durable), then to whoever is streaming: the in-process agent
through its listener, a served graph's client through LangGraph's stream writer.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmthink.core.faults import Fault, describe_error
from mmthink.trace.jsonio import jsonable
from mmthink.trace.schema import Part, Step
from mmthink.trace.writer import TraceWriter


class Runs:
    """Per-process handles for runs in flight: trace writers and in-memory artifacts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writers: dict[str, TraceWriter] = {}
        self._caches: dict[str, dict[str, Any]] = {}
        self._listeners: dict[str, Callable[[Step], None]] = {}

    def writer(self, run_dir: str) -> TraceWriter:
        with self._lock:
            w = self._writers.get(run_dir)
            if w is None:
                w = TraceWriter.resume(run_dir)
                self._writers[run_dir] = w
            return w

    def open(self, run_dir: str, manifest: dict[str, Any]) -> TraceWriter:
        with self._lock:
            w = self._writers.get(run_dir)
            if w is None:
                exists = (Path(run_dir) / "manifest.json").exists()
                w = TraceWriter.resume(run_dir) if exists else TraceWriter(run_dir, manifest)
                self._writers[run_dir] = w
            return w

    def is_open(self, run_dir: str) -> bool:
        """Whether this process has the run's writer open (it is writing the run, not picking it up)."""
        with self._lock:
            return run_dir in self._writers

    def count(self, run_dir: str) -> int:
        """Steps the run's trace holds now (0 before route made the bundle)."""
        with self._lock:
            w = self._writers.get(run_dir)
        if w is not None:
            return len(w.steps)
        path = Path(run_dir) / "steps.jsonl"  # closed (the run ended): count whole lines on disk
        if not path.exists():
            return 0
        return sum(1 for line in path.read_bytes().split(b"\n")[:-1] if line.strip())

    def listen(self, run_dir: str, fn: Callable[[Step], None] | None) -> None:
        """Hand every step of this run to ``fn`` as it is written (None: stop)."""
        key = os.path.realpath(run_dir)
        with self._lock:
            if fn is None:
                self._listeners.pop(key, None)
            else:
                self._listeners[key] = fn

    def listener(self, run_dir: str) -> Callable[[Step], None] | None:
        if not self._listeners:
            return None
        key = os.path.realpath(run_dir)
        with self._lock:
            return self._listeners.get(key)

    def cache(self, run_dir: str) -> dict[str, Any]:
        with self._lock:
            return self._caches.setdefault(run_dir, {})

    def close(self, run_dir: str) -> None:
        with self._lock:
            self._writers.pop(run_dir, None)
            self._caches.pop(run_dir, None)


RUNS = Runs()


def emit(writer: TraceWriter, step: Step) -> Step:
    """Append to the trace first (durable), then tell whoever is streaming."""
    writer.append(step)
    listener = RUNS.listener(str(writer.root))
    if listener is not None:
        listener(step)
        return step
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()({"type": "step", "run_dir": str(writer.root), "step": step.to_dict()})
    except Exception:  # not inside a streaming run
        pass
    return step


def emit_token(text: str, channel: str) -> None:
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()({"type": "token", "text": text, "channel": channel})
    except Exception:
        pass


def retry_reporter(
    writer: TraceWriter, node: str, what: str, ref: str | None = None
) -> Callable[[int, BaseException, float], None]:
    """Write one ``error`` step per failed attempt that will be tried again."""

    def report(attempt: int, exc: BaseException, delay: float) -> None:
        emit(
            writer,
            Step(
                "error",
                node,
                f"{what} failed, retrying",
                [Part("text", f"attempt {attempt}: {describe_error(exc)}; trying again in {delay:.2f} s")],
                ref=ref,
                metrics={
                    "attempt": attempt,
                    "retry_in_s": round(delay, 3),
                    "fault": getattr(exc, "kind", type(exc).__name__),
                },
            ),
        )

    return report


def end_failed(
    state: dict[str, Any],
    writer: TraceWriter,
    node: str,
    fault: Fault,
    ref: str | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """A fault the run cannot get past: record it, close the bundle as ``failed``, keep everything written."""
    reason = str(fault)
    emit(
        writer,
        Step(
            "error",
            node,
            f"{fault.kind.replace('_', ' ')}: run stopped",
            [Part("text", reason)],
            ref=ref,
            started=started or time.time(),
            metrics={"fault": fault.kind, "attempts": fault.attempts, "fatal": True},
        ),
    )
    finish(writer, "failed", reason=reason, budget=state.get("budget"))
    return {"status": "failed", "reason": reason, "closed": True}


def finish(writer: TraceWriter, status: str, **fields: Any) -> None:
    """Close the bundle; if even the manifest cannot be written (disk full), the steps already are."""
    try:
        writer.finish(status, **{k: v for k, v in fields.items() if v is not None or k == "reason"})
    except OSError:
        pass
    finally:
        RUNS.close(str(writer.root))


def json_safe(obj: Any) -> Any:
    """Plain JSON values for the state and the trace: the one sanitiser (NaN and infinities become null)."""
    return jsonable(obj)
