"""The one place trace JSON is written and read.

Writing: :func:`jsonable` is the one sanitiser for everything that goes into a bundle (numpy
scalars and arrays, dataclasses, paths, bytes). NaN and Infinity are not JSON and browsers'
``JSON.parse`` refuses them, so the writer never writes them: each becomes ``null`` and its
path is recorded (``Step.nulled`` for a step, ``"nulled"`` in the manifest) so a reader can
tell a missing measurement from one that was not a number. Values nested deeper than
:data:`MAX_DEPTH` (or cyclic ones) become a short marker string, recorded the same way, so a
strange metric can never crash a run.

Reading: :func:`loads` is strict. It refuses the ``NaN``/``Infinity`` literals Python's json
module accepts by default, refuses nesting deeper than :data:`MAX_DEPTH` without recursing,
and raises only :class:`ValueError`. :func:`iter_lines` streams a JSON-lines file with a cap on
each line, so a huge ``steps.jsonl`` costs one line of memory at a time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a bundle (a real step is about 6 deep)."""
MAX_LINE = 64 * 1024**2
"""Longest ``steps.jsonl`` line read (bytes); media never sits inside a step, so real lines are small."""
MAX_MANIFEST = 16 * 1024**2
"""Largest ``manifest.json`` read (bytes)."""


# --------------------------------------------------------------------------- writing
def jsonable(obj: Any, nulled: list[str] | None = None, _path: str = "", _depth: int = 0) -> Any:
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` and browsers' ``JSON.parse`` accept.

    Non-finite floats become ``None``; when ``nulled`` is given, the path of each one (``a.b[2]``)
    is appended to it. Unknown objects become their ``str``.
    """
    if obj is None or type(obj) in (bool, str, int):
        return obj
    if isinstance(obj, (bool, str, int)):  # IntEnum, str enums and other subclasses, as the plain type
        return _plain(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        if nulled is not None:
            nulled.append(_path or "(value)")
        return None
    if _depth >= MAX_DEPTH:
        if nulled is not None:
            nulled.append(_path or "(value)")
        return "<nested too deeply>"
    if isinstance(obj, dict):
        return {str(k): jsonable(v, nulled, f"{_path}.{k}" if _path else str(k), _depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v, nulled, f"{_path}[{i}]", _depth + 1) for i, v in enumerate(obj)]
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj), nulled, _path, _depth + 1)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return f"<{len(obj)} bytes>"
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item) and getattr(obj, "ndim", 0) == 0:
        try:
            return jsonable(item(), nulled, _path, _depth + 1)
        except (TypeError, ValueError):
            pass
    tolist = getattr(obj, "tolist", None)  # numpy arrays
    if callable(tolist):
        try:
            return jsonable(tolist(), nulled, _path, _depth + 1)
        except (TypeError, ValueError):
            pass
    return str(obj)


def _plain(obj: Any) -> Any:
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    return str(obj)


def dumps(obj: Any, indent: int | None = None, nulled: list[str] | None = None) -> str:
    """JSON text for a bundle: sanitised by :func:`jsonable`, never NaN or Infinity."""
    return json.dumps(jsonable(obj, nulled), ensure_ascii=False, indent=indent, allow_nan=False)


def script_safe(obj: Any) -> str:
    """JSON text that can sit inside an HTML ``<script>`` element: no ``<``, ``>`` or ``&`` in it."""
    text = json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------- reading
def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (a bundle never holds NaN or Infinity)")


def _depth_ok(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > MAX_DEPTH:
            return False
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))
    return True


def loads(data: str | bytes) -> Any:
    """Strict JSON: no NaN/Infinity literals, at most :data:`MAX_DEPTH` deep; every failure is a ValueError."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"not UTF-8 ({e.reason} at byte {e.start})") from None
    opens = data.count("[") + data.count("{")
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} deep") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if opens > MAX_DEPTH and not _depth_ok(value):  # fewer brackets than that cannot nest that deep
        raise ValueError(f"nested more than {MAX_DEPTH} deep")
    return value


def read_json_file(stream: IO[bytes], limit: int = MAX_MANIFEST) -> Any:
    """One JSON document from a binary stream, refusing more than ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes")
    return loads(data)


def iter_lines(stream: IO[bytes], limit: int = MAX_LINE) -> Iterator[tuple[int, bytes | None, bool]]:
    """``(line number, raw line, ended with a newline)`` for each line, one in memory at a time.

    A line longer than ``limit`` is skipped to its end and yielded as ``None`` so the caller can
    report it; the last line without a newline (a torn write) has ``ended`` False.
    """
    no = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        no += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while True:  # drain the rest of an over-long line without keeping it
                more = stream.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield no, None, True
            continue
        if raw.endswith(b"\n"):
            yield no, raw[:-1], True
        else:
            yield no, raw, False
