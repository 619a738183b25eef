"""Reading a bundle's files safely, from a folder or straight from a ``.mmtrace`` zip.

A bundle is data from elsewhere. This module is the one place that looks at its files:

* :class:`FolderSource` walks a folder without following a link (a link anywhere is a problem)
  and opens files with ``O_NOFOLLOW``;
* :class:`ZipSource` reads a zip in place, nothing unpacked: the entry count is taken from the
  end-of-central-directory record before the central directory is parsed, and names, sizes and
  compression ratios (each entry and all together) are checked before a byte is decompressed;
* :func:`check` runs every check over either source in one streaming pass: the manifest, each
  line of ``steps.jsonl`` (one line in memory at a time), every asset reference, every file's
  place in the layout and every asset's sha256. Problems are counted, and the first
  :data:`MAX_PROBLEMS` kept as sentences, so a bundle with a million bad lines costs no memory.

The layout is closed: ``manifest.json``, ``steps.jsonl``, ``index.html`` and
``assets/<sha256>.<ext>``. Names starting with ``.`` are the writer's private files (the
checkpoint, interrupted atomic writes): never opened, never exported. Anything else is reported.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from mmthink.errors import BundleError, InputError
from mmthink.trace.jsonio import iter_lines, loads, read_json_file
from mmthink.trace.schema import ASSETS, MANIFEST, OPEN_STATUSES, SCHEMA, STATUSES, STEPS, VIEWER, Step

MAX_ENTRIES = 10_000
"""Entries a .mmtrace zip may hold (files in a folder bundle, too)."""
MAX_BYTES = 4 * 1024**3
"""Uncompressed bytes a .mmtrace zip may expand to, all entries together."""
MAX_RATIO = 200
"""Largest compression ratio of one entry above :data:`RATIO_FLOOR` bytes (deflate bombs)."""
MAX_TOTAL_RATIO = 50
"""Largest compression ratio of all entries together, once they expand past :data:`RATIO_FLOOR`.
A real bundle is mostly PNG, MP4 and WAV, which barely compress; many small bombs add up here."""
RATIO_FLOOR = 1024**2
MAX_NAME = 255
"""Longest entry name in a zip (real ones are under 160 characters)."""
MAX_PROBLEMS = 20
"""Problems kept as sentences; the rest are counted."""

ASSET_NAME = re.compile(r"^([0-9a-f]{64})\.([a-z0-9]{1,8})$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_TOP_FILES = (MANIFEST, STEPS, VIEWER)


# --------------------------------------------------------------------------- problems
class Problems:
    """A capped list of sentences plus the count of everything reported."""

    def __init__(self, cap: int = MAX_PROBLEMS) -> None:
        self.cap = cap
        self.items: list[str] = []
        self.count = 0

    def add(self, sentence: str) -> None:
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append(sentence)

    def add_uncounted(self, n: int) -> None:
        """Count ``n`` more problems that are not listed."""
        self.count += n

    def __bool__(self) -> bool:
        return self.count > 0

    def lines(self) -> list[str]:
        more = self.count - len(self.items)
        return self.items + ([f"... and {more} more problem(s) not listed"] if more else [])


def asset_rel_problem(rel: Any) -> str | None:
    """Why ``rel`` is not a safe ``assets/<name>`` reference, or None."""
    if not isinstance(rel, str):
        return f"asset reference {rel!r} is not a string"
    pure = PurePosixPath(rel)
    if (
        not rel
        or "\\" in rel
        or "\x00" in rel
        or pure.is_absolute()
        or _DRIVE.match(rel)
        or ".." in pure.parts
        or len(pure.parts) != 2
        or pure.parts[0] != ASSETS
        or rel != pure.as_posix()
    ):
        return f"unsafe asset path {rel!r}: it must be {ASSETS}/<name>"
    return None


def layout_problem(name: str) -> str | None:
    """Why a file named ``name`` (relative, posix) has no place in a bundle, or None."""
    if name in _TOP_FILES:
        return None
    parts = name.split("/")
    if len(parts) == 2 and parts[0] == ASSETS:
        if ASSET_NAME.match(parts[1]):
            return None
        return f"{name!r}: name is not <sha256>.<ext>"
    return f"unknown file {name!r}: not part of a {SCHEMA} bundle (remove it)"


# --------------------------------------------------------------------------- sources
class FolderSource:
    """A bundle folder, walked without following links."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)

    def inventory(self, problems: Problems, max_entries: int = MAX_ENTRIES) -> dict[str, int]:
        """``{relative name: size}`` of the bundle's regular files; links and odd files are problems."""
        files: dict[str, int] = {}
        seen = 0
        stack = [("", self.root)]
        while stack:
            rel_dir, folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except OSError as err:
                problems.add(f"{rel_dir or '.'}: cannot list the folder ({err.strerror})")
                continue
            for e in entries:
                seen += 1
                if seen > max_entries:
                    raise BundleError(f"{self.label}: more than {max_entries} files; this is not a trace bundle")
                rel = f"{rel_dir}{e.name}"
                if e.is_symlink():
                    problems.add(f"{rel} is a symlink (a bundle holds no links)")
                    continue
                if e.name.startswith("."):
                    continue  # the writer's private files: never part of the bundle
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError as err:
                    problems.add(f"{rel}: cannot read it ({err.strerror})")
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if rel == ASSETS:
                        stack.append((rel + "/", Path(e.path)))
                    else:
                        problems.add(f"unknown folder {rel!r}: not part of a {SCHEMA} bundle (remove it)")
                elif stat.S_ISREG(st.st_mode):
                    files[rel] = st.st_size
                else:
                    problems.add(f"{rel} is not a regular file")
        return files

    def open(self, name: str) -> IO[bytes]:
        """Open a file the inventory listed; a link put there since is refused by ``O_NOFOLLOW``."""
        path = self.root.joinpath(*name.split("/"))
        try:
            if name.startswith(ASSETS + "/") and (self.root / ASSETS).is_symlink():
                raise OSError("the assets folder is a link")
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise OSError("not a regular file")
            return os.fdopen(fd, "rb")
        except OSError as e:
            raise BundleError(f"{name}: cannot open it safely ({e.strerror or e})") from None

    def close(self) -> None:
        pass


def _eocd_count(path: Path) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-central-directory record, parsing nothing else."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        back = min(size, 22 + 0xFFFF)
        f.seek(size - back)
        tail = f.read(back)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise BundleError(f"{path}: neither a bundle folder nor a .mmtrace zip (no zip directory at its end)")
        _, _, _, _, count, cd_size, _, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
        if count == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64: the real numbers are in the zip64 record
            loc = tail[at - 20 : at] if at >= 20 else b""
            if len(loc) != 20 or loc[:4] != b"PK\x06\x07":
                raise BundleError(f"{path}: a damaged zip64 directory")
            _, _, rec_at, _ = struct.unpack("<4sLQL", loc)
            if rec_at > size - 56:
                raise BundleError(f"{path}: a damaged zip64 directory")
            f.seek(rec_at)
            rec = f.read(56)
            if len(rec) != 56 or rec[:4] != b"PK\x06\x06":
                raise BundleError(f"{path}: a damaged zip64 directory")
            _, _, _, _, _, _, _, count, cd_size, _ = struct.unpack("<4sQ2H2L4Q", rec)
    return count, cd_size


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if not name or "\x00" in name or "\\" in name:
        return "has a backslash or NUL in its name"
    if len(name) > MAX_NAME:
        return f"has a name longer than {MAX_NAME} characters"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path"
    parts = (name[:-1] if name.endswith("/") else name).split("/")  # one trailing "/" marks a folder
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
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"uses compression method {info.compress_type} (a bundle uses stored or deflate)"
    return None


class ZipSource:
    """A ``.mmtrace`` zip read in place: every guard runs before a byte is decompressed."""

    def __init__(self, path: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.label = str(path)
        count, cd_size = _eocd_count(path)
        if count > max_entries:
            raise BundleError(f"{path}: {count} entries, more than the {max_entries} a bundle may hold")
        if cd_size > max(1, count) * (46 + 3 * MAX_NAME + 64) + 0xFFFF:
            raise BundleError(f"{path}: a zip directory of {cd_size} bytes for {count} entries")
        try:
            self.zf = zipfile.ZipFile(path)
        except Exception as e:  # a hostile directory can upset zipfile in many ways; none may be a traceback
            raise BundleError(f"{path}: not a readable zip ({type(e).__name__}: {e})") from None
        try:
            self.entries, self.prefix = self._check(self.zf.infolist(), max_entries, max_bytes)
        except BaseException:
            self.zf.close()
            raise

    def _check(
        self, infos: list[zipfile.ZipInfo], max_entries: int, max_bytes: int
    ) -> tuple[dict[str, zipfile.ZipInfo], str]:
        path = self.path
        if len(infos) > max_entries:
            raise BundleError(f"{path}: {len(infos)} entries, more than the {max_entries} a bundle may hold")
        seen: set[str] = set()
        files: set[str] = set()
        folders: set[str] = set()
        total = packed = 0
        for info in infos:
            why = _entry_problem(info)
            if why:
                raise BundleError(f"{path}: entry {info.filename!r} {why}; refusing to open it")
            key = info.filename.rstrip("/")
            if key in seen:
                raise BundleError(f"{path}: entry {info.filename!r} appears twice")
            seen.add(key)
            parts = key.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            if info.is_dir():
                folders.add(key)
            else:
                files.add(key)
            total += info.file_size
            packed += info.compress_size
            if total > max_bytes:
                raise BundleError(f"{path}: entry {info.filename!r} takes the bundle past {max_bytes} bytes")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise BundleError(
                    f"{path}: entry {info.filename!r} expands {info.file_size} bytes from "
                    f"{info.compress_size}: a zip bomb"
                )
        both = files & folders
        if both:
            raise BundleError(f"{path}: entry {sorted(both)[0]!r} is both a file and a folder")
        if total > RATIO_FLOOR and total > MAX_TOTAL_RATIO * max(1, packed):
            raise BundleError(f"{path}: {len(infos)} entries expand {total} bytes from {packed}: a zip bomb")
        if MANIFEST in files:
            prefix = ""
        else:
            tops = sorted(k[: -len(MANIFEST) - 1] for k in files if k.count("/") == 1 and k.endswith("/" + MANIFEST))
            if len(tops) != 1:
                raise BundleError(f"{path}: the zip holds no {MANIFEST} at its top or in one top folder")
            prefix = tops[0] + "/"
        self.folders = sorted(i.filename.rstrip("/") for i in infos if i.is_dir())
        return {i.filename: i for i in infos if not i.is_dir()}, prefix

    def inventory(self, problems: Problems, max_entries: int = MAX_ENTRIES) -> dict[str, int]:
        files: dict[str, int] = {}
        for name, info in self.entries.items():
            if not name.startswith(self.prefix):
                problems.add(f"unknown file {name!r} outside the bundle folder {self.prefix!r}")
                continue
            rel = name[len(self.prefix) :]
            if _private(rel):
                continue  # private files of a writer; never opened
            if "/" in rel and rel.split("/")[0] != ASSETS or rel.count("/") > 1:
                problems.add(f"unknown file {rel!r}: not part of a {SCHEMA} bundle (remove it)")
                continue
            files[rel] = info.file_size
        for name in self.folders:
            rel = name[len(self.prefix) :] if (name + "/").startswith(self.prefix) else name
            if (name + "/") == self.prefix or rel == ASSETS or _private(rel):
                continue
            problems.add(f"unknown folder {rel!r}: not part of a {SCHEMA} bundle (remove it)")
        return files

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.zf.open(self.entries[self.prefix + name])
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError) as e:
            raise BundleError(f"{name}: cannot be read from {self.path} ({e})") from None

    def close(self) -> None:
        self.zf.close()


Source = FolderSource | ZipSource


def bundle_path(path: Any) -> Path:
    """``path`` as a Path to something that exists; an InputError (exit 2) otherwise."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InputError(
            "bundle",
            f"must be a path, got {type(path).__name__} {path!r}"[:120],
            "give a run folder or a .mmtrace file",
        )
    src = Path(path)
    try:
        there = src.exists()
    except (OSError, ValueError) as e:  # a name too long for the file system, a NUL in it
        raise InputError(
            "bundle",
            f"cannot open {str(path)[:80]!r} ({getattr(e, 'strerror', None) or e})",
            "give a run folder or a .mmtrace file",
        ) from None
    if not there:
        raise InputError("bundle", f"{src} does not exist", "give a run folder or a .mmtrace file")
    return src


def refusal(src: Path, problems: Problems) -> BundleError:
    """One BundleError naming the first problems found in ``src`` and their count."""
    return BundleError(f"{src}: {problems.count} problem(s): " + "; ".join(problems.lines()))


def open_source(path: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> Source:
    """A folder or a zip; anything else is a :class:`BundleError`."""
    if path.is_dir():
        return FolderSource(path.resolve())
    if not path.is_file():
        raise BundleError(f"{path}: neither a bundle folder nor a .mmtrace zip")
    return ZipSource(path, max_entries, max_bytes)


# --------------------------------------------------------------------------- reading data
READ_ERRORS = (OSError, zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError)


def read_manifest(src: Source, files: dict[str, int]) -> dict[str, Any]:
    if MANIFEST not in files:
        raise BundleError(f"{src.label}: no {MANIFEST}; this is not a trace bundle")
    try:
        with src.open(MANIFEST) as f:
            manifest = read_json_file(f)
    except (ValueError, *READ_ERRORS) as e:
        raise BundleError(f"{src.label}: unreadable {MANIFEST} ({e})") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{src.label}: {MANIFEST} is not a JSON object")
    return manifest


def iter_steps(src: Source, files: dict[str, int], running: bool, problems: Problems) -> Iterator[tuple[int, Step]]:
    """``(line number, step)`` for each good line; bad and torn lines go to ``problems``."""
    if STEPS not in files:
        problems.add(f"{STEPS} is missing")
        return
    try:
        with src.open(STEPS) as f:
            for no, raw, ended in iter_lines(f):
                if raw is None:
                    problems.add(f"{STEPS}: line {no}: longer than a step may be")
                    continue
                if not ended:
                    if raw.strip() and not running:
                        problems.add(f"{STEPS}: torn last line ({len(raw)} bytes without a newline)")
                    continue  # a running writer may be mid-line: the partial line is not there yet
                if not raw.strip():
                    continue
                try:
                    step = Step.from_dict(loads(raw))
                except (ValueError, TypeError, KeyError) as e:
                    problems.add(f"{STEPS}: line {no}: bad step ({e})")
                    continue
                yield no, step
    except READ_ERRORS as e:
        problems.add(f"{STEPS}: could not be read to the end ({e})")


def sha256_of(src: Source, name: str) -> str:
    h = hashlib.sha256()
    with src.open(name) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- the checks
@dataclass
class Checker:
    """Every check of a bundle, fed one step at a time so nothing has to be held."""

    files: dict[str, int]
    manifest: dict[str, Any]
    problems: Problems = field(default_factory=Problems)
    steps: int = 0
    bad_lines: int = 0
    _missing: dict[str, list[str]] = field(default_factory=dict)

    def check_manifest(self) -> None:
        schema, status = self.manifest.get("schema"), self.manifest.get("status")
        if schema != SCHEMA:
            self.problems.add(f"{MANIFEST}: unknown schema {schema!r} (expected {SCHEMA!r})")
        if status not in STATUSES:
            self.problems.add(f"{MANIFEST}: unknown status {status!r}")
        final = self.manifest.get("final")
        if final is not None and not isinstance(final, dict):
            self.problems.add(f"{MANIFEST}: final must be an object")
        elif isinstance(final, dict) and final.get("asset") is not None:
            self._ref(final["asset"], "manifest final")

    def step(self, step: Step) -> None:
        if step.index != self.steps:
            self.problems.add(f"{STEPS}: step {self.steps} carries index {step.index!r}")
        for rel in step.assets():
            self._ref(rel, f"step {self.steps}")
        self.steps += 1

    def _ref(self, rel: Any, user: str) -> None:
        why = asset_rel_problem(rel)
        if why:
            self.problems.add(f"{why} (used by {user})")
        elif rel not in self.files:
            users = self._missing.get(rel)
            if users is None and len(self._missing) < 4 * MAX_PROBLEMS:
                self._missing[rel] = users = []
            elif users is None:
                self.problems.add(f"missing asset {rel} (used by {user})")
                return
            if len(users) < 5:
                users.append(user)
            elif len(users) == 5:
                users.append("…")

    def finish(self, src: Source | None, line_problems: int = 0) -> None:
        """The checks that need every step seen: counts, missing assets, then each asset's hash."""
        for rel, users in self._missing.items():
            self.problems.add(f"missing asset {rel} (used by {', '.join(users)})")
        count, status = self.manifest.get("steps"), self.manifest.get("status")
        if status not in OPEN_STATUSES and not line_problems and isinstance(count, int) and count != self.steps:
            self.problems.add(f"{MANIFEST}: says {count} steps, {STEPS} holds {self.steps}")
        for name in sorted(self.files):
            why = layout_problem(name)
            if why:
                self.problems.add(why)
            elif name.startswith(ASSETS + "/") and src is not None:
                want = ASSET_NAME.match(name.split("/")[1]).group(1)  # type: ignore[union-attr]
                try:
                    got = sha256_of(src, name)
                except BundleError as e:
                    self.problems.add(str(e))
                    continue
                except READ_ERRORS as e:
                    self.problems.add(f"{name}: could not be read ({e})")
                    continue
                if got != want:
                    self.problems.add(f"{name}: hash mismatch (content sha256 {got[:12]}…), the file was changed")


@dataclass
class Checked:
    """What one pass over a bundle found."""

    manifest: dict[str, Any]
    files: dict[str, int]
    steps: list[Step] | None
    step_count: int
    problems: Problems
    line_problems: list[str]


def check(src: Source, *, keep_steps: bool = False, hash_assets: bool = True) -> Checked:
    """One streaming pass over ``src``: fatal damage raises BundleError, the rest is counted in ``problems``."""
    problems = Problems()
    files = src.inventory(problems)
    if MANIFEST not in files and problems:  # say why (a link, say) rather than only that it is missing
        raise BundleError(f"{src.label}: no readable {MANIFEST}: " + "; ".join(problems.lines()))
    manifest = read_manifest(src, files)
    checker = Checker(files, manifest, problems)
    checker.check_manifest()
    line_problems = Problems()
    kept: list[Step] | None = [] if keep_steps else None
    for _, step in iter_steps(src, files, manifest.get("status") in OPEN_STATUSES, line_problems):
        checker.step(step)
        if kept is not None:
            kept.append(step)
    for p in line_problems.items:
        problems.add(p)
    problems.add_uncounted(line_problems.count - len(line_problems.items))
    checker.finish(src if hash_assets else None, line_problems.count)
    return Checked(manifest, files, kept, checker.steps, problems, line_problems.lines())


def _private(rel: str) -> bool:
    """A writer's private file: a dot name at the top of the run folder, or an interrupted write in assets/."""
    parts = rel.split("/")
    return parts[0].startswith(".") or (len(parts) == 2 and parts[0] == ASSETS and parts[1].startswith("."))
