"""The step protocol: drafting tags inside a chain of thought, and the scene text form.

This module is the contract between every reasoner (scripted, heuristic, a real LLM) and
the graph. It never raises on bad model output: malformed or unknown tags become
*findings* that the graph writes back into the chain of thought as an observation, so the
reasoner can correct itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .vocab import COLORS, DEPTHS, HORIZONTAL, RELATIONS, SIZES, VERTICAL

# --------------------------------------------------------------------------- tags

DRAFT_TAGS = ("sketch", "draft_audio", "frame", "music")
"""Tags whose closing makes the graph render a draft."""

FINAL_TAGS = ("final_image", "final_speech", "final_video")
OBSERVATION_TAG = "observation"
KNOWN_TAGS = DRAFT_TAGS + FINAL_TAGS + (OBSERVATION_TAG,)

MAX_TAG_BODY = 20_000
"""Characters a single tag body may hold; beyond this the tag is rejected with a finding."""
MAX_SCENE_ELEMENTS = 64
"""Scene lines kept per sketch; more are dropped with a finding (a drawing cannot hold more)."""
MAX_COUNT = 50
"""Largest ``xN`` an element may ask for."""

_NAME = r"[A-Za-z_][\w\-]*"
_OPEN_RE = re.compile(rf"<({_NAME})((?:\s+[^<>]*?)?)\s*(/?)>")
_ATTR_RE = re.compile(r"""\s*([A-Za-z_][\w\-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


@dataclass
class Tag:
    """One complete step tag, e.g. ``<sketch id="s1">...</sketch>``."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw: str = ""

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def is_draft(self) -> bool:
        return self.name in DRAFT_TAGS

    @property
    def is_final(self) -> bool:
        return self.name in FINAL_TAGS

    def format(self) -> str:
        return format_tag(self.name, self.attrs, self.body if self.body else None)


def format_tag(name: str, attrs: dict[str, object] | None = None, body: str | None = None) -> str:
    """Write a tag the way :class:`StreamParser` reads it back."""
    parts = [name]
    for k, v in (attrs or {}).items():
        if v is None:
            continue
        parts.append(f'{k}="{html.escape(str(v), quote=True)}"')
    head = " ".join(parts)
    if body is None:
        return f"<{head}/>"
    if "\n" in body and not body.startswith("\n"):
        body = "\n" + body
    if "\n" in body and not body.endswith("\n"):
        body = body + "\n"
    return f"<{head}>{body}</{name}>"


def format_observation(ref: str, score: float | None, text: str) -> str:
    attrs: dict[str, object] = {"ref": ref}
    if score is not None:
        attrs["score"] = f"{score:.2f}"
    return format_tag(OBSERVATION_TAG, attrs, text.replace("<", "‹").replace(">", "›"))


def parse_attrs(text: str) -> tuple[dict[str, str], list[str]]:
    """Parse ``k="v" k2='v2' k3=v3``; returns attributes and findings for leftovers."""
    attrs: dict[str, str] = {}
    findings: list[str] = []
    pos = 0
    text = text.strip().rstrip("/").strip()
    while pos < len(text):
        m = _ATTR_RE.match(text, pos)
        if not m:
            bad = text[pos:].strip().split()[0] if text[pos:].strip() else text[pos:]
            findings.append(f'bad attribute "{bad[:40]}": write attributes as name="value"')
            break
        value = next(g for g in (m.group(2), m.group(3), m.group(4)) if g is not None)
        attrs[m.group(1).lower()] = html.unescape(value)
        pos = m.end()
    return attrs, findings


@dataclass
class TextEvent:
    text: str


@dataclass
class TagEvent:
    tag: Tag


@dataclass
class ProblemEvent:
    finding: str
    raw: str = ""


Event = TextEvent | TagEvent | ProblemEvent


class StreamParser:
    """Incremental parser: feed text as it streams, get events as soon as they are certain.

    Text that might be the start of a known tag is held back until the tag completes or is
    ruled out, so a caller can stop generation the moment a draft tag closes.
    """

    def __init__(self, max_body: int = MAX_TAG_BODY) -> None:
        self._buf = ""
        self._max_body = max_body

    @property
    def pending(self) -> str:
        """Text held back because it may be the start of a tag."""
        return self._buf

    def feed(self, text: str) -> list[Event]:
        self._buf += text
        return self._drain(final=False)

    def finish(self) -> list[Event]:
        """Flush at end of stream; an unclosed tag becomes a finding."""
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[Event]:
        events: list[Event] = []
        while self._buf:
            lt = self._buf.find("<")
            if lt < 0:
                events.append(TextEvent(self._buf))
                self._buf = ""
                break
            if lt > 0:
                events.append(TextEvent(self._buf[:lt]))
                self._buf = self._buf[lt:]
            ev, consumed, need_more = self._try_tag(final)
            if need_more:
                break
            events.extend(ev)
            self._buf = self._buf[consumed:]
        return _merge_text(events)

    def _try_tag(self, final: bool) -> tuple[list[Event], int, bool]:
        buf = self._buf
        m = _OPEN_RE.match(buf)
        if m is None:
            # Could this still become a tag once more text arrives?
            head = re.match(rf"</?({_NAME})?", buf)
            partial = head is not None and head.end() == len(buf) or (
                head is not None and "<" not in buf[1:] and ">" not in buf and len(buf) < 400
            )
            if partial and not final:
                return [], 0, True
            close = re.match(rf"</({_NAME})\s*>", buf)
            if close and close.group(1).lower() in KNOWN_TAGS:
                name = close.group(1).lower()
                return [ProblemEvent(f"stray </{name}> without an opening tag: removed", close.group(0))], close.end(), False
            return [TextEvent("<")], 1, False
        name = m.group(1).lower()
        if name not in KNOWN_TAGS:
            if name in ("think", "thinking", "answer"):
                return [TextEvent(m.group(0))], m.end(), False
            if m.group(2).strip() or _looks_like_step(name):
                known = ", ".join(KNOWN_TAGS)
                return [TextEvent(m.group(0)), ProblemEvent(f"unknown tag <{name}>: use one of {known}", m.group(0))], m.end(), False
            return [TextEvent(m.group(0))], m.end(), False
        attrs, findings = parse_attrs(m.group(2))
        problems: list[Event] = [ProblemEvent(f"<{name}>: {f}", m.group(0)) for f in findings]
        if m.group(3) == "/":
            return problems + [TagEvent(Tag(name, attrs, "", m.group(0)))], m.end(), False
        close_re = re.compile(rf"</{name}\s*>", re.IGNORECASE)
        cm = close_re.search(buf, m.end())
        # A new opening of a drafting tag before the close means this one was never closed.
        reopen = re.compile(rf"<({'|'.join(DRAFT_TAGS + FINAL_TAGS)})[\s>/]", re.IGNORECASE).search(buf, m.end())
        if reopen is not None and (cm is None or reopen.start() < cm.start()):
            return problems + [
                TextEvent(buf[: reopen.start()]),
                ProblemEvent(f"unclosed <{name}>: close it with </{name}> before starting another tag", m.group(0)),
            ], reopen.start(), False
        if cm is None:
            if len(buf) - m.end() > self._max_body:
                return problems + [
                    ProblemEvent(f"<{name}> body is longer than {self._max_body} characters: shorten it", m.group(0))
                ], len(buf), False
            if final:
                return problems + [
                    TextEvent(buf),
                    ProblemEvent(f"unclosed <{name}>: close it with </{name}>", m.group(0)),
                ], len(buf), False
            return [], 0, True
        body = buf[m.end(): cm.start()]
        if len(body) > self._max_body:
            return problems + [
                ProblemEvent(f"<{name}> body is longer than {self._max_body} characters: shorten it", m.group(0))
            ], cm.end(), False
        return problems + [TagEvent(Tag(name, attrs, body.strip("\n"), buf[: cm.end()]))], cm.end(), False


def _looks_like_step(name: str) -> bool:
    return any(k in name for k in ("sketch", "draft", "frame", "music", "final", "audio", "image", "video", "observ"))


def _merge_text(events: list[Event]) -> list[Event]:
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, TextEvent) and out and isinstance(out[-1], TextEvent):
            out[-1] = TextEvent(out[-1].text + ev.text)
        elif not (isinstance(ev, TextEvent) and ev.text == ""):
            out.append(ev)
    return out


def parse_steps(text: str) -> tuple[list[Tag], list[str]]:
    """Parse a whole chain of thought at once: the tags and the findings."""
    parser = StreamParser()
    events = parser.feed(text) + parser.finish()
    tags = [e.tag for e in events if isinstance(e, TagEvent)]
    problems = [e.finding for e in events if isinstance(e, ProblemEvent)]
    return tags, problems


def strip_tags(text: str) -> str:
    """The prose of a chain of thought without step tags (for displays and token counts)."""
    parser = StreamParser()
    events = parser.feed(text) + parser.finish()
    return "".join(e.text for e in events if isinstance(e, TextEvent))


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

    def copy(self) -> "Scene":
        return parse_scene(self.format())[0]


_COUNT_RE = re.compile(r"^(?P<name>.*?)(?:\s+[x×]\s*(?P<n>-?\d+))?\s*$", re.IGNORECASE)
_RELATION_RE = re.compile(
    r"^(?P<kind>" + "|".join(re.escape(r) for r in sorted(RELATIONS, key=len, reverse=True)) + r")\s+(?P<rest>.+)$",
    re.IGNORECASE,
)


def normalize_name(name: str) -> str:
    """Lower-case, single-spaced, singular-ish name used to match elements to each other."""
    n = " ".join(name.lower().replace("_", " ").split())
    n = re.sub(r"^(the|a|an)\s+", "", n)
    return singular(n)


def singular(word: str) -> str:
    """Cheap English singular for the last word of a noun phrase."""
    *head, last = word.split(" ") if word else [""]
    irregular = {"people": "person", "children": "child", "men": "man", "women": "woman", "mice": "mouse",
                 "geese": "goose", "teeth": "tooth", "feet": "foot", "fish": "fish", "sheep": "sheep",
                 "deer": "deer", "leaves": "leaf", "wolves": "wolf", "knives": "knife", "shelves": "shelf",
                 "cacti": "cactus", "fungi": "fungus"}
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
    for attr in _split_attrs(attr_part):
        low = " ".join(attr.lower().split())
        rel = _RELATION_RE.match(low)
        if rel:
            kind, rest = rel.group("kind"), rel.group("rest")
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
