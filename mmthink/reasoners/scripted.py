"""Replays a demo script: a chain of thought with step tags, written by a person.

Scripts live in ``assets/demos/*.md`` (front matter, thinking text, ``===answer===``, answer).
The replay is deterministic, but the drafts are rendered and critiqued for real; a script tag
with ``revise="auto"`` asks the reasoner to keep redrafting that step, with parameters revised
from the critique, until it passes or the draft budget runs out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mmthink.core.tags import Tag, TagSet, format_tag, parse_steps
from mmthink.errors import InputError
from mmthink.paths import asset
from mmthink.reasoners.base import Delta, DraftRecord, Turn

_CLOSE = re.compile(r"</(?!observation\b|think\b)([A-Za-z_][\w-]*)\s*>")
"""A closing drafting tag in a script: scripts pair only drafting tags (finals close themselves)."""


def script_tags(text: str) -> TagSet:
    """The tag vocabulary a script uses: paired tags draft, self-closing ones are finals."""
    draft = tuple(dict.fromkeys(m.group(1) for m in _CLOSE.finditer(text)))
    final = tuple(dict.fromkeys(re.findall(r"<(final_\w+)[^<>]*/>", text)))
    return TagSet(draft=draft, final=final)


ANSWER_MARK = "===answer==="

Reviser = Callable[[Tag, DraftRecord], dict[str, str] | None]
"""Given a script tag and the failed draft made from it, the attributes for the next try."""


@dataclass
class DemoScript:
    name: str
    request: str
    modality: str
    thinking: str
    answer: str
    meta: dict[str, str] = field(default_factory=dict)

    def segments(self) -> list[str]:
        """Thinking text cut right after each closing drafting tag."""
        out, start = [], 0
        for m in _CLOSE.finditer(self.thinking):
            out.append(self.thinking[start : m.end()])
            start = m.end()
        tail = self.thinking[start:]
        if tail.strip():
            out.append(tail)
        return out


def available_scripts() -> list[str]:
    return sorted(p.stem for p in asset("demos").glob("*.md"))


def load_script(name_or_path: str | Path) -> DemoScript:
    path = Path(name_or_path)
    if not path.suffix:
        path = asset("demos", f"{name_or_path}.md")
    if not path.is_file():
        raise InputError(
            "demo", f"no demo script {str(name_or_path)!r}", f"known demos: {', '.join(available_scripts()) or 'none'}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(
            "demo", f"{path.name} cannot be read as UTF-8 text ({e})", "save the script as UTF-8"
        ) from None
    meta: dict[str, str] = {}
    body = text
    if text.startswith("---"):
        pieces = text.split("---", 2)
        if len(pieces) < 3:
            raise InputError(
                "demo",
                f"{path.name} opens its front matter with '---' but never closes it",
                "end the front matter with a line '---'",
            )
        _, head, body = pieces
        for line in head.strip().splitlines():
            k, _, v = line.partition(":")
            meta[k.strip()] = v.strip()
    thinking, _, answer = body.partition(ANSWER_MARK)
    if "request" not in meta:
        raise InputError("demo", f"{path.name} has no 'request:' line in its front matter")
    return DemoScript(
        meta.get("name", path.stem),
        meta["request"],
        meta.get("modality", "auto"),
        thinking.strip("\n") + "\n",
        answer.strip("\n"),
        meta,
    )


def _chunks(text: str, size: int = 24) -> Iterator[str]:
    """Stream like a model would: a few words at a time."""
    words = re.findall(r"\S+\s*|\s+", text)
    for i in range(0, len(words), size):
        yield "".join(words[i : i + size])


class ScriptedReasoner:
    """Replays a :class:`DemoScript`; see the module docstring."""

    name = "scripted"

    def __init__(self, script: str | Path | DemoScript, revisers: dict[str, Reviser] | None = None) -> None:
        self.script = script if isinstance(script, DemoScript) else load_script(script)
        self.script_name = self.script.name
        self.revisers = dict(revisers or {})
        self._segments = self.script.segments()

    def stream(self, turn: Turn) -> Iterator[Delta]:
        if turn.mode == "off" and not turn.transcript:
            yield from self._answer(turn, off=True)
            return
        tags, _ = parse_steps(turn.transcript, turn.tags)
        drafts = [t for t in tags if t.is_draft]
        consumed = sum(1 for t in drafts if "of" not in t.attrs)
        if turn.force_close:
            yield Delta(f"\n{turn.force_close.capitalize()}, so I will stop here and give the best draft.\n")
            yield from self._answer(turn)
            return
        retry = self._retry(turn, drafts)
        if retry is not None:
            yield from (Delta(c) for c in _chunks(retry))
            return
        if consumed < len(self._segments):
            segment = self._segments[consumed]
            for chunk in _chunks(segment):
                yield Delta(chunk)
            if not _ends_with_draft(segment):
                yield from self._answer(turn)  # the closing thoughts, then the answer
            return
        yield from self._answer(turn)

    def _answer(self, turn: Turn, off: bool = False) -> Iterator[Delta]:
        answer = self.script.answer
        if off:
            # Thinking off: no sketches, so the final must carry its own content.
            answer = _inline_final(self.script, answer)
        for chunk in _chunks(answer):
            yield Delta(chunk, channel="answer")

    def _retry(self, turn: Turn, drafts: list[Tag]) -> str | None:
        """Redraft the last script step if it asked for ``revise="auto"`` and its critique failed."""
        if not drafts or not turn.drafts or (turn.drafts_left is not None and turn.drafts_left <= 0):
            return None
        last_tag, last = drafts[-1], turn.drafts[-1]
        origin_id = last_tag.attrs.get("of", last_tag.id)
        origin = next((t for t in drafts if t.id == origin_id and "of" not in t.attrs), last_tag)
        if origin.attrs.get("revise") != "auto" or last.passed or last.error:
            return None
        reviser = self.revisers.get(origin.name)
        if reviser is None:
            return None
        attrs = reviser(last_tag, last)
        if attrs is None:
            return None
        tries = sum(1 for t in drafts if t.attrs.get("of") == origin_id) + 2
        attrs = {**{k: v for k, v in attrs.items() if k not in ("id", "of", "revise")}}
        new_attrs = {"id": f"{origin_id}r{tries}", "of": origin_id, **attrs}
        what = "; ".join(last.findings[:2]) or "it did not pass"
        return (
            f"\nNot quite: {what}. Let me adjust and try that again.\n"
            + format_tag(origin.name, new_attrs, origin.body)
            + "\n"
        )


def _ends_with_draft(segment: str) -> bool:
    closes = list(_CLOSE.finditer(segment))
    return bool(closes) and not segment[closes[-1].end() :].strip()


def _inline_final(script: DemoScript, answer: str) -> str:
    """With thinking off, point the final tag at the last sketch's content instead of a draft id."""
    tags, _ = parse_steps(script.thinking, script_tags(script.thinking))
    drafts = [t for t in tags if t.is_draft]
    m = re.search(r"<(final_\w+)\s+ref=\"([^\"]+)\"\s*/>", answer)
    if not m or not drafts:
        return answer
    ref = next((t for t in drafts if t.id == m.group(2)), drafts[-1])
    return answer.replace(m.group(0), format_tag(m.group(1), {}, ref.body))
