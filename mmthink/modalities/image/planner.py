"""The image planner of the embedded reasoner: plans a scene from the request's words and revises it
from critiques and review notes.

No language model is involved, so it is honest about its reach: it lays out what a request names
(objects, counts, colours, relations, setting) and fixes what the critic measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mmthink.core.tags import format_tag
from mmthink.modalities.image.looks import CONDITIONS, add_looks
from mmthink.modalities.image.materials import material_color
from mmthink.modalities.image.objects import ObjectEntry, lookup, resolve
from mmthink.modalities.image.relations import apply_relations
from mmthink.modalities.image.review_notes import apply_note, pending_note, step_size
from mmthink.modalities.image.scene import Element, Relation, Scene, parse_scene
from mmthink.modalities.image.signs import attach_texts
from mmthink.modalities.image.understanding import ImageIntent, Wanted, parse_image_request, several
from mmthink.modalities.image.vocab import COLORS, SIZES
from mmthink.reasoners.base import Delta, DraftRecord, Turn, answer, refuse, words

PLANNED_SIZES = {"tiny": "small", "small": "small", "medium": "medium", "large": "large", "huge": "large"}
"""The table's size class -> the size a request's own object is planned at: what was asked is the
subject, so nothing is planned too small to see or so large that it crowds the rest out."""


def _entry(name: str, wanted: Wanted | None = None) -> ObjectEntry | None:
    """The object table's entry for a planned name (the one the request's reading found, if any)."""
    if wanted is not None and wanted.entry:
        e = lookup(wanted.entry)
        if e is not None:
            return e
    e = resolve(name).entry
    return None if e is None or e.is_place else e


def _is_big(name: str, wanted: Wanted | None = None) -> bool:
    e = _entry(name, wanted)
    return e is not None and e.size in ("large", "huge")


def _planned_size(name: str, wanted: Wanted | None = None) -> str:
    e = _entry(name, wanted)
    return PLANNED_SIZES.get(e.size, "medium") if e is not None else "medium"


def _habitat(name: str, wanted: Wanted | None = None) -> str:
    """Which backdrop a thing suggests; sun, moon and stars suggest a night sky, not outer space."""
    e = _entry(name, wanted)
    if e is None:
        return "any"
    if e.category == "celestial" and e.habitat != "space":
        return "night" if e.name in ("moon", "star") else "any"
    return e.habitat


# What a theme word makes the reasoner imagine when the request names no drawable object.
THEMES: dict[str, str] = {
    "war": "battlecruiser: huge, grey, foreground, left\nstarfighter x4: small, silver, right\n"
    "laser beam x2: red, between starfighter and battlecruiser\nexplosion: small, orange, near battlecruiser\n"
    "planet: large, blue-green, background, right, top",
    "battle": "battlecruiser: huge, grey, foreground, left\nstarfighter x4: small, silver, right\n"
    "laser beam x2: red, between starfighter and battlecruiser\nexplosion: small, orange, near battlecruiser",
    "exploration": "rocket: large, white, center\nplanet: large, orange, background, right, top\nstar x5: tiny, white, top",
    "party": "balloon x5: red, top\ntable: large, brown, bottom\ncake: medium, pink, on table",
    "winter": "snowman: medium, white, center\ntree x2: medium, green, left",
    "harbor": "boat x2: medium, white, bottom\nlighthouse: large, white, right",
}

# ------------------------------------------------------------------- images


def image_turn(turn: Turn) -> Iterator[Delta]:
    intent = parse_image_request(turn.prompt)
    sketches = [d for d in turn.drafts if d.tag == "sketch"]
    if not sketches and _nothing_to_draw(intent):
        yield from refuse(_nothing_to_draw_reason(intent))
        return
    if turn.mode == "off":
        scene = plan_scene(intent, turn.prompt, imagine=False)
        yield from answer("Here is the image.\n" + format_tag("final_image", {}, scene.format()))
        return
    if not sketches:
        scene = plan_scene(intent, turn.prompt)
        yield from words(_reading(intent, turn.prompt, scene))
        yield from words("Let me make a rough sketch of the layout first:\n")
        yield Delta(format_tag("sketch", {"id": "s1"}, scene.format()) + "\n")
        return
    last = sketches[-1]
    best = max(reversed(sketches), key=lambda d: d.score or 0.0)
    note = pending_note(turn.transcript)
    if note is not None:
        yield from _follow_review(turn, note, sketches, best)
        return
    if last.attrs.get("for") == "review" and not last.error:  # the reviewer's change, drawn and judged
        verdict = "every check passed" if last.passed else f"the critic still notes: {'; '.join(last.findings[:2])}"
        yield from words(
            f"\n{last.id} carries the reviewer's change (score {last.score or 0:.2f}; {verdict}). "
            "I will render it as the final, for the reviewer to see.\n"
        )
        yield from answer("Here is the revised image.\n" + format_tag("final_image", {"ref": last.id}))
        return
    if turn.force_close:
        yield from words(
            f"\n{turn.force_close.capitalize()}. I will stop drafting and go with {best.id}, "
            f"the best sketch so far (score {best.score or 0:.2f}).\n"
        )
        yield from answer(
            f"Here is the image, rendered from sketch {best.id}.\n" + format_tag("final_image", {"ref": best.id})
        )
        return
    if last.error:
        scene = parse_scene(last.body)[0] if last.body.strip() else plan_scene(intent, turn.prompt)
        notes = [f"the renderer failed ({last.error}); I will simplify the scene and try again"]
        scene = _simplify(scene)
    elif last.passed:
        yield from words(
            f"\nThe critic is satisfied with {last.id} (score {last.score or 0:.2f}): every check passed. "
            "Now the final, with full colour and light.\n"
        )
        yield from answer("Here is the image you asked for.\n" + format_tag("final_image", {"ref": last.id}))
        return
    else:
        scene, notes = revise_scene(parse_scene(last.body)[0], last, intent)
    if notes and any(scene.format() == d.body.strip() for d in sketches):
        notes = []  # the fix would repeat a sketch already tried
    if not notes or (turn.drafts_left is not None and turn.drafts_left <= 0):
        why = "I have no further fix to try" if not notes else "the draft budget is spent"
        yield from words(
            f"\n{why.capitalize()}; {best.id} is the best sketch (score {best.score or 0:.2f}), "
            "so I will finish with it.\n"
        )
        yield from answer("Here is the image.\n" + format_tag("final_image", {"ref": best.id}))
        return
    next_id = f"s{len(sketches) + 1}"
    yield from words("\nLooking at the sketch: " + "; ".join(last.findings[:4] or ["it does not pass yet"]) + ".\n")
    yield from words("So: " + "; ".join(notes) + ".\n")
    yield Delta(format_tag("sketch", {"id": next_id}, scene.format()) + "\n")


def _nothing_to_draw(intent: ImageIntent) -> bool:
    """No thing, place, weather, style or text was read: any picture would be invented, not asked for."""
    return not (intent.objects or intent.setting or intent.style or intent.texts)


def _nothing_to_draw_reason(intent: ImageIntent) -> str:
    why = "; ".join(intent.findings[:3]) or "no thing, place, colour or style was named"
    return (
        f"I found nothing in this request that I could draw ({why}). The embedded planner reads English "
        'descriptions of things, places and colours ("a red fox in the snow"): describe the picture that '
        "way, or use a model reasoner (--reasoner hf or openai_compat with --model) for other requests."
    )


def _follow_review(turn: Turn, note: str, sketches: list[DraftRecord], best: DraftRecord) -> Iterator[Delta]:
    """Turn a reviewer's note into scene edits on the sketch the planned final came from, and redraw it."""
    base = next((d for d in reversed(sketches) if d.passed and not d.error), best)
    edits = apply_note(parse_scene(base.body)[0], note)
    heard = f"\nThe reviewer asks: \u201c{note}\u201d. "
    if not edits.changed:
        yield from words(
            heard + "I cannot turn that into a change to the picture (I understand notes such as "
            "'make the cup bigger', 'move the sun to the left', 'make the apples green', "
            f"'add a red kite', 'remove the table', 'at night'), so I keep {base.id}.\n"
        )
        yield from answer("Here is the image, unchanged.\n" + format_tag("final_image", {"ref": base.id}))
        return
    if turn.drafts_left is not None and turn.drafts_left <= 0:
        yield from words(heard + f"The draft budget is spent, so I cannot redraw; I keep {base.id}.\n")
        yield from answer("Here is the image, unchanged.\n" + format_tag("final_image", {"ref": base.id}))
        return
    skipped = f" I cannot act on: {'; '.join(repr(c) for c in edits.ignored)}." if edits.ignored else ""
    yield from words(heard + f"Starting from {base.id}, I will {'; '.join(edits.done)}.{skipped}\n")
    yield Delta(format_tag("sketch", {"id": f"s{len(sketches) + 1}", "for": "review"}, edits.scene.format()) + "\n")


def _reading(intent: ImageIntent, prompt: str, scene: Scene) -> str:
    if intent.objects:
        things = ", ".join(_describe(o) for o in intent.objects)
        text = f"The user asks for {things}."
    elif intent.themes:
        text = (
            f"The request is about {', '.join(dict.fromkeys(intent.themes))} and names no object to draw, "
            "so let me first imagine the scene."
        )
    else:
        text = "The request names no object I can draw directly, so I will imagine a scene that fits it."
    if intent.setting:
        text += f" The setting is {', '.join(intent.setting)}."
    if intent.style:
        text += f" The look should be {', '.join(intent.style)}."
    if intent.unknown:
        text += (
            f" I do not know how to draw {', '.join(sorted(set(intent.unknown)))}; I will leave that to the wording."
        )
    extra = [e.name for e in scene.elements if intent.find(e.name) is None]
    if extra:
        text += f" To make it read as a picture I will add {', '.join(extra)}."
    return text + "\n"


def _describe(o: Wanted) -> str:
    s = (
        ("some " if several(o) else f"{o.count} " if o.count > 1 else "a ")
        + (f"{o.color} " if o.color else "")
        + o.name
        + ("s" if o.count > 1 and not o.name.endswith("s") else "")
    )
    if o.relation:
        kind, target = o.relation
        s += f" {kind} the {target}" + (f" and the {o.relation2}" if o.relation2 and o.relation2 != target else "")
        if kind == "between" and o.relation2 == target:
            s = s.replace(f"between the {target}", f"between the {target}s")
    return s


def plan_scene(intent: ImageIntent, prompt: str, imagine: bool = True) -> Scene:
    """The first scene: what was asked, plus (when imagining) what makes it read as a picture."""
    scene = Scene(setting=_setting(intent), style=list(dict.fromkeys(intent.style)))
    add_looks(scene, intent)  # "a snowy cabin": setting snow; "pixel art": style pixel art
    for o in intent.objects:
        el = Element(o.name, count=max(1, o.count))
        el.size = o.size or _planned_size(o.name, o)
        if o.count > 3 and el.size in ("large", "medium") and not o.size:
            el.size = "small" if not _is_big(o.name, o) else "medium"
        if o.color:
            el.colors.append(o.color)
        elif colour := next((c for c in map(material_color, o.materials) if c), None):
            el.colors.append(colour)  # "a brick wall": the material's colour, where no colour was said
        if o.relation:
            kind, target = o.relation
            if kind == "between":
                el.relations.append(Relation("between", target, o.relation2 or target))
            else:
                el.relations.append(Relation(kind, target))
        if "in a row" in intent.extras and o.count > 1:
            el.extras.append("in a row")
        scene.elements.append(el)
    apply_relations(scene, intent)  # verbs and prepositions in their drawable form (relations.py)
    attach_texts(scene, intent)  # the words to show, on a sign or on the thing named
    if not scene.elements:
        key = next((w for w in intent.themes if w in THEMES), None) or next(
            (w for w in THEMES if re.search(rf"\b{w}", prompt.lower())), None
        )
        if key:
            scene.elements = parse_scene(THEMES[key])[0].elements
            if (
                key in ("war", "battle", "exploration")
                and not intent.setting
                and re.search(r"interstellar|space|galactic|star|planet|exploration", prompt.lower())
            ):
                scene.setting = ["space"]
        else:
            for u in dict.fromkeys(intent.unknown or ["subject"]):
                scene.elements.append(Element(u, size="large"))
    if imagine:
        names = {e.name for e in scene.elements}
        s = set(scene.setting)
        if s & {"dusk", "sunset", "dawn", "sunrise"} and "sun" not in names:
            scene.elements.insert(0, Element("sun", size="medium", colors=["orange"], depth="background", v="bottom"))
        indoor = any(_habitat(n) == "indoor" for n in names)
        if s & {"night", "dark"} and "moon" not in names and not indoor:
            scene.elements.insert(0, Element("moon", size="small", colors=["ivory"], depth="background", v="top"))
        if "rain" in s and "cloud" not in names:
            scene.elements.insert(
                0, Element("cloud", count=2, size="medium", colors=["grey"], depth="background", v="top")
            )
    return scene


def _setting(intent: ImageIntent) -> list[str]:
    """The request's own setting, else the backdrop its things suggest (the object table's habitats)."""
    setting = list(dict.fromkeys(intent.setting))
    if not setting:
        habitats = {_habitat(o.name, o) for o in intent.objects}
        if any(_dark(o.color) for o in intent.objects):
            habitats.discard("night")  # three black stars vanish into a night nobody asked for: a day sky shows them
        for habitat, backdrop in (("space", "space"), ("sea", "sea"), ("indoor", "room"), ("night", "night")):
            if habitat in habitats:
                return [backdrop]
        setting = ["field"]
    return setting


def _dark(color: str | None) -> bool:
    """A colour too dark to read on a night sky (black, navy): Lab lightness under 35."""
    if not color or color not in COLORS:
        return False
    import numpy as np

    from mmthink.dsp.color import srgb_to_lab

    return float(srgb_to_lab(np.asarray(COLORS[color], np.float32))[0]) < 35


def _opposite(h: str | None) -> str:
    return {"left": "right", "right": "left"}.get(h or "", "right")


def revise_scene(scene: Scene, last: DraftRecord, intent: ImageIntent) -> tuple[Scene, list[str]]:
    """Turn the critic's structured issues into scene edits; return the notes that explain them."""
    scene = scene.copy()
    notes: list[str] = []
    issues = list(last.metrics.get("issues") or [])
    touched: set[tuple[str, str]] = set()
    for issue in issues:
        kind, name = issue.get("type"), issue.get("element") or ""
        if (kind, name or issue.get("look")) in touched:
            continue
        touched.add((kind, name or issue.get("look")))
        el = scene.find(name) if name else None
        want = intent.find(name) if name else None
        if kind == "missing":
            if el is None:
                el = Element(
                    name,
                    count=want.count if want else 1,
                    colors=[want.color] if want and want.color else [],
                    size=_planned_size(name, want),
                )
                scene.elements.append(el)
                notes.append(f"add the missing {name}")
            else:
                el.depth = "foreground"
                notes.append(f"bring the {name} to the foreground so it is drawn")
        elif kind == "occluded" and el is not None:
            by = issue.get("by")
            el.relations = [r for r in el.relations if r.kind not in ("behind", "under")]
            occ = scene.find(by) if by else None
            if el.depth != "foreground" and (want is not None or occ is None):
                el.depth = "foreground"
                notes.append(f"bring the {name} to the foreground" + (f", in front of the {by}" if by else ""))
            elif occ is not None and intent.find(occ.name) is None and occ.name != name:
                scene.elements.remove(occ)
                _drop_relations_to(scene, occ.name)
                notes.append(f"drop the {occ.name}, which only hides the {name}")
            elif occ is not None:
                el.h = _opposite(occ.h)
                if occ.h is None:
                    occ.h = _opposite(el.h)
                el.relations = [
                    r
                    for r in el.relations
                    if r.kind not in ("on", "in", "below", "above")
                    or want is not None
                    and want.relation
                    and r.kind == want.relation[0]
                ]
                notes.append(f"move the {name} to the {el.h}, clear of the {occ.name}")
            else:
                step_size(el, +1)
                notes.append(f"make the {name} bigger")
        elif kind == "count" and el is not None:
            target = int(issue.get("want") or el.count)
            if issue.get("hidden"):
                changed = step_size(el, -1)
                if el.count > 2 and "in a row" not in el.extras and not any(r.kind == "in" for r in el.relations):
                    el.extras.append("in a row")
                    changed = True
                for r in el.relations:
                    if r.kind == "in":
                        host = scene.find(r.target)
                        if host is not None and step_size(host, +1):
                            changed = True
                            notes.append(f"enlarge the {host.name} to hold them")
                if changed:
                    notes.append(f"make the {name}s smaller and spread them so all {target} show")
            if el.count != target:
                el.count = target
                notes.append(f"draw exactly {target} {name}s")
        elif kind == "color" and el is not None and issue.get("want"):
            el.colors = [issue["want"]] + [c for c in el.colors if c != issue["want"]][:0]
            notes.append(f"colour the {name} {issue['want']}")
        elif kind == "contrast" and el is not None:
            if "outlined" not in el.extras:
                el.extras.append("outlined")
                notes.append(f"outline the {name} so it stands out from the background")
            elif step_size(el, +1):
                notes.append(f"make the {name} bigger so it stands out")
        elif kind == "relation" and el is not None:
            rel, target = issue.get("relation"), issue.get("target") or ""
            t = scene.find(target)
            if rel in ("left of", "right of"):
                el.h, side = ("left", "right") if rel == "left of" else ("right", "left")
                if t is not None:
                    t.h = side
                notes.append(f"put the {name} on the {el.h} and the {target} on the {side}")
            elif rel in ("above", "on"):
                el.v = "top" if rel == "above" else el.v
                if t is not None and rel == "above":
                    t.v = "bottom"
                notes.append(f"place the {name} higher, {rel} the {target}")
            elif rel in ("below", "under"):
                el.v = "bottom"
                if t is not None:
                    t.v = "top" if t.v != "top" else t.v
                notes.append(f"place the {name} lower, below the {target}")
            elif rel == "in" and t is not None:
                if step_size(t, +1):
                    notes.append(f"enlarge the {target} so the {name} fits inside")
            elif rel == "between":
                el.h = "center"
                notes.append(f"centre the {name} between the {target}s")
        elif kind == "text" and el is not None and step_size(el, +1):
            notes.append(f"make the {name} larger so its words read")
        elif kind == "look" and issue.get("look"):
            look = issue["look"]
            (scene.setting if look in CONDITIONS else scene.style).append(look)
            notes.append(f"give the picture its {look}")
        elif kind == "empty":
            for e in scene.elements:
                step_size(e, +1)
            notes.append("make everything larger")
    return scene, notes


def _drop_relations_to(scene: Scene, name: str) -> None:
    for e in scene.elements:
        e.relations = [r for r in e.relations if r.target != name and r.target2 != name]


def _simplify(scene: Scene) -> Scene:
    scene = scene.copy()
    for e in scene.elements:
        e.count = min(e.count, 12)
        e.extras = []
    return scene


SIZE_WORDS = tuple(SIZES)
