"""Review decisions: what a person answers when a run pauses before its final (approve, revise, abort)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmthink.errors import InputError

# ----------------------------------------------------------------------- review decisions
REVIEW_ACTIONS = ("approve", "revise", "abort")


@dataclass
class ReviewDecision:
    """What a person said about the planned final: go ahead, change this, or stop."""

    action: str
    note: str = ""

    @classmethod
    def approve(cls) -> ReviewDecision:
        return cls("approve")

    @classmethod
    def revise(cls, note: str) -> ReviewDecision:
        return cls("revise", note)

    @classmethod
    def abort(cls, reason: str = "") -> ReviewDecision:
        return cls("abort", reason)

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "note": self.note}


def parse_decision(value: Any) -> ReviewDecision:
    """Accept a ReviewDecision, ``{"action": ..., "note": ...}``, or text: approve | abort [why] | revise NOTE."""
    if isinstance(value, ReviewDecision):
        d = value
    elif isinstance(value, dict):
        d = ReviewDecision(
            str(value.get("action", "")).strip().lower(), str(value.get("note") or value.get("reason") or "")
        )
    elif isinstance(value, str):
        head, _, rest = value.strip().partition(" ")
        head = head.rstrip(":").lower()
        aliases = {
            "a": "approve",
            "ok": "approve",
            "yes": "approve",
            "y": "approve",
            "r": "revise",
            "x": "abort",
            "stop": "abort",
            "q": "abort",
            "no": "abort",
        }
        d = ReviewDecision(aliases.get(head, head), rest.strip())
    else:
        raise InputError(
            "decision",
            f"cannot read a review decision from {type(value).__name__}",
            "use 'approve', 'revise: NOTE' or 'abort'",
        )
    if d.action not in REVIEW_ACTIONS:
        raise InputError("decision", f"unknown action {d.action!r}", "use approve, revise (with a note) or abort")
    if d.action == "revise" and not d.note.strip():
        raise InputError("decision", "revise needs a note saying what to change", "e.g. 'revise: make the sky red'")
    return d
