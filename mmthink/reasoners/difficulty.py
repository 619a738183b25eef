"""A difficulty estimator that asks the reasoner itself, thinking off, for a one-word verdict.

For ``auto`` mode the model is often the best judge of whether a request needs thought (the
hybrid-reasoning designs train exactly that), so this asks it directly and cheaply: thinking
off, a one-word answer, generation stopped as soon as the word is out. Anything but a clear
"easy" or "hard" falls back to the feature-based estimate, and the reason says so.
"""

from __future__ import annotations

import re
from typing import Any

from mmthink.reasoners.base import Reasoner, Turn
from mmthink.request import Request
from mmthink.thinking import DifficultyEstimator, FeatureDifficulty

VERDICT_PROMPT = (
    "You judge how much planning a request for {modality} needs before making it. Reply with exactly one word: "
    "easy (one simple subject, nothing to arrange) or hard (several objects, counts, spatial relations, timing, "
    "emotion or a story to plan). No other words."
)
SCORES = {"easy": 0.1, "hard": 0.9}


class ReasonerDifficulty:
    """``DifficultyEstimator`` backed by a reasoner; see the module docstring."""

    name = "reasoner"

    def __init__(self, reasoner: Reasoner, fallback: DifficultyEstimator | None = None, max_chars: int = 64) -> None:
        self.reasoner = reasoner
        self.fallback = fallback or FeatureDifficulty()
        self.max_chars = max_chars

    def estimate(self, text: str, modality: str) -> tuple[float, str]:
        known = modality if modality in ("image", "speech", "video") else "auto"
        turn = Turn(
            request=Request(text=text, modality=known),
            modality=modality,
            mode="off",
            system=VERDICT_PROMPT.format(modality=modality),
            tokens_left=0,
        )
        answer = ""
        stream: Any = None
        try:
            stream = self.reasoner.stream(turn)
            for delta in stream:
                if delta.channel == "answer":
                    answer += delta.text
                if _verdict(answer, final=False) or len(answer) >= self.max_chars:
                    break
        except Exception as e:  # the estimate must never stop a run
            score, why = self.fallback.estimate(text, modality)
            return score, f"the reasoner could not judge ({type(e).__name__}: {e}); {self.fallback.name}: {why}"
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        word = _verdict(answer)
        if word:
            return SCORES[word], f"the reasoner judged it {word}"
        score, why = self.fallback.estimate(text, modality)
        said = " ".join(answer.split())[:40]
        return score, f"the reasoner said {said!r}, not easy or hard; {self.fallback.name}: {why}"


def _verdict(text: str, final: bool = True) -> str | None:
    """The first whole word easy/hard; mid-stream it must be followed by a non-letter ("hardly" is not "hard")."""
    m = re.search(r"\b(easy|hard)(?![a-z])" + ("" if final else r"(?=[^a-z])"), text.lower())
    return m.group(1) if m else None
