"""The trace data model: what one step of a run looks like on disk.

A step is one line of ``steps.jsonl``. Media never sits inside a step: a part points at
``assets/<sha256>.<ext>`` so a bundle can be verified file by file.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA = "mmthink.trace/1"

# the files of a bundle; anything else in a bundle is unknown (names starting with "." are the
# writer's private files: the checkpoint, interrupted atomic writes; they are never part of a bundle)
MANIFEST = "manifest.json"
STEPS = "steps.jsonl"
ASSETS = "assets"
VIEWER = "index.html"
FINAL_STATUSES = ("succeeded", "unmet", "refused", "failed", "stopped")
"""How a run can end (mmthink.core.status says what each means)."""
OPEN_STATUSES = ("running", "awaiting_review")
"""A run not ended: going (or killed), or paused for a person's review decision."""
STATUSES = OPEN_STATUSES + FINAL_STATUSES

StepKind = Literal["thought", "draft", "observation", "decision", "final", "error"]
STEP_KINDS: tuple[str, ...] = ("thought", "draft", "observation", "decision", "final", "error")
PartType = Literal["text", "reasoning", "image", "audio", "video", "table"]
MIME = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "json": "application/json",
}


@dataclass
class Part:
    """One piece of a step's content: text, or a pointer to a media asset."""

    type: str
    text: str | None = None
    asset: str | None = None  # "assets/<sha256>.<ext>"
    mime: str | None = None
    rows: list[dict[str, Any]] | None = None  # for type="table"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Step:
    """One thing that happened in a run, appended to the trace as it happens."""

    kind: str
    node: str
    title: str = ""
    parts: list[Part] = field(default_factory=list)
    ref: str | None = None  # the draft id this step is about (s1, a2, f3 ...)
    score: float | None = None
    passed: bool | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    index: int | None = None  # assigned by the writer
    nulled: list[str] = field(default_factory=list)  # paths of NaN/Infinity values written as null

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.parts if p.text and p.type in ("text", "reasoning"))

    def assets(self) -> list[str]:
        return [p.asset for p in self.parts if p.asset]

    def to_dict(self) -> dict[str, Any]:
        d = {
            "index": self.index,
            "kind": self.kind,
            "node": self.node,
            "title": self.title,
            "parts": [p.to_dict() for p in self.parts],
            "ref": self.ref,
            "score": self.score,
            "passed": self.passed,
            "metrics": self.metrics,
            "started": self.started,
            "ended": self.ended if self.ended is not None else time.time(),
            "nulled": self.nulled or None,
        }
        return {k: v for k, v in d.items() if v is not None and v != {} or k in ("index", "kind", "parts")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        """A step from its JSON form; a ValueError names the first field of the wrong type."""
        if not isinstance(d, dict):
            raise ValueError(f"a step must be an object, got {_type(d)}")
        if d.get("kind") not in STEP_KINDS:
            raise ValueError(f"unknown step kind {_short(d.get('kind'))}")
        raw_parts = d.get("parts", [])
        if not isinstance(raw_parts, list):
            raise ValueError(f"parts must be a list, got {_type(raw_parts)}")
        parts = [_part(p, i) for i, p in enumerate(raw_parts)]
        metrics = d.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise ValueError(f"metrics must be an object, got {_type(metrics)}")
        nulled = d.get("nulled") or []
        if not isinstance(nulled, list) or not all(isinstance(x, str) for x in nulled):
            raise ValueError("nulled must be a list of strings")
        ref = d.get("ref")
        if ref is not None and not isinstance(ref, (str, int)) or isinstance(ref, bool):
            raise ValueError(f"ref must be a string, got {_type(ref)}")
        return cls(
            kind=d["kind"],
            node=_text(d.get("node"), "node"),
            title=_text(d.get("title"), "title"),
            parts=parts,
            ref=None if ref is None else str(ref),
            score=_number(d.get("score"), "score"),
            passed=_flag(d.get("passed"), "passed"),
            metrics=dict(metrics),
            started=_number(d.get("started"), "started") or 0.0,
            ended=_number(d.get("ended"), "ended"),
            index=_int(d.get("index"), "index"),
            nulled=list(nulled),
        )


def _type(v: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(v), type(v).__name__)


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _text(v: Any, name: str) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        raise ValueError(f"{name} must be a string, got {_type(v)}")
    return v


def _opt_text(v: Any, name: str) -> str | None:
    if v is not None and not isinstance(v, str):
        raise ValueError(f"{name} must be a string, got {_type(v)}")
    return v


def _number(v: Any, name: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):  # numpy scalars are Real too
        raise ValueError(f"{name} must be a number, got {_type(v)}")
    return v if isinstance(v, (int, float)) else float(v)


def _int(v: Any, name: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {_type(v)}")
    return int(v)


def _flag(v: Any, name: str) -> bool | None:
    if v is not None and not isinstance(v, bool):
        if type(v).__module__ == "numpy" and type(v).__name__.startswith("bool"):
            return bool(v)  # a live step handed over in memory (numpy.bool_ from a critic)
        raise ValueError(f"{name} must be true, false or null, got {_type(v)}")
    return v


def _part(p: Any, i: int) -> Part:
    where = f"parts[{i}]"
    if not isinstance(p, dict):
        raise ValueError(f"{where} must be an object, got {_type(p)}")
    kind = p.get("type")
    if not isinstance(kind, str):
        raise ValueError(f"{where}.type must be a string, got {_type(kind)}")
    rows = p.get("rows")
    if rows is not None and not isinstance(rows, list):
        raise ValueError(f"{where}.rows must be a list, got {_type(rows)}")
    return Part(
        type=kind,
        text=_opt_text(p.get("text"), f"{where}.text"),
        asset=_opt_text(p.get("asset"), f"{where}.asset"),
        mime=_opt_text(p.get("mime"), f"{where}.mime"),
        rows=rows,
    )
