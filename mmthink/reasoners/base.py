"""The reasoner contract: continue a chain of thought, stopping at step tags.

The graph owns the chain; a reasoner only continues it. Every call gets the whole chain so
far (observations included), which keeps reasoners stateless and makes a checkpointed run
resumable with any backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Literal, Protocol, runtime_checkable

from ..request import Request


@dataclass
class DraftRecord:
    """What the reasoner may know about an earlier draft: its spec and the critic's verdict."""

    id: str
    tag: str  # sketch | draft_audio | frame | music
    attrs: dict[str, str]
    body: str
    score: float | None = None
    passed: bool | None = None
    findings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Turn:
    """Everything a reasoner needs to write the next stretch of thought."""

    request: Request
    modality: str  # resolved: image | speech | video
    mode: str  # resolved: on | off
    transcript: str = ""  # thinking text so far, observations included
    answer: str = ""  # answer text so far (after thinking closed)
    drafts: list[DraftRecord] = field(default_factory=list)
    tokens_left: int | None = None
    drafts_left: int | None = None
    min_tokens: int = 0
    tokens_used: int = 0
    force_close: str | None = None  # why thinking must close now (budget spent), else None
    system: str | None = None
    seed: int = 0
    deadline: float | None = None  # epoch seconds (time.time()) at which the call is cut: the run's max_seconds

    @property
    def prompt(self) -> str:
        return self.request.text


@dataclass
class Delta:
    """A piece of streamed text. ``tokens`` is exact where the backend knows it."""

    text: str
    channel: Literal["thinking", "answer"] = "thinking"
    tokens: int | None = None


@runtime_checkable
class Reasoner(Protocol):
    name: str

    def stream(self, turn: Turn) -> Iterator[Delta]:
        """Continue the chain. The caller may stop iterating at any point (a closed tag)."""
        ...


def describe(reasoner: Any) -> dict[str, Any]:
    """What goes into the manifest about a reasoner: its name and model, never secrets."""
    info = {"name": getattr(reasoner, "name", type(reasoner).__name__)}
    for attr in ("model", "model_id", "base_url", "script_name"):
        v = getattr(reasoner, attr, None)
        if isinstance(v, str):
            info[attr] = v
    facts = getattr(reasoner, "facts", None)
    if callable(facts):  # what the backend found out about its server: continuation used, context size
        info.update({k: v for k, v in facts().items() if k not in info})
    return info


def last_turn(reasoner: Any) -> dict[str, Any]:
    """What a model reasoner recorded about its last ``stream`` call, for the trace step of that turn:
    ``stopped`` (stop string | end of sequence | length | ... | deadline), ``stop_tag`` and, for servers,
    ``continuation`` (prefix | completions | messages). Empty for reasoners that record nothing."""
    run = getattr(reasoner, "last_run", None)
    out: dict[str, Any] = {}
    for attr in ("stopped", "stop_tag", "continuation"):
        v = getattr(run, attr, None)
        if isinstance(v, str) and v:
            out[attr] = v
    if "stop_tag" not in out and run is not None and getattr(run, "calls", None):
        tag = getattr(run.calls[-1], "stop_tag", None)
        if tag:
            out["stop_tag"] = tag
    return out
