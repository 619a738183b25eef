"""Checks for the values a caller hands in: text, whole numbers, seconds, callables, run folders.

Every public entry point (``Agent.from_profile``, ``run``/``stream``, ``resume``, the CLI) runs its
arguments through these before anything is written, so a wrong type, a number too big to store
in a checkpoint, a NaN, a byte that is not UTF-8 or an output folder that cannot be made ends in
one :class:`~mmthink.errors.InputError` naming the field and the fix, never in a traceback or a
half-made run folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmthink.errors import InputError

MAX_COUNT = 10**9
"""The largest whole-number setting accepted (token budgets, draft counts, best-of): checkpoints store
64-bit integers, and no run could use more."""
MAX_PATH_CHARS = 1024
"""The longest output folder accepted (most file systems refuse paths over 4096 bytes, names over 255)."""
MAX_NAME_BYTES = 255


def text(field: str, value: Any, *, fix: str = "", empty_ok: bool = True) -> str:
    """A string that can be written to a UTF-8 file and handed to a model: no NUL, no lone surrogates.

    A command line argument with an invalid UTF-8 byte reaches Python as a lone surrogate
    (``\\udcff``); it cannot be stored in a manifest, so it is refused here, before the run starts.
    """
    if not isinstance(value, str):
        raise InputError(field, f"must be a string, got {type(value).__name__}", fix)
    if "\x00" in value:
        raise InputError(field, "holds a NUL character", fix or "remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        bad = ord(value[e.start])
        what = (
            f"the byte 0x{bad - 0xDC00:02x}, which is not valid UTF-8"
            if 0xDC80 <= bad <= 0xDCFF
            else f"U+{bad:04X}, a lone surrogate that no UTF-8 file can hold"
        )
        raise InputError(field, f"holds {what}", fix or "pass the text as UTF-8") from None
    if not empty_ok and not value.strip():
        raise InputError(field, "is empty", fix)
    return value


def count(field: str, value: Any, *, lo: int = 0, hi: int = MAX_COUNT, fix: str = "") -> int:
    """A whole number in ``lo..hi``; an integer-valued string (from the CLI) is read as one."""
    if isinstance(value, bool):
        raise InputError(field, f"must be an integer, got {value!r}", fix or "e.g. 3")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InputError(field, f"must be an integer, got {value[:40]!r}", fix or "e.g. 3") from None
    if not isinstance(value, int):
        raise InputError(field, f"must be an integer, got {type(value).__name__}", fix or "e.g. 3")
    if not lo <= value <= hi:
        shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:12]}… ({len(str(value))} digits)"
        raise InputError(field, f"{shown} is outside {lo}..{hi}", fix or "pick a value in that range")
    return value


def seconds(field: str, value: Any, *, hi: float = 7 * 86400.0, fix: str = "") -> float:
    """A positive, finite number of seconds (NaN, infinities and overflowing literals such as 1e309 are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(field, f"must be a number of seconds, got {type(value).__name__}", fix or "e.g. 120")
    try:
        v = float(value)
    except OverflowError:
        raise InputError(field, "is too large", fix or f"use at most {hi:g}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(field, f"must be a positive, finite number, got {value!r}", fix or "e.g. 120")
    if v > hi:
        raise InputError(field, f"{v:g} is above {hi:g}", fix or f"use at most {hi:g}")
    return v


def callback(field: str, value: Any, fix: str = "") -> Callable[..., Any] | None:
    """None or something callable."""
    if value is not None and not callable(value):
        raise InputError(field, f"must be a callable or None, got {type(value).__name__}", fix)
    return value


def mapping(field: str, value: Any, fix: str = "") -> dict[str, Any]:
    """A dict with string keys (options passed through to a backend)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InputError(field, f"must be a dict of named options, got {type(value).__name__}", fix or "e.g. {}")
    return value


def path_arg(field: str, value: Any, fix: str = "") -> Path:
    """A path given as a string or a path object: non-empty, no NUL, valid UTF-8."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise InputError(field, f"must be a folder path (str or Path), got {type(value).__name__}", fix)
    text(field, value, fix=fix)
    if not value.strip():
        raise InputError(field, "is empty", fix or "give a folder, e.g. runs/")
    return Path(value)


def out_folder(field: str, value: Any) -> Path:
    """An output folder that can hold run folders: checked without creating anything.

    Refused: not a path, empty, too long (or a name too long for the file system), an existing
    file, a path under a file, or a folder (or its nearest existing parent) this process cannot write.
    """
    p = path_arg(field, value)
    raw = str(p)
    if len(raw) > MAX_PATH_CHARS:
        raise InputError(
            field, f"is {len(raw)} characters long, the limit is {MAX_PATH_CHARS}", "choose a shorter folder"
        )
    for part in p.parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise InputError(
                field,
                f"has a name of {len(part.encode('utf-8'))} bytes, file systems allow {MAX_NAME_BYTES}",
                "choose shorter folder names",
            )
    p = p.expanduser()
    probe = p
    while True:
        try:
            if probe.exists() or probe.is_symlink():
                break
        except OSError as e:
            raise InputError(field, f"cannot be checked ({e.strerror or e})", "choose another folder") from None
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == p else f"is under {probe}, which is a file"
        raise InputError(field, f"{raw!r} {where}", "give a folder; it is created if missing")
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == p else f" (its nearest existing folder {probe})"
        raise InputError(field, f"{raw!r}{where} is not writable", "choose a folder you can write to")
    return p
