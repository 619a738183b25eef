"""Opening a trace bundle someone else made, safely.

A bundle is data from elsewhere: loading parses JSON only (no pickle, no code), refuses any
path that would land outside the bundle, refuses zip bombs before writing a byte, and checks
every asset against the sha256 in its name so a tampered image or recording is caught.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mmthink.errors import BundleError, InputError
from mmthink.trace.schema import SCHEMA, STEP_KINDS, Step
from mmthink.trace.writer import ASSETS, MANIFEST, STATUSES, STEPS, VIEWER, sha256_file

MAX_ENTRIES = 10_000
"""Files a .mmtrace zip may hold."""
MAX_BYTES = 4 * 1024**3
"""Uncompressed bytes a .mmtrace zip may expand to, all entries together."""
MAX_RATIO = 200
"""Largest compression ratio accepted for entries above ``RATIO_FLOOR`` bytes (deflate bombs)."""
RATIO_FLOOR = 8 * 1024**2

_ASSET_NAME = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{1,8})$")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class Trace:
    """A loaded bundle: the manifest, the steps in order, and where the files are."""

    root: Path
    manifest: dict[str, Any]
    steps: list[Step]
    line_problems: list[str] = field(default_factory=list)  # step lines that could not be read

    def verify(self) -> list[str]:
        """Everything wrong with the bundle, as sentences; empty when it is intact."""
        problems: list[str] = []
        schema = self.manifest.get("schema")
        if schema != SCHEMA:
            problems.append(f"{MANIFEST}: unknown schema {schema!r} (expected {SCHEMA!r})")
        status = self.manifest.get("status")
        if status not in STATUSES:
            problems.append(f"{MANIFEST}: unknown status {status!r}")
        problems += self.line_problems
        for i, s in enumerate(self.steps):
            if s.index != i:
                problems.append(f"{STEPS}: step {i} carries index {s.index!r}")
        count = self.manifest.get("steps")
        if status != "running" and not self.line_problems and isinstance(count, int) and count != len(self.steps):
            problems.append(f"{MANIFEST}: says {count} steps, {STEPS} holds {len(self.steps)}")

        referenced: dict[str, list[str]] = {}
        for s in self.steps:
            for rel in s.assets():
                referenced.setdefault(rel, []).append(f"step {s.index}")
        final = self.manifest.get("final")
        if isinstance(final, dict) and final.get("asset"):
            referenced.setdefault(str(final["asset"]), []).append("manifest final")
        for rel, users in referenced.items():
            where = ", ".join(users)
            try:
                path = self.asset_path(rel)
            except BundleError as e:
                problems.append(f"{e} (used by {where})")
                continue
            if not path.is_file():
                problems.append(f"missing asset {rel} (used by {where})")

        adir = self.root / ASSETS
        if adir.is_symlink():
            problems.append(f"{ASSETS}/ is a symlink")
        elif adir.is_dir():
            for p in sorted(adir.iterdir()):
                if p.name.startswith("."):
                    continue  # an interrupted atomic write; never referenced
                problems += _check_asset(p)
        return problems

    def asset_path(self, rel: str) -> Path:
        """The file behind ``assets/...``; refuses anything that would leave the assets folder."""
        rel = str(rel)
        pure = PurePosixPath(rel)
        if (not rel or "\\" in rel or "\x00" in rel or pure.is_absolute() or _DRIVE.match(rel)
                or ".." in pure.parts or len(pure.parts) != 2 or pure.parts[0] != ASSETS):
            raise BundleError(f"unsafe asset path {rel!r}: it must be {ASSETS}/<name>")
        adir = self.root.resolve() / ASSETS  # the folder itself must not be a link either
        path = self.root / ASSETS / pure.parts[1]
        if path.is_symlink() or path.resolve().parent != adir:
            raise BundleError(f"asset {rel!r} is a link or points outside {ASSETS}/")
        return path

    @property
    def final_path(self) -> Path | None:
        final = self.manifest.get("final")
        if isinstance(final, dict) and final.get("asset"):
            return self.asset_path(final["asset"])
        return None

    @property
    def status(self) -> str | None:
        return self.manifest.get("status")

    def by_kind(self, kind: str) -> list[Step]:
        if kind not in STEP_KINDS:
            raise InputError("kind", f"unknown step kind {kind!r}", f"use one of {', '.join(STEP_KINDS)}")
        return [s for s in self.steps if s.kind == kind]

    def drafts(self) -> list[Step]:
        return self.by_kind("draft")

    def observations(self) -> list[Step]:
        return self.by_kind("observation")

    def thoughts(self) -> list[Step]:
        return self.by_kind("thought")

    @property
    def viewer_path(self) -> Path:
        return self.root / VIEWER


def _check_asset(p: Path) -> list[str]:
    rel = f"{ASSETS}/{p.name}"
    if p.is_symlink():
        return [f"{rel} is a symlink"]
    if not p.is_file():
        return [f"{rel} is not a regular file"]
    m = _ASSET_NAME.match(p.name)
    if not m:
        return [f"{rel}: name is not <sha256>.<ext>"]
    digest = sha256_file(p)
    if digest != m.group(1):
        return [f"{rel}: hash mismatch (content sha256 {digest[:12]}…), the file was changed"]
    return []


def _read_steps(path: Path, running: bool) -> tuple[list[Step], list[str]]:
    steps: list[Step] = []
    problems: list[str] = []
    if not path.is_file():
        return steps, [f"{STEPS} is missing"]
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()
    if tail.strip():
        if not running:
            problems.append(f"{STEPS}: torn last line ({len(tail)} bytes without a newline)")
        # a running writer may be mid-line: the partial line is simply not there yet
    for no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            if not isinstance(d, dict):
                raise ValueError(f"expected an object, got {type(d).__name__}")
            steps.append(Step.from_dict(d))
        except (ValueError, TypeError, KeyError) as e:
            problems.append(f"{STEPS}: line {no}: bad step ({e})")
    return steps, problems


def _open_folder(root: Path) -> Trace:
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{root}: no {MANIFEST}; this is not a trace bundle")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BundleError(f"{mpath}: unreadable manifest ({e})") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{mpath}: the manifest is not a JSON object")
    steps, problems = _read_steps(root / STEPS, manifest.get("status") == "running")
    return Trace(root, manifest, steps, problems)


# ------------------------------------------------------------------------ zip files
def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if not name or "\x00" in name or "\\" in name:
        return "has a backslash or NUL in its name"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "climbs out with '..'"
    if any(p in ("", ".") for p in parts):
        return "has an empty or '.' path component"
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a regular file or folder"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def _safe_extract(zpath: Path, dest: Path, max_entries: int, max_bytes: int) -> None:
    """Check every entry first, then stream them out with counted bytes; nothing lands outside ``dest``."""
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as e:
        raise BundleError(f"{zpath}: not a readable zip ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise BundleError(f"{zpath}: {len(infos)} entries, more than the {max_entries} a bundle may hold")
        seen: set[str] = set()
        total = 0
        for info in infos:
            why = _entry_problem(info)
            if why:
                raise BundleError(f"{zpath}: entry {info.filename!r} {why}; refusing to open it")
            key = info.filename.rstrip("/")
            if key in seen:
                raise BundleError(f"{zpath}: entry {info.filename!r} appears twice")
            seen.add(key)
            total += info.file_size
            if total > max_bytes:
                raise BundleError(f"{zpath}: entry {info.filename!r} takes the bundle past {max_bytes} bytes")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise BundleError(f"{zpath}: entry {info.filename!r} expands {info.file_size} bytes from "
                                  f"{info.compress_size}: a zip bomb")
        droot = dest.resolve()
        written = 0
        for info in infos:
            target = (dest / info.filename).resolve()
            if target != droot and droot not in target.parents:
                raise BundleError(f"{zpath}: entry {info.filename!r} would land outside {dest}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    left = info.file_size
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        left -= len(chunk)
                        written += len(chunk)
                        if left < 0 or written > max_bytes:
                            raise BundleError(f"{zpath}: entry {info.filename!r} is larger than it declares")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as e:
                raise BundleError(f"{zpath}: entry {info.filename!r} could not be read ({e})") from None


def _find_root(dest: Path) -> Path:
    if (dest / MANIFEST).is_file():
        return dest
    subs = [p for p in dest.iterdir() if p.is_dir() and (p / MANIFEST).is_file()]
    if len(subs) == 1:
        return subs[0]
    raise BundleError(f"the zip holds no {MANIFEST} at its top or in one top folder")


def load_trace(path: str | Path, verify: bool = True, dest: str | Path | None = None, *,
               max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> Trace:
    """Open a bundle folder or a ``.mmtrace`` zip.

    A zip is unpacked into ``dest`` (which must be empty or absent) or else into a new
    temporary folder that is left in place so the viewer and the assets stay usable.
    With ``verify`` every problem found raises one :class:`BundleError` listing them all.
    """
    src = Path(path)
    if not src.exists():
        raise InputError("bundle", f"{src} does not exist", "give a run folder or a .mmtrace file")
    if src.is_dir():
        trace = _open_folder(src)
    else:
        if not zipfile.is_zipfile(src):
            raise BundleError(f"{src}: neither a bundle folder nor a .mmtrace zip")
        made = dest is None
        if dest is None:
            out = Path(tempfile.mkdtemp(prefix="mmtrace-"))
        else:
            out = Path(dest)
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise InputError("dest", f"{out} is not an empty folder", "give a new or empty folder to unpack into")
            out.mkdir(parents=True, exist_ok=True)
        try:
            _safe_extract(src, out, max_entries, max_bytes)
            trace = _open_folder(_find_root(out))
        except BaseException:
            if made:
                shutil.rmtree(out, ignore_errors=True)
            else:
                _empty(out)
            raise
    if verify:
        problems = trace.verify()
        if problems:
            raise BundleError(f"{src}: {len(problems)} problem(s): " + "; ".join(problems))
    return trace


def _empty(folder: Path) -> None:
    """Remove what a failed unpack wrote into a folder the caller gave us (it was empty before)."""
    for p in folder.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


# ------------------------------------------------------------------------ export
def export_bundle(run_dir: str | Path, dest: str | Path | None = None) -> Path:
    """Zip a bundle folder as ``<run_dir>.mmtrace``; entries sit under ``<run-id>/``.

    ``dest`` with a file suffix (``x.mmtrace``, ``x.zip``) is the zip's path; an existing folder
    or a name without a suffix is a folder to put ``<run-id>.mmtrace`` in.
    """
    root = Path(run_dir)
    if not (root / MANIFEST).is_file():
        raise InputError("run_dir", f"{root} holds no {MANIFEST}", "give a run folder written by mmthink")
    root = root.resolve()
    if dest is None:
        out = root.with_name(root.name + ".mmtrace")
    else:
        out = Path(dest)
        if out.is_dir() or not out.suffix:
            out = out / (root.name + ".mmtrace")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    stored = {".png", ".jpg", ".jpeg", ".mp4", ".mp3", ".webm", ".ogg"}  # already compressed
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for p in sorted(root.rglob("*")):
                rel = p.relative_to(root)
                if p.is_symlink() or not p.is_file() or any(part.startswith(".") for part in rel.parts):
                    continue  # links are never exported; dot files are interrupted writes
                zf.write(p, f"{root.name}/{rel.as_posix()}",
                         compress_type=zipfile.ZIP_STORED if p.suffix.lower() in stored else zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
