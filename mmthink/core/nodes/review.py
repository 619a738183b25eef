"""review: pause before compose (LangGraph ``interrupt``) for a person's approve / revise / abort."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmthink.core.nodes.common import clean_answer
from mmthink.core.review import ReviewDecision, parse_decision
from mmthink.core.runs import RUNS, emit, finish
from mmthink.core.state import RunState
from mmthink.core.tags import format_observation
from mmthink.errors import InputError
from mmthink.trace.schema import Part, Step


def review(state: RunState, runtime: Any = None) -> dict[str, Any]:
    """Shows the draft the final will come from; a revise note goes back into the chain of thought."""
    from langgraph.types import interrupt

    writer = RUNS.writer(state["run_dir"])
    payload = review_payload(state)
    last = writer.steps[-1] if writer.steps else None
    if not (last and last.node == "review" and last.title == "awaiting review"):  # said once, even if re-run
        parts = [Part("text", "Paused before the final render: approve, revise with a note, or abort.")]
        if payload["draft"] and payload["draft"].get("asset") and payload["draft"].get("kind"):
            parts.append(Part(payload["draft"]["kind"], asset=payload["draft"]["asset"]))
        emit(
            writer,
            Step(
                "decision",
                "review",
                "awaiting review",
                parts,
                ref=(payload["draft"] or {}).get("id"),
                metrics={"final": payload["final"]},
            ),
        )
    if writer.manifest.get("status") != "awaiting_review":  # what `verify`, `view` and a batch see while paused
        writer.update(status="awaiting_review")
    raw = interrupt(payload)
    writer.update(status="running")
    try:
        decision = parse_decision(raw)
    except InputError as e:
        decision = ReviewDecision.abort(f"the review answer could not be read ({e})")
    reviews = list(state.get("reviews") or []) + [decision.to_dict()]
    note = decision.note.strip()
    if decision.action == "approve":
        emit(
            writer,
            Step(
                "decision",
                "review",
                "review: approved",
                [Part("text", "The reviewer approved the planned final.")],
                metrics=decision.to_dict(),
            ),
        )
        return {"reviews": reviews}
    if decision.action == "revise":
        emit(
            writer,
            Step(
                "observation",
                "review",
                "review: revise",
                [Part("text", note)],
                ref="review",
                passed=False,
                metrics=decision.to_dict(),
            ),
        )
        transcript = state.get("transcript", "") + "\n" + format_observation("review", None, note) + "\n"
        return {
            "reviews": reviews,
            "transcript": transcript,
            "closed": False,
            "final_tag": None,
            "force_close": None,
            "answer": "",
            "pending": None,
        }
    reason = "stopped at review: " + (note or "the reviewer aborted the run")
    emit(writer, Step("decision", "review", "review: aborted", [Part("text", reason)], metrics=decision.to_dict()))
    finish(writer, "stopped", reason=reason, budget=state.get("budget"))
    return {"reviews": reviews, "status": "stopped", "reason": reason}


def review_payload(state: RunState) -> dict[str, Any]:
    """What a reviewer sees: the draft the final will come from, its critique, and the planned final."""
    drafts = [d for d in state.get("drafts") or [] if not d.get("error") and d.get("asset")]
    ft = state.get("final_tag") or {}
    ref = (ft.get("attrs") or {}).get("ref")
    chosen = next((d for d in drafts if d["id"] == ref), None)
    if chosen is None and drafts:
        chosen = max(reversed(drafts), key=lambda d: d.get("score") or 0.0)
    run_dir = Path(state["run_dir"])
    draft = None
    if chosen is not None:
        draft = {
            "id": chosen["id"],
            "tag": chosen["tag"],
            "body": chosen.get("body", ""),
            "kind": chosen.get("kind"),
            "asset": chosen["asset"],
            "path": str((run_dir / chosen["asset"]).resolve()),
        }
    return {
        "type": "review",
        "run_id": state.get("run_id"),
        "run_dir": str(run_dir),
        "modality": state.get("modality"),
        "draft": draft,
        "critique": None
        if chosen is None
        else {
            "score": chosen.get("score"),
            "passed": chosen.get("passed"),
            "findings": list(chosen.get("findings") or []),
        },
        "final": {
            "tag": ft.get("name"),
            "attrs": dict(ft.get("attrs") or {}),
            "body": ft.get("body", ""),
            "raw": ft.get("raw", ""),
            "answer": clean_answer(state.get("answer", "")),
            "why": state.get("force_close"),
        },
        "drafts": len(state.get("drafts") or []),
        "reviews": list(state.get("reviews") or []),
        "options": ["approve", "revise", "abort"],
    }
