"""The speech modality's facts for the registry: draft audio takes with an emotion, one final speech."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mmthink.errors import InputError
from mmthink.modalities.spec import ModalitySpec

WORDS_PER_SECOND = 2.5
"""A calm speaking rate, used to estimate how long a text takes to say."""

_SPEECH_WORDS = re.compile(
    r"\b(say|says|speak|speech|voice|narrat\w*|read (?:this|it) (?:aloud|out)|audio|tts|"
    r"pronounce|tone)\b",
    re.I,
)
_PICTURE_WORDS = re.compile(r"\b(image|picture|drawing|painting|photo)\b", re.I)


def _detect(text: str) -> str | None:
    m = _SPEECH_WORDS.search(text)
    if m and not _PICTURE_WORDS.search(text):
        return f"the request asks for something spoken ({m.group(0)!r})"
    return None


def _validate(req: Any, limits: Any) -> None:
    cap = limits.max_audio_seconds
    seconds = req.seconds()
    if seconds is not None and seconds > cap:
        raise InputError(
            "seconds",
            f"{seconds:g} s of speech is over the limit of {cap:g} s",
            "ask for less or raise Limits.max_audio_seconds",
        )
    spoken = len(re.findall(r"\w+", req.text)) / WORDS_PER_SECOND
    if spoken > cap:
        raise InputError(
            "prompt",
            f"would take about {spoken:.0f} s to say, the limit is {cap:g} s",
            "shorten the text or raise Limits.max_audio_seconds",
        )


def _build(cfg: Any, image_backend: Any, mods: dict[str, Any]) -> Any:
    from mmthink.modalities.base import Modality
    from mmthink.modalities.speech.composer import SpeechComposer
    from mmthink.modalities.speech.critic import SpeechCritic
    from mmthink.modalities.speech.handler import SpeechHandler
    from mmthink.modalities.speech.tts import SpeechTool

    handler = SpeechHandler(
        SpeechTool(backend=cfg.speech_backend, model=cfg.speech_model, device=cfg.device), SpeechCritic()
    )
    return Modality("speech", {"draft_audio": handler}, SpeechComposer(handler), "final_speech")


def _planner(turn: Any) -> Iterator[Any]:
    from mmthink.modalities.speech.planner import speech_turn

    return speech_turn(turn)


def _services() -> dict[str, Any]:
    """What a film borrows: which takes were accepted, the emotion words, revised shaping."""
    from mmthink.modalities.speech import handler, planner

    return {
        "accepted_takes": handler.accepted_takes,
        "find_emotion": planner.find_emotion,
        "revised_attrs": planner.revised_attrs,
        "revise_tag": handler.revise_tag,
        "emotion_rule": EMOTION_RULE,
    }


def _checks() -> dict[str, Any]:
    from mmthink.modalities.speech.checks import check_audio

    return {"audio": check_audio}


EMOTION_RULE = (
    "- A spoken draft holds the exact words; its emotion attribute sets the delivery "
    "(e.g. hope, calm, happy, sad, angry, fear, urgency)."
)


MAX_DRAFT_CHARS = 400
"""Characters a constrained spoken draft may hold: a segment, not the whole script."""


def speech_grammar(emotions: Any) -> str:
    """A spoken draft as a Lark grammar: after ``<draft_audio id=".."``, an ``emotion`` from the prosody
    profiles (``draft_audio_attrs``), then the words up to ``</draft_audio>`` (``draft_audio``)."""
    names = " | ".join(f'"{e}"' for e in emotions)
    return (
        f'draft_audio_attrs: " emotion=\\"" ({names}) "\\""\n'
        f'draft_audio: /[^<>\\n]{{1,{MAX_DRAFT_CHARS}}}/ "</draft_audio>"\n'
    )


def _guide() -> Any:
    from mmthink.core.turn import Guide
    from mmthink.modalities.speech.tts import EMOTIONS

    return Guide(
        modality="speech",
        noun="speech recordings",
        tags=(
            '<draft_audio id="a1" emotion="hope">We will get there.</draft_audio>  a spoken draft of one '
            "segment: the exact words between the tags\n"
            "<final_speech/>  (in the answer) join the accepted segments into the final recording"
        ),
        off="write each segment once as a draft_audio tag holding its words, then <final_speech/>",
        rules=(EMOTION_RULE,),
        grammar=speech_grammar(EMOTIONS),
    )


SPEECH = ModalitySpec(
    name="speech",
    draft_tags=("draft_audio",),
    final_tag="final_speech",
    default_drafts=16,
    requires=("numpy", "soundfile"),
    extra="embedded",
    build=_build,
    planner=_planner,
    guide=_guide,
    checks=_checks,
    timed=True,
    detect=_detect,
    validate=_validate,
    services=_services,
)
