"""Writing a trace bundle while a run is still going.

Every step is one JSON line, flushed and fsynced the moment it happens, so a run that dies
mid-way still leaves a bundle a person can read; assets are content-addressed and written
atomically, so a half-written file never carries a valid name.

A bundle whose manifest says ``"trace_sync": "end"`` (batches choose it) is written the same way
but fsynced only when its status changes (paused, finished): a killed process loses nothing either
way, since what it wrote is in the page cache; only a power cut can lose the steps of a run still
going, and a batch run again re-runs exactly those. It saves ~10 fsyncs per run, which two workers
writing at once otherwise queue on. ``resume`` reopens a bundle
after a crash and drops a torn last line instead of refusing to continue.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mmthink.errors import BundleError, InputError
from mmthink.trace import viewer
from mmthink.trace.jsonio import dumps, jsonable, loads, read_json_file
from mmthink.trace.schema import (
    ASSETS,
    FINAL_STATUSES,
    MANIFEST,
    MIME,
    SCHEMA,
    STATUSES,
    STEP_KINDS,
    STEPS,
    VIEWER,
    Step,
)

__all__ = [
    "ASSETS",
    "FINAL_STATUSES",
    "MANIFEST",
    "STATUSES",
    "STEPS",
    "VIEWER",
    "TraceWriter",
    "atomic_write",
    "dumps",
    "jsonable",
    "new_run_id",
    "sha256_file",
    "write_viewer",
]

_EXT_RE = re.compile(r"^[a-z0-9]{1,8}$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_id_lock = threading.Lock()
_last_us = 0


def new_run_id(prefix: str = "") -> str:
    """A run id that sorts by creation time (UTC) and is unique across threads and processes.

    ``YYYYMMDD-HHMMSS-<microseconds>-<6 hex>``: the clock is made strictly increasing within a
    process and the random suffix separates processes that share a microsecond.
    """
    global _last_us
    if prefix and not _PREFIX_RE.match(prefix):
        raise InputError(
            "prefix", f"{prefix!r} is not safe in a folder name", "use letters, digits, '.', '_' or '-' (at most 64)"
        )
    with _id_lock:
        now_us = max(time.time_ns() // 1000, _last_us + 1)
        _last_us = now_us
    stamp = datetime.fromtimestamp(now_us // 1_000_000, timezone.utc).strftime("%Y%m%d-%H%M%S")
    rid = f"{stamp}-{now_us % 1_000_000:06d}-{secrets.token_hex(3)}"
    return f"{prefix}-{rid}" if prefix else rid


def atomic_write(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write next to the target, fsync, then rename: readers see the old file or the new one.

    ``sync=False`` skips the fsync, for files that can be made again from the record (the viewer page).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


_write_page = atomic_write  # the page is written by this binding, so a test that replaces atomic_write
# to fail asset writes (a full disk) reaches assets and the manifest, as before the viewer moved here


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


SYNC_MODES = ("step", "end")
"""``trace_sync``: fsync every step and asset as written, or once when the run's status changes."""


def _step(d: Any, where: str) -> Step:
    try:
        if not isinstance(d, dict):
            raise ValueError(f"expected an object, got {type(d).__name__}")
        return Step.from_dict(d)
    except (ValueError, TypeError, KeyError) as e:
        raise BundleError(f"{where} is not a valid step ({e}); repair the bundle by hand") from None


def _utc_iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class TraceWriter:
    """Appends steps and assets to ``root`` as a run goes, and writes the viewer at the end."""

    root: Path
    steps: list[Step]
    manifest: dict[str, Any]

    def __init__(self, root: str | Path, manifest: dict[str, Any] | None = None) -> None:
        self._setup(root)
        if (self.root / MANIFEST).exists() or (self.root / STEPS).exists():
            raise InputError(
                "root",
                f"{self.root} already holds a trace bundle",
                "reopen it with TraceWriter.resume(root) or use a new run id",
            )
        if manifest is not None and not isinstance(manifest, dict):
            raise InputError("manifest", f"must be a dict, got {type(manifest).__name__}")
        mode = (manifest or {}).get("trace_sync", "step")
        if mode not in SYNC_MODES:
            raise InputError("trace_sync", f"unknown mode {mode!r}", f"use one of {', '.join(SYNC_MODES)}")
        (self.root / ASSETS).mkdir(parents=True, exist_ok=True)
        now = time.time()
        self.manifest = {"schema": SCHEMA, "run_id": self.root.name, "created": _utc_iso(now), **(manifest or {})}
        self.manifest["schema"] = SCHEMA
        self.manifest["status"] = "running"
        self.manifest["steps"] = 0
        timings = dict(self.manifest.get("timings") or {})
        timings.setdefault("started", now)
        self.manifest["timings"] = timings
        (self.root / STEPS).touch()
        self._write_manifest()

    def _setup(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.RLock()
        self.steps = []
        self.manifest = {}
        self._unsynced: set[Path] = set()  # written but not fsynced yet (trace_sync "end")

    @property
    def sync_each(self) -> bool:
        """Whether every step and asset is fsynced as written (``trace_sync`` "step", the default)."""
        return self.manifest.get("trace_sync", "step") != "end"

    def sync(self) -> None:
        """fsync whatever was written without it (assets, steps.jsonl); the manifest follows in its own write."""
        with self._lock:
            for path in sorted(self._unsynced):
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:  # an asset replaced by the same bytes, or a folder set aside
                    continue
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            self._unsynced.clear()

    # ------------------------------------------------------------------ reopen
    @classmethod
    def resume(cls, root: str | Path) -> TraceWriter:
        """Reopen a bundle to keep appending; a torn last line (crash mid-write) is cut off."""
        w = cls.__new__(cls)
        w._setup(root)
        path = w.root / MANIFEST
        try:
            with open(path, "rb") as f:
                manifest = read_json_file(f)
        except FileNotFoundError:
            raise BundleError(f"{w.root}: no {MANIFEST}; this is not a trace bundle") from None
        except (OSError, ValueError) as e:
            raise BundleError(f"{path}: unreadable manifest ({e})") from None
        if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
            got = manifest.get("schema") if isinstance(manifest, dict) else type(manifest).__name__
            raise BundleError(f"{path}: unknown schema {got!r}, expected {SCHEMA!r}")
        w.manifest = manifest
        (w.root / ASSETS).mkdir(parents=True, exist_ok=True)
        dropped = w._load_steps()
        if dropped:
            w.manifest.setdefault("repairs", []).append(
                f"{_utc_iso(time.time())}: dropped a torn last line of {STEPS} ({dropped} bytes) on resume"
            )
            w._write_manifest()
        return w

    def _load_steps(self) -> int:
        """Read steps.jsonl back; returns how many bytes of a torn last line were cut off."""
        path = self.root / STEPS
        if not path.exists():
            path.touch()
            return 0
        data = path.read_bytes()
        lines = data.split(b"\n")
        tail = lines.pop()  # bytes after the last newline: empty unless the last write was torn
        good_end = len(data) - len(tail)
        for no, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                d = loads(raw)
            except ValueError as e:
                if no == len(lines) and not tail:
                    # the newline reached the disk but the line did not: still a torn last write
                    tail, good_end = raw + b"\n", len(data) - len(raw) - 1
                    break
                raise BundleError(f"{path}: line {no} is not valid ({e}); repair the bundle by hand") from None
            self.steps.append(_step(d, f"{path}: line {no}"))
        if tail:
            try:
                d = loads(tail)
            except ValueError:
                d = None
            if isinstance(d, dict):  # a whole step whose newline was lost: keep it
                self.steps.append(_step(d, f"{path}: last line"))
                with open(path, "ab") as f:
                    f.write(b"\n")
                    f.flush()
                    os.fsync(f.fileno())
                return 0
            with open(path, "r+b") as f:
                f.truncate(good_end)
                f.flush()
                os.fsync(f.fileno())
            return len(data) - good_end
        return 0

    # ------------------------------------------------------------------ writing
    def put_asset(self, data: bytes, ext: str) -> str:
        """Store media by content hash; the same bytes always give the same ``assets/<sha256>.<ext>``."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InputError("data", f"must be bytes, got {type(data).__name__}", "pass the encoded file's bytes")
        ext = str(ext).lower().lstrip(".")
        if not _EXT_RE.match(ext):
            raise InputError("ext", f"{ext!r} is not a file extension", f"use one of {', '.join(MIME)}")
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{ASSETS}/{digest}.{ext}"
        path = self.root / rel
        if (
            path.is_file()
            and not path.is_symlink()
            and path.stat().st_size == len(data)
            and sha256_file(path) == digest
        ):
            return rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, sync=self.sync_each)
        if not self.sync_each:
            with self._lock:
                self._unsynced.add(path)
        return rel

    def append(self, step: Step) -> Step:
        """Number the step, write it as one line and fsync it before returning."""
        if step.kind not in STEP_KINDS:
            raise InputError("step.kind", f"unknown kind {step.kind!r}", f"use one of {', '.join(STEP_KINDS)}")
        for part in step.parts:
            if part.asset and not part.mime:
                part.mime = MIME.get(part.asset.rsplit(".", 1)[-1].lower())
        with self._lock:
            step.index = len(self.steps)
            if step.ended is None:
                step.ended = time.time()
            nulled: list[str] = []
            clean = jsonable(step.to_dict(), nulled)
            if nulled:  # NaN/Infinity are written as null; say which, so "not measured" stays distinguishable
                step.nulled = sorted(set(step.nulled) | set(nulled))
                clean["nulled"] = step.nulled
            line = (dumps(clean) + "\n").encode("utf-8")
            path = self.root / STEPS
            with open(path, "ab") as f:
                start = f.tell()
                try:
                    f.write(line)
                    f.flush()
                    if self.sync_each:
                        os.fsync(f.fileno())
                    else:
                        self._unsynced.add(path)
                except BaseException:
                    f.truncate(start)  # never leave half a line for the next append to follow
                    raise
            self.steps.append(step)
        return step

    def update(self, **fields: Any) -> None:
        """Merge ``fields`` into the manifest and rewrite it atomically."""
        with self._lock:
            if "status" in fields and fields["status"] not in STATUSES:
                raise InputError("status", f"unknown status {fields['status']!r}", f"use one of {', '.join(STATUSES)}")
            self.manifest.update(fields)
            self._write_manifest()

    def finish(self, status: str, **fields: Any) -> None:
        """Final manifest (status, timings, step count), then the viewer page."""
        if status not in FINAL_STATUSES:
            raise InputError("status", f"{status!r} does not end a run", f"use one of {', '.join(FINAL_STATUSES)}")
        with self._lock:
            now = time.time()
            timings = dict(self.manifest.get("timings") or {})
            timings.update(fields.pop("timings", None) or {})
            started = timings.get("started")
            if not isinstance(started, (int, float)):
                started = self.steps[0].started if self.steps else now
                timings["started"] = started
            timings["ended"] = now
            timings["seconds"] = round(now - started, 3)
            self.manifest.update(fields)
            self.manifest.update(status=status, timings=timings, finished=_utc_iso(now))
            self.manifest.pop("viewer_error", None)
            self._write_manifest()
            try:
                self.write_viewer()
            except Exception as e:  # the record is complete; a page bug must not turn a run into a failure
                self.manifest["viewer_error"] = f"{type(e).__name__}: {e}"
                self._write_manifest()
                warnings.warn(f"trace viewer not written for {self.root}: {e}", RuntimeWarning, stacklevel=2)

    def write_viewer(self) -> Path:
        """(Re)write index.html from what is known now; also useful mid-run."""
        with self._lock:
            return write_viewer(self.root, self.manifest, list(self.steps))

    def _write_manifest(self) -> None:
        """Atomically; under ``trace_sync`` "end" unsynced while running, and after everything else once the
        status changes, so a manifest that says finished (or paused) never names steps or assets not on disk."""
        sync = self.sync_each or self.manifest.get("status") != "running"
        if sync and self._unsynced:
            self.sync()
        self.manifest["steps"] = len(self.steps)
        nulled: list[str] = []
        clean = jsonable({k: v for k, v in self.manifest.items() if k != "nulled"}, nulled)
        if nulled:
            clean["nulled"] = self.manifest["nulled"] = sorted(set(self.manifest.get("nulled") or []) | set(nulled))
        atomic_write(self.root / MANIFEST, (dumps(clean, indent=2) + "\n").encode("utf-8"), sync=sync)

    def __repr__(self) -> str:
        return f"TraceWriter({str(self.root)!r}, steps={len(self.steps)}, status={self.manifest.get('status')!r})"


def write_viewer(root: str | Path, manifest: dict[str, Any], steps: list[Step]) -> Path:
    """Write ``root/index.html`` (the page :func:`viewer.render` gives) atomically and return its path."""
    path = Path(root) / VIEWER
    _write_page(path, viewer.render(manifest, steps).encode("utf-8"), sync=False)  # `mmthink view` remakes it
    return path
