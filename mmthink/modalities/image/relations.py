"""Relations between the things in a picture: what each one means on the canvas, and how to tell it holds.

One catalogue serves the three places that must agree on a relation:
- the planner turns the request's relations (prepositions and verbs, from :mod:`.nlp`) into scene
  attributes (:func:`scene_relation`): "a giraffe wearing a scarf" -> ``scarf: worn by giraffe``;
- the layout places each kind (:mod:`.render.layout`), with the body part a garment goes on or the
  hand a thing is held in (:func:`anchor`);
- the critic judges each kind from the drawn boxes, their paint order and how much of each is still
  visible (:func:`judge`): real geometry of the rendered picture, never the plan's own claim.

Verbs are stored on the element that is placed relative to the other one: the garment is "worn by"
its wearer, a held thing is "held by" its holder, a rider is "riding" its mount. A scene line may
also say it from the other side (``giraffe: wearing scarf``); :func:`orient` turns such lines round
before layout. Verbs with no drawing of their own ("kicking", "climbing") are drawn side by side and
reported as not shown (``represented`` is False), which counts against the run's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmthink.modalities.image.scene import Relation, Scene, normalize_name
from mmthink.modalities.image.vocab import RELATION_ALIASES as ALIASES

# ------------------------------------------------------------------ the catalogue

ATTACHED = ("worn by", "held by", "carried by", "riding")
"""Kinds that put one thing on or at a part of another: the layout never slides them apart."""
SUBJECT_SIDE = {"wearing": "worn by", "holding": "held by", "carrying": "held by"}
"""Scene attributes said from the wearer's or holder's side, and the kind they become on the other element."""
BESIDE_VERBS = {
    "watching", "facing", "guarding", "approaching", "leaving", "following", "chasing", "feeding", "watering",
    "petting", "walking", "pulling", "pushing", "circling", "orbiting", "greeting", "hugging", "visiting",
    "helping", "looking at", "talking to", "sniffing", "playing with",
}  # fmt: skip
"""Verbs whose picture is the two things side by side, the one turned to the other."""
INSIDE_VERBS = {"driving", "piloting", "pilotting"}
UNDER_WORDS = {"under", "underneath", "beneath"}
OVER_WORDS = {"flying over", "soaring over", "flying above", "hovering over", "floating over", "gliding over"}

GARMENT_PARTS = {
    "neck": {"scarf", "tie", "necklace", "collar", "bow tie", "bowtie", "medal", "bandana", "lei", "shawl"},
    "head": {"hat", "cap", "crown", "helmet", "hood", "headphones", "beanie", "tiara", "beret", "sombrero",
             "top hat", "cowboy hat", "bandanna", "wig", "headband", "party hat", "turban"},
    "eyes": {"glasses", "glass", "sunglasses", "sunglass", "goggles", "goggle", "mask", "monocle", "eyepatch",
             "eyeglasses", "eyeglass", "spectacles", "spectacle"},
    "feet": {"shoe", "shoes", "boot", "boots", "sock", "socks", "sneaker", "sneakers", "slipper", "slippers",
             "sandal", "sandals", "roller skates", "skates"},
    "hand": {"glove", "gloves", "mitten", "mittens", "ring", "watch", "bracelet", "wristwatch"},
}  # fmt: skip
"""Where on the body each garment goes; any other garment is worn on the torso."""

UPRIGHT = {"person", "astronaut", "robot", "snowman", "penguin", "owl", "bear", "monkey", "generic"}
"""Drawings that stand upright (head on top, hands at the sides); the rest are drawn on four legs, facing left."""
FOUR_LEGGED = {"quadruped", "cat", "dog", "fox", "horse", "deer", "lion", "elephant", "giraffe", "reptile", "dragon"}

# Box-relative (x, y) of each body part, for the two body plans.
_ANCHORS = {
    "upright": {"head": (0.5, 0.1), "eyes": (0.5, 0.12), "neck": (0.5, 0.25), "torso": (0.5, 0.45),
                "hand": (0.9, 0.55), "hand2": (0.1, 0.55), "feet": (0.5, 0.93), "seat": (0.5, 0.62)},
    "four": {"head": (0.16, 0.22), "eyes": (0.14, 0.3), "neck": (0.3, 0.5), "torso": (0.55, 0.55),
             "hand": (0.06, 0.5), "hand2": (0.06, 0.5), "feet": (0.5, 0.95), "seat": (0.55, 0.4)},
    "thing": {"head": (0.5, 0.15), "eyes": (0.5, 0.2), "neck": (0.5, 0.3), "torso": (0.5, 0.5),
              "hand": (0.9, 0.5), "hand2": (0.1, 0.5), "feet": (0.5, 0.95), "seat": (0.5, 0.3)},
}  # fmt: skip
PART_WIDTH = {"head": 0.5, "eyes": 0.4, "neck": 0.5, "torso": 0.62, "feet": 0.62, "hand": 0.22}
"""A garment's width as a share of its wearer's (upright; four-legged wearers take 0.6 of it)."""


def body_plan(name: str, kind: str = "") -> str:
    """ "upright", "four" (four legs, facing left) or "thing", from the drawing's kind and the object table."""
    from mmthink.modalities.image.objects import lookup

    entry = lookup(name)
    drawable = entry.drawable if entry else ""
    category = entry.category if entry else ""
    last = normalize_name(name).split(" ")[-1]
    if category == "person" or {kind, drawable, last} & (UPRIGHT - {"generic"}):
        return "upright"
    if {kind, drawable, last} & FOUR_LEGGED or category in ("mammal", "reptile"):
        return "four"
    return "thing"


SEATS = {"chair", "sofa", "couch", "bench", "stool", "bed", "armchair", "throne", "swing"}
"""Things sat or lain on at their seat, about half way down their drawing (a table's top is its top)."""


def surface(name: str, kind: str = "") -> float:
    """How far down its box (0..1) a thing's top surface is: where what is "on" it rests."""
    last = normalize_name(name).split(" ")[-1]
    return 0.5 if last in SEATS or kind in SEATS else 0.12


def garment_part(name: str) -> str:
    n = normalize_name(name)
    last = n.split(" ")[-1]
    for part, words in GARMENT_PARTS.items():
        if n in words or last in words:
            return part
    return "torso"


def anchor(host_name: str, box: tuple[float, float, float, float], part: str, kind: str = "") -> tuple[float, float]:
    """Where on ``box`` (a drawing of ``host_name``, of drawable ``kind``) the body part is, in the box's coordinates."""
    fx, fy = _ANCHORS[body_plan(host_name, kind)].get(part, (0.5, 0.5))
    x0, y0, x1, y1 = box
    return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)


# ------------------------------------------------------------------ from the request to the scene


@dataclass
class SceneRelation:
    """One request relation as the scene says it: which element carries it, and whether it can be drawn."""

    holder: str  # the element the attribute goes on
    kind: str  # a scene kind (vocab.RELATIONS)
    target: str
    target2: str | None
    said: str  # the request's words for it ("wearing", "under", "kicking")
    subject: str  # the request's subject and object, for findings
    obj: str
    represented: bool = True


def scene_relation(rel: Any, zone_of: Any = None) -> SceneRelation:
    """The scene form of one request relation (:class:`.nlp.Relation`).

    ``zone_of(name)`` gives a thing's natural zone ("sky", "ground", ...), to tell "a cat under a
    table" (beneath it) from "a castle under the moon" (below it).
    """
    zone_of = zone_of or _zone
    kind, subj, obj, phrase = rel.kind, rel.subject, rel.target, (rel.phrase or "").lower()
    out = SceneRelation(subj, kind, obj, rel.target2, phrase or kind, subj, obj)
    if kind in ("wearing", "holding", "carrying"):
        out.holder, out.kind, out.target = obj, SUBJECT_SIDE[kind], subj
    elif kind == "riding":
        out.kind = "riding"
    elif kind in INSIDE_VERBS:
        out.kind = "in"
    elif kind == "sailing":
        out.kind = "on"
    elif kind == "flying":  # "a boy flying a kite": the kite is up above; "a pilot flying a plane": inside
        if zone_of(obj) == "sky" and normalize_name(obj).split(" ")[-1] in ("kite", "balloon", "drone"):
            out.holder, out.kind, out.target = obj, "above", subj
        else:
            out.kind = "in"
    elif kind in BESIDE_VERBS:
        out.kind = "near"
    elif kind == "below" and phrase.split(" ")[-1] in UNDER_WORDS and zone_of(obj) != "sky":  # "sitting under"
        out.kind = "under"
    elif kind == "above" and (phrase in OVER_WORDS or phrase.endswith(" over")) and zone_of(subj) == "sky":
        out.kind = "flying over"
    elif kind not in _SPATIAL:
        out.kind, out.represented = "near", False
    return out


_SPATIAL = {"left of", "right of", "above", "below", "on", "under", "in", "in front of", "behind", "between", "near"}


def _zone(name: str) -> str:
    """A thing's natural zone from the object table ("sky", "ground", ...; "any" when it is not in the table)."""
    from mmthink.modalities.image.objects import lookup

    entry = lookup(name)
    return entry.zone if entry is not None and entry.zone else "any"


def _celestial(name: str) -> bool:
    from mmthink.modalities.image.objects import lookup

    entry = lookup(name)
    return entry is not None and entry.category == "celestial"


def apply_relations(scene: Scene, intent: Any) -> list[SceneRelation]:
    """Write every request relation onto the scene in its drawable form; returns them all.

    The element's earlier, plainer attribute for the same pair ("on horse" for "riding horse") is replaced.
    """
    done: list[SceneRelation] = []
    for rel in getattr(intent, "relations", []) or []:
        sr = scene_relation(rel)
        el, other = scene.find(sr.holder), scene.find(sr.target)
        if el is None or other is None:
            continue
        pair = {normalize_name(sr.target), normalize_name(sr.target2 or sr.target)}
        el.relations = [r for r in el.relations if normalize_name(r.target) not in pair]
        other.relations = [r for r in other.relations if normalize_name(r.target) != normalize_name(el.name)]
        el.relations.insert(0, Relation(sr.kind, sr.target, sr.target2 if sr.kind == "between" else None))
        if sr.kind == "between" and not el.relations[0].target2:
            el.relations[0].target2 = sr.target
        if sr.kind == "on" and _zone(sr.target) == "sky" and other.size not in ("huge", "giant", "massive"):
            other.size, other.v, other.h = "huge", "bottom", other.h or "center"  # standing on the moon:
            if _celestial(sr.target) and "space" not in scene.setting:  # it is the ground, under a black sky
                scene.setting = ["space", *[w for w in scene.setting if w not in ("field", "night")]]
        done.append(sr)
    return done


def orient(scene: Scene) -> Scene:
    """A copy of the scene with subject-side verbs turned round ("giraffe: wearing scarf" -> "scarf: worn by giraffe")."""
    out = scene.copy()
    for el in out.elements:
        keep = []
        for r in el.relations:
            kind = ALIASES.get(r.kind, r.kind)
            if kind in SUBJECT_SIDE:
                other = out.find(r.target)
                if other is not None and other is not el:
                    other.relations.insert(0, Relation(SUBJECT_SIDE[kind], el.name))
                    continue
            keep.append(Relation(kind, r.target, r.target2))
        el.relations = keep
    return out


# ------------------------------------------------------------------ judging a drawn relation

Box = tuple[float, float, float, float]


def _union(ps: list[Any]) -> Box:
    return (
        min(p.box[0] for p in ps),
        min(p.box[1] for p in ps),
        max(p.box[2] for p in ps),
        max(p.box[3] for p in ps),
    )


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _gap(a: Box, b: Box) -> float:
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return max(dx, dy)


def judge(kind: str, a: list[Any], t1: list[Any], t2: list[Any] | None = None) -> tuple[bool | None, str]:
    """Does the drawing show ``a`` (placed instances) in relation ``kind`` to ``t1`` (and ``t2``)?

    Returns (verdict, what was measured); verdict is None when it cannot be judged (nothing drawn).
    ``Placed.z`` is the paint order and ``Placed.visible`` the share of an instance still showing.
    """
    if not a or not t1:
        return None, ""
    kind = ALIASES.get(kind, kind)
    A, T = _union(a), _union(t1)
    aw, ah, tw, th = A[2] - A[0], A[3] - A[1], T[2] - T[0], T[3] - T[1]
    acx, acy, tcx, tcy = (A[0] + A[2]) / 2, (A[1] + A[3]) / 2, (T[0] + T[2]) / 2, (T[1] + T[3]) / 2
    za, zt = max(p.z for p in a), max(p.z for p in t1)
    front = za > zt
    if kind == "left of":
        return acx < tcx, f"centres at x {acx:.0f} and {tcx:.0f}"
    if kind == "right of":
        return acx > tcx, f"centres at x {acx:.0f} and {tcx:.0f}"
    if kind == "above":
        return acy < tcy, f"centres at y {acy:.0f} and {tcy:.0f}"
    if kind == "below":
        return acy > tcy, f"centres at y {acy:.0f} and {tcy:.0f}"
    if kind == "flying over":
        ok = A[3] <= T[1] + 0.1 * th and T[0] - 0.25 * tw <= acx <= T[2] + 0.25 * tw
        return ok, f"its bottom at y {A[3]:.0f}, the top of the other at {T[1]:.0f}"
    if kind == "on":
        top = T[1] + (surface(t1[0].name, t1[0].kind) - 0.12) * th  # a chair's seat, a table's top
        resting = all(top - 0.15 * th <= p.box[3] <= top + 0.5 * th for p in a)
        over = all(min(p.box[2], T[2]) - max(p.box[0], T[0]) > 0 for p in a)
        return resting and over and acy < tcy, f"bottom edge at y {A[3]:.0f}, the top edge under it at {T[1]:.0f}"
    if kind == "under" and tw < 0.8 * aw:  # under something narrower (a boat beneath a toast): below it, in line
        ok = A[1] >= T[1] + 0.5 * th and T[0] - aw / 2 <= acx <= T[2] + aw / 2
        return ok, f"top at y {A[1]:.0f} below the centre of its top thing at {T[1] + 0.5 * th:.0f}"
    if kind == "under":
        ok = T[0] <= acx <= T[2] and A[1] >= T[1] + 0.12 * th and A[3] >= T[1] + 0.5 * th and A[3] <= T[3] + 0.3 * th
        return ok, f"top at y {A[1]:.0f} under the top edge at {T[1]:.0f}, centre x {acx:.0f} in {T[0]:.0f}..{T[2]:.0f}"
    if kind == "in":
        inside = all(_overlap(p.box, q.box) >= 0.6 * _area(p.box) for p in a for q in t1[:1])
        return inside and front and _area(A) < _area(T), f"{_overlap(A, T) / max(1.0, _area(A)):.0%} of it inside"
    if kind == "behind":
        hidden = min(p.visible for p in a) < 0.98
        further = A[3] <= T[3] + 2 or _zone(a[0].name) != "ground"  # a thing on the ground stands further back
        ok = za < zt and _overlap(A, T) > 0 and hidden and further
        return ok, f"drawn {'first' if za < zt else 'after'}, {1 - min(p.visible for p in a):.0%} hidden"
    if kind == "in front of":
        ok = front and _overlap(A, T) > 0 and A[3] >= T[3] - 0.05 * th
        return ok, f"drawn {'after' if front else 'first'}, bottom at y {A[3]:.0f} vs {T[3]:.0f}"
    if kind == "between":
        if t2 and t2 != t1:
            xs = sorted([tcx, (_union(t2)[0] + _union(t2)[2]) / 2])
            ys = (min(T[1], _union(t2)[1]), max(T[3], _union(t2)[3]))
        elif len(t1) >= 2:
            xs = sorted([min(p.center[0] for p in t1), max(p.center[0] for p in t1)])
            ys = (T[1], T[3])
        else:
            return None, ""
        slack = 0.25 * (ys[1] - ys[0])  # roughly in line with the pair: a beam just under two ships is between them
        ok = all(xs[0] < p.center[0] < xs[1] for p in a) and A[1] < ys[1] + slack and A[3] > ys[0] - slack
        return ok, f"centre x {acx:.0f} between {xs[0]:.0f} and {xs[1]:.0f}"
    if kind == "near":
        g = _gap(A, T)
        return g <= 0.6 * max(aw, tw, ah, th), f"{g:.0f} px apart"
    if kind in ("worn by", "held by", "carried by", "riding"):
        return _judge_attached(kind, a, t1, front)
    return None, ""


def _judge_attached(kind: str, a: list[Any], t1: list[Any], front: bool) -> tuple[bool | None, str]:
    host = max(t1, key=lambda p: p.visible)
    T = host.box
    tw, th = T[2] - T[0], T[3] - T[1]
    p = a[0]
    A = p.box
    if kind == "riding":
        mid = T[0] + 0.15 * tw <= p.center[0] <= T[2] - 0.15 * tw
        astride = T[1] + 0.1 * th <= A[3] <= T[1] + 0.7 * th and A[1] < T[1]
        return (
            mid and astride and front,
            f"seat at y {A[3]:.0f} on a back from {T[1]:.0f}, drawn {'after' if front else 'first'}",
        )
    part = garment_part(p.name) if kind == "worn by" else "hand"
    ax, ay = anchor(host.name, T, part, host.kind)
    d = ((p.center[0] - ax) ** 2 + (p.center[1] - ay) ** 2) ** 0.5
    if kind != "worn by":
        bx, by = anchor(host.name, T, "hand2", host.kind)
        d = min(d, ((p.center[0] - bx) ** 2 + (p.center[1] - by) ** 2) ** 0.5)
    near = d <= 0.3 * max(tw, th)
    smaller = _area(A) < _area(T)
    touching = _overlap(A, T) > 0 or _gap(A, T) <= 0.05 * tw
    where = f"the {part}" if kind == "worn by" else "a hand"
    return near and smaller and touching and front, f"{d:.0f} px from {where}, drawn {'after' if front else 'first'}"
