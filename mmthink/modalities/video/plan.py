"""What a film was meant to hold, read from the request and the drafts: its scenes, their narration, music.

The video critic holds the composed film against this plan, so a film that drops a scene, a line of
narration or the music that was planned cannot pass. The plan is only what can be read without a
language model: the shot list the request gives ("scene 1: ... \"a line\"; scene 2: ..."), the scenes
the storyboard frames name, the scenes narration drafts were written for, and music wherever a
``<music>`` draft was written or the request asks for music.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_SHOT = re.compile(
    r"(?:scene|shot)\s*(\d+)\s*[:.\-–]\s*(.+?)(?=(?:[;\n]\s*)?(?:scene|shot)\s*\d+\s*[:.\-–]|$)",
    re.IGNORECASE | re.DOTALL,
)
_QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
_MUSIC_WORDS = re.compile(r"\b(music|musical|soundtrack)\b", re.IGNORECASE)


@dataclass
class Shot:
    """One shot of a shot list the user wrote: its number, what it shows, its narration line, its length."""

    no: int
    description: str
    narration: str
    seconds: float


def shots(text: str) -> list[Shot]:
    """The shot list a request gives ("scene 1: a rocket at dawn \"We looked up.\"; scene 2: ..."), in order."""
    out = []
    for m in _SHOT.finditer(text):
        body = m.group(2).strip().rstrip(";.").strip()
        quotes = [a or b for a, b in _QUOTE.findall(body)]
        desc = _QUOTE.sub(" ", body).strip(" ,;:-")
        secs = re.search(r"(\d+(?:\.\d+)?)\s*(?:s|sec|seconds)\b", desc)
        out.append(
            Shot(
                int(m.group(1)), " ".join(desc.split()), " ".join(quotes).strip(), float(secs.group(1)) if secs else 6.0
            )
        )
    return sorted(out, key=lambda s: s.no)


def scene_number(value: Any, default: int | None = None) -> int | None:
    """A ``scene`` attribute as a scene number (1 or more), else ``default``."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return n if n >= 1 else default


@dataclass
class FilmPlan:
    """The pieces a film must hold to be what was planned."""

    scenes: list[int] = field(default_factory=list)
    """Scene numbers, in order."""
    narration: dict[int, str] = field(default_factory=dict)
    """Scene number -> the line planned for it (from the shot list, else from the narration draft)."""
    music: bool = False
    music_why: str = ""
    """Why music is planned, in words: which cue was written, or that the request asks for it."""
    music_hint: dict[str, str] = field(default_factory=dict)
    """Attributes of the planned cue (mood, seconds, scenes), for the fix a finding suggests."""

    def to_dict(self) -> dict[str, Any]:
        return {"scenes": list(self.scenes), "narrated": sorted(self.narration), "music": self.music}


def film_plan(request_text: str, drafts: Iterable[dict[str, Any]]) -> FilmPlan:
    """The plan of a film from the request's shot list and the drafts written for it.

    A frame without a ``scene`` attribute is scene 1 (as the composer cuts it); a narration draft counts
    only where it names its scene, since only then is it known where it belongs.
    """
    scenes: set[int] = set()
    narration: dict[int, str] = {}
    for s in shots(str(request_text or "")):
        scenes.add(s.no)
        if s.narration:
            narration[s.no] = s.narration
    music_cues: list[dict[str, Any]] = []
    for d in drafts:
        attrs = d.get("attrs") or {}
        tag = d.get("tag")
        if tag == "frame":
            scenes.add(scene_number(attrs.get("scene"), 1) or 1)
        elif tag == "draft_audio":
            no = scene_number(attrs.get("scene"))
            if no is not None:
                scenes.add(no)
                narration.setdefault(no, " ".join(str(d.get("body") or "").split()))
        elif tag == "music":
            music_cues.append(d)
    plan = FilmPlan(scenes=sorted(scenes), narration=dict(sorted(narration.items())))
    if music_cues:
        plan.music = True
        ids = ", ".join(str(d.get("id")) for d in music_cues)
        many = len(music_cues) > 1
        plan.music_why = f"the music cue{'s' if many else ''} {ids} {'were' if many else 'was'} written"
        first = music_cues[0].get("attrs") or {}
        plan.music_hint = {k: str(first[k]) for k in ("mood", "seconds", "scenes") if first.get(k)}
    else:
        m = _MUSIC_WORDS.search(str(request_text or ""))
        if m:
            plan.music, plan.music_why = True, f"the request asks for it ({m.group(0)!r})"
    return plan
