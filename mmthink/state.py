"""The graph state: plain JSON-safe values, so a checkpoint can hold a run and resume it.

Nodes return the keys they change; every key is last-writer-wins (the graph is a single
chain, never two writers in one superstep), which keeps the state easy to read in a trace.
``steps`` is the trace length when the checkpoint was taken: a resume cuts ``steps.jsonl``
back to it, so a node that is run again never duplicates what it wrote before a crash.
"""

from __future__ import annotations

from typing import Any, TypedDict


class DraftRecordDict(TypedDict, total=False):
    id: str
    tag: str
    attrs: dict[str, str]
    body: str
    asset: str | None
    kind: str
    meta: dict[str, Any]
    score: float | None
    passed: bool | None
    findings: list[str]
    metrics: dict[str, Any]
    error: str | None


class RunState(TypedDict, total=False):
    # set by the caller
    request: dict[str, Any]
    thinking: dict[str, Any]  # ThinkingConfig fields
    mode_arg: str | None  # explicit mode from the caller (beats /think and the default)
    run_id: str
    out_dir: str
    review: bool  # pause before compose for a person's approve / revise / abort
    # set by route
    run_dir: str
    modality: str
    mode: str
    decision: dict[str, Any]
    budget: dict[str, Any]
    # the chain of thought
    transcript: str
    answer: str
    turns: int
    force_close: str | None
    closed: bool
    pending: dict[str, Any] | None
    final_tag: dict[str, Any] | None
    drafts: list[DraftRecordDict]
    reviews: list[dict[str, str]]  # decisions so far: {"action", "note"}
    steps: int  # steps in steps.jsonl when this checkpoint was taken
    # outcome
    status: str
    reason: str | None
    final: dict[str, Any] | None  # asset, kind, ext, ref, and path (absolute, for servers)
