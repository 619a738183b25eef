"""The video modality's facts for the registry: storyboard frames, music and narration, one final film."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mmthink.errors import InputError
from mmthink.modalities.registry import guide, service
from mmthink.modalities.spec import ModalitySpec

_VIDEO_WORDS = re.compile(r"\b(movie|video|film|clip|trailer|storyboard|animation|short film|scene \d)\b", re.I)


def _detect(text: str) -> str | None:
    m = _VIDEO_WORDS.search(text)
    return f"the request asks for moving pictures ({m.group(0)!r})" if m else None


def _validate(req: Any, limits: Any) -> None:
    seconds = req.seconds()
    if seconds is not None and seconds > limits.max_video_seconds:
        raise InputError(
            "seconds",
            f"{seconds:g} s of video is over the limit of {limits.max_video_seconds:g} s",
            "ask for a shorter video or raise Limits.max_video_seconds",
        )


def _build(cfg: Any, image_backend: Any, mods: dict[str, Any]) -> Any:
    from mmthink.modalities.video.handler import build

    return build(cfg, image_backend, mods)


def _planner(turn: Any) -> Iterator[Any]:
    from mmthink.modalities.video.planner import video_turn

    return video_turn(turn)


def _checks() -> dict[str, Any]:
    from mmthink.modalities.video.checks import check_video

    return {"video": check_video}


def video_grammar(image_grammar: str, moods: Any) -> str:
    """Storyboard frames and music cues as a Lark grammar, on the image modality's scene lines: after
    ``<frame id=".."``, a scene number and whole seconds (``frame_attrs``), then scene lines separated by
    ``; `` or new lines up to ``</frame>``; after ``<music id=".."``, a mood and seconds, then ``></music>``.
    Narration stays free (its emotion list is the speech modality's)."""
    names = " | ".join(f'"{m}"' for m in moods)
    return (
        image_grammar
        + 'frame_attrs: " scene=\\"" /[1-9][0-9]?/ "\\" seconds=\\"" /[1-9][0-9]?/ "\\""\n'
        + 'frame: (element | setting) (("; " | "\\n") (element | setting)){0,7} "</frame>"\n'
        + f'music_attrs: " mood=\\"" ({names}) "\\" seconds=\\"" /[1-9][0-9]{{0,2}}/ "\\""\n'
        + 'music: "</music>"\n'
    )


def _guide() -> Any:
    from mmthink.core.turn import Guide
    from mmthink.modalities.video.music import MOODS

    image = service("image", "guide_rules")()
    return Guide(
        modality="video",
        noun="short videos",
        tags=(
            '<frame id="f1" scene="1" seconds="4">lighthouse: large, white, right; boat: small, red, left'
            "</frame>  a storyboard frame: scene lines separated by semicolons\n"
            '<draft_audio id="a1" emotion="calm">Night falls on the coast.</draft_audio>  narration for a scene\n'
            '<music id="m1" mood="wonder" seconds="12"></music>  background music for the whole video\n'
            "<final_video/>  (in the answer) assemble the accepted frames, narration and music"
        ),
        off="write each frame (and the music) once, then <final_video/>",
        rules=(*image, service("speech", "emotion_rule")),
        grammar=video_grammar(guide("image").grammar, MOODS),
    )


VIDEO = ModalitySpec(
    name="video",
    draft_tags=("frame", "music", "draft_audio"),
    final_tag="final_video",
    default_drafts=28,
    requires=("numpy", "moviepy", "imageio_ffmpeg"),
    extra="embedded",
    build=_build,
    planner=_planner,
    guide=_guide,
    checks=_checks,
    timed=True,
    detect=_detect,
    validate=_validate,
)
