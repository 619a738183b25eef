"""``mmthink.batch(...)``: run every line of a requests file, one bundle per request, resumable.

The recipe: (1) check the arguments and read the requests (an unreadable file stops here, nothing
written); (2) take the output folder's lock; (3) start the engine; (4) plan each line from what is
already on disk; (5) run the rest, indexing each result as it arrives; (6) rewrite the index in
line order and return.

Re-running the same batch into the same folder resumes it. Each line's bundle lives in
``out/line<N>-<digest of the request>-<random>``; for each line:

- a bundle that finished (``succeeded``, ``stopped``) and verifies is skipped;
- an interrupted one (still ``running``, or killed before its manifest: a start record and maybe a
  checkpoint) is resumed with ``Agent.resume``, from its last completed step;
- a folder its run left before recording anything (only the lock) is removed and the request runs again;
- a ``failed`` one is left as it is, unless ``retry_failed``: then it is set aside as
  ``<run_id>.failed-N`` (nothing is deleted) and the request runs again;
- a finished bundle that does not verify is set aside as ``<run_id>.unverified-N`` and run again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.run_start import discard_unstarted
from ..errors import BundleError, InputError
from .index import INDEX, BatchIndex, counts, print_summary
from .requests import BatchRequest, LineError, read_requests
from .tasks import RESUME, AgentSpec, Task, record, set_aside_folder

ENGINES = ("local", "ray")
DONE_STATUSES = ("succeeded", "unmet", "refused", "stopped")
"""Finished for good (mmthink.core.status): skipped when the batch runs again; failed ones only with --retry-failed."""
"""Finished runs a re-run skips. ``failed`` ones are retried only when asked."""


@dataclass
class BatchResult:
    """Every line's record (as in ``batch.jsonl``), in line order."""

    out: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = "local"
    workers: int = 1

    @property
    def index(self) -> Path:
        return self.out / INDEX

    @property
    def counts(self) -> dict[str, int]:
        return dict(counts(self.records))

    @property
    def ok(self) -> bool:
        """Every line succeeded (a skipped line counts by the status its bundle has)."""
        return bool(self.records) and all(r.get("status") == "succeeded" for r in self.records)


def batch(
    requests: str | Path | Iterable[Any],
    out: str | Path = "runs",
    *,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    retry_failed: bool = False,
    profile: str = "embedded",
    agent: Callable[[], Any] | None = None,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    bundles: str = "auto",
    sync: str = "end",
    progress: bool = False,
    summary: bool = False,
    **overrides: Any,
) -> BatchResult:
    """Run a batch of requests: a JSONL file (one prompt or request object per line) or a list of them.

    ``workers``: processes (local) or actors (ray); default: the cores here, or what the Ray cluster fits.
    ``agent``: a module-level function returning the Agent each worker uses; otherwise
    ``Agent.from_profile(profile, **overrides)``. ``num_cpus`` / ``num_gpus`` (fractions allowed) are
    reserved per Ray actor; ``bundles`` is auto / shared / ship (see ``mmthink.batch.ray_engine``).
    ``sync``: "end" (default) fsyncs each bundle once, when its run ends: a killed worker loses nothing and a
    power cut only the runs in flight, which running the batch again redoes; "step" fsyncs every step, as
    single runs do (see :mod:`mmthink.trace.writer`).
    """
    # 1. check the arguments and read the requests: bad input costs nothing
    if engine not in ENGINES:
        raise InputError("engine", f"unknown engine {engine!r}", f"use one of {', '.join(ENGINES)}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError("workers", f"must be a positive integer, got {workers!r}", "e.g. --workers 2")
    for name, value in (("address", address), ("num_cpus", num_cpus), ("num_gpus", num_gpus)):
        if value is not None and value != "" and engine != "ray":
            raise InputError(name, "is only for the ray engine", "add --engine ray")
    if bundles != "auto" and engine != "ray":
        raise InputError("bundles", "is only for the ray engine", "add --engine ray")
    if engine == "ray":  # before anything is written: Ray installed, the shares it can honour
        from .ray_engine import check_settings

        check_settings(num_cpus, num_gpus, bundles)
    from ..trace.writer import SYNC_MODES

    if not isinstance(sync, str) or sync not in SYNC_MODES:
        raise InputError("sync", f"unknown mode {sync!r}", f"use one of {', '.join(SYNC_MODES)}")
    spec = _agent_spec(profile, agent, overrides)
    _check_importable(agent, engine, workers)
    items = read_requests(requests)
    url = os.environ.get("MMTHINK_CHECKPOINT_URL")
    if url and agent is None:  # every worker will open it: an unreachable database stops the batch here
        from ..checkpoint_url import checkpointer_from_url

        with checkpointer_from_url(url):
            pass
    out_dir = _out_folder(out)
    started = time.time()
    # 2. one batch at a time per folder
    with _folder_lock(out_dir):
        # 3. the engine (Ray decides here whether its workers see this folder)
        if engine == "ray":
            from .ray_engine import RayEngine

            eng: Any = RayEngine(
                spec,
                out_dir,
                workers,
                address=address,
                num_cpus=1.0 if num_cpus is None else num_cpus,
                num_gpus=0.0 if num_gpus is None else num_gpus,
                bundles=bundles,
                most=sum(isinstance(i, BatchRequest) for i in items),
            )
        else:
            from .local import LocalEngine

            eng = LocalEngine(spec, workers)
        try:
            # 4. plan each line from the bundles already there
            index = BatchIndex(out_dir)
            tasks: list[Task] = []
            found = _bundles(out_dir)  # one listing of the folder, not one per line
            for item in items:
                planned = _plan(item, out_dir, retry_failed, eng.shared, found)
                if isinstance(planned, Task):
                    tasks.append(replace(planned, sync=sync))
                else:
                    index.add(planned)
            # 5. run the rest
            with _progress(len(tasks), enabled=progress) as advance:

                def on_result(rec: dict[str, Any], data: bytes | None) -> None:
                    if data is not None:
                        rec = _unpack(out_dir, rec, data)
                    index.add(rec)
                    advance(rec)

                eng.run(tasks, on_result)
        finally:
            if hasattr(eng, "close"):
                eng.close()
        # 6. the index in line order
        result = BatchResult(out_dir, index.close(), time.time() - started, engine, eng.workers)
    if summary:
        print_summary(result.records, out_dir, result.seconds)
    return result


def _check_importable(agent: Callable[[], Any] | None, engine: str, workers: int | None) -> None:
    """Pool workers receive ``agent=`` by name (pickled) and import it: a lambda or a function defined inside
    another cannot be found there. Said here, before anything is written, instead of as pickle's error
    after the output folder was made. (Ray's actors and one process take any function.)"""
    import pickle

    from .local import default_workers

    if agent is None or engine != "local" or (workers or default_workers()) <= 1:
        return
    try:
        pickle.dumps(agent)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise InputError(
            "agent",
            f"the workers cannot import {getattr(agent, '__qualname__', agent)!r} ({e})",
            "define the function at the top level of a module (or run with workers=1)",
        ) from None


def _out_folder(out: str | Path) -> Path:
    """The output folder, made if needed; one that cannot be is bad input (exit 2), not a traceback."""
    out_dir = Path(out).expanduser().resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("out", f"{out_dir} is a file", "give a folder for the bundles")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError("out", f"{out_dir} cannot be made: {e.strerror or e}", "give a folder you can write") from None
    return out_dir


def _agent_spec(profile: str, agent: Callable[[], Any] | None, overrides: dict[str, Any]) -> AgentSpec:
    """Settings are checked here, once, rather than failing in every worker."""
    if agent is not None:
        if not callable(agent):
            raise InputError(
                "agent",
                f"must be a function returning an Agent, got {type(agent).__name__}",
                "pass a module-level function (workers import it)",
            )
        if overrides:
            raise InputError(sorted(overrides)[0], "cannot be combined with agent=", "set it inside the agent function")
        return {"factory": agent}
    from ..config import make_config

    make_config(profile, **overrides)
    return {"profile": profile, "overrides": overrides}


def _plan(
    item: BatchRequest | LineError, out: Path, retry_failed: bool, shared: bool, found: dict[str, list[Path]]
) -> Task | dict[str, Any]:
    """What to do with one line: a task to run or resume, or its record as it stands."""
    if isinstance(item, LineError):
        return {"line": item.line, "status": "invalid", "field": item.field, "reason": item.message()}
    prefix = item.folder_prefix()
    fresh = f"{prefix}-{secrets.token_hex(3)}"  # a new attempt never reuses a run id (a thread id in the checkpoints)
    task = Task(item.line, fresh, item.request, item.settings, item.label, str(out))
    run_dir = _find_bundle(found, prefix)
    if run_dir is None:
        return task
    task.run_id = run_dir.name
    again = Task(item.line, fresh, item.request, item.settings, item.label, str(out))
    manifest = _manifest(run_dir)
    status = manifest.get("status") if manifest else None
    if status in DONE_STATUSES or status == "failed":
        from ..trace.reader import load_trace

        try:
            load_trace(run_dir)
        except (BundleError, InputError) as e:
            aside = set_aside_folder(run_dir, "unverified")
            again.note = f"the earlier bundle did not verify ({str(e)[:200]}); kept as {aside.name}"
            return again
        if status == "failed" and retry_failed:
            aside = set_aside_folder(run_dir, "failed")
            again.note = f"retried; the failed bundle is kept as {aside.name}"
            return again
        done = manifest or {}
        timings = done.get("timings") or {}
        final = (done.get("final") or {}).get("asset")
        return record(
            task,
            status,
            final=f"{task.run_id}/{final}" if final else None,
            seconds=timings.get("seconds"),
            reason=done.get("reason"),
            modality=done.get("modality"),
            steps=done.get("steps"),
            action="skipped",
        )
    if manifest is None and status is None and (run_dir / "manifest.json").exists():  # unreadable manifest
        aside = set_aside_folder(run_dir, "unverified")
        again.note = f"the earlier manifest could not be read; kept as {aside.name}"
        return again
    if discard_unstarted(run_dir):  # stopped before anything was recorded: an empty folder, nothing to keep
        again.note = "an earlier attempt stopped before anything was recorded; it ran again from the start"
        return again
    if not shared:  # its checkpoint is on this disk, out of the workers' reach: run it again
        aside = set_aside_folder(run_dir, "interrupted")
        again.note = f"interrupted earlier; the workers cannot reach it, so it ran again (kept as {aside.name})"
        return again
    task.action = RESUME
    return task


def _bundles(out: Path) -> dict[str, list[Path]]:
    """The run folders in ``out`` by line prefix (``<prefix>-<random>``); folders set aside carry a ``.why-N``
    suffix and are not listed."""
    found: dict[str, list[Path]] = {}
    with os.scandir(out) as entries:
        for e in entries:
            if "." not in e.name and "-" in e.name and e.is_dir():
                found.setdefault(e.name.rsplit("-", 1)[0], []).append(Path(e.path))
    return found


def _find_bundle(found: dict[str, list[Path]], prefix: str) -> Path | None:
    """The line's current bundle; the newest if several."""
    runs = found.get(prefix)
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def _manifest(run_dir: Path) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _unpack(out: Path, rec: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Write a bundle an actor sent as ``.mmtrace`` bytes: verified, then moved into ``out/<run_id>``."""
    from ..trace.reader import load_trace

    run_id = rec["run_id"]
    zpath = out / f".{run_id}.mmtrace.part"
    tmp = out / f".{run_id}.unpack"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        zpath.write_bytes(data)
        trace = load_trace(zpath, dest=tmp)
        target = out / run_id
        if target.exists():
            set_aside_folder(target, "replaced")
        os.replace(trace.root, target)
    except (BundleError, InputError, OSError) as e:
        kept = out / f"{run_id}.mmtrace"
        if zpath.exists():
            os.replace(zpath, kept)
        return {**rec, "status": "failed", "reason": f"the bundle sent back did not verify ({e}); kept as {kept.name}"}
    finally:
        zpath.unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return rec


@contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """Two batches writing one folder would race for the same bundles: the second one is refused."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    fh = open(out / ".batch.lock", "w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                "out", f"another batch is running in {out}", "wait for it, or give another --out"
            ) from None
        yield
    finally:
        fh.close()


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A rich progress bar on stderr: done / total, requests per second, elapsed and ETA, and the tally so far."""
    if not enabled or not total:
        yield lambda rec: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Requests finished per second since the batch started (worker start-up included); the ETA uses
        rich's estimate from the recent rate."""

        def render(self, task: Any) -> Text:
            elapsed = task.finished_time if task.finished else task.elapsed
            rate = task.completed / elapsed if elapsed else 0.0
            return Text(f"{rate:.2f} req/s" if rate else "– req/s", style="progress.data.speed")

    tally: dict[str, int] = {}
    with Progress(
        TextColumn("[bold]batch"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        speed_estimate_period=60,
    ) as bar:
        tid = bar.add_task("", total=total)

        def advance(rec: dict[str, Any]) -> None:
            tally[rec.get("status", "?")] = tally.get(rec.get("status", "?"), 0) + 1
            bar.update(tid, advance=1, description=" ".join(f"{k} {v}" for k, v in sorted(tally.items())))

        yield advance
