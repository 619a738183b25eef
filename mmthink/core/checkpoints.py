"""Checkpoints beside the bundle: a SQLite file per run folder (thread id = run id), and the trace cut
back to the checkpoint on resume.

The file is ``<run_dir>/.checkpoint.sqlite``: the dot name keeps it out of ``.mmtrace`` zips and
out of bundle verification, and it travels with the run folder. A node appends its steps before
LangGraph writes the checkpoint of that superstep, so each checkpoint records how many steps the
trace held (state key ``steps``); resuming cuts ``steps.jsonl`` back to that count
(:func:`truncate_steps`) so a node run again never duplicates what it wrote before a crash.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHECKPOINT_FILE = ".checkpoint.sqlite"


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
    from mmthink.trace.writer import STEPS

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
