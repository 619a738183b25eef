"""route: validate the request, pick the modality and the thinking mode, open the bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmthink.core.nodes.common import components
from mmthink.core.runs import RUNS, emit
from mmthink.core.state import SAFE_ID, RunState
from mmthink.errors import InputError
from mmthink.request import Request
from mmthink.thinking import Budget, ThinkingConfig, resolve_mode
from mmthink.trace.schema import Part, Step
from mmthink.trace.writer import new_run_id


def route(state: RunState, runtime: Any) -> dict[str, Any]:
    """The first node: everything is checked before the bundle exists, so bad input leaves nothing."""
    comp = components(runtime)
    if state.get("run_dir") and (Path(state["run_dir"]) / "manifest.json").exists() and state.get("budget"):
        return {}  # resumed: already routed
    # 1. check the request and settings
    req = Request.from_dict(_dict(state.get("request"), "request")).validate(comp.limits)
    modality, why = resolve_modality(req, comp)
    cfg = thinking_config(state, comp, modality)
    decision = resolve_mode(state.get("mode_arg"), req.text, cfg.mode, modality, comp.estimator)
    run_id = state.get("run_id") or new_run_id()
    if not SAFE_ID.match(run_id):
        raise InputError("run_id", f"{run_id!r} is not safe as a folder name", "use letters, digits, '.', '_', '-'")
    # 2. open the bundle
    out_dir = comp.out_dir if comp.fixed_out_dir else Path(state.get("out_dir") or comp.out_dir)
    run_dir = str(Path(out_dir) / run_id)
    budget = Budget.from_config(cfg)
    manifest = {
        "run_id": run_id,
        "request": req.to_dict(),
        "modality": modality,
        "thinking": {
            **cfg.to_dict(),
            "resolved": decision.mode,
            "source": decision.source,
            "reason": decision.reason,
            "difficulty": decision.difficulty,
        },
        "seed": req.seed,
        **comp.describe,
        "input": {"thinking": cfg.to_dict(), "mode_arg": state.get("mode_arg"), "review": bool(state.get("review"))},
        "budget": budget.to_dict(),
    }
    if state.get("trace_sync") == "end":  # absent means fsync every step (served graphs, older bundles)
        manifest["trace_sync"] = "end"
    writer = RUNS.open(run_dir, manifest)
    # 3. say what was decided and why
    emit(
        writer,
        Step(
            "decision",
            "route",
            f"thinking {decision.mode}",
            [Part("text", f"Modality: {modality}{why}. Thinking {decision.mode}: {decision.reason}.")],
            metrics={
                "mode": decision.mode,
                "source": decision.source,
                "modality": modality,
                "difficulty": decision.difficulty,
            },
        ),
    )
    return {
        "run_id": run_id,
        "run_dir": run_dir,
        "modality": modality,
        "mode": decision.mode,
        "decision": decision.__dict__,
        "budget": budget.to_dict(),
        "thinking": cfg.to_dict(),
        "transcript": "",
        "answer": "",
        "turns": 0,
        "force_close": None,
        "closed": False,
        "pending": None,
        "final_tag": None,
        "drafts": [],
        "status": "running",
        "reason": None,
        "final": None,
        "review": bool(state.get("review")),
        "reviews": [],
    }


def resolve_modality(req: Request, comp: Any) -> tuple[str, str]:
    """The modality to make and, for ``auto``, the reason; it must be one this agent has."""
    if req.modality != "auto":
        modality, why = req.modality, ""
    elif comp.detect is not None:
        modality, reason = comp.detect(req.text)
        why = f" (decided from the request's words: {reason})"
    else:
        modality, why = next(iter(comp.modalities), ""), " (the agent's only modality)"
    if modality not in comp.modalities:
        raise InputError(
            "modality", f"{modality!r} is not available in this agent", f"available: {', '.join(comp.modalities)}"
        )
    if comp.validate_for is not None:
        comp.validate_for(req, modality, comp.limits)
    return modality, why


def thinking_config(state: RunState, comp: Any, modality: str) -> ThinkingConfig:
    """The agent's thinking settings, the caller's overrides, the modality's default draft budget; capped."""
    given = _dict(state.get("thinking"), "thinking")
    unknown = sorted(set(given) - set(ThinkingConfig.__dataclass_fields__))
    if unknown:
        raise InputError(
            f"thinking.{unknown[0]}",
            "is not a thinking setting",
            f"use {', '.join(ThinkingConfig.__dataclass_fields__)}",
        )
    cfg = ThinkingConfig(**{**comp.thinking.to_dict(), **given}).validate()
    if "max_drafts" not in given and modality in comp.default_drafts:
        cfg.max_drafts = min(comp.default_drafts[modality], int(comp.limits.max_drafts))
    if cfg.max_drafts > comp.limits.max_drafts:
        raise InputError(
            "thinking.max_drafts",
            f"{cfg.max_drafts} is above the limit {comp.limits.max_drafts}",
            "lower it or raise Limits.max_drafts",
        )
    return cfg


def _dict(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(name, f"must be an object, got {type(value).__name__}")
    return value
