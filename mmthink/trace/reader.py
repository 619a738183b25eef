"""Opening a trace bundle someone else made, safely.

A bundle is data from elsewhere: loading parses JSON only (no pickle, no code), refuses any
path that would land outside the bundle, refuses zip bombs before writing a byte, and checks
every asset against the sha256 in its name so a tampered image or recording is caught. The
file-level work (walking a folder without following links, reading a zip in place, the
streaming checks) is in :mod:`mmthink.trace.bundle`; this module holds the public API.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mmthink.errors import BundleError, InputError
from mmthink.trace.bundle import (
    MAX_BYTES,
    MAX_ENTRIES,
    MAX_RATIO,
    MAX_TOTAL_RATIO,
    RATIO_FLOOR,
    READ_ERRORS,
    Checker,
    FolderSource,
    Problems,
    ZipSource,
    asset_rel_problem,
    bundle_path,
    check,
    layout_problem,
    open_source,
    refusal,
)
from mmthink.trace.schema import ASSETS, MANIFEST, STEP_KINDS, VIEWER, Step
from mmthink.trace.writer import sha256_file

__all__ = [
    "MAX_BYTES",
    "MAX_ENTRIES",
    "MAX_RATIO",
    "MAX_TOTAL_RATIO",
    "RATIO_FLOOR",
    "Report",
    "Trace",
    "export_bundle",
    "load_trace",
    "sha256_file",
    "verify_bundle",
]


@dataclass
class Trace:
    """A loaded bundle: the manifest, the steps in order, and where the files are.

    A zip loaded without ``dest`` is unpacked into a temporary folder this object owns; ``close()``
    (or a ``with`` block) removes it.
    """

    root: Path
    manifest: dict[str, Any]
    steps: list[Step]
    line_problems: list[str] = field(default_factory=list)  # step lines that could not be read (capped)
    owned: Path | None = field(default=None, repr=False)  # a temporary folder to remove on close()

    def verify(self) -> list[str]:
        """Everything wrong with the bundle, as sentences (the first 20 and a count); empty when intact."""
        src = FolderSource(self.root.resolve())
        problems = Problems()
        files = src.inventory(problems)
        checker = Checker(files, self.manifest, problems)
        checker.check_manifest()
        for p in self.line_problems:
            problems.add(p)
        for s in self.steps:
            checker.step(s)
        checker.finish(src, len(self.line_problems))
        return problems.lines()

    def asset_path(self, rel: str) -> Path:
        """The file behind ``assets/...``; refuses anything that would leave the assets folder."""
        why = asset_rel_problem(rel)
        if why:
            raise BundleError(why)
        pure = PurePosixPath(rel)
        adir = self.root.resolve() / ASSETS  # the folder itself must not be a link either
        path = self.root / ASSETS / pure.parts[1]
        if path.is_symlink() or (self.root / ASSETS).is_symlink() or path.resolve().parent != adir:
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
        """The bundle's own page. Made by its writer: open it only for your own runs (``mmthink view``
        renders a fresh page from verified data instead)."""
        return self.root / VIEWER

    def close(self) -> None:
        """Remove the temporary folder a zip was unpacked into (nothing for a folder or a given ``dest``)."""
        if self.owned is not None:
            shutil.rmtree(self.owned, ignore_errors=True)
            self.owned = None

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass
class Report:
    """What ``verify_bundle`` found: the first problems as sentences and how many there were."""

    path: Path
    status: Any
    steps: int
    problems: list[str]
    count: int

    @property
    def ok(self) -> bool:
        return self.count == 0


def verify_bundle(path: str | Path, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> Report:
    """Check a folder or a ``.mmtrace`` zip in one streaming pass, writing nothing anywhere.

    Memory stays bounded whatever the size of ``steps.jsonl``: one line is held at a time and
    only the first problems are kept as sentences. Damage that leaves nothing to check (no
    manifest, a zip bomb, not a zip) raises :class:`BundleError`.
    """
    src_path = bundle_path(path)
    src = open_source(src_path, max_entries, max_bytes)
    try:
        checked = check(src)
    finally:
        src.close()
    return Report(
        src_path, checked.manifest.get("status"), checked.step_count, checked.problems.lines(), checked.problems.count
    )


def _load_folder(root: Path, verify: bool, label: Path) -> Trace:
    source = FolderSource(root.resolve())
    checked = check(source, keep_steps=True, hash_assets=verify)
    if verify and checked.problems:
        raise refusal(label, checked.problems)
    return Trace(root, checked.manifest, checked.steps or [], checked.line_problems)


def _extract(src: ZipSource, out: Path) -> Path:
    """Write the bundle's known files (never an unknown or private one) under ``out``; returns the root."""
    root = out.joinpath(*src.prefix.rstrip("/").split("/")) if src.prefix else out
    (root / ASSETS).mkdir(parents=True, exist_ok=True)
    for name in sorted(src.inventory(Problems())):
        if layout_problem(name):
            continue
        target = root.joinpath(*name.split("/"))
        with src.open(name) as fin, open(target, "xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    return root


def _check_load_args(verify: Any, dest: Any, max_entries: Any, max_bytes: Any) -> None:
    """load_trace's options have the types they document (an InputError naming the one that does not)."""
    from mmthink.inputs import count, path_arg

    if not isinstance(verify, bool):
        raise InputError("verify", f"must be True or False, got {type(verify).__name__}")
    if dest is not None:
        path_arg("dest", dest, "a new or empty folder to unpack into")
    count("max_entries", max_entries, lo=1, hi=10**9)
    count("max_bytes", max_bytes, lo=1, hi=2**62)
    if isinstance(max_entries, str) or isinstance(max_bytes, str):
        raise InputError("max_entries" if isinstance(max_entries, str) else "max_bytes", "must be an integer, not text")


def load_trace(
    path: str | Path,
    verify: bool = True,
    dest: str | Path | None = None,
    *,
    max_entries: int = MAX_ENTRIES,
    max_bytes: int = MAX_BYTES,
) -> Trace:
    """Open a bundle folder or a ``.mmtrace`` zip.

    A zip is checked in place first (entry count, names, sizes and compression ratios, and with
    ``verify`` every line and asset hash) and only then unpacked, into ``dest`` (which must be
    empty or absent) or else into a new temporary folder owned by the returned :class:`Trace`
    (``close()`` or a ``with`` block removes it). Whatever goes wrong, nothing unpacked is left behind.
    With ``verify`` every problem found raises one :class:`BundleError` listing the first of them.
    """
    _check_load_args(verify, dest, max_entries, max_bytes)
    src = bundle_path(path)
    if src.is_dir():
        return _load_folder(src, verify, src)
    zsrc = ZipSource(src, max_entries, max_bytes) if src.is_file() else open_source(src)
    assert isinstance(zsrc, ZipSource)
    try:
        if verify:
            checked = check(zsrc)
            if checked.problems:
                raise refusal(src, checked.problems)
        made = dest is None
        if dest is None:
            out = Path(tempfile.mkdtemp(prefix="mmtrace-"))
        else:
            out = Path(dest)
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise InputError("dest", f"{out} is not an empty folder", "give a new or empty folder to unpack into")
            out.mkdir(parents=True, exist_ok=True)
        try:
            root = _extract(zsrc, out)
            trace = _load_folder(root, False, src)
            trace.owned = out if made else None
            return trace
        except BaseException as e:
            if made:
                shutil.rmtree(out, ignore_errors=True)
            else:
                _empty(out)
            if isinstance(e, READ_ERRORS):
                why = e.strerror if isinstance(e, OSError) and e.strerror else e
                raise BundleError(f"{src}: could not be unpacked into {out} ({why})") from None
            raise
    finally:
        zsrc.close()


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
                zf.write(
                    p,
                    f"{root.name}/{rel.as_posix()}",
                    compress_type=zipfile.ZIP_STORED if p.suffix.lower() in stored else zipfile.ZIP_DEFLATED,
                )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
