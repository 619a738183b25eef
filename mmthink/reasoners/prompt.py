"""The system prompt that teaches a language model the step protocol.

A real LLM only speaks the protocol if it is shown it, so the prompt explains the tags for the
modality, how observations come back from the tools, and when to stop, then replays the
scripted demos (``assets/demos/*.md``) as worked examples with the observations marked where
the tools write them. A ``<thinking_mode>`` tag states the mode for models trained to read it.
"""

from __future__ import annotations

import re

from ..errors import InputError
from ..protocol import DRAFT_TAGS
from ..vocab import COLORS, DEPTHS, HORIZONTAL, RELATIONS, SIZES, VERTICAL

MODALITIES = ("image", "speech", "video")

_TAGS = {
    "image": (
        '<sketch id="s1">\nname [xN]: attributes\n...\n</sketch>  a draft picture, one scene element per line\n'
        '<final_image ref="s2"/>  (in the answer) the accepted sketch to render at full quality'
    ),
    "speech": (
        '<draft_audio id="a1" emotion="hope">the exact words to say</draft_audio>  a spoken draft of one segment\n'
        '<final_speech/>  (in the answer) join the accepted segments into the final recording'
    ),
    "video": (
        '<frame id="f1" scene="1" seconds="4">what the shot shows: element: attributes; element: attributes</frame>'
        '  a storyboard frame\n'
        '<draft_audio id="a1" emotion="calm">narration for a scene</draft_audio>  a narration draft\n'
        '<music id="m1" mood="wonder" seconds="12"></music>  background music for the whole video\n'
        '<final_video/>  (in the answer) assemble the accepted frames, narration and music'
    ),
}

_OFF = {
    "image": "put the scene lines inside the final tag itself: <final_image>\nname [xN]: attributes\n</final_image>",
    "speech": "write each segment once as <draft_audio ...>words</draft_audio>, then <final_speech/>",
    "video": "write each frame (and the music) once, then <final_video/>",
}

_MODE_TEXT = {
    "on": "Thinking is on: think step by step, draft, read each observation, and revise until the draft passes.",
    "off": "Thinking is off: do not think and do not revise. Answer directly and briefly; {off}.",
    "auto": ("Thinking is auto: decide for yourself. Think and draft for requests with several objects, counts, "
             "relations or timing; answer directly (as with thinking off: {off}) when the request is simple."),
}


def build_system_prompt(modality: str, mode: str, examples: bool = True) -> str:
    """The protocol system prompt for ``modality`` (image | speech | video) and ``mode`` (on | off | auto)."""
    if modality not in MODALITIES:
        raise InputError("modality", f"unknown value {modality!r}", f"use one of {', '.join(MODALITIES)}")
    if mode not in _MODE_TEXT:
        raise InputError("thinking", f"unknown mode {mode!r}", "use on, off or auto")
    parts = [
        f"<thinking_mode>{mode}</thinking_mode>",
        f"You make {_NOUN[modality]} by thinking and drafting. Inside your thinking you write drafting steps "
        "as tags; each closing tag stops you, the tools render the draft for real, a critic measures it, and its "
        'findings come back into your thinking as <observation ref="ID" score="0.00-1.00">findings</observation>. '
        "Never write an observation yourself: stop after the closing tag and wait for it.",
        "Tags:\n" + _TAGS[modality],
        _rules(modality),
        _MODE_TEXT[mode].format(off=_OFF[modality]),
    ]
    if examples:
        demos = _examples(modality, mode)
        if demos:
            parts.append("Worked examples:\n\n" + "\n\n".join(demos))
    return "\n\n".join(parts).strip() + "\n"


_NOUN = {"image": "images", "speech": "speech recordings", "video": "short videos"}


def _rules(modality: str) -> str:
    lines = [
        "Rules:",
        "- Give every draft a new id (s1, s2, ... / a1, a2, ... / f1, f2, ...); a revision gets a new id too.",
        "- Read each observation; if it did not pass, say what is wrong and draft again with the fix.",
        "- When a draft passes (or you run out of budget), stop thinking and write a one-sentence answer that "
        "ends with the final tag.",
    ]
    if modality in ("image", "video"):
        lines += [
            "- Scene lines have the form `name [xN]: attributes`, one element per line "
            "(e.g. `starfighter x5: small, silver, right`).",
            f"- Attributes: sizes ({', '.join(SIZES)}); colours (e.g. {', '.join(list(COLORS)[:12])}); positions "
            f"({', '.join(HORIZONTAL + VERTICAL + DEPTHS)}); relations ({', '.join(RELATIONS)}), "
            "e.g. `left of X`, `between X and Y`. `setting:` and `style:` lines describe the backdrop and look.",
        ]
    if modality in ("speech", "video"):
        lines.append("- A spoken draft holds the exact words; its emotion attribute sets the delivery "
                     "(e.g. hope, calm, joy, sadness, anger, fear, surprise).")
    return "\n".join(lines)


def _examples(modality: str, mode: str) -> list[str]:
    """The demo scripts that exist, this modality's first, as worked examples."""
    from .scripted import available_scripts, load_script

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


_DRAFT_CLOSE = re.compile(r"<(" + "|".join(DRAFT_TAGS) + r")\b([^>]*)>.*?</\1\s*>", re.S)
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
