"""The step protocol: drafting tags inside a chain of thought, parsed as they stream.

This module is the contract between every reasoner (scripted, heuristic, a real LLM) and
the graph. It never raises on bad model output: malformed or unknown tags become
*findings* that the graph writes back into the chain of thought as an observation, so the
reasoner can correct itself. Which tag names exist is not known here: each modality declares
its own, and callers hand the parser a :class:`TagSet` built from the modality registry.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- tags

OBSERVATION_TAG = "observation"
"""The one tag every modality shares: the graph's feedback, written back into the chain of thought."""

MAX_TAG_BODY = 20_000
"""Characters a single tag body may hold; beyond this the tag is rejected with a finding."""


@dataclass(frozen=True)
class TagSet:
    """The tag vocabulary a parser knows: drafting tags (closing one renders a draft) and final tags."""

    draft: tuple[str, ...] = ()
    final: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return self.draft + self.final + (OBSERVATION_TAG,)

    def role(self, name: str) -> str:
        """ "draft", "final", "observation" or "" for a name this set does not know."""
        if name in self.draft:
            return "draft"
        if name in self.final:
            return "final"
        return "observation" if name == OBSERVATION_TAG else ""

    def close_pattern(self) -> str:
        """A regex alternation of the drafting tags (for stop strings and scripted replays)."""
        return "|".join(re.escape(t) for t in self.draft)


_NAME = r"[A-Za-z_][\w\-]*"
_OPEN_RE = re.compile(rf"<({_NAME})((?:\s+[^<>]*?)?)\s*(/?)>")
_ATTR_RE = re.compile(r"""\s*([A-Za-z_][\w\-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")


@dataclass
class Tag:
    """One complete step tag, e.g. ``<name id="s1">...</name>``."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw: str = ""
    role: str = ""
    """"draft", "final" or "observation", as the parser's :class:`TagSet` says."""

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def is_draft(self) -> bool:
        return self.role == "draft"

    @property
    def is_final(self) -> bool:
        return self.role == "final"

    def format(self) -> str:
        return format_tag(self.name, self.attrs, self.body if self.body else None)


def format_tag(name: str, attrs: Mapping[str, object] | None = None, body: str | None = None) -> str:
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

    def __init__(self, tags: TagSet, max_body: int = MAX_TAG_BODY) -> None:
        self._buf = ""
        self._tags = tags
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
        """Events for the tag at the start of the buffer, characters consumed, and whether more text is needed."""
        buf = self._buf
        m = _OPEN_RE.match(buf)
        if m is None:
            return self._not_an_opening(buf, final)
        name = m.group(1).lower()
        role = self._tags.role(name)
        if not role:
            return self._unknown(m, name)
        attrs, findings = parse_attrs(m.group(2))
        problems: list[Event] = [ProblemEvent(f"<{name}>: {f}", m.group(0)) for f in findings]
        if m.group(3) == "/":
            return problems + [TagEvent(Tag(name, attrs, "", m.group(0), role))], m.end(), False
        cm = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(buf, m.end())
        # A new opening of a drafting tag before the close means this one was never closed.
        steps = "|".join(re.escape(t) for t in self._tags.draft + self._tags.final)
        reopen = re.compile(rf"<({steps})[\s>/]", re.IGNORECASE).search(buf, m.end()) if steps else None
        if reopen is not None and (cm is None or reopen.start() < cm.start()):
            unclosed = ProblemEvent(
                f"unclosed <{name}>: close it with </{name}> before starting another tag", m.group(0)
            )
            return problems + [TextEvent(buf[: reopen.start()]), unclosed], reopen.start(), False
        too_long = ProblemEvent(f"<{name}> body is longer than {self._max_body} characters: shorten it", m.group(0))
        if cm is None:
            if len(buf) - m.end() > self._max_body:
                return problems + [too_long], len(buf), False
            if final:
                unclosed = ProblemEvent(f"unclosed <{name}>: close it with </{name}>", m.group(0))
                return problems + [TextEvent(buf), unclosed], len(buf), False
            return [], 0, True
        body = buf[m.end() : cm.start()]
        if len(body) > self._max_body:
            return problems + [too_long], cm.end(), False
        return problems + [TagEvent(Tag(name, attrs, body.strip("\n"), buf[: cm.end()], role))], cm.end(), False

    def _not_an_opening(self, buf: str, final: bool) -> tuple[list[Event], int, bool]:
        """A '<' that opens no tag: wait if it may still become one, drop a stray closing tag, else it is text."""
        head = re.match(rf"</?({_NAME})?", buf)
        partial = (
            head is not None
            and head.end() == len(buf)
            or (head is not None and "<" not in buf[1:] and ">" not in buf and len(buf) < 400)
        )
        if partial and not final:
            return [], 0, True
        close = re.match(rf"</({_NAME})\s*>", buf)
        if close and close.group(1).lower() in self._tags.known:
            name = close.group(1).lower()
            return (
                [ProblemEvent(f"stray </{name}> without an opening tag: removed", close.group(0))],
                close.end(),
                False,
            )
        return [TextEvent("<")], 1, False

    def _unknown(self, m: re.Match[str], name: str) -> tuple[list[Event], int, bool]:
        """A tag this vocabulary does not know: text, with a finding when it looks like a step."""
        if name not in ("think", "thinking", "answer") and (m.group(2).strip() or _looks_like_step(name, self._tags)):
            known = ", ".join(self._tags.known)
            problem = ProblemEvent(f"unknown tag <{name}>: use one of {known}", m.group(0))
            return [TextEvent(m.group(0)), problem], m.end(), False
        return [TextEvent(m.group(0))], m.end(), False


def _looks_like_step(name: str, tags: TagSet) -> bool:
    """A near miss of a known tag (a plural, a shortened word): worth a finding, not silence."""
    words = {w for t in tags.known for w in t.split("_") if len(w) > 3}
    return any(w[:5] in name for w in words)


def _merge_text(events: list[Event]) -> list[Event]:
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, TextEvent) and out and isinstance(out[-1], TextEvent):
            out[-1] = TextEvent(out[-1].text + ev.text)
        elif not (isinstance(ev, TextEvent) and ev.text == ""):
            out.append(ev)
    return out


def parse_steps(text: str, tags: TagSet) -> tuple[list[Tag], list[str]]:
    """Parse a whole chain of thought at once: the tags and the findings."""
    parser = StreamParser(tags)
    events = parser.feed(text) + parser.finish()
    found = [e.tag for e in events if isinstance(e, TagEvent)]
    problems = [e.finding for e in events if isinstance(e, ProblemEvent)]
    return found, problems


def strip_tags(text: str, tags: TagSet) -> str:
    """The prose of a chain of thought without step tags (for displays and token counts)."""
    parser = StreamParser(tags)
    events = parser.feed(text) + parser.finish()
    return "".join(e.text for e in events if isinstance(e, TextEvent))
