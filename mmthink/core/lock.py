"""One writer per run folder: an exclusive OS lock on ``<run_dir>/.lock`` for every run, resume and review.

The lock is ``flock`` (``msvcrt.locking`` on Windows): the operating system drops it when the process
holding it dies, however it dies, so a run killed mid-way never blocks the resume that follows. A second
writer is refused at once with :class:`RunBusy`, naming the process that holds the folder. The dot name
keeps the file out of bundle verification and ``.mmtrace`` zips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmthink.errors import InputError, RunBusy

LOCK_FILE = ".lock"


@contextmanager
def run_lock(run_dir: Path, *, fresh: bool) -> Iterator[Path]:
    """Hold the run folder for this process. ``fresh``: the folder must not exist yet (a new run id is
    claimed atomically, so two runs given the same id cannot share a folder)."""
    if fresh:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            run_dir.mkdir()
        except FileExistsError:
            raise InputError("run_id", f"{run_dir} already exists", "use a new run id, or resume that run") from None
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            raise RunBusy(f"{run_dir} is being written by {holder}; wait for it to finish (one writer per run)")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield run_dir
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def remove_lock(run_dir: Path) -> None:
    (run_dir / LOCK_FILE).unlink(missing_ok=True)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
