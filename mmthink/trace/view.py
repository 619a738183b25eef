"""``mmthink view``: a fresh page rendered from verified data, in a folder mmthink owns.

A bundle's own ``index.html`` is whatever its maker put there, so it is never handed out. The
bundle (folder or zip, read in place) is verified in one pass; then each asset the page may
show is copied into the view folder while its sha256 is checked again (a file swapped after
the check is caught), and :func:`mmthink.trace.viewer.render` writes the page next to them.

The view folder is ``$MMTHINK_VIEW_DIR`` if set, else ``$XDG_CACHE_HOME/mmthink/views`` or
``~/.cache/mmthink/views``, else ``<tmp>/mmthink-views-<uid>``; it must be a real folder owned
by the user (mode 0700). Each bundle path has one sub-folder there, replaced at every view.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from mmthink.errors import BundleError, MMThinkError
from mmthink.trace.bundle import ASSET_NAME, bundle_path, check, open_source, refusal
from mmthink.trace.schema import ASSETS, VIEWER
from mmthink.trace.viewer import VIEWABLE, render

VIEW_DIR_ENV = "MMTHINK_VIEW_DIR"


def _own_folder(path: Path) -> Path:
    """``path`` made (0700) or checked: a real folder, not a link, owned by this user."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise OSError(f"{path} is a link or not a folder")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise OSError(f"{path} belongs to another user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def views_home() -> Path:
    """The folder view pages go in (see the module docstring)."""
    tried: list[str] = []
    env = os.environ.get(VIEW_DIR_ENV)
    candidates = [Path(env)] if env else []
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        candidates.append(Path(xdg) / "mmthink" / "views")
    try:
        candidates.append(Path.home() / ".cache" / "mmthink" / "views")
    except RuntimeError:  # no home directory
        pass
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    candidates.append(Path(tempfile.gettempdir()) / f"mmthink-views-{uid}")
    for c in candidates:
        try:
            return _own_folder(c)
        except OSError as e:
            tried.append(f"{c} ({e.strerror or e})")
        if env:  # a folder the user named must work; do not silently write elsewhere
            break
    raise MMThinkError(
        f"no folder to write the viewer page in: tried {'; '.join(tried)} (set {VIEW_DIR_ENV} to a folder you own)"
    )


def _slot(bundle: Path) -> str:
    key = hashlib.sha256(str(bundle.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", bundle.name)[:48].lstrip(".") or "bundle"
    return f"{name}-{key}"


def view_bundle(path: str | Path, home: str | Path | None = None) -> Path:
    """Verify the bundle at ``path`` and write a fresh viewer page for it; returns the page's path.

    Raises :class:`BundleError` if the bundle has any problem (nothing is written then), and
    :class:`MMThinkError` if the page cannot be written (disk full, read-only).
    """
    src_path = bundle_path(path)
    src = open_source(src_path)
    try:
        checked = check(src, keep_steps=True)
        if checked.problems:
            raise refusal(src_path, checked.problems)
        base = _own_folder(Path(home)) if home is not None else views_home()
        final = base / _slot(src_path)
        try:
            work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=base))
        except OSError as e:
            raise MMThinkError(f"cannot write the viewer page under {base} ({e.strerror or e})") from None
        try:
            (work / ASSETS).mkdir()
            for rel in sorted(checked.files):
                m = ASSET_NAME.match(rel.split("/", 1)[1]) if rel.startswith(ASSETS + "/") else None
                if m and m.group(2) in VIEWABLE:
                    _copy_checked(src, rel, work / rel, m.group(1))
            page = render(checked.manifest, checked.steps or [])
            (work / VIEWER).write_text(page, encoding="utf-8")
            _swap(work, final)
        except OSError as e:
            raise MMThinkError(f"cannot write the viewer page under {base} ({e.strerror or e})") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        src.close()
    return final / VIEWER


def _copy_checked(src: object, rel: str, target: Path, want: str) -> None:
    h = hashlib.sha256()
    with src.open(rel) as fin, open(target, "xb") as fout:  # type: ignore[attr-defined]
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            h.update(chunk)
            fout.write(chunk)
    if h.hexdigest() != want:
        raise BundleError(f"{rel}: hash mismatch while copying it for the viewer (the bundle changed)")


def _swap(work: Path, final: Path) -> None:
    """Put ``work`` where ``final`` is; the old page goes away (a reader mid-way keeps its open files)."""
    for _ in range(3):
        old = None
        if final.exists() or final.is_symlink():
            old = final.with_name(f".{final.name}.old.{os.getpid()}.{os.urandom(4).hex()}")
            os.rename(final, old)
        try:
            os.rename(work, final)
            return
        except OSError:
            continue  # another view put its page there in between: take its place next round
        finally:
            if old is not None:
                if old.is_symlink() or not old.is_dir():
                    old.unlink(missing_ok=True)
                else:
                    shutil.rmtree(old, ignore_errors=True)
    raise OSError(f"{final} kept changing while the page was written")
