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

__all__ = ["Delta", "DraftRecord", "Reasoner", "Turn", "answer", "describe", "words"]


def describe(reasoner: Any) -> dict[str, Any]:
    """What goes into the manifest about a reasoner: its name and model, never secrets."""
    info = {"name": getattr(reasoner, "name", type(reasoner).__name__)}
    for attr in ("model", "model_id", "base_url", "script_name"):
        v = getattr(reasoner, attr, None)
        if isinstance(v, str):
            info[attr] = v
    return info


# ------------------------------------------------------- streaming helpers

def words(text: str, size: int = 18) -> Iterator[Delta]:
    """Stream prose a few words at a time, the way a model would."""
    parts = re.findall(r"\S+\s*|\s+", text)
    for i in range(0, len(parts), size):
        yield Delta("".join(parts[i:i + size]))


def answer(text: str) -> Iterator[Delta]:
    for d in words(text):
        yield Delta(d.text, channel="answer")
