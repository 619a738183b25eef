"""How much the agent thinks: modes, budgets, soft switches, and the one budget ledger.

One switch governs every backend and drafting alike. ``on`` thinks, drafts and revises;
``off`` renders once with no thinking text; ``auto`` decides per request from estimated
difficulty and records why. Budgets follow s1's budget forcing: when the ledger is spent,
thinking is closed and the best draft so far is composed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from mmthink.errors import InputError

MODES = ("on", "off", "auto")
_SOFT = re.compile(r"(?<![\w/<])/(think|no_think)\b")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Approximate token count (words and punctuation) for reasoners without a tokenizer.

    Model reasoners report exact counts from their tokenizer; this keeps the ledger
    meaningful for the scripted and heuristic reasoners.
    """
    return len(_TOKEN.findall(text))


@dataclass
class ThinkingConfig:
    mode: str = "on"
    budget_tokens: int | None = 4096
    min_tokens: int = 0
    max_drafts: int = 6
    max_seconds: float | None = 300.0
    best_of: int = 1

    def validate(self) -> ThinkingConfig:
        from mmthink.inputs import MAX_COUNT, seconds

        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise InputError("thinking", f"unknown mode {self.mode!r}", "use on, off or auto")
        for name in ("budget_tokens", "min_tokens", "max_drafts", "best_of"):
            v = getattr(self, name)
            if v is None and name == "budget_tokens":
                continue
            if isinstance(v, bool) or not isinstance(v, int):
                raise InputError(name.replace("_", "-"), f"must be an integer, got {type(v).__name__} {v!r:.40}")
            if v < 0:
                raise InputError(name.replace("_", "-"), f"must not be negative, got {v}", "use 0 or more")
            if v > MAX_COUNT:  # a checkpoint stores 64-bit integers, and no run could spend more
                raise InputError(
                    name.replace("_", "-"), f"{str(v)[:24]} is above {MAX_COUNT}", f"use at most {MAX_COUNT}"
                )
        if self.max_seconds is not None:
            seconds("max-seconds", self.max_seconds)
        if self.max_drafts < 1:
            raise InputError("max-drafts", "must be at least 1", "e.g. --max-drafts 4")
        if self.best_of < 1:
            raise InputError("best-of", "must be at least 1")
        if self.budget_tokens is not None and self.min_tokens > self.budget_tokens:
            raise InputError(
                "min-tokens",
                f"{self.min_tokens} is above budget-tokens {self.budget_tokens}",
                "lower min-tokens or raise the budget",
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def soft_switch(text: str) -> str | None:
    """The last ``/think`` or ``/no_think`` in the text, as "on" / "off" (Qwen3's convention)."""
    found = _SOFT.findall(text)
    if not found:
        return None
    return "on" if found[-1] == "think" else "off"


def strip_soft_switches(text: str) -> str:
    return " ".join(_SOFT.sub(" ", text).split())


@dataclass
class ModeDecision:
    mode: str  # "on" | "off" (auto is always resolved)
    source: str  # "argument" | "soft switch" | "default" | "auto"
    reason: str
    difficulty: float | None = None


class DifficultyEstimator(Protocol):
    """Scores a request's difficulty in [0, 1]; ``auto`` thinks when it is above a threshold."""

    name: str

    def estimate(self, text: str, modality: str) -> tuple[float, str]: ...


class FeatureDifficulty:
    """Cheap estimate from the request's features: objects, counts, relations, emotions, scenes."""

    name = "features"

    def __init__(self, timed: tuple[str, ...] = ()) -> None:
        self.timed = tuple(timed)
        """Modalities whose results unfold over time (they need planning across it)."""

    def estimate(self, text: str, modality: str) -> tuple[float, str]:
        low = text.lower()
        words = len(low.split())
        reasons: list[str] = []
        score = 0.0
        rel = len(
            re.findall(
                r"\b(left of|right of|above|below|behind|in front of|between|under|on top of|next to|beside)\b", low
            )
        )
        if rel:
            score += min(0.45, 0.2 * rel)
            reasons.append(f"{rel} spatial relation(s)")
        nums = len(re.findall(r"\b(two|three|four|five|six|seven|eight|nine|ten|\d+)\b", low))
        if nums:
            score += min(0.3, 0.15 * nums)
            reasons.append(f"{nums} count(s)")
        ands = low.count(",") + len(re.findall(r"\band\b", low))
        if ands >= 2:
            score += 0.15
            reasons.append("several parts")
        if re.search(r"\b(epic|cinematic|detailed|complex|battle|war|crowd|emotion\w*|speech|movie|story)\b", low):
            score += 0.35
            reasons.append("asks for a rich composition")
        if modality in self.timed:
            score += 0.25
            reasons.append(f"{modality} needs planning over time")
        if words > 25:
            score += 0.15
            reasons.append("long request")
        score = min(1.0, score)
        return score, (", ".join(reasons) if reasons else "a simple single-subject request")


def resolve_mode(
    explicit: str | None,
    text: str,
    default: str,
    modality: str,
    estimator: DifficultyEstimator | None = None,
    threshold: float = 0.3,
) -> ModeDecision:
    """explicit argument > ``/think`` or ``/no_think`` in the text > default; auto decided here."""
    if explicit is not None:
        mode, source, reason = explicit, "argument", f"thinking={explicit} was passed explicitly"
    elif (sw := soft_switch(text)) is not None:
        mode, source, reason = sw, "soft switch", f"the request says /{'think' if sw == 'on' else 'no_think'}"
    else:
        mode, source, reason = default, "default", f"the configured default is {default}"
    if mode not in MODES:
        raise InputError("thinking", f"unknown mode {mode!r}", "use on, off or auto")
    if mode != "auto":
        return ModeDecision(mode, source, reason)
    est = estimator or FeatureDifficulty()
    difficulty, why = est.estimate(strip_soft_switches(text), modality)
    mode = "on" if difficulty >= threshold else "off"
    return ModeDecision(
        mode,
        "auto",
        f"auto ({est.name}): difficulty {difficulty:.2f} {'>=' if mode == 'on' else '<'} {threshold:.2f} "
        f"({why}), so thinking is {mode}",
        difficulty,
    )


@dataclass
class Budget:
    """The one ledger: thinking tokens, drafts rendered, and wall seconds.

    Kept as plain numbers so it lives in the graph state and survives a checkpoint.
    """

    max_tokens: int | None = None
    max_drafts: int | None = None
    max_seconds: float | None = None
    tokens: int = 0
    drafts: int = 0
    started: float = field(default_factory=time.time)
    seconds: float = 0.0

    @classmethod
    def from_config(cls, cfg: ThinkingConfig) -> Budget:
        return cls(max_tokens=cfg.budget_tokens, max_drafts=cfg.max_drafts, max_seconds=cfg.max_seconds)

    def tick(self) -> None:
        self.seconds = time.time() - self.started

    def tokens_left(self) -> int | None:
        return None if self.max_tokens is None else max(0, self.max_tokens - self.tokens)

    def drafts_left(self) -> int | None:
        return None if self.max_drafts is None else max(0, self.max_drafts - self.drafts)

    def spent(self) -> str | None:
        """Why the budget is spent, or None while there is budget left."""
        self.tick()
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return f"thinking-token budget spent ({self.tokens}/{self.max_tokens})"
        if self.max_drafts is not None and self.drafts >= self.max_drafts:
            return f"draft budget spent ({self.drafts}/{self.max_drafts})"
        if self.max_seconds is not None and self.seconds >= self.max_seconds:
            return f"time budget spent ({self.seconds:.1f}/{self.max_seconds:.0f} s)"
        return None

    def to_dict(self) -> dict[str, Any]:
        self.tick()
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Budget:
        b = cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
        return b


Estimator = Callable[[str, str], tuple[float, str]]
