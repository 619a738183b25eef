"""Compliance verifiers: how well a completion obeyed its thinking settings, as RL rewards.

Hybrid-reasoning models (Qwen3, DeepSeek-V3.1) learn to follow a thinking switch from data
and reinforcement learning; these functions score that behaviour so a user can train for it.
Each has the signature reinforcement-learning trainers use (TRL's GRPO among them)::

    reward(completions, **kwargs) -> list[float | None]

``completions`` may hold plain strings (``<think>...</think>answer``), chat message lists in
TRL's conversational format (``[{"role": "assistant", "content": ..., "reasoning_content": ...}]``),
or loaded trace bundles (:func:`mmthink.load_trace`; anything with ``.steps`` and ``.manifest``).
Per-item settings come as keyword lists (``mode=[...]``, ``budget_tokens=[...]``,
``difficulty=[...]``), as trainers pass dataset columns; a single value applies to all items,
and traces supply their own when a column is missing. ``None`` marks an item a reward does
not apply to (TRL skips those). Token counts use ``tokenizer`` when given (an HF tokenizer or
any ``str -> int``), else :func:`mmthink.thinking.count_tokens`; traces use their exact counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mmthink.core.tags import parse_steps
from mmthink.errors import InputError
from mmthink.modalities.image.scene import parse_scene
from mmthink.modalities.registry import tagset
from mmthink.thinking import count_tokens
from mmthink.trace.schema import OPEN_STATUSES

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
DIFFICULTY_WORDS = {"easy": 0.0, "simple": 0.0, "medium": 0.5, "hard": 1.0, "difficult": 1.0}


@dataclass
class Parsed:
    """A completion reduced to what the verifiers look at."""

    thinking: str
    answer: str
    closed: bool  # the thinking was closed (or there was none), so an answer could follow
    leaked: bool  # a think marker (e.g. an empty think block) appears in the answer
    thinking_tokens: int | None = None  # exact count when the source knows it
    mode: str | None = None
    budget: int | None = None
    difficulty: float | None = None


# ------------------------------------------------------------------------ parsing


def parse_completion(completion: Any) -> Parsed:
    """Split any supported completion into thinking and answer."""
    if isinstance(completion, str):
        return _parse_text(completion)
    if hasattr(completion, "steps") and hasattr(completion, "manifest"):
        return _parse_trace(completion)
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        return _parse_messages(completion)
    raise InputError(
        "completions",
        f"cannot read a completion of type {type(completion).__name__}",
        "pass strings, chat message lists or loaded traces",
    )


def _parse_text(text: str, extra_thinking: str = "") -> Parsed:
    i_open, i_close = text.find(THINK_OPEN), text.find(THINK_CLOSE)
    before = ""
    if i_close >= 0 and not 0 <= i_open < i_close:
        # The prompt opened the think block (Qwen3-2507 / DeepSeek-R1 templates): thinking runs to the close.
        thinking, answer, closed = text[:i_close], text[i_close + len(THINK_CLOSE) :], True
    elif i_open >= 0:
        before, rest = text[:i_open], text[i_open + len(THINK_OPEN) :]
        closed = THINK_CLOSE in rest
        thinking, _, after = rest.partition(THINK_CLOSE)
        answer = before + after
    else:
        thinking, answer, closed = "", text, True
    thinking = (extra_thinking + "\n" + thinking) if extra_thinking.strip() else thinking
    # A think block after answer text, or a marker left in the answer, leaks into what the user reads.
    leaked = bool(before.strip()) or THINK_OPEN in answer or THINK_CLOSE in answer
    return Parsed(thinking.strip(), answer.strip(), closed, leaked)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    return ""


def _parse_messages(messages: Sequence[Any]) -> Parsed:
    content, reasoning = "", ""
    for m in messages:
        if not isinstance(m, dict):
            raise InputError(
                "completions",
                f"a chat message must be a dict, got {type(m).__name__}",
                'use [{"role": "assistant", "content": "..."}]',
            )
        if m.get("role", "assistant") != "assistant":
            continue
        content += _content_text(m.get("content"))
        for key in ("reasoning_content", "reasoning", "thinking"):
            if isinstance(m.get(key), str):
                reasoning += m[key]
    return _parse_text(content, reasoning)


def _parse_trace(trace: Any) -> Parsed:
    manifest = trace.manifest if isinstance(trace.manifest, dict) else {}
    thinking, tokens, mode, difficulty, finals = [], 0, None, None, []
    counted = False
    for step in trace.steps:
        kind = getattr(step, "kind", None)
        metrics = getattr(step, "metrics", None) or {}
        if kind == "thought":
            thinking.extend(p.text for p in step.parts if getattr(p, "text", None) and p.type in ("reasoning", "text"))
            if isinstance(metrics.get("tokens"), int):
                tokens += metrics["tokens"]
                counted = True
        elif kind == "decision" and getattr(step, "node", "") == "route":
            mode = metrics.get("mode", mode)
            difficulty = metrics.get("difficulty", difficulty)
        elif kind == "final":
            finals.extend(p.text for p in step.parts if getattr(p, "text", None) and p.type == "text")
    budget = manifest.get("budget") if isinstance(manifest.get("budget"), dict) else {}
    if isinstance(budget.get("tokens"), int):
        tokens, counted = budget["tokens"], True
    answer = manifest.get("answer") or "\n".join(finals)
    text = "\n".join(thinking).strip()
    return Parsed(
        text,
        str(answer).strip(),
        manifest.get("status") not in OPEN_STATUSES,
        THINK_OPEN in str(answer) or THINK_CLOSE in str(answer),
        tokens if counted else None,
        mode,
        budget.get("max_tokens") if isinstance(budget.get("max_tokens"), int) else None,
        float(difficulty) if isinstance(difficulty, (int, float)) else None,
    )


def _counter(tokenizer: Any) -> Callable[[str], int]:
    if tokenizer is None:
        return count_tokens
    if hasattr(tokenizer, "encode"):

        def n(text: str) -> int:
            try:
                return len(tokenizer.encode(text, add_special_tokens=False))
            except TypeError:
                return len(tokenizer.encode(text))

        return n
    if callable(tokenizer):
        return lambda text: int(tokenizer(text))
    raise InputError("tokenizer", "must have .encode() or be a function from text to a token count")


def thinking_tokens(p: Parsed, tokenizer: Any = None) -> int:
    if p.thinking_tokens is not None and tokenizer is None:
        return p.thinking_tokens
    return _counter(tokenizer)(p.thinking) if p.thinking else 0


def _column(name: str, value: Any, n: int) -> list[Any]:
    if value is None or isinstance(value, (str, int, float)):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise InputError(name, f"has {len(values)} values for {n} completions", "pass one value per completion")
    return values


def _difficulty(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip().lower()
        if key in DIFFICULTY_WORDS:
            return DIFFICULTY_WORDS[key]
        try:
            return float(key)
        except ValueError:
            raise InputError(
                "difficulty", f"unknown difficulty {value!r}", "use a number or easy/medium/hard"
            ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError("difficulty", f"unknown difficulty {value!r}", "use a number or easy/medium/hard")
    return float(value)


# ------------------------------------------------------------------------ rewards


def mode_compliance_reward(
    completions: Sequence[Any],
    mode: Any = None,
    *,
    min_thinking_tokens: int = 32,
    difficulty: Any = None,
    threshold: float = 0.5,
    tokenizer: Any = None,
    **kwargs: Any,
) -> list[float | None]:
    """off: 1.0 with no thinking at all (0.5 if only an empty think block leaks into the answer);
    on: thinking tokens / ``min_thinking_tokens`` capped at 1, halved when the thinking never closed;
    auto: judged as on/off by ``difficulty >= threshold`` when a difficulty is known, else any
    clean behaviour (closed thinking, no leaked markers) scores 1.0."""
    parsed = [parse_completion(c) for c in completions]
    modes = _column("mode", mode, len(parsed))
    diffs = _column("difficulty", difficulty, len(parsed))
    out: list[float | None] = []
    for i, p in enumerate(parsed):
        m = modes[i] if modes[i] is not None else p.mode
        if m is None:
            raise InputError("mode", f"no thinking mode for completion {i}", "pass mode=[...] (on, off or auto)")
        if m not in ("on", "off", "auto"):
            raise InputError("mode", f"unknown mode {m!r} for completion {i}", "use on, off or auto")
        if m == "auto":
            d = _difficulty(diffs[i]) if diffs[i] is not None else p.difficulty
            if d is None:
                out.append(1.0 if p.closed and not p.leaked else 0.0)
                continue
            m = "on" if d >= threshold else "off"
        t = thinking_tokens(p, tokenizer)
        if m == "off":
            out.append(0.0 if t > 0 or p.thinking.strip() else (0.5 if p.leaked else 1.0))
        else:
            score = min(1.0, t / max(1, min_thinking_tokens))
            out.append(score * (1.0 if p.closed else 0.5))
    return out


def budget_reward(
    completions: Sequence[Any], budget_tokens: Any = None, *, tokenizer: Any = None, **kwargs: Any
) -> list[float | None]:
    """1.0 when the thinking stayed within ``budget_tokens`` and closed; falls linearly to 0 at twice
    the budget; halved when the thinking never closed (the answer was cut off). No budget: None."""
    parsed = [parse_completion(c) for c in completions]
    budgets = _column("budget_tokens", budget_tokens, len(parsed))
    out: list[float | None] = []
    for i, p in enumerate(parsed):
        b = budgets[i] if budgets[i] is not None else p.budget
        if b is None:
            out.append(None)
            continue
        if isinstance(b, bool) or not isinstance(b, (int, float)) or b < 0:
            raise InputError("budget_tokens", f"{b!r} for completion {i} is not a token count", "use 0 or more")
        t = thinking_tokens(p, tokenizer)
        score = 1.0 if t <= b else max(0.0, 1.0 - (t - b) / max(1.0, float(b)))
        out.append(score * (1.0 if p.closed else 0.5))
    return out


def auto_calibration_reward(
    completions: Sequence[Any], difficulty: Any = None, *, mode: Any = None, tokenizer: Any = None, **kwargs: Any
) -> list[float | None]:
    """Did items think more on harder requests? For each item, the share of the other items with a
    different difficulty that it is ordered with consistently (harder and more thinking, or easier
    and less), ties in thinking counting half: a per-item form of Kendall's rank correlation over the
    batch (the batch mean is ``(tau + 1) / 2``). With ``mode`` given, only "auto" items take part."""
    parsed = [parse_completion(c) for c in completions]
    diffs = _column("difficulty", difficulty, len(parsed))
    modes = _column("mode", mode, len(parsed))
    d: list[float | None] = []
    for i, p in enumerate(parsed):
        m = modes[i] if modes[i] is not None else (p.mode if mode is not None else None)
        if mode is not None and m != "auto":
            d.append(None)
            continue
        v = _difficulty(diffs[i]) if diffs[i] is not None else p.difficulty
        if v is None:
            raise InputError("difficulty", f"no difficulty for completion {i}", "pass difficulty=[...]")
        d.append(v)
    t = [thinking_tokens(p, tokenizer) for p in parsed]
    out: list[float | None] = []
    for i in range(len(parsed)):
        if d[i] is None:
            out.append(None)
            continue
        scores = []
        for j in range(len(parsed)):
            if j == i or d[j] is None or d[j] == d[i]:
                continue
            if t[i] == t[j]:
                scores.append(0.5)
            else:
                scores.append(1.0 if (d[i] - d[j]) * (t[i] - t[j]) > 0 else 0.0)
        out.append(sum(scores) / len(scores) if scores else 0.5)
    return out


def protocol_reward(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """Well-formed steps: 0.4 for a final tag in the answer (0.2 if it names a draft that does not
    exist), 0.3 scaled by how few protocol problems there are per tag, 0.3 for the share of drafts
    that are usable (an id; a sketch with drawable scene lines; spoken words; a music mood)."""
    out: list[float | None] = []
    for c in completions:
        p = parse_completion(c)
        tags, problems = parse_steps(p.thinking + "\n" + p.answer if p.thinking else p.answer, tagset())
        answer_tags, _ = parse_steps(p.answer, tagset())
        drafts = [t for t in tags if t.is_draft]
        ids = {t.id for t in drafts if t.id}
        finals = [t for t in answer_tags if t.is_final]
        if not finals:
            final = 0.0
        else:
            ref = finals[-1].attrs.get("ref")
            final = 1.0 if (ref is None or ref in ids) else 0.5
        wellformed = 1.0 - min(1.0, len(problems) / max(1, len(tags)))
        usable = [_usable(t) for t in drafts]
        draft_score = sum(usable) / len(usable) if usable else 1.0
        out.append(round(0.4 * final + 0.3 * wellformed + 0.3 * draft_score, 6))
    return out


def _usable(tag: Any) -> bool:
    if not tag.id:
        return False
    if tag.name == "sketch":
        scene, findings = parse_scene(tag.body)
        return bool(scene.elements) and not findings
    if tag.name == "draft_audio":
        return bool(tag.body.strip())
    if tag.name == "music":
        return bool(tag.attrs.get("mood") or tag.body.strip())
    return bool(tag.body.strip())


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); 0.0 when either side is constant."""
    if len(x) != len(y):
        raise InputError("spearman", f"{len(x)} and {len(y)} values", "pass two sequences of the same length")
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    vy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return 0.0 if vx == 0 or vy == 0 else cov / (vx * vy)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


REWARDS = {
    "mode_compliance": mode_compliance_reward,
    "budget": budget_reward,
    "auto_calibration": auto_calibration_reward,
    "protocol": protocol_reward,
}
"""All verifiers by name, e.g. to pass ``list(REWARDS.values())`` as a trainer's reward_funcs."""
