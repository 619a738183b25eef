"""The critic's checks of everything a request was understood to ask beyond presence, count and colour:
relations (spatial and verbal), words to show, and styles and conditions.

Every check reads the rendered picture: relations from the drawn boxes, their paint order and how
much of each is still visible (:func:`.relations.judge`); words from the ink in the carrier's text
area (:func:`.render.lettering.measure`); looks from the pixels of the final
(:func:`.render.treatments.measure`). What the request asked and the drawing cannot show (a verb
with no picture of its own, a style with no treatment) is a failed check, so it counts against the
run's status instead of passing unseen.

Checks come back as ``(name, ok, weight, finding, issue)`` tuples for :class:`.critic.ImageCritic`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmthink.modalities.image.looks import looks_in, requested
from mmthink.modalities.image.relations import judge, scene_relation
from mmthink.modalities.image.scene import MAX_TEXT, Scene, normalize_name
from mmthink.modalities.image.signs import text_holder

CheckTuple = tuple[str, bool, float, str, dict[str, Any]]
SEEN = 0.35  # an instance showing less than this is not used to judge a relation


def understood_checks(
    art: Any, scene: Scene, intent: Any, img: np.ndarray, by_name: dict[str, list[Any]]
) -> list[CheckTuple]:
    if intent is None:
        return []
    final = (art.meta or {}).get("quality") == "final"
    return [
        *relation_checks(intent, by_name),
        *text_checks(intent, scene, img, by_name),
        *look_checks(intent, scene, art, img, final),
    ]


def relation_checks(intent: Any, by_name: dict[str, list[Any]]) -> list[CheckTuple]:
    out: list[CheckTuple] = []
    for rel in getattr(intent, "relations", []) or []:
        sr = scene_relation(rel)
        said = f"{sr.subject} {sr.said} {sr.obj}"
        if not sr.represented:
            out.append(
                (
                    "request unshown",
                    False,
                    1.0,
                    f'"{said}": the drawing cannot show "{sr.said}"; the {sr.subject} is only drawn beside the {sr.obj}',
                    {"type": "unrepresented", "element": normalize_name(sr.holder), "relation": sr.said},
                )
            )
            continue
        holder, target = normalize_name(sr.holder), normalize_name(sr.target)
        a = [p for p in by_name.get(holder, []) if p.visible >= SEEN]
        t1 = [p for p in by_name.get(target, []) if p.visible >= SEEN]
        t2_name = normalize_name(sr.target2) if sr.target2 else None
        t2 = [p for p in by_name.get(t2_name, []) if p.visible >= SEEN] if t2_name and t2_name != target else None
        if not a or not t1:
            continue  # the presence checks already say what is missing
        ok, measured = judge(sr.kind, a, t1, t2)
        if ok is None:
            continue
        issue = {"type": "relation", "element": holder, "relation": sr.kind, "target": target, "target2": t2_name}
        finding = "" if ok else f'"{said}" is not drawn so: the {holder} is not {sr.kind} the {target} ({measured})'
        out.append(("request relation", ok, 1.5, finding, issue))
    return out


def text_checks(intent: Any, scene: Scene, img: np.ndarray, by_name: dict[str, list[Any]]) -> list[CheckTuple]:
    from mmthink.modalities.image.render.lettering import MATCH_MIN, measure

    out: list[CheckTuple] = []
    for text in getattr(intent, "texts", []) or []:
        el = text_holder(scene, text)
        issue = {"type": "text", "text": text}
        if len(" ".join(text.split())) > MAX_TEXT:
            cut = f'the words "{text}" are longer than a sign holds ({MAX_TEXT} characters): only their start is drawn'
            out.append(("request unshown", False, 1.0, cut, {**issue, "type": "unrepresented"}))
        if el is None:
            out.append(
                (
                    "request text",
                    False,
                    1.5,
                    f'the words "{text}" are on nothing in the scene: put them on a sign',
                    issue,
                )
            )
            continue
        insts = [p for p in by_name.get(normalize_name(el.name), []) if p.visible >= SEEN]
        if not insts:
            continue
        p = max(insts, key=lambda q: (q.box[2] - q.box[0]) * (q.box[3] - q.box[1]))
        score, measured = measure(img, p.box, p.name, p.kind, text)
        ok = score >= MATCH_MIN
        finding = "" if ok else f'the {el.name} does not show "{text}" legibly ({measured}): make it larger'
        out.append(
            ("request text", ok, 1.5, finding, {**issue, "element": normalize_name(el.name), "match": round(score, 2)})
        )
    return out


def look_checks(intent: Any, scene: Scene, art: Any, img: np.ndarray, final: bool) -> list[CheckTuple]:
    """Sketches must declare each look; the final must show it, measured."""
    from mmthink.modalities.image.render.treatments import measure

    looks, unsupported = requested(intent)
    declared = set(looks_in([*scene.setting, *scene.style]))
    boxes = [(int(p.box[0]), int(p.box[1]), int(p.box[2]), int(p.box[3])) for p in art.placed]
    out: list[CheckTuple] = []
    for name in looks:
        issue = {"type": "look", "look": name}
        if name not in declared:
            line = "setting" if name in ("night", "sunset", "rain", "snow", "fog") else "style"
            out.append(
                ("request look", False, 1.0, f"the request asks for {name}: add `{line}: {name}` to the scene", issue)
            )
        elif final:
            ok, measured = measure(name, img, boxes)
            out.append(
                (
                    "request look",
                    ok,
                    1.0,
                    "" if ok else f"the final does not look {name}: {measured}",
                    {**issue, "measured": measured},
                )
            )
    if final and (art.meta or {}).get("backend") == "embedded":
        for word in unsupported:
            out.append(
                (
                    "request unshown",
                    False,
                    1.0,
                    f'the style "{word}" has no treatment in the embedded renderer, so it is not shown',
                    {"type": "unrepresented", "style": word},
                )
            )
    return out
