"""The heuristic reasoner's video planner: film a shot list the user wrote.

A request that lists its shots ("scene 1: a rocket at dawn; scene 2: ...", narration in quotes)
is drawn frame by frame (a frame that fails its critique is redrawn from the critique, as a revision
``of`` the first, while the budget leaves room for the rest of the film), scored with one music cue,
narrated where a line is given, and cut.
Without a shot list there is no script to film, and writing one needs a language model: the
planner says so instead of inventing a story.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from mmthink.core.tags import format_tag
from mmthink.modalities.registry import service
from mmthink.modalities.video.plan import Shot, shots
from mmthink.reasoners.base import Delta, DraftRecord, Turn, answer, refuse, words

MOOD_WORDS = {
    "tension": ("war", "battle", "danger", "storm", "chase", "tense"),
    "sad": ("sad", "loss", "farewell"),
    "triumph": ("victory", "win", "triumph", "celebrat"),
    "calm": ("calm", "quiet", "peaceful", "sleep"),
    "mystery": ("mystery", "secret", "night", "unknown", "deep"),
    "adventure": ("adventure", "journey"),
    "wonder": ("space", "star", "explor", "sky", "discover"),
}


def mood_for(text: str) -> str:
    low = text.lower()
    for mood, keys in MOOD_WORDS.items():
        if any(k in low for k in keys):
            return mood
    return "wonder"


def video_turn(turn: Turn) -> Iterator[Delta]:
    # frames are pictures in the image modality's scene language; narration takes are speech's
    parse_scene, parse_image_request = service("image", "parse_scene"), service("image", "parse_request")
    plan_scene, revise_scene = service("image", "plan_scene"), service("image", "revise_scene")
    revised_attrs, find_emotion = service("speech", "revised_attrs"), service("speech", "find_emotion")
    plan = shots(turn.prompt)
    if not plan:
        yield from words(
            "The user wants a movie, but the request has no script: no shot list to film. Writing a "
            "story needs a language model, which this embedded reasoner is not, so I will not invent "
            'one. Give the shots, e.g. scene 1: a rocket on the launch pad at dawn "We have always '
            'looked up."; scene 2: ... - or run with a model reasoner (--profile gpu or server).\n'
        )
        yield from refuse(
            "The embedded reasoner films only a shot list given in the request, and this one has none. "
            "To have a story written for you, run with a model reasoner (--reasoner hf or openai_compat)."
        )
        return
    if turn.mode == "off":
        turn = Turn(**{**turn.__dict__, "mode": "on"})  # a movie cannot be made in one shot; drafting is the work
    frames = [d for d in turn.drafts if d.tag == "frame"]
    if turn.force_close:
        yield from words(f"\n{turn.force_close.capitalize()}; I will cut the movie from what I have.\n")
        yield from answer("Here is the movie.\n" + format_tag("final_video", {}))
        return
    if not frames:
        lines = "; ".join(
            f"scene {s.no}: {s.description}" + (f' (narration: "{s.narration}")' if s.narration else "") for s in plan
        )
        yield from words(
            f"The user gave a shot list of {len(plan)} scenes: {lines}. I will draw a storyboard frame "
            f"per scene, check each one and redraw what fails, score it with {mood_for(turn.prompt)} "
            "music, narrate the lines given, and cut it together.\n"
        )
    last = turn.drafts[-1] if turn.drafts else None
    if last is not None and last.tag == "frame" and not last.passed and not last.error:
        # the frame just judged failed: redraw it from its critique while the budget leaves room for the rest
        said, redraw = _redraw(last, frames, plan, turn, parse_scene, parse_image_request, revise_scene)
        yield from words(said)
        if redraw is not None:
            yield Delta(redraw + "\n")
            return
    drawn = {_scene_no(d) for d in frames}
    todo = [s for s in plan if s.no not in drawn]
    if todo:
        s = todo[0]
        scene = plan_scene(parse_image_request(s.description), s.description)
        yield from words(f"\nScene {s.no}, {s.description}:\n")
        yield Delta(
            format_tag("frame", {"id": f"f{s.no}", "scene": s.no, "seconds": f"{s.seconds:g}"}, scene.format()) + "\n"
        )
        return
    tags = {d.tag for d in turn.drafts}
    if "music" not in tags:
        total = sum(s.seconds for s in plan)
        mood = mood_for(turn.prompt)
        yield from words(f"\nAll frames are drawn. Now one {mood} cue under the whole film.\n")
        yield Delta(
            format_tag("music", {"id": "m1", "mood": mood, "seconds": f"{total:g}", "scenes": "all"}, "") + "\n"
        )
        return
    takes = [d for d in turn.drafts if d.tag == "draft_audio"]
    if (
        takes
        and not takes[-1].passed
        and not takes[-1].error
        and "of" not in takes[-1].attrs
        and (turn.drafts_left or 1) > 0
    ):
        attrs = revised_attrs(takes[-1])
        if attrs:
            last = takes[-1]
            yield from words(f"\nListening to {last.id}: {'; '.join(last.findings[:2])}. One more take.\n")
            yield Delta(format_tag("draft_audio", {"id": f"{last.id}b", "of": last.id, **attrs}, last.body) + "\n")
            return
    narrated = {int(d.attrs.get("scene", 0)) for d in takes}
    for s in plan:
        if s.narration and s.no not in narrated:
            emotion = find_emotion(s.description + " " + turn.prompt)
            if emotion == "neutral":
                emotion = "calm"
            yield from words(f"\nNarration for scene {s.no}:\n")
            yield Delta(
                format_tag("draft_audio", {"id": f"n{s.no}", "emotion": emotion, "scene": s.no}, s.narration) + "\n"
            )
            return
    missing = [s.no for s in plan if not s.narration]
    if missing:
        yield from words(
            f"\nScenes {', '.join(map(str, missing))} have no narration line in the request, and I will "
            "not invent one; they play with music only.\n"
        )
    yield from answer("Here is the movie, cut from the storyboard.\n" + format_tag("final_video", {}))


def _scene_no(d: DraftRecord) -> int:
    try:
        return int(str(d.attrs.get("scene", 0)).strip())
    except ValueError:
        return 0


REVISION_SUFFIXES = "bcdefghijklmnopqrstuvwxyz"


def _frame_issues(d: DraftRecord) -> list[dict[str, Any]]:
    """The frame critic's structured issues in the shape the image planner revises from: the image critic's
    element issues, and a nearly empty frame as an ``empty`` issue."""
    issues = list(((d.metrics.get("elements") or {}).get("issues")) or d.metrics.get("issues") or [])
    coverage = d.metrics.get("coverage")
    if isinstance(coverage, (int, float)) and coverage < 0.03:
        issues.append({"type": "empty"})
    return issues


def _redraw(
    last: DraftRecord,
    frames: list[DraftRecord],
    plan: list[Shot],
    turn: Turn,
    parse_scene: Any,
    parse_image_request: Any,
    revise_scene: Any,
) -> tuple[str, str | None]:
    """What to say about a frame that failed its critique, and its redraw (a ``<frame of=...>`` tag), or None
    with the reason when there is none: no budget beyond what the rest of the film needs, or no new fix."""
    no = _scene_no(last)
    root = str(last.attrs.get("of") or last.id)
    shot = next((s for s in plan if s.no == no), None)
    # what the rest of the plan still needs: frames for scenes not drawn yet, the music cue, each narration line
    drawn = {_scene_no(d) for d in frames}
    tags = {d.tag for d in turn.drafts}
    narrated = {_scene_no(d) for d in turn.drafts if d.tag == "draft_audio"}
    reserve = (
        sum(1 for s in plan if s.no not in drawn)
        + ("music" not in tags)
        + sum(1 for s in plan if s.narration and s.no not in narrated)
    )
    if turn.drafts_left is not None and turn.drafts_left <= reserve:
        why = (
            f"the draft budget left ({turn.drafts_left}) is needed for the rest of the film"
            if turn.drafts_left
            else "the draft budget is spent"
        )
    else:
        intent = parse_image_request(shot.description if shot else last.body)
        judged = replace(last, metrics={**last.metrics, "issues": _frame_issues(last)})
        scene, notes = revise_scene(parse_scene(last.body)[0], judged, intent)
        tried = {d.body.strip() for d in frames if _scene_no(d) == no}
        if notes and scene.format().strip() not in tried:
            n = sum(1 for d in frames if str(d.attrs.get("of") or d.id) == root)
            new_id = root + (REVISION_SUFFIXES[n - 1] if n <= len(REVISION_SUFFIXES) else f"_{n + 1}")
            attrs = {"id": new_id, "of": root, "scene": last.attrs.get("scene"), "seconds": last.attrs.get("seconds")}
            said = (
                f"\nThe frame for scene {no} ({last.id}) is off: "
                f"{'; '.join(last.findings[:2]) or 'it did not pass'}. So: {'; '.join(notes)}.\n"
            )
            return said, format_tag("frame", {a: v for a, v in attrs.items() if v is not None}, scene.format())
        why = "I have no further fix to try" if not notes else "the fix would repeat a frame already drawn"
    return (
        f"\nThe frame for scene {no} ({last.id}) still fails ({'; '.join(last.findings[:2]) or 'no pass'}), "
        f"but {why}; it stands in for the scene, and the film will say so.\n"
    ), None
