"""The scene language: what a sketch body says, one element per line, ``name [xN]: attributes``.

Scenes are the image modality's drafting language; video storyboard frames speak it too (through
the registry). Parsing never raises on model text: problems come back as findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mmthink.modalities.image.vocab import COLORS, DEPTHS, HORIZONTAL, RELATION_ALIASES, RELATIONS, SIZES, VERTICAL

MAX_SCENE_ELEMENTS = 64
"""Scene lines kept per sketch; more are dropped with a finding (a drawing cannot hold more)."""
MAX_COUNT = 50
"""Largest ``xN`` an element may ask for."""

# -------------------------------------------------------------------------- scenes


@dataclass
class Relation:
    kind: str
    target: str
    target2: str | None = None

    def format(self) -> str:
        if self.kind == "between" and self.target2:
            return f"between {self.target} and {self.target2}"
        return f"{self.kind} {self.target}"


@dataclass
class Element:
    """One scene line: ``name [xN]: attributes``."""

    name: str
    count: int = 1
    size: str | None = None
    colors: list[str] = field(default_factory=list)
    h: str | None = None
    v: str | None = None
    depth: str | None = None
    relations: list[Relation] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    text: str | None = None  # words to letter on it: ``says "OPEN"``

    @property
    def color(self) -> str | None:
        return self.colors[0] if self.colors else None

    def format(self) -> str:
        head = self.name + (f" x{self.count}" if self.count != 1 else "")
        attrs: list[str] = []
        if self.size:
            attrs.append(self.size)
        attrs.extend(self.colors)
        attrs.extend(a for a in (self.h, self.v, self.depth) if a)
        attrs.extend(r.format() for r in self.relations)
        attrs.extend(self.extras)
        if self.text:
            attrs.append(f'says "{self.text}"')
        return f"{head}: {', '.join(attrs)}" if attrs else head


@dataclass
class Scene:
    """A drawable scene: elements plus a setting (backdrop words) and style words."""

    elements: list[Element] = field(default_factory=list)
    setting: list[str] = field(default_factory=list)
    style: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines: list[str] = []
        if self.setting:
            lines.append("setting: " + ", ".join(self.setting))
        if self.style:
            lines.append("style: " + ", ".join(self.style))
        lines.extend(e.format() for e in self.elements)
        return "\n".join(lines)

    def find(self, name: str) -> Element | None:
        key = normalize_name(name)
        for e in self.elements:
            if normalize_name(e.name) == key:
                return e
        return None

    def copy(self) -> Scene:
        return parse_scene(self.format())[0]


_COUNT_RE = re.compile(r"^(?P<name>.*?)(?:\s+[x×]\s*(?P<n>-?\d+))?\s*$", re.IGNORECASE)
_RELATION_RE = re.compile(
    r"^(?P<kind>"
    + "|".join(re.escape(r) for r in sorted([*RELATIONS, *RELATION_ALIASES], key=len, reverse=True))
    + r")\s+(?P<rest>.+)$",
    re.IGNORECASE,
)


_SAYS_RE = re.compile(
    r"\b(?:says|reads|text|saying|labelled|labeled)\s*:?\s*(?:\"([^\"]*)\"|\u201c([^\u201d]*)\u201d)", re.I
)
MAX_TEXT = 40
"""Longest text an element may carry (a sign holds a few words, not a paragraph)."""


def normalize_name(name: str) -> str:
    """Lower-case, single-spaced, singular-ish name used to match elements to each other."""
    n = " ".join(name.lower().replace("_", " ").split())
    n = re.sub(r"^(the|a|an)\s+", "", n)
    return singular(n)


def singular(word: str) -> str:
    """Cheap English singular for the last word of a noun phrase."""
    *head, last = word.split(" ") if word else [""]
    irregular = {
        "people": "person",
        "children": "child",
        "men": "man",
        "women": "woman",
        "mice": "mouse",
        "geese": "goose",
        "teeth": "tooth",
        "feet": "foot",
        "fish": "fish",
        "sheep": "sheep",
        "deer": "deer",
        "leaves": "leaf",
        "wolves": "wolf",
        "knives": "knife",
        "shelves": "shelf",
        "cacti": "cactus",
        "fungi": "fungus",
    }
    if last in irregular:
        last = irregular[last]
    elif len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 3 and last.endswith(("ches", "shes", "sses", "xes", "zes")):
        last = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is", "as", "os")):
        last = last[:-1]
    return " ".join([*head, last]).strip()


def parse_scene(text: str, max_elements: int = MAX_SCENE_ELEMENTS) -> tuple[Scene, list[str]]:
    """Parse scene lines; returns the scene and findings about lines it could not use."""
    scene = Scene()
    findings: list[str] = []
    dropped = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("-*•").strip()
        if not line or line.startswith("#"):
            continue
        name_part, _, attr_part = line.partition(":")
        key = name_part.strip().lower()
        if key in ("setting", "background scene", "backdrop"):
            scene.setting.extend(_split_attrs(attr_part))
            continue
        if key == "style":
            scene.style.extend(_split_attrs(attr_part))
            continue
        if len(scene.elements) >= max_elements:
            dropped += 1
            continue
        elem, problems = _parse_element(name_part, attr_part, lineno)
        findings.extend(problems)
        if elem is not None:
            scene.elements.append(elem)
    if dropped:
        findings.append(
            f"scene has {dropped + max_elements} elements; only the first {max_elements} are drawn: merge or remove elements"
        )
    names = {normalize_name(e.name) for e in scene.elements}
    for e in scene.elements:
        for r in e.relations:
            for t in (r.target, r.target2):
                if t and normalize_name(t) not in names:
                    findings.append(f'{e.name}: relation "{r.format()}" names "{t}", which is not in the scene')
    return scene, findings


def _split_attrs(text: str) -> list[str]:
    return [a.strip() for a in re.split(r"[,;]", text) if a.strip()]


def _parse_element(name_part: str, attr_part: str, lineno: int) -> tuple[Element | None, list[str]]:
    findings: list[str] = []
    m = _COUNT_RE.match(name_part.strip())
    name = (m.group("name") if m else name_part).strip().strip('"').strip()
    count = 1
    if m and m.group("n") is not None:
        count = int(m.group("n"))
        if count < 1:
            findings.append(f"line {lineno}: {name} x{count}: a count must be at least 1; using 1")
            count = 1
        elif count > MAX_COUNT:
            findings.append(f"line {lineno}: {name} x{count}: at most {MAX_COUNT} of one element; using {MAX_COUNT}")
            count = MAX_COUNT
    if not name or not re.search(r"[A-Za-z]", name):
        findings.append(f"line {lineno}: no element name before ':' (write 'name [xN]: attributes')")
        return None, findings
    if len(name) > 60:
        findings.append(f"line {lineno}: element name longer than 60 characters: shorten it")
        name = name[:60]
    elem = Element(name=name, count=count)
    said = _SAYS_RE.search(attr_part)
    if said:  # the quoted words may hold commas: take them out before the attributes are split
        elem.text = (said.group(1) or said.group(2) or "").strip()[:MAX_TEXT] or None
        attr_part = attr_part[: said.start()] + attr_part[said.end() :]
    for attr in _split_attrs(attr_part):
        low = " ".join(attr.lower().split())
        rel = None if low in ("in a row", "in a line") else _RELATION_RE.match(low)
        if rel:
            kind, rest = RELATION_ALIASES.get(rel.group("kind"), rel.group("kind")), rel.group("rest")
            rest = re.sub(r"^(the|a|an)\s+", "", rest)
            if kind == "between":
                a, sep, b = rest.partition(" and ")
                if not sep:
                    findings.append(f'line {lineno}: "{attr}": write "between X and Y"')
                    continue
                elem.relations.append(Relation("between", a.strip(), re.sub(r"^(the|a|an)\s+", "", b.strip())))
            else:
                elem.relations.append(Relation(kind, rest.strip()))
        elif low in SIZES and elem.size is None:
            elem.size = low
        elif low in COLORS:
            elem.colors.append(low)
        elif low in HORIZONTAL and elem.h is None:
            elem.h = low
        elif low in VERTICAL and elem.v is None:
            elem.v = low
        elif low == "centre" and elem.h is None:
            elem.h = "center"
        elif low in DEPTHS and elem.depth is None:
            elem.depth = low
        else:
            elem.extras.append(attr.strip())
    return elem, findings
