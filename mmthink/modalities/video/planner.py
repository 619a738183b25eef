"""The heuristic reasoner's video planner: film a shot list the user wrote.

A request that lists its shots ("scene 1: a rocket at dawn; scene 2: ...", narration in quotes)
is drawn frame by frame, scored with one music cue, narrated where a line is given, and cut.
Without a shot list there is no script to film, and writing one needs a language model: the
planner says so instead of inventing a story.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mmthink.core.tags import format_tag
from mmthink.modalities.registry import service
from mmthink.reasoners.base import Delta, Turn, answer, refuse, words

_SHOT = re.compile(r"(?:scene|shot)\s*(\d+)\s*[:.\-–]\s*(.+?)(?=(?:[;\n]\s*)?(?:scene|shot)\s*\d+\s*[:.\-–]|$)",
                   re.IGNORECASE | re.DOTALL)
_QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”")
MOOD_WORDS = {"tension": ("war", "battle", "danger", "storm", "chase", "tense"), "sad": ("sad", "loss", "farewell"),
              "triumph": ("victory", "win", "triumph", "celebrat"), "calm": ("calm", "quiet", "peaceful", "sleep"),
              "mystery": ("mystery", "secret", "night", "unknown", "deep"), "adventure": ("adventure", "journey"),
              "wonder": ("space", "star", "explor", "sky", "discover")}


@dataclass
class Shot:
    no: int
    description: str
    narration: str
    seconds: float


def shots(text: str) -> list[Shot]:
    out = []
    for m in _SHOT.finditer(text):
        body = m.group(2).strip().rstrip(";.").strip()
        quotes = [a or b for a, b in _QUOTE.findall(body)]
        desc = _QUOTE.sub(" ", body).strip(" ,;:-")
        secs = re.search(r"(\d+(?:\.\d+)?)\s*(?:s|sec|seconds)\b", desc)
        out.append(Shot(int(m.group(1)), " ".join(desc.split()), " ".join(quotes).strip(),
                        float(secs.group(1)) if secs else 6.0))
    return sorted(out, key=lambda s: s.no)


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
        yield from words("The user wants a movie, but the request has no script: no shot list to film. Writing a "
                         "story needs a language model, which this embedded reasoner is not, so I will not invent "
                         "one. Give the shots, e.g. scene 1: a rocket on the launch pad at dawn \"We have always "
                         "looked up.\"; scene 2: ... - or run with a model reasoner (--profile gpu or server).\n")
        yield from refuse("The embedded reasoner films only a shot list given in the request, and this one has none. "
                           "To have a story written for you, run with a model reasoner (--reasoner hf or openai_compat).")
        return
    if turn.mode == "off":
        turn = Turn(**{**turn.__dict__, "mode": "on"})  # a movie cannot be made in one shot; drafting is the work
    frames = [d for d in turn.drafts if d.tag == "frame"]
    done = {int(d.attrs.get("scene", 0)) for d in frames if d.passed or d.attrs.get("of") or d.error}
    if turn.force_close:
        yield from words(f"\n{turn.force_close.capitalize()}; I will cut the movie from what I have.\n")
        yield from answer("Here is the movie.\n" + format_tag("final_video", {}))
        return
    if not frames:
        lines = "; ".join(f"scene {s.no}: {s.description}" + (f" (narration: \"{s.narration}\")" if s.narration else "")
                          for s in plan)
        yield from words(f"The user gave a shot list of {len(plan)} scenes: {lines}. I will draw a storyboard frame "
                         f"per scene, check each one, score it with {mood_for(turn.prompt)} music, narrate the lines "
                         "given, and cut it together.\n")
    last = frames[-1] if frames else None
    if last is not None and not last.passed and not last.error and "of" not in last.attrs and \
            (turn.drafts_left or 1) > 0:
        scene, notes = revise_scene(parse_scene(last.body)[0], last, parse_image_request(last.body))
        if notes and scene.format() != last.body.strip():
            yield from words(f"\nThe frame for scene {last.attrs.get('scene')} is off: "
                             f"{'; '.join(last.findings[:2])}. So: {'; '.join(notes)}.\n")
            yield Delta(format_tag("frame", {"id": f"{last.id}b", "of": last.id, "scene": last.attrs.get("scene"),
                                             "seconds": last.attrs.get("seconds")}, scene.format()) + "\n")
            return
        done.add(int(last.attrs.get("scene", 0)))
    todo = [s for s in plan if s.no not in done and s.no not in {int(d.attrs.get("scene", 0)) for d in frames}]
    if todo:
        s = todo[0]
        scene = plan_scene(parse_image_request(s.description), s.description)
        yield from words(f"\nScene {s.no}, {s.description}:\n")
        yield Delta(format_tag("frame", {"id": f"f{s.no}", "scene": s.no, "seconds": f"{s.seconds:g}"},
                               scene.format()) + "\n")
        return
    tags = {d.tag for d in turn.drafts}
    if "music" not in tags:
        total = sum(s.seconds for s in plan)
        mood = mood_for(turn.prompt)
        yield from words(f"\nAll frames are drawn. Now one {mood} cue under the whole film.\n")
        yield Delta(format_tag("music", {"id": "m1", "mood": mood, "seconds": f"{total:g}", "scenes": "all"}, "")
                    + "\n")
        return
    takes = [d for d in turn.drafts if d.tag == "draft_audio"]
    if takes and not takes[-1].passed and not takes[-1].error and "of" not in takes[-1].attrs and \
            (turn.drafts_left or 1) > 0:
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
            yield Delta(format_tag("draft_audio", {"id": f"n{s.no}", "emotion": emotion, "scene": s.no},
                                   s.narration) + "\n")
            return
    missing = [s.no for s in plan if not s.narration]
    if missing:
        yield from words(f"\nScenes {', '.join(map(str, missing))} have no narration line in the request, and I will "
                         "not invent one; they play with music only.\n")
    yield from answer("Here is the movie, cut from the storyboard.\n" + format_tag("final_video", {}))


