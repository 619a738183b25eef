"""Noticing a turn that loops: one sentence or line written again and again.

Small models fall into loops (a 0.5B model wrote one sentence for 1,023 tokens), and whatever a
turn writes goes back into the next prompt, where a loop feeds itself. The graph feeds each
streamed piece to a :class:`RepetitionGuard`; when it reports a :class:`Repetition`, the graph
ends the turn, keeps the text up to ``keep`` (the repeated part once) and tells the model with
``finding`` as an observation.

Three shapes are caught: the same sentence or line ``min_repeats`` times in a row; one sentence
or line ``max_occurrences`` times anywhere in the turn (A B A B A B); and a stretch of text that
repeats itself with no sentence or line boundary at all ("a ball a ball a ball ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Repetition:
    """A loop in a turn's text: ``unit`` (as first written) appeared ``count`` times; ``text[:keep]``
    holds everything before the loop plus the unit once."""

    unit: str
    count: int
    keep: int
    shape: str  # consecutive | scattered | periodic

    @property
    def finding(self) -> str:
        unit = " ".join(self.unit.split())
        unit = unit if len(unit) <= 80 else unit[:77] + "..."
        return (
            f'you wrote "{unit}" {self.count} times; the repeats were removed. Do not repeat it: write the '
            "next step (a new thought or a drafting tag)"
        )


_END = re.compile(r"\n|[.!?]+(?=\s)")
_PUNCT = re.compile(r"[\s.!?,;:]+$")


def _units(text: str, final: bool) -> list[tuple[int, int, str]]:
    """``(start, end, normalised)`` of each complete sentence or line; ``end`` includes its terminator."""
    out = []
    start = 0
    for m in _END.finditer(text):
        end = m.end()
        raw = text[start:end]
        norm = _PUNCT.sub("", " ".join(raw.lower().split()))
        if norm:
            lead = len(raw) - len(raw.lstrip())
            out.append((start + lead, end, norm))
        start = end
    if final and text[start:].strip():
        raw = text[start:]
        norm = _PUNCT.sub("", " ".join(raw.lower().split()))
        lead = len(raw) - len(raw.lstrip())
        out.append((start + lead, len(text), norm))
    return out


def find_repetition(
    text: str, *, min_repeats: int = 3, max_occurrences: int = 4, min_chars: int = 12, final: bool = True
) -> Repetition | None:
    """The first loop found in ``text`` (see the module docstring), or None.

    Units shorter than ``min_chars`` (after lower-casing and folding spaces) never count: short
    lines such as a closing tag or ``ball: red`` may well recur. ``final=False`` ignores an
    unfinished last sentence (the text is still streaming).
    """
    units = [u for u in _units(text, final) if len(u[2]) >= min_chars]
    run = 1
    for i in range(1, len(units)):
        run = run + 1 if units[i][2] == units[i - 1][2] else 1
        if run >= min_repeats:
            j = i - run + 1
            while i + 1 < len(units) and units[i + 1][2] == units[j][2]:
                i += 1
            first = units[j]
            return Repetition(text[first[0] : first[1]].strip(), i - j + 1, units[j + 1][0], "consecutive")
    seen: dict[str, list[tuple[int, int]]] = {}
    for start, end, norm in units:
        spans = seen.setdefault(norm, [])
        spans.append((start, end))
        if len(spans) >= max_occurrences:
            return Repetition(text[spans[0][0] : spans[0][1]].strip(), len(spans), spans[1][0], "scattered")
    return _periodic_tail(text, min_repeats + 1, min_chars)


def _periodic_tail(text: str, repeats: int, min_chars: int, longest: int = 240) -> Repetition | None:
    """Text ending in ``repeats`` copies of one stretch (no boundaries needed)."""
    for period in range(min_chars, min(longest, len(text) // repeats) + 1):
        piece = text[-period:]
        if not piece.strip() or text[-period * repeats :] != piece * repeats:
            continue
        count = repeats
        while len(text) >= period * (count + 1) and text[-period * (count + 1) : -period * count] == piece:
            count += 1
        first = len(text) - period * count
        return Repetition(text[first : first + period], count, first + period, "periodic")
    return None


class RepetitionGuard:
    """Feed streamed text; returns a :class:`Repetition` as soon as the turn so far loops.

    Checks when a sentence or line ends, and every ``every`` characters otherwise, so a long
    turn costs little.
    """

    def __init__(self, *, min_repeats: int = 3, max_occurrences: int = 4, min_chars: int = 12, every: int = 48) -> None:
        self.min_repeats, self.max_occurrences, self.min_chars = min_repeats, max_occurrences, min_chars
        self.every = every
        self.text = ""
        self._checked = 0

    def feed(self, piece: str) -> Repetition | None:
        self.text += piece
        boundary = bool(_END.search(piece)) or "\n" in piece
        if not boundary and len(self.text) - self._checked < self.every:
            return None
        self._checked = len(self.text)
        return find_repetition(
            self.text,
            min_repeats=self.min_repeats,
            max_occurrences=self.max_occurrences,
            min_chars=self.min_chars,
            final=False,
        )
