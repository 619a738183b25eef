"""The critique every critic returns: a score, a verdict, and sentences a reasoner can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Critique:
    score: float
    passed: bool
    findings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.score = float(min(1.0, max(0.0, self.score)))

    def summary(self, limit: int = 6) -> str:
        """The observation text written back into the chain of thought."""
        if not self.findings:
            return "looks right: every check passed" if self.passed else "no specific findings"
        shown = self.findings[:limit]
        more = len(self.findings) - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
