"""One unit of batch work and how a worker does it, the same in every engine.

A worker holds one Agent for its whole life (models load once per worker, never per request) and
calls :func:`execute` for each task it is given. The result is a plain dict, the line's record in
the index, so it travels between processes and Ray nodes as it is.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.run_start import discard_unstarted
from ..errors import InputError

AgentSpec = dict[str, Any]
"""How a worker builds its Agent: ``{"profile": "embedded", "overrides": {...}}`` or ``{"factory": callable}``
(a module-level function returning an Agent; it must be importable in the workers)."""

NEW, RESUME = "new", "resume"


@dataclass
class Task:
    """Run (or resume) one line's request into ``out/run_id``."""

    line: int
    run_id: str
    request: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    out: str = "runs"
    action: str = NEW
    note: str | None = None  # what the planner did first (a bundle set aside), for the index
    sync: str = "end"  # the bundle's trace_sync: fsynced when the run ends (a re-run redoes what a power cut lost)


def build_agent(spec: AgentSpec) -> Any:
    """The worker's Agent, built once."""
    from ..agent import Agent

    factory: Callable[[], Any] | None = spec.get("factory")
    if factory is not None:
        return factory()
    return Agent.from_profile(spec.get("profile", "embedded"), **(spec.get("overrides") or {}))


def record(task: Task, status: str, **fields: Any) -> dict[str, Any]:
    """The index line of a task: line number, the caller's id, run id, status, then whatever else is known."""
    rec: dict[str, Any] = {"line": task.line, "run_id": task.run_id, "status": status}
    if task.label is not None:
        rec["id"] = task.label
    if task.note:
        fields.setdefault("note", task.note)
    rec.update({k: v for k, v in fields.items() if v is not None})
    return rec


def execute(agent: Any, task: Task) -> dict[str, Any]:
    """Run or resume the task with ``agent``; every outcome, including a crash of the run, is a record."""
    from ..request import Request

    started = time.time()
    run_dir = Path(task.out) / task.run_id
    action = "resumed" if task.action == RESUME else "ran"
    try:
        if task.action == RESUME:
            try:
                res = agent.resume(run_dir)
            except InputError as e:  # nothing a resume can start from: run the request again
                if (run_dir / "manifest.json").exists():
                    raise
                if discard_unstarted(run_dir):  # stopped before anything was recorded: nothing to keep
                    note = "an earlier attempt stopped before anything was recorded; it ran again from the start"
                else:
                    note = (
                        f"could not be resumed ({e.problem}); kept as {set_aside_folder(run_dir, 'unresumable').name}"
                    )
                task = replace(
                    task, action=NEW, run_id=f"{task.run_id.rsplit('-', 1)[0]}-{secrets.token_hex(3)}", note=note
                )
                action = "ran"
                res = agent.run(
                    Request.from_dict(task.request),
                    out=task.out,
                    run_id=task.run_id,
                    trace_sync=task.sync,
                    **task.settings,
                )
        else:
            res = agent.run(
                Request.from_dict(task.request), out=task.out, run_id=task.run_id, trace_sync=task.sync, **task.settings
            )
    except InputError as e:
        from .requests import as_written

        name, message = as_written(e)
        rec = record(
            task,
            "invalid",
            field=name,
            reason=f"line {task.line}: {message}",
            action="resumed" if task.action == RESUME else None,
            seconds=round(time.time() - started, 3),
        )
        if not (Path(task.out) / task.run_id).exists():  # refused before its folder was made: no run id to look for
            del rec["run_id"]
        return rec
    except Exception as e:  # the run's own bundle (if it got that far) keeps the details
        return record(
            task, "failed", reason=f"{type(e).__name__}: {e}", seconds=round(time.time() - started, 3), action=action
        )
    final = None
    if res.final is not None:
        try:
            final = str(Path(res.final).resolve().relative_to(Path(task.out).resolve()))
        except ValueError:
            final = str(res.final)
    return record(
        task,
        res.status,
        final=final,
        seconds=round(time.time() - started, 3),
        reason=res.reason,
        modality=res.modality,
        steps=res.steps,
        action=action,
    )


def execute_shipped(agent: Any, task: Task) -> tuple[dict[str, Any], bytes | None]:
    """Run into a private temporary folder and return the bundle as ``.mmtrace`` bytes (no shared disk)."""
    from ..trace.reader import export_bundle

    tmp = Path(tempfile.mkdtemp(prefix="mmthink-batch-"))
    try:
        rec = execute(agent, replace(task, out=str(tmp), action=NEW))
        run_dir = tmp / task.run_id
        data = None
        if (run_dir / "manifest.json").is_file():
            data = export_bundle(run_dir, tmp / f"{task.run_id}.mmtrace").read_bytes()
        return rec, data
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def set_aside_folder(run_dir: Path, why: str) -> Path:
    """Rename a bundle the batch will not continue (failed, unverifiable) to ``<run_id>.<why>-N``: nothing is deleted."""
    n = 1
    while (target := run_dir.with_name(f"{run_dir.name}.{why}-{n}")).exists():
        n += 1
    run_dir.rename(target)
    return target
