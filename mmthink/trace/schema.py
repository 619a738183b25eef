"""The trace data model: what one step of a run looks like on disk.

A step is one line of ``steps.jsonl``. Media never sits inside a step: a part points at
``assets/<sha256>.<ext>`` so a bundle can be verified file by file.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA = "mmthink.trace/1"

StepKind = Literal["thought", "draft", "observation", "decision", "final", "error"]
STEP_KINDS: tuple[str, ...] = ("thought", "draft", "observation", "decision", "final", "error")
PartType = Literal["text", "reasoning", "image", "audio", "video", "table"]
MIME = {"png": "image/png", "jpg": "image/jpeg", "wav": "audio/wav", "mp3": "audio/mpeg", "mp4": "video/mp4",
        "json": "application/json"}


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
        }
        return {k: v for k, v in d.items() if v is not None and v != {} or k in ("index", "kind", "parts")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Step:
        if d.get("kind") not in STEP_KINDS:
            raise ValueError(f"unknown step kind {d.get('kind')!r}")
        parts = [Part(**{k: v for k, v in p.items() if k in Part.__dataclass_fields__}) for p in d.get("parts", [])]
        return cls(
            kind=d["kind"],
            node=str(d.get("node", "")),
            title=str(d.get("title", "")),
            parts=parts,
            ref=d.get("ref"),
            score=d.get("score"),
            passed=d.get("passed"),
            metrics=dict(d.get("metrics") or {}),
            started=float(d.get("started", 0.0)),
            ended=d.get("ended"),
            index=d.get("index"),
        )
