"""The heuristic reasoner's speech planner: speak quoted text with the emotion the request names.

It cannot write a speech, so a request without quoted text gets a plain statement of that in
the chain of thought and no audio, rather than an invented text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mmthink.core.tags import format_tag
from mmthink.reasoners.base import Delta, DraftRecord, Turn, answer, refuse, words

EMOTION_WORDS = {
    "happy": ("joyful", "joyfully", "happily", "happy", "cheerful", "cheerfully", "excited", "excitedly", "glad"),
    "sad": ("sad", "sadly", "sorrowful", "mournful", "mournfully", "melancholy", "grieving", "tearful"),
    "angry": ("angry", "angrily", "furious", "furiously", "annoyed", "outraged"),
    "calm": ("calm", "calmly", "soothing", "soothingly", "gently", "relaxed", "peaceful", "peacefully"),
    "fear": ("afraid", "fearful", "fearfully", "scared", "nervous", "nervously", "terrified", "anxious"),
    "hope": ("hope", "hopeful", "hopefully", "optimistic", "optimistically", "upbeat"),
    "urgency": ("urgent", "urgently", "urgency", "alarmed", "hurried"),
    "inspiration": ("inspiring", "inspiringly", "inspired", "rousing", "uplifting"),
    "responsibility": ("solemn", "solemnly", "serious", "seriously", "responsible", "earnest", "earnestly"),
    "solidarity": ("united", "together", "solidarity", "fraternal"),
    "empathy": ("empathetic", "empathetically", "kind", "kindly", "warm", "warmly", "compassionate", "tender"),
    "neutral": ("neutral", "neutrally", "plainly", "flat", "matter-of-fact"),
}
_QUOTES = re.compile(r"\"([^\"]{1,2000})\"|“([^”]{1,2000})”|'([^']{3,2000})'(?=[\s.,!?]|$)")


def find_emotion(text: str) -> str:
    low = text.lower()
    for emotion, ws in EMOTION_WORDS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", low) for w in ws):
            return emotion
    return "neutral"


_SAY_COLON = re.compile(
    r"^\s*(?:please\s+)?(?:read|say|speak|whisper|shout|announce|narrate)\b[^:\n]{0,60}:\s*(\S.*)$", re.I | re.S
)
"""'read this calmly: the meeting moved to Friday' gives its words after the colon, unquoted."""


def quoted(text: str) -> list[str]:
    """The words to speak: quoted passages, else what follows 'read/say/... :'."""
    found = [next(g for g in m.groups() if g).strip() for m in _QUOTES.finditer(text) if any(m.groups())]
    if not found and (m := _SAY_COLON.match(text)):
        found = [m.group(1).strip()]
    return found


def speech_turn(turn: Turn) -> Iterator[Delta]:
    passages = [q for q in quoted(turn.prompt) if q]
    outside = _QUOTES.sub(" ", turn.prompt)
    emotion = find_emotion(outside)
    if not passages:
        yield from words(
            "The user wants speech, but the request quotes no text to speak. Writing a new speech "
            "needs a language model, which this embedded reasoner is not, so I will not invent one. "
            'Put the words in quotes, e.g. say "we did it" joyfully, or run with a model reasoner '
            "(--profile gpu or --profile server).\n"
        )
        yield from refuse(
            "The embedded reasoner speaks only text given in quotes, and this request has none. To have "
            "words written for you, run with a model reasoner (--reasoner hf or openai_compat)."
        )
        return
    if turn.mode == "off":
        yield from answer("Here it is.\n" + format_tag("final_speech", {"emotion": emotion}, " ".join(passages)))
        return
    takes = [d for d in turn.drafts if d.tag == "draft_audio"]
    if not takes:
        plan = "; ".join(f'passage {i + 1}: "{p[:60]}"' for i, p in enumerate(passages))
        yield from words(
            f"The user wants this spoken with a {emotion} delivery ({plan}). For {emotion} I will use "
            f"the {emotion} prosody profile, speak the first passage, and listen to it.\n"
        )
        yield Delta(format_tag("draft_audio", {"id": "a1", "emotion": emotion, "passage": "1"}, passages[0]) + "\n")
        return
    last = takes[-1]
    passage = int(last.attrs.get("passage", "1"))
    if turn.force_close:
        yield from words(f"\n{turn.force_close.capitalize()}; I will use the best takes so far.\n")
        yield from answer("Here is the speech.\n" + format_tag("final_speech", {}))
        return
    if last.passed or last.error is not None and (turn.drafts_left or 0) <= 0 or _exhausted(turn, last):
        if last.passed:
            yield from words(
                f"\nListening to {last.id}: it matches the {emotion} target (score {last.score or 0:.2f}).\n"
            )
        else:
            yield from words(f"\nI cannot get {last.id} closer within the budget; I will keep its best take.\n")
        if passage < len(passages):
            nid = f"a{len(takes) + 1}"
            yield from words(f"Next, passage {passage + 1}.\n")
            yield Delta(
                format_tag(
                    "draft_audio", {"id": nid, "emotion": emotion, "passage": str(passage + 1)}, passages[passage]
                )
                + "\n"
            )
            return
        yield from answer("Here is the speech.\n" + format_tag("final_speech", {}))
        return
    attrs = revised_attrs(last)
    if attrs is None:
        yield from answer("Here is the speech.\n" + format_tag("final_speech", {}))
        return
    origin = last.attrs.get("of", last.id)
    nid = f"{origin}r{sum(1 for d in takes if d.attrs.get('of') == origin) + 2}"
    what = "; ".join(last.findings[:3]) or "it missed its target"
    yield from words(f"\nListening to {last.id}: {what}. Let me adjust the delivery and try again.\n")
    yield Delta(format_tag("draft_audio", {"id": nid, "of": origin, **attrs}, last.body) + "\n")


def _exhausted(turn: Turn, last: DraftRecord) -> bool:
    return turn.drafts_left is not None and turn.drafts_left <= 0


def revised_attrs(last: DraftRecord) -> dict[str, str] | None:
    from mmthink.core.tags import Tag
    from mmthink.modalities.speech.handler import revise_tag

    try:
        attrs = revise_tag(Tag("draft_audio", dict(last.attrs), last.body), last)
    except Exception:
        return None
    if attrs is None:
        return None
    return {k: v for k, v in attrs.items() if k not in ("id", "of")}
