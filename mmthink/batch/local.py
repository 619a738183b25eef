"""The local engine: a process pool on this machine, one Agent per worker process.

Each worker builds its Agent once, in the pool's initializer, so models load once per worker and
never per request. When a worker process dies (killed, out of memory) the pool is replaced and the
requests it lost are run again, resumed from their checkpoints where they had started. Processes (not threads) because rendering and critique are CPU-bound Python.
Workers are forked from a fork server (``forkserver``; ``spawn`` where there is none), never from
the driver itself: the driver runs a progress thread, and forking a process that has threads can
deadlock. The fork server imports the heavy libraries once (:data:`PRELOAD`), so each worker starts
with them in memory, shared copy-on-write, instead of paying their import again (about 1.5 s of CPU
per worker for the embedded profile's langgraph and spaCy, and ~0.3 s to load the English pipeline).
Each worker then takes the driver's current environment and ``sys.path`` (the fork server's copy may be older) before it
builds its Agent. The fork server is Python's own (``multiprocessing``): one per driver process,
started by its first pool and reused by later batches until the driver exits.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any

from .tasks import RESUME, AgentSpec, Task, build_agent, execute, record

MAX_RESTARTS = 3
"""New pools started after worker processes die, before the rest of the batch is left for a re-run."""

_agent: Any = None
_build_error = ""


PRELOAD = (
    "__main__",  # the driver's script, as spawn would import it: an agent function defined there unpickles
    "mmthink.agent",
    "mmthink.batch.tasks",
    "langgraph.graph",
    "langgraph.checkpoint.sqlite",
    "PIL.Image",
    "mmthink.batch.preload",  # spaCy and the English pipeline, loaded; then the heap frozen
)
"""Imported once by the fork server; one that is not installed is skipped."""


def _context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))  # takes effect when the server starts (once per driver process)
        return ctx
    return multiprocessing.get_context("spawn")


def _init_worker(env: dict[str, str], path: list[str], spec: bytes, lifeline: Any) -> None:
    """Take the driver's environment and import path, then build the worker's agent; a failure becomes every
    task's reason (an initializer that raises would only break the pool, and the cause would be lost)."""
    global _agent, _build_error
    _exit_with_the_driver(lifeline)
    # Ctrl-C in a terminal reaches every process of the group: the driver alone handles it (it stops the pool,
    # and the lifeline ends the workers), so a worker never prints a KeyboardInterrupt traceback of its own.
    # A handler that does nothing rather than SIG_IGN, which the programs a worker starts (ffmpeg) would inherit.
    signal.signal(signal.SIGINT, _leave_to_the_driver)
    os.environ.clear()
    os.environ.update(env)  # e.g. MMTHINK_CHECKPOINT_URL set after the fork server started
    sys.path[:] = path  # so the agent function's module imports (the spec is unpickled only now)
    try:
        _agent = build_agent(pickle.loads(spec))
    except Exception as e:
        _build_error = f"the worker could not build its agent: {type(e).__name__}: {e}"


def _leave_to_the_driver(signum: int, frame: Any) -> None:
    """A worker's SIGINT handler: nothing to do, the driver stops the batch (see :func:`_init_worker`)."""


def _exit_with_the_driver(lifeline: Any) -> None:
    """End this worker as soon as the driver is gone.

    A driver killed outright (SIGKILL, the OOM killer) cannot shut its pool down, and the pool's queues never
    report it: its workers would run what was already queued and then wait for work forever, each holding an
    Agent's memory. The driver holds the only write end of ``lifeline``; when it dies the kernel closes it, the
    read here ends, and the worker exits as a killed worker would (a run in flight stays resumable).
    """

    def wait() -> None:
        try:
            lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=wait, name="mmthink-batch-lifeline", daemon=True).start()


def _work(task: Task) -> dict[str, Any]:
    if _agent is None:
        return record(task, "failed", reason=_build_error)
    return execute(_agent, task)


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
"""The math libraries' thread counts, read when numpy (OpenBLAS), thinc (BLIS) or torch load."""


@contextlib.contextmanager
def _threads_per_worker(workers: int) -> Iterator[None]:
    """Give each worker its share of the cores for numpy's and spaCy's math threads.

    Each library sizes its thread pool to every core when it loads; with one worker per core, two workers
    then run four math threads on two cores and slow each other down. The fork server (started by the first
    pool, which loads those libraries for the workers) and the workers take ``cores // workers`` instead.
    A value the user set is kept.
    """
    share = str(max(1, default_workers() // max(1, workers)))
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    for k in THREAD_VARS:
        os.environ.setdefault(k, share)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalEngine:
    """``workers == 1`` runs in this process (no pool): the baseline the benchmark compares against."""

    name = "local"
    shared = True  # every worker writes into the output folder itself

    def __init__(self, spec: AgentSpec, workers: int | None = None) -> None:
        self.spec = spec
        self.workers = int(workers or default_workers())

    def run(self, tasks: Iterable[Task], on_result: Callable[[dict[str, Any], bytes | None], None]) -> None:
        tasks = list(tasks)
        if not tasks:
            return
        if self.workers <= 1 or len(tasks) == 1:
            agent = build_agent(self.spec)
            for task in tasks:
                on_result(execute(agent, task), None)
            return
        restarts = 0
        while tasks:
            lost = self._run_pool(tasks, on_result)
            if not lost:
                return
            restarts += 1  # a worker died (killed, out of memory): a new pool resumes what it was doing
            if restarts > MAX_RESTARTS:
                for task in lost:
                    on_result(
                        record(
                            task,
                            "interrupted",
                            reason=f"worker processes died {restarts} times; run the same batch again to resume",
                        ),
                        None,
                    )
                return
            tasks = [replace(t, action=RESUME) if (Path(t.out) / t.run_id).exists() else t for t in lost]

    def _run_pool(self, tasks: list[Task], on_result: Callable[[dict[str, Any], bytes | None], None]) -> list[Task]:
        """Run ``tasks`` on a fresh pool; returns those lost when a worker process died."""
        with _threads_per_worker(self.workers):
            return self._pool(tasks, on_result)

    def _pool(self, tasks: list[Task], on_result: Callable[[dict[str, Any], bytes | None], None]) -> list[Task]:
        ctx = _context()
        lifeline, keep = ctx.Pipe(duplex=False)  # this process holds the only write end (see _exit_with_the_driver)
        pool = ProcessPoolExecutor(
            min(self.workers, len(tasks)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(dict(os.environ), list(sys.path), pickle.dumps(self.spec), lifeline),
        )
        pending: dict[Future, Task] = {}
        lost: list[Task] = []
        try:
            pending = {pool.submit(_work, t): t for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut)
                    try:
                        rec = fut.result()
                    except BrokenProcessPool:
                        lost.append(task)
                        continue
                    except Exception as e:  # e.g. a task that could not be sent to the worker
                        rec = record(task, "failed", reason=f"{type(e).__name__}: {e}")
                    on_result(rec, None)
        finally:
            # interrupted: closing the lifeline ends the workers at once, so requests not started yet never start
            # and those in flight stay resumable. The futures are not cancelled: when its workers die, Python
            # 3.11's pool marks every pending future broken and raises (a traceback under "interrupted") on one
            # that was cancelled.
            pool.shutdown(wait=not pending)
            keep.close()
            lifeline.close()
        return lost
