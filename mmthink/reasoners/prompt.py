"""The system prompt that teaches a language model the step protocol.

A real LLM only speaks the protocol if it is shown it, so the prompt explains the tags for the
modality, how observations come back from the tools, and when to stop, then replays the
scripted demos (``assets/demos/*.md``) as worked examples with the observations marked where
the tools write them. A ``<thinking_mode>`` tag states the mode for models trained to read it.
"""

from __future__ import annotations

import re

from mmthink.core.turn import Guide
from mmthink.errors import InputError

_MODE_TEXT = {
    "on": "Thinking is on: think step by step, draft, read each observation, and revise until the draft passes.",
    "off": "Thinking is off: do not think and do not revise. Answer directly and briefly; {off}.",
    "auto": ("Thinking is auto: decide for yourself. Think and draft for requests with several objects, counts, "
             "relations or timing; answer directly (as with thinking off: {off}) when the request is simple."),
}


def build_system_prompt(guide: Guide, mode: str, examples: bool = True) -> str:
    """The protocol system prompt for a modality (its :class:`Guide`) and ``mode`` (on | off | auto)."""
    if not isinstance(guide, Guide):
        raise InputError("modality", f"no tag guide for {guide!r}", "pass the modality's Guide (registry.guide(name))")
    if mode not in _MODE_TEXT:
        raise InputError("thinking", f"unknown mode {mode!r}", "use on, off or auto")
    parts = [
        f"<thinking_mode>{mode}</thinking_mode>",
        f"You make {guide.noun} by thinking and drafting. Inside your thinking you write drafting steps "
        "as tags; each closing tag stops you, the tools render the draft for real, a critic measures it, and its "
        'findings come back into your thinking as <observation ref="ID" score="0.00-1.00">findings</observation>. '
        "Never write an observation yourself: stop after the closing tag and wait for it.",
        "Tags:\n" + guide.tags,
        _rules(guide),
        _MODE_TEXT[mode].format(off=guide.off),
    ]
    if examples:
        demos = _examples(guide.modality, mode)
        if demos:
            parts.append("Worked examples:\n\n" + "\n\n".join(demos))
    return "\n\n".join(parts).strip() + "\n"


def _rules(guide: Guide) -> str:
    lines = [
        "Rules:",
        "- Give every draft a new id (s1, s2, ... / a1, a2, ... / f1, f2, ...); a revision gets a new id too.",
        "- Read each observation; if it did not pass, say what is wrong and draft again with the fix.",
        "- When a draft passes (or you run out of budget), stop thinking and write a one-sentence answer that "
        "ends with the final tag.",
        *guide.rules,
    ]
    return "\n".join(lines)


def _examples(modality: str, mode: str) -> list[str]:
    """The demo scripts that exist, this modality's first, as worked examples."""
    from mmthink.reasoners.scripted import available_scripts, load_script

    scripts = []
    for name in available_scripts():
        try:
            scripts.append(load_script(name))
        except (InputError, OSError, ValueError):
            continue
    same = [s for s in scripts if s.modality == modality]
    if not same:
        return []
    out = []
    for s in same:
        if mode == "off":
            out.append(f"Request: {s.request}\nAnswer (thinking off):\n{_inline_answer(s.thinking, s.answer)}")
        else:
            # No literal think markers here: in many tokenizers they are special tokens.
            out.append(f"Request: {s.request}\nThinking:\n{_with_observations(s.thinking)}Answer:\n{s.answer}")
    return out


_DRAFT_CLOSE = re.compile(r"<([A-Za-z_][\w-]*)\b([^>]*\bid=\"[^>]*)>.*?</\1\s*>", re.S)
"""A drafting tag in a demo script: a paired tag with an id (finals close themselves)."""
_ID = re.compile(r'\bid="([^"]*)"')
_SCRIPT_ONLY = re.compile(r'\s+(?:revise|of)="[^"]*"')


def _with_observations(thinking: str) -> str:
    """Mark where the tools write each observation, and drop script-only attributes."""
    def add(m: re.Match[str]) -> str:
        ref = _ID.search(m.group(2))
        rid = ref.group(1) if ref else "?"
        return (m.group(0) + f'\n<observation ref="{rid}" score="…">the critic\'s measurements of {rid} '
                "appear here</observation>")

    text = _DRAFT_CLOSE.sub(add, thinking)
    text = _SCRIPT_ONLY.sub("", text)
    return text if text.endswith("\n") else text + "\n"


def _inline_answer(thinking: str, answer: str) -> str:
    """With thinking off the final tag carries the last draft's content instead of naming a draft."""
    drafts = list(_DRAFT_CLOSE.finditer(thinking))
    m = re.search(r"<(final_\w+)\s+ref=\"([^\"]+)\"\s*/>", answer)
    if not m or not drafts:
        return _SCRIPT_ONLY.sub("", answer)
    chosen = next((d for d in drafts if f'id="{m.group(2)}"' in d.group(2)), drafts[-1])
    body = re.sub(r"^<[^>]*>|</[^>]*>$", "", chosen.group(0)).strip("\n")
    return answer.replace(m.group(0), f"<{m.group(1)}>\n{body}\n</{m.group(1)}>")
