"""What several nodes share: reading the context from the runtime, the handler's view of a run,
draft ids, and the small formatting rules of trace steps."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmthink.core.context import Components, RunContext
from mmthink.core.faults import check_output
from mmthink.core.runs import RUNS
from mmthink.core.state import SAFE_ID, DraftRecord, RunState
from mmthink.request import Request


def components(runtime: Any) -> Components:
    """The context LangGraph hands a node (``runtime.context``), checked once here."""
    comp = getattr(runtime, "context", None)
    if not isinstance(comp, Components):
        raise TypeError("the graph was invoked without its Components context (pass context=...)")
    return comp


def run_context(state: RunState, comp: Components) -> RunContext:
    """What a modality's handler or composer sees of this run."""
    req = Request.from_dict(state["request"])
    return RunContext(
        req,
        state["modality"],
        req.seed,
        Path(state["run_dir"]),
        list(state.get("drafts") or []),
        state.get("transcript", ""),
        RUNS.cache(state["run_dir"]),
        int((state.get("thinking") or {}).get("best_of") or 1),
    )


def records(state: RunState) -> list[DraftRecord]:
    return [DraftRecord.from_dict(d) for d in state.get("drafts") or []]


def safe_draft_id(raw: str | None, tag_name: str, n: int) -> str:
    """Draft ids come from model text; keep them short and harmless wherever they end up."""
    if raw and SAFE_ID.match(raw) and ".." not in raw:
        return raw
    if raw:
        cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-")[:32]
        if cleaned:
            return cleaned
    return f"{tag_name[:1] or 'd'}{n}"


def clean_answer(text: str) -> str:
    """The answer as a person reads it: no empty think block, no self-closing step tag (the final names a
    draft for the graph, not for the reader)."""
    text = re.sub(r"<think>\s*</think>", "", text)
    text = re.sub(r"<[A-Za-z_][\w-]*(?:\s[^<>]*)?/>", "", text)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def note_asset(meta: dict[str, Any], seed: Any, rel: str) -> None:
    """Tie a best-of-N candidate's file to its row in ``meta["best_of"]["candidates"]``."""
    for cand in (meta.get("best_of") or {}).get("candidates", []):
        if cand.get("seed") == seed and "asset" not in cand:
            cand["asset"] = rel
            return


BRIEF_KEYS = (
    "backend",
    "quality",
    "size",
    "seed",
    "seconds",
    "sample_rate",
    "emotion",
    "ms",
    "timings",
    "model",
    "placed",
    "background_rgb",
    "scene_no",
    "rtf",
    "best_of",
    "steps",
    "strength",
    "prompt",
    "init",
    "duration",
)
"""Renderer facts worth a place in a step's metrics (the rest stays in the draft record)."""


def brief(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in BRIEF_KEYS if k in meta}


def warm_cache(ctx: RunContext, modality: Any) -> None:
    """After a resume the in-memory drafts are gone: rebuild them from their assets, as a composer expects."""
    for d in ctx.drafts:
        if d.get("error") or not d.get("asset") or d["id"] in ctx.cache:
            continue
        handler = modality.handlers.get(d.get("tag", ""))
        if handler is None:
            continue
        try:
            ctx.cache[d["id"]] = handler.restore(d, ctx.read_asset(d["asset"]))
        except Exception:  # a composer that needs it will restore it itself, or say why not
            continue


def output_check(comp: Components, what: str) -> Callable[[Any], None] | None:
    """The checks a draft or final must pass before any critic sees it, bound for guarded_call:
    some bytes at all, then the check its modality registered for that kind of file."""
    if not comp.policy.validate_output:
        return None

    def check(art: Any) -> None:
        own = comp.checks.get(getattr(art, "kind", ""))
        check_output(art, what, (lambda a: own(a, comp.limits, what)) if own else None)

    return check
