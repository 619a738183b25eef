"""The graph state: what a caller may set (:class:`InputState`) and what a run keeps (:class:`RunState`).

Values are plain JSON-safe Python, so a checkpoint can hold a run and resume it. Nodes return the
keys they change; every key is last-writer-wins (the graph is a single chain, never two writers in
one superstep). ``steps`` is the trace length when the checkpoint was taken: a resume cuts
``steps.jsonl`` back to it, so a node that is run again never duplicates what it wrote before a crash.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
"""What a run id or draft id must look like: safe as a folder or file name, in HTML and in a shell."""


@dataclass
class DraftRecord:
    """One draft: the tag the reasoner wrote, the file it became, and the critic's verdict.

    The one shape of a draft: the state holds ``to_dict()`` of it, reasoners get it back through
    ``from_dict`` (with :meth:`as_turn` hiding what a reasoner has no use for), the trace shows it.
    """

    id: str
    tag: str
    """The drafting tag's name, as the modality declares it."""
    attrs: dict[str, str] = field(default_factory=dict)
    body: str = ""
    score: float | None = None
    passed: bool | None = None
    findings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """Why the draft could not be rendered or judged; such a draft is never composed."""
    asset: str | None = None
    """Path of the rendered file inside the bundle (``assets/<sha256>.<ext>``)."""
    kind: str | None = None
    """What the file is (a media kind such as the artifact's ``kind``)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """JSON-safe facts from the renderer: seed, size, backend, timings, placements."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DraftRecord:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["attrs"] = dict(known.get("attrs") or {})
        known["meta"] = dict(known.get("meta") or {})
        known["findings"] = list(known.get("findings") or [])
        known["metrics"] = dict(known.get("metrics") or {})
        return cls(**known)


class InputState(TypedDict, total=False):
    """What a caller may set when a run starts (the served graphs' input schema)."""

    request: dict[str, Any]
    """mmthink.request.Request fields: text, modality, width, height, seed, options."""
    thinking: dict[str, Any]
    """mmthink.thinking.ThinkingConfig fields that override the agent's."""
    mode_arg: str | None
    """An explicit thinking mode from the caller (beats /think and the default)."""
    run_id: str
    """The run's folder name under ``out_dir`` (the agent checks it is new and safe)."""
    out_dir: str
    """Where the run folder goes (ignored by served graphs: the server chooses)."""
    review: bool
    """Pause before compose for a person's approve / revise / abort."""
    trace_sync: str
    """"step" (default): fsync every step of the bundle; "end": only when the run pauses or ends (batches)."""


class ServedInput(TypedDict, total=False):
    """What a client of a served graph may set: the server chooses run ids and folders."""

    request: dict[str, Any]
    thinking: dict[str, Any]
    mode_arg: str | None
    review: bool


class RunState(InputState, total=False):
    """Everything a run keeps between nodes; set by the nodes, never by a caller."""

    run_dir: str
    """The bundle's folder (set by route)."""
    modality: str
    """The resolved modality's name (set by route)."""
    mode: str
    """The resolved thinking mode: on or off."""
    decision: dict[str, Any]
    """How the mode was decided (source, reason, difficulty)."""
    budget: dict[str, Any]
    """mmthink.thinking.Budget: tokens, drafts and seconds used and allowed."""
    transcript: str
    """The chain of thought so far, observations included: what a reasoner continues."""
    answer: str
    """Text the reasoner wrote after closing its thinking."""
    turns: int
    """Reasoner turns so far."""
    force_close: str | None
    """Why thinking must close now (budget spent, reasoner failed), else None."""
    closed: bool
    """Thinking is over: review or compose comes next."""
    pending: dict[str, Any] | None
    """The drafting tag the last turn closed, waiting to be rendered by act."""
    final_tag: dict[str, Any] | None
    """The final tag the reasoner wrote (name, attrs, body, raw)."""
    drafts: list[dict[str, Any]]
    """DraftRecord.to_dict() of every draft, in order."""
    reviews: list[dict[str, str]]
    """Review decisions so far: {"action", "note"}."""
    steps: int
    """Steps in steps.jsonl when this checkpoint was taken."""
    refused: str | None
    """The reasoner's statement that it cannot do this request (what can): the run ends refused."""
    status: str
    """running, then one of mmthink.core.status.FINISHED."""
    reason: str | None
    """Why the run ended the way it did (failures, stops)."""
    final: dict[str, Any] | None
    """The final artifact: asset, kind, ext, ref, and path (absolute, for servers)."""
