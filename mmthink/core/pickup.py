"""A served run's node, held and picked up safely when the process running it did not start it.

A served graph compiled with a shared checkpointer (Postgres by URL) can be continued by any process:
a run paused for review in one worker is approved from another, a killed worker's run is resumed
elsewhere with ``graph.invoke(None, config)``. The agent does the bookkeeping of a resume itself
(``Agent.resume``); a served graph has no such caller, so each node does it here:

- it holds the run folder's lock while it runs (one writer per run folder, as for the agent);
- the first node a process runs for a run it has not got open (or whose trace another process has
  written to since) reads the bundle back, cuts the trace
  back to the step count the checkpoint recorded (steps a killed node wrote after the last
  checkpoint: the node runs again and would repeat them), clears the killed node's scratch files, and
  records the pick-up in the manifest's ``resumes`` list, as ``Agent.resume`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mmthink.core.checkpoints import truncate_steps
from mmthink.core.context import clear_work
from mmthink.core.lock import run_lock
from mmthink.core.runs import RUNS
from mmthink.trace.schema import OPEN_STATUSES
from mmthink.trace.writer import MANIFEST, STEPS


@contextmanager
def served_node(run_dir: str | None, steps: int | None) -> Iterator[None]:
    """Around one node of a served run: the lock, and the pick-up when this process did not have the run open."""
    if not run_dir or not (Path(run_dir) / MANIFEST).exists():  # route, before the bundle exists
        yield
        return
    with run_lock(Path(run_dir), fresh=False):
        if RUNS.is_open(run_dir) and RUNS.count(run_dir) != _steps_on_disk(run_dir):
            RUNS.close(run_dir)  # another process wrote this run since this one last did: its copy here is stale
        if not RUNS.is_open(run_dir):
            pick_up(run_dir, int(steps or 0))
        yield


def _steps_on_disk(run_dir: str) -> int:
    try:
        data = (Path(run_dir) / STEPS).read_bytes()
    except OSError:
        return 0
    return sum(1 for line in data.split(b"\n")[:-1] if line.strip())


def pick_up(run_dir: str, keep: int) -> None:
    """Continue a run another process (or an earlier life of this one) wrote: cut the trace back to ``keep`` steps."""
    clear_work(run_dir)
    dropped = truncate_steps(run_dir, keep)
    w = RUNS.writer(run_dir)  # reopened from disk (a torn last line is cut off)
    if w.manifest.get("status") not in OPEN_STATUSES:
        return
    note_resume(w, keep, dropped, by=f"pid {os.getpid()}")


def note_resume(writer: Any, keep: int, dropped: int, **extra: Any) -> None:
    """The manifest's ``resumes`` list gains one entry: when, from which step, how many steps were dropped."""
    writer.update(
        resumes=list(writer.manifest.get("resumes") or [])
        + [
            {
                "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "from_step": keep,
                "dropped_steps": dropped,
                **extra,
            }
        ]
    )
