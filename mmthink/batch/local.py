"""The local engine: a process pool on this machine, one Agent per worker process.

Each worker builds its Agent once, in the pool's initializer, so models load once per worker and
never per request. Processes (not threads) because rendering and critique are CPU-bound Python.
Workers are started with ``spawn``: the driver runs a progress thread, and forking a process
that has threads can deadlock.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable

from .tasks import AgentSpec, Task, build_agent, execute, record

_agent: Any = None


def _init_worker(spec: AgentSpec) -> None:
    global _agent
    _agent = build_agent(spec)


def _work(task: Task) -> dict[str, Any]:
    return execute(_agent, task)


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
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(min(self.workers, len(tasks)), mp_context=ctx, initializer=_init_worker,
                                   initargs=(self.spec,))
        pending: dict[Future, Task] = {}
        try:
            pending = {pool.submit(_work, t): t for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut)
                    try:
                        rec = fut.result()
                    except Exception as e:  # the worker process died (killed, out of memory)
                        rec = record(task, "interrupted", reason=f"the worker stopped ({type(e).__name__}: {e}); "
                                                                 "run the same batch again to resume it")
                    on_result(rec, None)
        finally:  # interrupted: requests not started yet are dropped here (the pool's own cancel can come
            # too late, once the executor is collected); those in flight stay resumable
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=not pending, cancel_futures=True)
