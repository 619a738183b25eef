"""The places a request names, painted as a backdrop of their own, and the record the critic measures.

A fox "in a snowy forest" on a bare snowy field is not what was asked: the forest must be there.
Places are grouped by kind rather than drawn one per word: woodland (rows of far trees, darker for
jungle), city (a skyline of building silhouettes and a road), town (far houses), water (a water band,
sand for a beach), desert (dunes), mountains, farmland (far trees, bushes, a fence), room (wall,
floor and one cue: a window, a counter, a shelf, a board), space (a far planet), sky (clouds),
snowfield (far hills), underwater (weed and bubbles), cave (rock ceiling with stalactites).

Props are painted at background scale behind everything, smaller than the requested things, never
inside a requested thing's box (nor the strip around it the critic samples for colour), and from the
seed alone. The backdrop's ``record`` says which kind was painted for which place word and keeps a
coarse map of where the props are (``"p"``) and where the plain surface around them shows (``"."``),
so :func:`shown` can check from the final's pixels that the props stand apart from that surface.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from mmthink.modalities.image.render.drawings.buildings import p_house
from mmthink.modalities.image.render.drawings.pen import Pen, shade
from mmthink.modalities.image.render.drawings.scenery import p_mountain, p_tree

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

KINDS: dict[str, tuple[str, ...]] = {
    "woodland": ("forest", "woods", "grove", "orchard", "wilderness", "woodland"),
    "jungle": ("jungle", "swamp", "rainforest"),
    "city": ("city", "cityscape", "downtown", "street", "alley", "skyline", "highway", "rooftop", "market", "airport"),
    "town": ("town", "village", "suburb", "courtyard"),
    "water": ("lake", "river", "sea", "ocean", "harbor", "port", "seascape", "waterfront"),
    "beach": ("beach", "coast", "shore", "seaside"),
    "desert": ("desert", "canyon", "dunes"),
    "mountains": ("mountainside", "valley", "mountains", "hills", "landscape", "horizon"),
    "farmland": (
        "farm",
        "field",
        "garden",
        "park",
        "meadow",
        "lawn",
        "backyard",
        "countryside",
        "picnic",
        "prairie",
        "vineyard",
        "campsite",
        "zoo",
        "fairground",
        "circus",
        "safari",
        "savanna",
        "battlefield",
    ),  # fmt: skip
    "room": (
        "room",
        "indoor",
        "indoors",
        "kitchen",
        "bedroom",
        "classroom",
        "office",
        "library interior",
        "library",
        "living room",
        "attic",
        "basement",
        "bathroom",
        "hallway",
        "bar",
        "studio",
        "stage",
        "arena",
    ),  # fmt: skip
    "space": ("space", "cosmos", "universe", "orbit", "moonscape", "galaxy"),
    "sky": ("sky",),
    "snowfield": ("snowfield", "tundra", "arctic"),
    "underwater": ("underwater", "aquarium"),
    "cave": ("cave", "cavern"),
}
"""Each backdrop kind and the place words painted as it."""

PLACE_KIND = {w: k for k, ws in KINDS.items() for w in ws}
CELL = 16
"""The record's map has one character per CELL x CELL pixels."""


def place_name(word: str) -> str | None:
    """The place a word names (its table name: "harbour" -> harbor, "forests" -> forest), else None."""
    from mmthink.modalities.image.objects import lookup

    w = " ".join(word.lower().split())
    if w in PLACE_KIND:
        return w
    hit = lookup(w)
    return hit.name if hit and hit.is_place else None


def places(setting: list[str]) -> dict[str, str | None]:
    """The place words of a setting and the backdrop kind each gets (None: no backdrop of its own)."""
    out: dict[str, str | None] = {}
    for word in setting:
        name = place_name(word)
        if name is not None:
            out[word.lower()] = PLACE_KIND.get(word.lower()) or PLACE_KIND.get(name)
    return out


def main_kind(setting: list[str]) -> str | None:
    """The backdrop kind painted for a setting: its first place with a kind of its own."""
    return next((k for k in places(setting).values() if k), None)


DEPTH = (
    "space", "sky", "mountains", "snowfield", "desert", "city", "town", "woodland", "jungle", "farmland",
    "water", "beach", "room", "cave", "underwater",
)  # fmt: skip
"""Backdrop kinds from the farthest to the nearest: the order several kinds are painted in."""
WHOLE = {"room", "cave", "underwater", "space"}
"""Kinds that are the whole picture (inside a room, a cave, under water, in space): never painted with another."""
MAX_KINDS = 3


def painted_kinds(setting: list[str]) -> list[str]:
    """The backdrop kinds painted for a setting: its first place's kind, then those of its other places that
    combine with it (outdoor kinds do: far mountains, a row of trees, a lake's band, a beach's sand; a room,
    a cave, the sea bed or space is the whole picture and takes no other), at most MAX_KINDS."""
    out: list[str] = []
    for kind in places(setting).values():
        if kind is None or kind in out:
            continue
        if out and (kind in WHOLE or out[0] in WHOLE):
            continue
        out.append(kind)
    return out[:MAX_KINDS]


def ground_words(setting: list[str]) -> set[str]:
    """The words the plain sky-and-ground painter reads for a setting's kind (a beach is painted on sand,
    the open sea on sea; a lake, a river or a harbour on land with a water band)."""
    kind = main_kind(setting)
    if kind == "water":
        return {"sea"} if {w.lower() for w in setting} & {"sea", "ocean", "seascape"} else set()
    return {
        "city": {"city"},
        "beach": {"beach"},
        "desert": {"desert"},
        "space": {"space"},
        "underwater": {"underwater"},
        "snowfield": {"snow"},
        "cave": {"night"},
        "room": {"room"},
    }.get(kind or "", set())


def _clear(boxes: list[Box], w: int, h: int) -> np.ndarray:
    """Where props must not go: every requested thing's box and the strip around it the critic samples."""
    keep = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in boxes:
        pad = max(6, int(0.2 * max(x1 - x0, y1 - y0))) + 2
        keep[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)] = True
    return keep


def _stamp(layer: Image.Image, box: tuple[float, float, float, float], rgb: RGB, painter: Any, keep=None) -> None:
    """One standing prop (a tree, a block, a house); left out whole where it would reach a thing's box."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    bw, bh = max(2, x1 - x0), max(2, y1 - y0)
    if bw < 6 or bh < 6:  # too small to read as anything on a tiny canvas
        return
    if keep is not None and keep[max(0, y0) : max(0, y0 + bh), max(0, x0) : max(0, x0 + bw)].any():
        return
    sub = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    painter(Pen(ImageDraw.Draw(sub), bw, bh, rgb, False))
    layer.alpha_composite(sub, (x0, y0))


def _free(keep: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = (max(0, int(v)) for v in box)
    return not keep[y0 : y1 + 1, x0 : x1 + 1].any()


def _row(layer, rng, w, base, height, rgb, painter, keep, spacing=0.7, jitter=0.25) -> None:
    """A row of props standing on ``base`` across the picture, heights varied by the seed."""
    x = -rng.uniform(0, height * 0.5)
    while x < w:
        hh = height * rng.uniform(1 - jitter, 1.0)
        ww = hh * rng.uniform(0.6, 0.85)
        _stamp(layer, (x, base - hh, x + ww, base), shade(rgb, rng.uniform(-0.15, 0.1)), painter, keep)
        x += max(3.0, ww * spacing * rng.uniform(0.8, 1.2))  # a tiny canvas gives tiny props: always move on


def _skyline(p: Pen) -> None:
    p.rect(0.0, 0.0, 1.0, 1.0, outline=False)
    for r in range(6):
        for c in range(3):
            y, x = 0.08 + r * 0.15, 0.12 + c * 0.3
            p.rect(x, y, x + 0.16, y + 0.07, fill=shade(p.c, 0.35), outline=False)


def _room_cue(d: ImageDraw.ImageDraw, words: set[str], w: int, hz: int, rng: random.Random, keep) -> None:
    """One thing that says which room: a counter, a shelf of books, a board, else a window."""
    if words & {"kitchen", "bar"}:
        d.rectangle((0, int(hz * 0.72), w, hz), fill=(235, 235, 238, 255))
        d.rectangle((0, int(hz * 0.72), w, int(hz * 0.76)), fill=(120, 120, 130, 255))
        return
    if words & {"library interior", "library", "office", "studio", "living room"}:
        y = int(hz * 0.2)
        d.rectangle((int(w * 0.04), y, int(w * 0.96), hz), fill=(110, 72, 40, 255))
        for shelf in range(3):
            sy = y + int((hz - y) * (0.08 + shelf * 0.31))
            x = int(w * 0.06)
            while x < w * 0.93:
                bw = rng.randint(5, 11)
                col = rng.choice([(170, 50, 50), (50, 90, 160), (60, 130, 70), (200, 170, 60), (120, 60, 130)])
                d.rectangle((x, sy, x + bw, sy + int((hz - y) * 0.24)), fill=(*col, 255))
                x += bw + 2
        return
    if words & {"classroom"}:
        d.rectangle((int(w * 0.2), int(hz * 0.15), int(w * 0.8), int(hz * 0.65)), fill=(40, 80, 55, 255))
        return
    for cx in (0.25, 0.75):
        x0, x1 = int(w * (cx - 0.1)), int(w * (cx + 0.1))
        if not _free(keep, (x0, hz * 0.15, x1, hz * 0.6)):
            continue
        d.rectangle((x0, int(hz * 0.15), x1, int(hz * 0.6)), fill=(240, 240, 235, 255))
        d.rectangle((x0 + 4, int(hz * 0.15) + 4, x1 - 4, int(hz * 0.6) - 4), fill=(150, 200, 235, 255))


def paint_props(
    img: np.ndarray,
    setting: list[str],
    horizon: int,
    boxes: list[Box],
    seed: int,
    ashore: list[Box] | None = None,
    mapped: bool = True,
    drawn: dict[Any, Any] | None = None,
) -> dict[str, Any] | None:
    """Paint the props of the setting's backdrop kinds onto ``img`` (float RGB, in place); return the record.

    A setting may name places of several kinds ("a cabin in the woods by a lake", "a lighthouse on a beach
    in front of mountains"): those that combine (:func:`painted_kinds`) are painted far to near, each on its
    own layer (mountains behind a row of trees, a lake's water band in front of both), and the record keeps
    one map per kind (``"maps"``) of where that kind's props still show, so each place is checked on its own.
    ``ashore``: the boxes of the things that stand on land (not a boat, a duck): a lake's water stops behind them.
    ``mapped=False`` paints and returns None: a candidate backdrop that is only judged (render/legible.py) needs
    no maps, and working them out cell by cell cost more than painting it. ``drawn``: a dict kept by a caller
    that paints the same props on several candidate backdrops: the props do not depend on the backdrop's tones,
    so each kind's layer is drawn once and only blended onto the next candidate.
    """
    found = places(setting)
    if not found:
        return None
    kinds = painted_kinds(setting)
    h, w = img.shape[:2]
    rng = random.Random(seed * 7919 + 17)
    hz = min(max(horizon, int(h * 0.3)), h)
    tallest = max([y1 - y0 for _, y0, _, y1 in boxes] or [h // 2])
    far = min(hz * 0.55, tallest * 0.85)  # background scale: never taller than the things asked for
    words = {x.lower() for x in setting}
    keep = _clear(boxes, w, h)
    key = (w, h, horizon, tuple(map(tuple, boxes)), seed, tuple(map(tuple, ashore or [])), tuple(setting))
    if drawn is None or key not in drawn:
        drawing = []
        for kind in sorted(kinds, key=DEPTH.index):
            layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
            mark = np.zeros((h, w), bool)  # surfaces that are the place itself (the open sea, a room's floor)
            _props(kind, ImageDraw.Draw(layer), layer, rng, w, h, hz, far, words, keep, mark, ashore or [], kinds[0])
            a = np.asarray(layer, np.float32)
            alpha = a[..., 3:4] / 255.0
            drawing.append((kind, 1 - alpha, a[..., :3] * alpha, alpha[..., 0], mark))
        if drawn is not None:
            drawn[key] = drawing
    else:
        drawing = drawn[key]
    layers: list[tuple[str, np.ndarray, np.ndarray]] = []
    for kind, behind, over, alpha, mark in drawing:
        img[:] = img * behind + over
        layers.append((kind, alpha, mark))
    if not mapped:
        return None
    shows = []  # what of each kind's props is left showing once the nearer kinds are painted over it
    for i, (kind, alpha, mark) in enumerate(layers):
        left = alpha.copy()
        for _, nearer, near_mark in layers[i + 1 :]:
            left = left * (1 - nearer) * (~near_mark)
        shows.append((kind, (left > 0.5) | mark))
    anything = np.zeros((h, w), bool)
    for _, prop in shows:
        anything |= prop
    maps = {kind: _map(prop, keep | (anything & ~prop)) for kind, prop in shows}
    main = kinds[0] if kinds else None  # places with no backdrop of their own: nothing painted, the check says so
    return {"kind": main, "kinds": kinds, "places": found, "map": maps[main] if main else [], "maps": maps}


def _props(kind, d, layer, rng, w, h, hz, far, words, keep, mark, ashore, first) -> None:
    """The props of one backdrop kind, on its layer (``mark``: the surfaces that are the place itself;
    ``first``: the setting's first kind, whose ground the plain painter laid)."""
    if kind in ("woodland", "jungle"):
        green = (28, 80, 40) if kind == "jungle" else (48, 112, 58)
        _row(layer, rng, w, hz + 2, far * 0.8, shade(green, 0.15), p_tree, keep, spacing=0.55)
        _row(layer, rng, w, hz + far * 0.15, far, green, p_tree, keep, spacing=0.6 if kind == "jungle" else 0.8)
    elif kind == "city":
        x = -rng.uniform(0, 20)
        while x < w:
            bw, bh = far * rng.uniform(0.35, 0.6), far * rng.uniform(0.5, 1.0)
            _stamp(layer, (x, hz - bh, x + bw, hz), shade((92, 100, 122), rng.uniform(-0.2, 0.15)), _skyline, keep)
            x += max(3.0, bw * rng.uniform(0.95, 1.25))
        y = hz + int((h - hz) * 0.45)
        for x0 in range(int(rng.uniform(0, 30)), w, 60):
            if _free(keep, (x0, y, x0 + 30, y + max(2, h // 120))):
                d.rectangle((x0, y, x0 + 30, y + max(2, h // 120)), fill=(235, 220, 120, 255))
    elif kind == "town":
        _row(layer, rng, w, hz + 2, far * 0.6, (200, 150, 110), p_house, keep, spacing=1.4)
    elif kind in ("water", "beach"):
        # the open sea is the ground itself where the plain painter laid it (a sea or an ocean named anywhere, a
        # seascape when the water is the first place); else the water is a band on another place's ground
        open_sea = bool(words & {"sea", "ocean"}) or (kind == first and "seascape" in words)
        band = int((h - hz) * (0.25 if kind == "beach" else 1.0 if open_sea else 0.5))
        # the water lies behind the things standing by it (a cabin by a lake is on the shore, not in the lake)
        feet = min([y1 for _, _, _, y1 in ashore if y1 > hz + 4], default=h) - hz - max(2, h // 100)
        if band < h - hz and feet >= max(4, h // 40):
            band = min(band, feet)
        if band < h - hz:
            d.rectangle((0, hz, w, hz + band), fill=(40, 105, 170, 255))
        else:  # the open sea is the ground itself, in the tone that keeps the asked colours legible
            mark[hz:] = True
        for _ in range(max(3, w // 60)):
            x, y = rng.uniform(0, w), rng.uniform(hz + 4, hz + band - 4)
            if _free(keep, (x, y - 2, x + 18, y + 2)):
                d.line((x, y, x + 18, y), fill=(150, 195, 230, 255), width=2)
    elif kind == "desert":
        for _ in range(3 + w // 300):
            cx, rw = rng.uniform(0, w), rng.uniform(0.2, 0.4) * w
            d.chord((cx - rw, hz - far * 0.35, cx + rw, hz + far * 0.35), 180, 360, fill=(204, 158, 96, 255))
    elif kind == "mountains":
        _row(
            layer, rng, w, hz + 2, min(hz * 0.8, far * 1.3), (112, 122, 148), p_mountain, keep, spacing=0.55, jitter=0.4
        )
    elif kind == "farmland":
        _row(layer, rng, w, hz + 2, far * 0.5, (60, 120, 60), p_tree, keep, spacing=2.2, jitter=0.4)
        fy = hz + int((h - hz) * 0.08)
        top, bottom = fy - max(4, h // 60), fy + max(4, h // 80)
        for x0 in range(0, w, 24):  # post by post, with a gap wherever a thing stands
            if _free(keep, (x0, top, x0 + 24, bottom)):
                d.rectangle((x0, fy, x0 + 24, fy + max(2, h // 160)), fill=(140, 100, 60, 255))
                d.rectangle((x0, top, x0 + 3, bottom), fill=(140, 100, 60, 255))
    elif kind == "room":
        mark[hz:] = True  # the floor against the wall is what says "inside"
        _room_cue(d, words, w, hz, rng, keep)
    elif kind == "space":
        r = max(8, int(min(w, h) * 0.06))
        corners = [(0.12, 0.15), (0.88, 0.15), (0.12, 0.85), (0.88, 0.85)]
        rng.shuffle(corners)
        free = [(x, y) for x, y in corners if _free(keep, (x * w - r, y * h - r, x * w + r, y * h + r))]
        cx, cy = (free or corners)[0]
        d.ellipse((cx * w - r, cy * h - r, cx * w + r, cy * h + r), fill=(170, 120, 200, 255))
    elif kind == "sky":
        for _ in range(4):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0.05, 0.5) * h, rng.uniform(0.04, 0.07) * w
            if _free(keep, (cx - r, cy - r * 0.5, cx + r, cy + r * 0.5)):
                d.ellipse((cx - r, cy - r * 0.5, cx + r, cy + r * 0.5), fill=(250, 250, 252, 255))
    elif kind == "snowfield":
        for _ in range(3):
            cx, rw = rng.uniform(0, w), rng.uniform(0.2, 0.35) * w
            d.chord((cx - rw, hz - far * 0.4, cx + rw, hz + far * 0.4), 180, 360, fill=(120, 136, 168, 255))
    elif kind == "underwater":
        for x0 in range(int(rng.uniform(0, 40)), w, 45):
            top = h - far * rng.uniform(0.4, 0.8)
            d.line((x0, h, x0 + rng.uniform(-10, 10), top), fill=(40, 140, 70, 255), width=max(3, w // 150))
    elif kind == "cave":
        for x0 in range(int(rng.uniform(0, 30)), w, 40):
            d.polygon([(x0, 0), (x0 + 24, 0), (x0 + 12, rng.uniform(0.1, 0.25) * h)], fill=(95, 85, 80, 255))


def _map(prop: np.ndarray, clear: np.ndarray) -> list[str]:
    """One character per cell: "p" mostly prop, "." plain surface near the props, " " elsewhere or things."""
    h, w = prop.shape
    rows_p = [prop[y : y + CELL].mean() for y in range(0, h, CELL)]
    out: list[str] = []
    band = [i for i, v in enumerate(rows_p) if v > 0]
    lo, hi = (min(band), max(band)) if band else (0, -1)
    grow = max(2, (hi - lo + 1) // 2)
    for i, y in enumerate(range(0, h, CELL)):
        line = []
        for x in range(0, w, CELL):
            cp, cc = prop[y : y + CELL, x : x + CELL].mean(), clear[y : y + CELL, x : x + CELL].any()
            if cc:
                line.append(" ")
            elif cp > 0.6:
                line.append("p")
            elif cp == 0 and lo - grow <= i <= hi + grow:
                line.append(".")
            else:
                line.append(" ")
        out.append("".join(line))
    return out


SHOWN = 10.0
"""The median Lab distance between a prop cell and the plain surface in its row (or the nearest row that has
some) above which the props show."""


def shown(img: np.ndarray, record: dict[str, Any]) -> tuple[bool, str]:
    """Do the final's pixels show the props the record says were painted? Each prop cell's mean colour
    against the plain surface's mean in the same row (gradients and sky-over-ground compare like with like)."""
    from mmthink.dsp.color import srgb_to_lab

    grid = record.get("map") or []
    plain: dict[int, np.ndarray] = {}
    props: list[tuple[int, np.ndarray]] = []
    for i, line in enumerate(grid):
        row = img[i * CELL : (i + 1) * CELL]
        cells = [
            row[:, j * CELL : (j + 1) * CELL].reshape(-1, 3).mean(axis=0) for j, ch in enumerate(line) if ch == "."
        ]
        if cells:
            plain[i] = srgb_to_lab(np.mean(cells, axis=0).astype(np.float32))
        props += [
            (i, row[:, j * CELL : (j + 1) * CELL].reshape(-1, 3).mean(axis=0)) for j, ch in enumerate(line) if ch == "p"
        ]
    if len(props) < 2 or not plain:
        return False, f"{len(props)} prop cells clear of the things"
    dists = [
        float(np.linalg.norm(srgb_to_lab(c.astype(np.float32)) - plain[min(plain, key=lambda r: abs(r - i))]))
        for i, c in props
    ]
    med = float(np.median(dists))
    return med >= SHOWN, f"props differ from the surface around them by {med:.0f} (Lab, median of {len(props)} cells)"
