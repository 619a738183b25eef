"""What a run was asked to do, recorded the moment its folder is claimed: ``<run_dir>/.start.json``.

The manifest is written by the first node (route), after the graph has started; a run killed in
between (a worker killed while starting, a machine lost) would leave a folder that says nothing, so
nothing could resume it. The start record closes that gap: it holds the run's input state (request,
thinking settings, review) and the agent's settings, the same fields the manifest keeps, written
atomically before the graph starts. A resume reads it where there is no manifest yet, and it is
removed once the manifest exists. The dot name keeps it out of bundle verification and ``.mmtrace``
zips.

What is left if a run dies before even this record is written is an empty folder (at most the lock
and an empty checkpoint file): :func:`nothing_recorded` says so, and :func:`discard_unstarted` removes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

START_FILE = ".start.json"
_LEFTOVERS = {".lock", START_FILE}  # besides the per-run checkpoint files (.checkpoint.sqlite*)


def write_start(run_dir: Path, state: dict[str, Any], agent: dict[str, Any]) -> None:
    """Record the input state and the agent's settings (already redacted), atomically."""
    record = {
        "run_id": state.get("run_id") or run_dir.name,
        "request": state.get("request") or {},
        "input": {
            "thinking": state.get("thinking") or {},
            "mode_arg": state.get("mode_arg"),
            "review": bool(state.get("review")),
        },
        "agent": agent,
    }
    tmp = run_dir / f".start.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:  # no fsync: a killed process loses nothing the OS holds, and
        json.dump(record, f)  # a power cut this early loses a run that had not begun (the manifest is fsynced)
    os.replace(tmp, run_dir / START_FILE)


def read_start(run_dir: Path) -> dict[str, Any] | None:
    """The start record as a manifest-shaped dict (run_id, request, input, agent), or None if there is none."""
    try:
        data = json.loads((run_dir / START_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("request"), dict) else None


def remove_start(run_dir: Path) -> None:
    (run_dir / START_FILE).unlink(missing_ok=True)


def nothing_recorded(run_dir: Path) -> bool:
    """True for a run folder that holds neither a manifest nor a start record, only what claiming it left
    (the lock, an empty checkpoint file): the run died before anything of it was written."""
    try:
        names = {p.name for p in run_dir.iterdir()}
    except OSError:
        return False
    if "manifest.json" in names or read_start(run_dir) is not None:
        return False
    return all(n in _LEFTOVERS or n.startswith((".checkpoint.sqlite", ".start.")) for n in names)


def discard_unstarted(run_dir: Path) -> bool:
    """Remove a folder :func:`nothing_recorded` accepts (nothing of a run is lost); True if it was removed."""
    from mmthink.core.lock import run_lock
    from mmthink.errors import RunBusy

    try:
        with run_lock(run_dir, fresh=False):  # a process still starting this run holds it: leave the folder alone
            if not nothing_recorded(run_dir):
                return False
            for p in run_dir.iterdir():
                p.unlink(missing_ok=True)
    except (RunBusy, OSError):
        return False
    try:
        run_dir.rmdir()
    except OSError:
        return False
    return True
