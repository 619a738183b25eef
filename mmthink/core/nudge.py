"""A nudge instead of a repeat: after a turn that thought but drafted nothing, say exactly what to write next.

A small model that ends a turn without a drafting tag would otherwise be asked to go on with the same
chain and usually writes more of the same. The graph appends a protocol observation naming the tag and
the id to write now (``Open a <tag> tag with id="<next id>" next (...)``), built from the modality's :class:`Guide`:
its own ``nudge`` text where it has one, else the tag's line in its tag reference. The core names no
modality: everything here comes from the guide and the tag set.
"""

from __future__ import annotations

import re
from typing import Any

from mmthink.core.turn import Guide, Turn


def next_id(tag: str, transcript: str, reference: str) -> str:
    """The next id for ``tag``: the highest number used in the transcript plus one, with its letter (else
    the letter the guide's reference uses, else the tag's first letter)."""
    pat = re.compile(rf'<{re.escape(tag)}\b[^<>]*?\bid="([A-Za-z]*)(\d+)"')
    used = pat.findall(transcript)
    ref = pat.search(reference)
    letter = used[-1][0] if used else (ref.group(1) if ref else tag[0])
    return f"{letter}{max((int(n) for _, n in used), default=0) + 1}"


def _described(guide: Guide, tag: str) -> str:
    """What the guide's tag reference says a ``tag`` is (the example itself left out)."""
    for line in guide.tags.splitlines():
        if line.lstrip().startswith(f"<{tag}"):
            after_close = line.split(f"</{tag}>", 1)[1] if f"</{tag}>" in line else ""
            rest = after_close if after_close.strip() else line.split(">", 1)[-1]
            return " ".join(rest.split())
    return ""


def nudge(turn: Turn) -> str | None:
    """The observation after a turn with no draft (None when there is nothing to draft)."""
    if not turn.tags.draft or turn.drafts_left == 0 or turn.guide is None:
        return None
    guide: Any = turn.guide
    tag = turn.tags.draft[0]
    draft_id = next_id(tag, turn.transcript, guide.tags)
    own = getattr(guide, "nudge", "")
    if own:
        return str(own).format(id=draft_id, tag=tag, request=turn.prompt)
    what = _described(guide, tag).replace(f"</{tag}>", "the closing tag")
    # Observations carry no angle brackets (the graph escapes them), so the tag is named in words.
    return f'No draft this turn. Open a {tag} tag with id="{draft_id}" next' + (f" ({what})" if what else "") + "."


def revise_hint(tag: str, transcript: str, guide: Guide | None) -> str:
    """What a failed draft's observation ends with while drafts are left: the tag and id to revise in."""
    draft_id = next_id(tag, transcript, guide.tags if guide is not None else "")
    return f'. Not passed: fix it in a new {tag} tag with id="{draft_id}".'


def revision_due(transcript: str, drafts: list[dict[str, Any]], draft_tags: tuple[str, ...] | list[str]) -> str | None:
    """The tag of a draft the critic just rejected, when the turn about to start is the one after its observation.

    Only the first turn after the observation: a turn that then drafts nothing gets a nudge instead, and
    a draft that failed to render (an error, no observation) is not a revision to force.
    """
    if not drafts:
        return None
    last = drafts[-1]
    if last.get("passed") is not False or last.get("error") or last.get("tag") not in draft_tags:
        return None
    tail = transcript.rstrip()
    opened = tail.rfind("<observation")
    if opened < 0 or not tail.endswith("</observation>"):
        return None
    return str(last["tag"]) if f'ref="{last.get("id")}"' in tail[opened : opened + 120] else None


def critic_lines(transcript: str) -> tuple[str, ...]:
    """The scene lines the last observation gave (between backticks), in order."""
    at = transcript.rfind("<observation")
    return tuple(dict.fromkeys(re.findall(r"`([^`\n]{1,120})`", transcript[at:]))) if at >= 0 else ()


def repeated(drafts: list[dict[str, Any]]) -> bool:
    """The last two drafts were both rejected and the last one is the one before it, unchanged."""
    if len(drafts) < 2:
        return False
    a, b = drafts[-2], drafts[-1]
    same = " ".join(str(a.get("body", "")).split()) == " ".join(str(b.get("body", "")).split())
    return same and a.get("tag") == b.get("tag") and a.get("passed") is False and b.get("passed") is False
