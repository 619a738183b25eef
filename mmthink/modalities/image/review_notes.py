"""A reviewer's note, read as edits to a scene: "make the cup bigger, move the sun to the left, no trees".

The heuristic reasoner cannot follow free prose, but review notes are mostly short imperative
clauses about things already in the picture. Each clause is matched against a few patterns
(size, colour, position, add, remove, setting and style); what matched is applied, and what did
not is reported back word for word, so the trace says plainly which part of the note was ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mmthink.modalities.image.scene import Element, Scene, normalize_name, parse_scene
from mmthink.modalities.image.understanding import SETTING_WORDS, STYLE_WORDS, parse_image_request
from mmthink.modalities.image.vocab import COLORS

SIZE_STEPS = ["tiny", "small", "medium", "large", "huge"]
BIGGER = {
    "bigger",
    "larger",
    "large",
    "big",
    "huge",
    "enormous",
    "greater",
    "wider",
    "taller",
    "twice",
    "double",
    "enlarge",
    "grow",
}
SMALLER = {"smaller", "tinier", "little", "small", "shorter", "narrower", "half", "shrink"}
PLACES = {
    "left": ("h", "left"),
    "right": ("h", "right"),
    "centre": ("h", "center"),
    "center": ("h", "center"),
    "middle": ("h", "center"),
    "top": ("v", "top"),
    "bottom": ("v", "bottom"),
    "up": ("v", "top"),
    "down": ("v", "bottom"),
    "foreground": ("depth", "foreground"),
    "front": ("depth", "foreground"),
    "background": ("depth", "background"),
    "back": ("depth", "background"),
}
REMOVE = re.compile(r"^(?:please\s+)?(?:remove|delete|drop|erase|get rid of|lose|take out|no more|no|without)\s+(.+)$")
ADD = re.compile(r"^(?:please\s+)?(?:add|include|put in|draw|also draw|there should be|i want|give it)\s+(.+)$")
_CLAUSES = re.compile(
    r"[.;!\n]+|,\s*(?:and\s+)?|\s+and\s+(?=(?:make|move|put|add|remove|delete|drop|no|without|"
    r"include|draw|place|shift|turn|colou?r|change)\b)"
)


@dataclass
class NoteEdits:
    scene: Scene
    done: list[str] = field(default_factory=list)  # what was changed, in words
    ignored: list[str] = field(default_factory=list)  # clauses that matched nothing
    last: Element | None = None  # what "it" refers to in the next clause

    @property
    def changed(self) -> bool:
        return bool(self.done)


def pending_note(transcript: str) -> str | None:
    """The reviewer's latest note, if no sketch was drawn after it."""
    notes = list(_REVIEW.finditer(transcript))
    if not notes:
        return None
    last = notes[-1]
    return None if "<sketch" in transcript[last.end() :] else last.group(1).strip()


_REVIEW = re.compile(r'<observation ref="review"[^>]*>(.*?)</observation>', re.S)


def apply_note(scene: Scene, note: str) -> NoteEdits:
    """Apply every clause of ``note`` that names something it can change; never raises."""
    out = NoteEdits(scene.copy())
    for clause in _CLAUSES.split(note.lower()):
        clause = " ".join(clause.split()).strip(" ,")
        if not clause:
            continue
        if not _apply_clause(out, clause):
            out.ignored.append(clause)
    return out


def _find(scene: Scene, words: list[str]) -> Element | None:
    """The scene element a clause is about: the longest element name spelled in its words."""
    text = " " + " ".join(words) + " "
    best: Element | None = None
    for el in scene.elements:
        name = normalize_name(el.name)
        forms = {name, name + "s", name + "es", el.name.lower()}
        if name.endswith("y"):
            forms.add(name[:-1] + "ies")
        if any(f" {f} " in text for f in forms) and (best is None or len(el.name) > len(best.name)):
            best = el
    return best


def _apply_clause(out: NoteEdits, clause: str) -> bool:
    words = re.findall(r"[a-z][a-z\-']*|\d+", clause)
    scene = out.scene
    m = REMOVE.match(clause)
    if m:
        target = _find(scene, re.findall(r"[a-z][a-z\-']*", m.group(1)))
        if target is not None:
            scene.elements = [e for e in scene.elements if e is not target]
            for e in scene.elements:
                e.relations = [r for r in e.relations if normalize_name(r.target) != normalize_name(target.name)]
            out.done.append(f"remove the {target.name}")
            return True
        return False
    m = ADD.match(clause)
    if m:
        added = _add(scene, m.group(1))
        if added:
            out.done.extend(f"add {a}" for a in added)
            return True
        return False
    target = _find(scene, words)
    if target is None and {"it", "them", "its", "their"} & set(words) and out.last in scene.elements:
        target = out.last  # "make the cup bigger and move it to the right"
    if target is None:
        return _setting_or_style(scene, words, out)
    out.last = target
    did: list[str] = []
    if BIGGER & set(words):
        if step_size(target, +1):
            did.append(f"make the {target.name} {target.size}")
    elif SMALLER & set(words):
        if step_size(target, -1):
            did.append(f"make the {target.name} {target.size}")
    colours = [w for w in words if w in COLORS]
    if colours and colours != target.colors[: len(colours)]:
        target.colors = colours
        did.append(f"colour the {target.name} {' and '.join(colours)}")
    if {"move", "put", "place", "shift", "to", "on", "at", "in"} & set(words) or not did:
        for w in words:
            if w in PLACES and not _is_relation(words, w):
                attr, value = PLACES[w]
                if getattr(target, attr) != value:
                    setattr(target, attr, value)
                    if attr == "h":  # an explicit side overrides relations that would pull it elsewhere
                        target.relations = [r for r in target.relations if r.kind not in ("left of", "right of")]
                    did.append(f"move the {target.name} to the {value}")
    out.done.extend(did)
    return bool(did)


def _is_relation(words: list[str], w: str) -> bool:
    """'left' in 'left of the tree' is a relation, not a side of the picture."""
    i = words.index(w)
    return i + 1 < len(words) and words[i + 1] == "of"


def step_size(el: Element, delta: int) -> bool:
    """One size word up or down; False when it is already at the end of the scale."""
    cur = el.size if el.size in SIZE_STEPS else "medium"
    i = max(0, min(len(SIZE_STEPS) - 1, SIZE_STEPS.index(cur) + delta))
    if SIZE_STEPS[i] == el.size or (el.size is None and SIZE_STEPS[i] == "medium"):
        return False
    el.size = SIZE_STEPS[i]
    return True


def _add(scene: Scene, text: str) -> list[str]:
    intent = parse_image_request(text)
    have = {normalize_name(e.name) for e in scene.elements}
    added = []
    for w in intent.objects:
        if w.name in have:
            continue
        line = (
            w.name
            + (f" x{w.count}" if w.count > 1 else "")
            + ": "
            + ", ".join(a for a in (w.size, w.color, f"{w.relation[0]} {w.relation[1]}" if w.relation else None) if a)
        )
        el = parse_scene(line.rstrip(": "))[0].elements
        if el:
            words = re.findall(r"[a-z]+", text)
            for word in words:  # "add a kite at the top": a side of the picture named in the clause
                if word in PLACES and not _is_relation(words, word):
                    setattr(el[-1], *PLACES[word])
            scene.elements.extend(el)
            added.append(("a " if w.count == 1 else f"{w.count} ") + (f"{w.color} " if w.color else "") + w.name)
    return added


TIMES = {"dusk", "dawn", "sunset", "sunrise", "night", "dark", "morning", "evening", "moonlight"}


def _setting_or_style(scene: Scene, words: list[str], out: NoteEdits) -> bool:
    setting = [w for w in words if w in SETTING_WORDS and w not in scene.setting]
    style = [w for w in words if w in STYLE_WORDS and w not in scene.style]
    if setting:  # a new time of day replaces the old one, a new place the old place
        kinds = {w in TIMES for w in setting}
        scene.setting = [s for s in scene.setting if (s in TIMES) not in kinds] + setting
        out.done.append(f"set the scene at {' and '.join(setting)}")
    if style:
        scene.style.extend(style)
        out.done.append(f"give it a {' '.join(style)} look")
    return bool(setting or style)
