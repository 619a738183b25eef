"""The system prompt that teaches a language model the step protocol, and the example turns that show it.

A real LLM only speaks the protocol if it is shown it, so the prompt explains the tags for the
modality, how observations come back from the tools, and when to stop. It holds no placeholder a
small model could copy (``name [xN]: attributes``, ``...``): the form is taught by a few short
on-topic exchanges given as prior chat turns (:func:`example_messages`, from :mod:`.examples`),
chosen to fit the request's shape. The long demo scripts (``assets/demos``) stay demos. A
``<thinking_mode>`` tag states the mode for models trained to read it.
"""

from __future__ import annotations

from typing import Any

from mmthink.core.turn import Guide
from mmthink.errors import InputError
from mmthink.reasoners.examples import choose
from mmthink.reasoners.forcing import THINK_CLOSE, THINK_OPEN

_MODE_TEXT = {
    "on": "Thinking is on: think step by step, draft, read each observation, and revise until the draft passes.",
    "off": "Thinking is off: do not think and do not revise. Answer directly and briefly; {off}.",
    "auto": (
        "Thinking is auto: decide for yourself. Think and draft for requests with several objects, counts, "
        "relations or timing; answer directly (as with thinking off: {off}) when the request is simple."
    ),
}


def build_system_prompt(guide: Guide, mode: str) -> str:
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
    return "\n\n".join(parts).strip() + "\n"


def _rules(guide: Guide) -> str:
    lines = [
        "Rules:",
        "- Give every draft a new id, counting up (s1 then s2 for sketches, a1 then a2 for speech, f1 then f2 for "
        "frames); a revision gets a new id too.",
        "- Read each observation; if it did not pass, say what is wrong and draft again with the fix.",
        "- When a draft passes (or you run out of budget), stop thinking and write a one-sentence answer that "
        "ends with the final tag.",
        *guide.rules,
    ]
    return "\n".join(lines)


def example_messages(guide: Guide | None, mode: str, request: str, limit: int = 3) -> list[dict[str, Any]]:
    """Prior chat turns (user, assistant, ...) showing the protocol on requests shaped like ``request``.

    An assistant turn holds the whole reply: the thinking between think markers (with the observation
    the tools wrote back), then the answer; with thinking off, the answer alone with the content inline.
    """
    if guide is None:
        return []
    out: list[dict[str, Any]] = []
    for ex in choose(guide.modality, request, mode, limit):
        if mode == "off":
            reply = ex.off or ex.answer
        else:
            reply = f"{THINK_OPEN}\n{ex.thinking}\n{THINK_CLOSE}\n\n{ex.answer}"
        out += [{"role": "user", "content": ex.request}, {"role": "assistant", "content": reply}]
    return out
