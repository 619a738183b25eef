"""The one Reasoner interface (defined with the graph in mmthink.core.turn) and what every backend shares.

A reasoner continues a chain of thought and stops at closing step tags, the end of thinking, or
the budget. Backends import their SDKs inside the method that needs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mmthink.core.state import DraftRecord
from mmthink.core.turn import Delta, Reasoner, Turn

__all__ = ["Delta", "DraftRecord", "Reasoner", "Turn", "answer", "describe", "last_turn", "refuse", "words"]


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
    for attr in ("stopped", "stop_tag", "continuation", "revision"):
        v = getattr(run, attr, None)
        if isinstance(v, str) and v:
            out[attr] = v
    constraint = getattr(run, "constraint", None)
    if constraint is not None and callable(getattr(constraint, "facts", None)):  # grammar-constrained drafting
        out.update(constraint.facts())
    if "stop_tag" not in out and run is not None and getattr(run, "calls", None):
        tag = getattr(run.calls[-1], "stop_tag", None)
        if tag:
            out["stop_tag"] = tag
    return out


# ------------------------------------------------------- streaming helpers


def words(text: str, size: int = 18) -> Iterator[Delta]:
    """Stream prose a few words at a time, the way a model would."""
    parts = re.findall(r"\S+\s*|\s+", text)
    for i in range(0, len(parts), size):
        yield Delta("".join(parts[i : i + size]))


def answer(text: str) -> Iterator[Delta]:
    for d in words(text):
        yield Delta(d.text, channel="answer")


def refuse(text: str) -> Iterator[Delta]:
    """Say plainly that this reasoner cannot make what was asked, and what can: the run ends refused."""
    for d in words(text):
        yield Delta(d.text, channel="answer", refusal=True)
