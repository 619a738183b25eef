"""The drawable vocabulary: what each kind looks like, where it lives, and how to paint it.

Each painter draws one instance into its own RGBA layer of the instance's box size, using a
handful of primitives (so a sketch and a final share their shapes). Names map to kinds through
synonyms; unknown nouns fall back to a labelled generic shape in their colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageDraw

from mmthink.modalities.image.scene import normalize_name

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class KindInfo:
    kind: str
    size: float = 0.18  # default fraction of the canvas's short side
    aspect: float = 1.0  # width / height
    zone: str = "any"  # sky | ground | water | any
    color: str = "grey"  # default colour word
    luminous: bool = False  # glows in the final render


KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in [
        KindInfo("sun", 0.16, 1.0, "sky", "yellow", True),
        KindInfo("moon", 0.13, 1.0, "sky", "ivory", True),
        KindInfo("star", 0.05, 1.0, "sky", "gold", True),
        KindInfo("cloud", 0.14, 1.9, "sky", "white"),
        KindInfo("planet", 0.26, 1.0, "sky", "blue-green"),
        KindInfo("nebula", 0.5, 1.6, "sky", "purple", True),
        KindInfo("spaceship", 0.14, 2.2, "sky", "silver"),
        KindInfo("battlecruiser", 0.3, 2.8, "any", "grey"),
        KindInfo("rocket", 0.34, 0.38, "ground", "white"),
        KindInfo("laser", 0.04, 6.0, "sky", "red", True),
        KindInfo("explosion", 0.1, 1.0, "any", "orange", True),
        KindInfo("car", 0.14, 2.0, "ground", "red"),
        KindInfo("boat", 0.2, 1.1, "water", "white"),
        KindInfo("ship", 0.24, 1.9, "water", "white"),
        KindInfo("train", 0.16, 3.2, "ground", "red"),
        KindInfo("tree", 0.3, 0.7, "ground", "green"),
        KindInfo("flower", 0.1, 0.6, "ground", "pink"),
        KindInfo("mountain", 0.45, 1.6, "ground", "grey"),
        KindInfo("house", 0.26, 1.1, "ground", "tan"),
        KindInfo("castle", 0.38, 1.3, "ground", "grey"),
        KindInfo("lighthouse", 0.42, 0.38, "ground", "white", True),
        KindInfo("bridge", 0.2, 3.5, "any", "brown"),
        KindInfo("tunnel", 0.3, 1.4, "ground", "grey"),
        KindInfo("person", 0.24, 0.45, "ground", "blue"),
        KindInfo("astronaut", 0.26, 0.55, "ground", "white"),
        KindInfo("cat", 0.14, 1.2, "ground", "orange"),
        KindInfo("dog", 0.16, 1.3, "ground", "brown"),
        KindInfo("bird", 0.07, 1.5, "sky", "blue"),
        KindInfo("fish", 0.07, 1.7, "water", "orange"),
        KindInfo("owl", 0.18, 0.8, "any", "brown"),
        KindInfo("whale", 0.24, 2.4, "water", "navy"),
        KindInfo("penguin", 0.14, 0.6, "ground", "black"),
        KindInfo("fox", 0.15, 1.5, "ground", "orange"),
        KindInfo("dragon", 0.3, 1.6, "sky", "green"),
        KindInfo("apple", 0.08, 1.0, "any", "red"),
        KindInfo("cup", 0.09, 1.0, "any", "white"),
        KindInfo("book", 0.09, 1.3, "any", "blue"),
        KindInfo("table", 0.34, 1.8, "ground", "brown"),
        KindInfo("chair", 0.22, 0.7, "ground", "brown"),
        KindInfo("lamp", 0.16, 0.8, "any", "yellow", True),
        KindInfo("candle", 0.1, 0.4, "any", "ivory", True),
        KindInfo("balloon", 0.09, 0.75, "sky", "red"),
        KindInfo("kite", 0.1, 0.8, "sky", "orange"),
        KindInfo("umbrella", 0.2, 1.1, "ground", "red"),
        KindInfo("guitar", 0.2, 0.45, "any", "brown"),
        KindInfo("robot", 0.22, 0.6, "ground", "silver"),
        KindInfo("plant", 0.15, 0.7, "ground", "green"),
        KindInfo("iceberg", 0.3, 1.5, "water", "white"),
        KindInfo("lantern", 0.08, 0.6, "any", "yellow", True),
        KindInfo("flag", 0.16, 0.8, "ground", "red"),
        KindInfo("hat", 0.1, 1.4, "any", "black"),
        KindInfo("scarf", 0.1, 1.6, "any", "red"),
        KindInfo("door", 0.24, 0.5, "ground", "brown"),
        KindInfo("bowl", 0.3, 1.3, "any", "azure"),
        KindInfo("wall", 0.6, 1.8, "ground", "white"),
        KindInfo("ball", 0.07, 1.0, "ground", "red"),
        KindInfo("tower", 0.36, 0.35, "ground", "grey"),
        KindInfo("pad", 0.12, 3.0, "ground", "grey"),
        KindInfo("generic", 0.16, 1.0, "any", "grey"),
    ]
}

SYNONYMS = {
    "starship": "spaceship",
    "starfighter": "spaceship",
    "spacecraft": "spaceship",
    "ufo": "spaceship",
    "space station": "battlecruiser",
    "cruiser": "battlecruiser",
    "mothership": "battlecruiser",
    "fighter": "spaceship",
    "shuttle": "rocket",
    "capsule": "rocket",
    "lander": "rocket",
    "missile": "rocket",
    "laser beam": "laser",
    "beam": "laser",
    "ray": "laser",
    "fireball": "explosion",
    "blast": "explosion",
    "earth": "planet",
    "mars": "planet",
    "world": "planet",
    "comet": "star",
    "galaxy": "nebula",
    "sailboat": "boat",
    "yacht": "boat",
    "canoe": "boat",
    "boat": "boat",
    "ship": "ship",
    "ferry": "ship",
    "truck": "car",
    "bus": "car",
    "taxi": "car",
    "locomotive": "train",
    "oak": "tree",
    "pine": "tree",
    "palm": "tree",
    "bush": "plant",
    "cactus": "plant",
    "rose": "flower",
    "tulip": "flower",
    "hill": "mountain",
    "volcano": "mountain",
    "cabin": "house",
    "cottage": "house",
    "building": "house",
    "hut": "house",
    "palace": "castle",
    "fortress": "castle",
    "light house": "lighthouse",
    "man": "person",
    "woman": "person",
    "child": "person",
    "boy": "person",
    "girl": "person",
    "kid": "person",
    "king": "person",
    "queen": "person",
    "knight": "person",
    "kitten": "cat",
    "puppy": "dog",
    "wolf": "dog",
    "duck": "bird",
    "eagle": "bird",
    "parrot": "bird",
    "seagull": "bird",
    "goldfish": "fish",
    "shark": "whale",
    "dolphin": "whale",
    "mug": "cup",
    "glass": "cup",
    "desk": "table",
    "stool": "chair",
    "bench": "chair",
    "light": "lamp",
    "street lamp": "lamp",
    "torch": "candle",
    "glacier": "iceberg",
    "banner": "flag",
    "cap": "hat",
    "vase": "bowl",
    "pot": "bowl",
    "launch pad": "pad",
    "launch tower": "tower",
    "pillar": "tower",
    "android": "robot",
    "orange": "apple",
    "peach": "apple",
    "cherry": "apple",
    "soccer ball": "ball",
    "tennis ball": "ball",
    "gate": "door",
    "window": "door",
    "rainbow": "cloud",
}


def drawable_kind(name: str) -> str:
    """The kind a name is drawn as: itself, a synonym, its last word, or "generic"."""
    n = normalize_name(name)
    if n in KINDS:
        return n
    if n in SYNONYMS:
        return SYNONYMS[n]
    last = n.split(" ")[-1] if n else ""
    if last in KINDS:
        return last
    if last in SYNONYMS:
        return SYNONYMS[last]
    return "generic"


def kind_info(name: str) -> KindInfo:
    return KINDS[drawable_kind(name)]


# ------------------------------------------------------------------ painting


def shade(rgb: RGB, f: float) -> RGB:
    """Lighter (f > 0) or darker (f < 0) version of a colour."""
    if f >= 0:
        return tuple(int(c + (255 - c) * f) for c in rgb)  # type: ignore[return-value]
    return tuple(int(c * (1 + f)) for c in rgb)  # type: ignore[return-value]


class Pen:
    """Primitives in box-relative units (0..1), so painters read like descriptions."""

    def __init__(self, draw: ImageDraw.ImageDraw, w: int, h: int, color: RGB, sketch: bool) -> None:
        self.d, self.w, self.h, self.c, self.sketch = draw, w, h, color, sketch
        self.line = shade(color, -0.55) if not sketch else (60, 60, 70)
        self.lw = max(1, int(min(w, h) * 0.03)) if not sketch else max(1, int(min(w, h) * 0.025))

    def _xy(self, pts):
        return [(x * (self.w - 1), y * (self.h - 1)) for x, y in pts]

    def _style(self, fill):
        fill = self.c if fill is None else fill
        return {"fill": fill + (255,), "outline": self.line + (255,), "width": self.lw}

    def ellipse(self, x0, y0, x1, y1, fill=None, outline=True):
        st = self._style(fill)
        if not outline:
            st.pop("outline"), st.pop("width")
        self.d.ellipse(self._xy([(x0, y0), (x1, y1)]), **st)

    def rect(self, x0, y0, x1, y1, fill=None, r=0.0, outline=True):
        st = self._style(fill)
        if not outline:
            st.pop("outline"), st.pop("width")
        box = self._xy([(x0, y0), (x1, y1)])
        rad = int(r * min(self.w, self.h))
        self.d.rounded_rectangle(box, radius=rad, **st) if rad else self.d.rectangle(box, **st)

    def poly(self, pts, fill=None, outline=True):
        st = self._style(fill)
        if not outline:
            st.pop("outline"), st.pop("width")
        self.d.polygon(self._xy(pts), **st)

    def stroke(self, pts, color=None, width=None):
        self.d.line(self._xy(pts), fill=(color or self.line) + (255,), width=width or self.lw, joint="curve")

    def pieslice(self, x0, y0, x1, y1, a0, a1, fill=None):
        self.d.pieslice(self._xy([(x0, y0), (x1, y1)]), a0, a1, **self._style(fill))


def _star_points(cx, cy, r0, r1, n=5, rot=-90):
    pts = []
    for i in range(2 * n):
        r = r0 if i % 2 == 0 else r1
        a = math.radians(rot + i * 180 / n)
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


DARK: RGB = (40, 40, 48)
GLASS: RGB = (150, 200, 235)
WARM: RGB = (255, 220, 120)


def p_sun(p: Pen):
    p.ellipse(0.08, 0.08, 0.92, 0.92)


def p_moon(p: Pen):
    p.ellipse(0.05, 0.05, 0.95, 0.95)
    for x, y, r in ((0.35, 0.35, 0.1), (0.6, 0.55, 0.08), (0.45, 0.7, 0.06)):
        p.ellipse(x - r, y - r, x + r, y + r, fill=shade(p.c, -0.12), outline=False)


def p_star(p: Pen):
    p.poly(_star_points(0.5, 0.5, 0.5, 0.2))


def p_cloud(p: Pen):
    for x0, y0, x1, y1 in ((0.0, 0.35, 0.45, 0.95), (0.25, 0.05, 0.72, 0.85), (0.55, 0.3, 1.0, 0.95)):
        p.ellipse(x0, y0, x1, y1, outline=False)
    p.rect(0.15, 0.6, 0.85, 0.95, outline=False)


def p_planet(p: Pen):
    p.ellipse(0.04, 0.04, 0.96, 0.96)
    for y, f in ((0.32, 0.18), (0.52, -0.15), (0.7, 0.12)):
        p.stroke([(0.15, y), (0.5, y + 0.05), (0.85, y)], color=shade(p.c, f), width=max(2, int(p.h * 0.05)))


def p_nebula(p: Pen):
    for x0, y0, x1, y1, f in ((0.0, 0.2, 0.6, 0.9, 0.0), (0.3, 0.0, 1.0, 0.7, 0.2), (0.2, 0.35, 0.8, 1.0, -0.2)):
        p.ellipse(x0, y0, x1, y1, fill=shade(p.c, f), outline=False)


def p_spaceship(p: Pen):
    p.poly([(0.0, 0.55), (0.25, 0.25), (0.8, 0.35), (1.0, 0.5), (0.8, 0.65), (0.25, 0.8)])
    p.poly([(0.3, 0.3), (0.45, 0.0), (0.6, 0.33)], fill=shade(p.c, -0.25))
    p.poly([(0.3, 0.72), (0.45, 1.0), (0.6, 0.67)], fill=shade(p.c, -0.25))
    p.ellipse(0.62, 0.42, 0.78, 0.58, fill=GLASS)


def p_battlecruiser(p: Pen):
    p.poly([(0.0, 0.6), (0.1, 0.35), (0.9, 0.4), (1.0, 0.55), (0.9, 0.75), (0.1, 0.8)])
    p.rect(0.35, 0.12, 0.55, 0.42, fill=shade(p.c, -0.2))
    p.rect(0.6, 0.22, 0.7, 0.42, fill=shade(p.c, -0.2))
    for i in range(6):
        x = 0.15 + i * 0.12
        p.rect(x, 0.55, x + 0.05, 0.62, fill=WARM, outline=False)


def p_rocket(p: Pen):
    p.rect(0.3, 0.2, 0.7, 0.82, r=0.05)
    p.poly([(0.3, 0.22), (0.5, 0.0), (0.7, 0.22)], fill=(214, 40, 40))
    p.poly([(0.3, 0.65), (0.05, 0.9), (0.3, 0.82)], fill=(214, 40, 40))
    p.poly([(0.7, 0.65), (0.95, 0.9), (0.7, 0.82)], fill=(214, 40, 40))
    p.ellipse(0.4, 0.35, 0.6, 0.45, fill=GLASS)
    p.poly([(0.38, 0.83), (0.5, 1.0), (0.62, 0.83)], fill=(250, 170, 40), outline=False)


def p_laser(p: Pen):
    p.rect(0.0, 0.3, 1.0, 0.7, r=0.3, outline=False)


def p_explosion(p: Pen):
    p.poly(_star_points(0.5, 0.5, 0.5, 0.28, n=9))
    p.poly(_star_points(0.5, 0.5, 0.28, 0.14, n=7, rot=-70), fill=(255, 230, 120), outline=False)


def p_car(p: Pen):
    p.rect(0.0, 0.4, 1.0, 0.8, r=0.1)
    p.poly([(0.2, 0.42), (0.32, 0.1), (0.7, 0.1), (0.82, 0.42)])
    p.poly([(0.28, 0.4), (0.36, 0.17), (0.49, 0.17), (0.49, 0.4)], fill=GLASS)
    p.poly([(0.53, 0.4), (0.53, 0.17), (0.66, 0.17), (0.75, 0.4)], fill=GLASS)
    for x in (0.12, 0.68):
        p.ellipse(x, 0.62, x + 0.22, 1.0, fill=DARK)


def p_boat(p: Pen):
    p.poly([(0.0, 0.72), (1.0, 0.72), (0.82, 1.0), (0.16, 1.0)], fill=shade(p.c, -0.35))
    p.stroke([(0.5, 0.72), (0.5, 0.02)], color=(90, 60, 40))
    p.poly([(0.52, 0.05), (0.52, 0.68), (0.95, 0.68)])
    p.poly([(0.48, 0.15), (0.48, 0.68), (0.12, 0.68)], fill=shade(p.c, -0.08))


def p_ship(p: Pen):
    p.poly([(0.0, 0.55), (1.0, 0.55), (0.88, 1.0), (0.08, 1.0)], fill=shade(p.c, -0.4))
    p.rect(0.25, 0.25, 0.75, 0.56)
    p.rect(0.55, 0.0, 0.66, 0.28, fill=(214, 40, 40))
    for i in range(4):
        p.ellipse(0.3 + i * 0.11, 0.33, 0.36 + i * 0.11, 0.45, fill=GLASS)


def p_train(p: Pen):
    for i in range(3):
        x = i * 0.34
        p.rect(x, 0.15, x + 0.31, 0.82, r=0.06)
        p.rect(x + 0.05, 0.25, x + 0.26, 0.45, fill=GLASS)
        for dx in (0.05, 0.19):
            p.ellipse(x + dx, 0.74, x + dx + 0.08, 1.0, fill=DARK)


def p_tree(p: Pen):
    p.rect(0.42, 0.55, 0.58, 1.0, fill=(120, 80, 45))
    for x0, y0, x1, y1 in ((0.05, 0.2, 0.6, 0.7), (0.4, 0.2, 0.95, 0.7), (0.2, 0.0, 0.8, 0.5)):
        p.ellipse(x0, y0, x1, y1)


def p_flower(p: Pen):
    p.stroke([(0.5, 0.45), (0.5, 1.0)], color=(46, 140, 67))
    p.ellipse(0.55, 0.6, 0.9, 0.75, fill=(46, 160, 67))
    for a in range(0, 360, 60):
        cx, cy = 0.5 + 0.22 * math.cos(math.radians(a)), 0.28 + 0.17 * math.sin(math.radians(a))
        p.ellipse(cx - 0.2, cy - 0.14, cx + 0.2, cy + 0.14)
    p.ellipse(0.38, 0.19, 0.62, 0.37, fill=(250, 210, 40))


def p_mountain(p: Pen):
    p.poly([(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)])
    p.poly([(0.36, 0.28), (0.5, 0.0), (0.64, 0.28), (0.55, 0.24), (0.5, 0.3), (0.44, 0.24)], fill=(245, 245, 245))


def p_house(p: Pen):
    p.rect(0.1, 0.42, 0.9, 1.0)
    p.poly([(0.0, 0.45), (0.5, 0.0), (1.0, 0.45)], fill=shade(p.c, -0.35))
    p.rect(0.42, 0.65, 0.58, 1.0, fill=(110, 70, 40))
    p.rect(0.18, 0.55, 0.34, 0.72, fill=WARM)
    p.rect(0.66, 0.55, 0.82, 0.72, fill=WARM)


def p_castle(p: Pen):
    p.rect(0.15, 0.35, 0.85, 1.0)
    for x in (0.0, 0.72):
        p.rect(x, 0.15, x + 0.28, 1.0, fill=shade(p.c, -0.1))
        p.poly([(x - 0.02, 0.17), (x + 0.14, 0.0), (x + 0.3, 0.17)], fill=(150, 60, 60))
    for i in range(5):
        p.rect(0.2 + i * 0.13, 0.28, 0.27 + i * 0.13, 0.36, outline=False)
    p.pieslice(0.4, 0.7, 0.6, 1.1, 180, 360, fill=DARK)
    p.rect(0.4, 0.9, 0.6, 1.0, fill=DARK, outline=False)


def p_lighthouse(p: Pen):
    p.poly([(0.3, 0.22), (0.7, 0.22), (0.8, 1.0), (0.2, 1.0)])
    for y in (0.4, 0.7):
        p.poly(
            [
                (0.3 - (y - 0.22) * 0.12, y),
                (0.7 + (y - 0.22) * 0.12, y),
                (0.7 + (y + 0.12 - 0.22) * 0.12, y + 0.12),
                (0.3 - (y + 0.12 - 0.22) * 0.12, y + 0.12),
            ],
            fill=(214, 40, 40),
        )
    p.rect(0.34, 0.1, 0.66, 0.23, fill=WARM)
    p.poly([(0.3, 0.11), (0.5, 0.0), (0.7, 0.11)], fill=DARK)


def p_bridge(p: Pen):
    p.rect(0.0, 0.15, 1.0, 0.35)
    for x in (0.1, 0.5, 0.9):
        p.rect(x - 0.03, 0.3, x + 0.03, 1.0, fill=shade(p.c, -0.2))
    p.stroke([(0.1, 0.35), (0.3, 0.7), (0.5, 0.35), (0.7, 0.7), (0.9, 0.35)])


def p_tunnel(p: Pen):
    p.poly([(0.0, 1.0), (0.15, 0.2), (0.5, 0.0), (0.85, 0.2), (1.0, 1.0)])
    p.pieslice(0.22, 0.35, 0.78, 1.3, 180, 360, fill=DARK)
    p.rect(0.22, 0.82, 0.78, 1.0, fill=DARK, outline=False)


def p_person(p: Pen):
    skin = (235, 190, 150)
    p.ellipse(0.3, 0.0, 0.7, 0.22, fill=skin)
    p.rect(0.22, 0.22, 0.78, 0.65, r=0.1)
    p.rect(0.25, 0.62, 0.47, 1.0, fill=shade(p.c, -0.4))
    p.rect(0.53, 0.62, 0.75, 1.0, fill=shade(p.c, -0.4))
    p.rect(0.05, 0.25, 0.22, 0.58, r=0.05)
    p.rect(0.78, 0.25, 0.95, 0.58, r=0.05)


def p_astronaut(p: Pen):
    p.rect(0.2, 0.28, 0.8, 0.7, r=0.1)
    p.ellipse(0.22, 0.0, 0.78, 0.34)
    p.ellipse(0.32, 0.08, 0.68, 0.26, fill=(40, 60, 110))
    p.rect(0.24, 0.66, 0.47, 1.0, r=0.04)
    p.rect(0.53, 0.66, 0.76, 1.0, r=0.04)
    p.rect(0.02, 0.3, 0.2, 0.6, r=0.05)
    p.rect(0.8, 0.3, 0.98, 0.6, r=0.05)
    p.rect(0.38, 0.38, 0.62, 0.5, fill=(214, 40, 40))


def p_cat(p: Pen):
    p.ellipse(0.2, 0.4, 0.9, 0.95)
    p.ellipse(0.0, 0.2, 0.42, 0.62)
    p.poly([(0.03, 0.3), (0.06, 0.08), (0.18, 0.24)])
    p.poly([(0.24, 0.24), (0.36, 0.08), (0.39, 0.3)])
    p.stroke([(0.88, 0.7), (1.0, 0.35)], width=max(2, int(p.h * 0.08)), color=p.c)
    for x in (0.12, 0.26):
        p.ellipse(x, 0.36, x + 0.06, 0.44, fill=(60, 160, 60))


def p_dog(p: Pen):
    p.ellipse(0.2, 0.35, 0.85, 0.8)
    p.ellipse(0.0, 0.15, 0.38, 0.55)
    p.ellipse(0.02, 0.12, 0.14, 0.45, fill=shade(p.c, -0.3))
    for x in (0.28, 0.7):
        p.rect(x, 0.7, x + 0.09, 1.0)
    p.stroke([(0.85, 0.5), (1.0, 0.3)], width=max(2, int(p.h * 0.06)), color=p.c)
    p.ellipse(0.06, 0.3, 0.12, 0.36, fill=DARK)


def p_bird(p: Pen):
    p.ellipse(0.15, 0.35, 0.8, 0.8)
    p.ellipse(0.6, 0.2, 0.95, 0.55)
    p.poly([(0.93, 0.35), (1.0, 0.42), (0.92, 0.45)], fill=(245, 160, 30))
    p.poly([(0.3, 0.5), (0.55, 0.0), (0.6, 0.5)], fill=shade(p.c, -0.25))
    p.poly([(0.18, 0.55), (0.0, 0.4), (0.02, 0.7)], fill=shade(p.c, -0.25))


def p_fish(p: Pen):
    p.ellipse(0.2, 0.1, 0.95, 0.9)
    p.poly([(0.28, 0.5), (0.0, 0.1), (0.0, 0.9)], fill=shade(p.c, -0.2))
    p.ellipse(0.72, 0.3, 0.82, 0.45, fill=DARK)


def p_owl(p: Pen):
    p.ellipse(0.05, 0.15, 0.95, 1.0)
    p.poly([(0.1, 0.25), (0.2, 0.0), (0.35, 0.2)])
    p.poly([(0.65, 0.2), (0.8, 0.0), (0.9, 0.25)])
    p.ellipse(0.5, 0.5, 0.9, 0.95, fill=shade(p.c, 0.35), outline=False)
    for x in (0.2, 0.55):
        p.ellipse(x, 0.25, x + 0.25, 0.5, fill=(250, 240, 200))
        p.ellipse(x + 0.08, 0.32, x + 0.17, 0.43, fill=DARK)
    p.poly([(0.45, 0.45), (0.55, 0.45), (0.5, 0.58)], fill=(245, 160, 30))


def p_whale(p: Pen):
    p.ellipse(0.0, 0.2, 0.85, 0.95)
    p.poly([(0.8, 0.55), (1.0, 0.25), (0.95, 0.6), (1.0, 0.9)])
    p.ellipse(0.1, 0.6, 0.7, 0.92, fill=shade(p.c, 0.35), outline=False)
    p.ellipse(0.15, 0.42, 0.21, 0.5, fill=(245, 245, 245))


def p_penguin(p: Pen):
    p.ellipse(0.1, 0.15, 0.9, 1.0)
    p.ellipse(0.28, 0.35, 0.72, 0.95, fill=(245, 245, 245), outline=False)
    p.ellipse(0.25, 0.0, 0.75, 0.35)
    p.poly([(0.45, 0.2), (0.6, 0.25), (0.45, 0.28)], fill=(245, 160, 30))
    p.ellipse(0.5, 0.12, 0.58, 0.2, fill=(245, 245, 245))


def p_fox(p: Pen):
    p.ellipse(0.25, 0.4, 0.85, 0.85)
    p.poly([(0.0, 0.45), (0.15, 0.15), (0.4, 0.25), (0.42, 0.55)])
    p.poly([(0.14, 0.18), (0.18, 0.0), (0.3, 0.2)])
    p.poly([(0.75, 0.6), (1.0, 0.35), (0.98, 0.7), (0.8, 0.8)])
    p.poly([(0.93, 0.42), (1.0, 0.35), (0.99, 0.52)], fill=(245, 245, 245), outline=False)
    for x in (0.35, 0.7):
        p.rect(x, 0.78, x + 0.06, 1.0, fill=DARK)


def p_dragon(p: Pen):
    p.poly([(0.35, 0.45), (0.55, 0.0), (0.6, 0.45)], fill=shade(p.c, -0.25))
    p.ellipse(0.25, 0.4, 0.75, 0.8)
    p.poly([(0.7, 0.55), (1.0, 0.8), (0.7, 0.72)])
    p.poly([(0.3, 0.5), (0.12, 0.25), (0.0, 0.3), (0.12, 0.42), (0.28, 0.62)])
    p.poly([(0.45, 0.48), (0.3, 0.02), (0.62, 0.46)], fill=shade(p.c, -0.15))
    p.ellipse(0.04, 0.28, 0.08, 0.33, fill=(250, 210, 40))


def p_apple(p: Pen):
    p.ellipse(0.05, 0.15, 0.95, 1.0)
    p.stroke([(0.5, 0.2), (0.55, 0.0)], color=(100, 70, 40))
    p.ellipse(0.55, 0.02, 0.85, 0.18, fill=(46, 160, 67))


def p_cup(p: Pen):
    p.poly([(0.05, 0.1), (0.75, 0.1), (0.68, 1.0), (0.12, 1.0)])
    p.ellipse(0.62, 0.3, 1.0, 0.72, fill=None)
    p.ellipse(0.7, 0.4, 0.9, 0.62, fill=(0, 0, 0), outline=False)
    p.ellipse(0.05, 0.02, 0.75, 0.2, fill=shade(p.c, -0.3))


def p_book(p: Pen):
    p.rect(0.05, 0.05, 0.95, 0.95, r=0.04)
    p.rect(0.05, 0.05, 0.18, 0.95, fill=shade(p.c, -0.3))
    p.rect(0.3, 0.25, 0.8, 0.35, fill=shade(p.c, 0.5), outline=False)


def p_table(p: Pen):
    p.rect(0.0, 0.0, 1.0, 0.16)
    for x in (0.06, 0.86):
        p.rect(x, 0.14, x + 0.08, 1.0, fill=shade(p.c, -0.2))


def p_chair(p: Pen):
    p.rect(0.1, 0.0, 0.25, 0.6)
    p.rect(0.1, 0.45, 0.9, 0.58)
    for x in (0.12, 0.78):
        p.rect(x, 0.55, x + 0.1, 1.0, fill=shade(p.c, -0.2))


def p_lamp(p: Pen):
    p.poly([(0.2, 0.0), (0.8, 0.0), (1.0, 0.4), (0.0, 0.4)])
    p.rect(0.45, 0.38, 0.55, 0.92, fill=(90, 90, 95))
    p.rect(0.25, 0.9, 0.75, 1.0, fill=(90, 90, 95))


def p_candle(p: Pen):
    p.rect(0.25, 0.35, 0.75, 1.0)
    p.ellipse(0.3, 0.0, 0.7, 0.35, fill=(255, 200, 60))


def p_balloon(p: Pen):
    p.ellipse(0.05, 0.0, 0.95, 0.7)
    p.poly([(0.45, 0.7), (0.55, 0.7), (0.5, 0.76)])
    p.stroke([(0.5, 0.76), (0.45, 0.88), (0.55, 1.0)], color=(80, 80, 80), width=1)


def p_kite(p: Pen):
    p.poly([(0.5, 0.0), (0.95, 0.35), (0.5, 0.75), (0.05, 0.35)])
    p.stroke([(0.5, 0.0), (0.5, 0.75)], color=shade(p.c, -0.3), width=1)
    p.stroke([(0.5, 0.75), (0.4, 0.85), (0.6, 0.93), (0.5, 1.0)], color=(80, 80, 80), width=1)


def p_umbrella(p: Pen):
    p.pieslice(0.0, 0.0, 1.0, 0.9, 180, 360)
    p.stroke([(0.5, 0.45), (0.5, 0.95), (0.4, 1.0)], color=(70, 70, 70))


def p_guitar(p: Pen):
    p.rect(0.44, 0.0, 0.56, 0.5, fill=(90, 60, 35))
    p.ellipse(0.15, 0.35, 0.85, 0.7)
    p.ellipse(0.05, 0.55, 0.95, 1.0)
    p.ellipse(0.4, 0.65, 0.6, 0.8, fill=DARK)


def p_robot(p: Pen):
    p.rect(0.2, 0.05, 0.8, 0.35, r=0.05)
    p.ellipse(0.3, 0.12, 0.42, 0.24, fill=(40, 200, 220))
    p.ellipse(0.58, 0.12, 0.7, 0.24, fill=(40, 200, 220))
    p.stroke([(0.5, 0.05), (0.5, 0.0)])
    p.rect(0.15, 0.38, 0.85, 0.75, r=0.05)
    p.rect(0.0, 0.4, 0.13, 0.7, r=0.03)
    p.rect(0.87, 0.4, 1.0, 0.7, r=0.03)
    p.rect(0.25, 0.75, 0.45, 1.0)
    p.rect(0.55, 0.75, 0.75, 1.0)


def p_plant(p: Pen):
    for pts in (
        [(0.5, 0.65), (0.1, 0.1), (0.35, 0.6)],
        [(0.5, 0.65), (0.9, 0.1), (0.65, 0.6)],
        [(0.5, 0.65), (0.5, 0.0), (0.6, 0.6)],
    ):
        p.poly(pts)
    p.poly([(0.2, 0.6), (0.8, 0.6), (0.7, 1.0), (0.3, 1.0)], fill=(184, 115, 51))


def p_iceberg(p: Pen):
    p.poly([(0.0, 1.0), (0.15, 0.4), (0.35, 0.5), (0.5, 0.0), (0.7, 0.35), (0.85, 0.3), (1.0, 1.0)])
    p.poly([(0.5, 0.0), (0.6, 0.6), (0.7, 0.35)], fill=shade(p.c, -0.15), outline=False)


def p_lantern(p: Pen):
    p.rect(0.15, 0.15, 0.85, 0.9, r=0.25)
    p.rect(0.3, 0.0, 0.7, 0.15, fill=DARK)
    p.rect(0.3, 0.88, 0.7, 1.0, fill=DARK)


def p_flag(p: Pen):
    p.rect(0.05, 0.0, 0.11, 1.0, fill=(150, 150, 155))
    p.poly([(0.11, 0.05), (1.0, 0.12), (0.95, 0.45), (0.11, 0.5)])


def p_hat(p: Pen):
    p.rect(0.0, 0.72, 1.0, 0.95, r=0.08)
    p.rect(0.2, 0.0, 0.8, 0.78, r=0.06)
    p.rect(0.2, 0.55, 0.8, 0.68, fill=shade(p.c, 0.4) if sum(p.c) < 200 else shade(p.c, -0.4), outline=False)


def p_scarf(p: Pen):
    p.poly([(0.0, 0.2), (0.3, 0.05), (0.7, 0.2), (1.0, 0.05), (1.0, 0.45), (0.7, 0.6), (0.3, 0.45), (0.0, 0.6)])
    p.rect(0.65, 0.45, 0.85, 1.0)


def p_door(p: Pen):
    p.rect(0.05, 0.0, 0.95, 1.0, r=0.04)
    p.rect(0.15, 0.08, 0.85, 0.45, fill=shade(p.c, -0.15))
    p.ellipse(0.72, 0.55, 0.84, 0.63, fill=(222, 180, 50))


def p_bowl(p: Pen):
    p.ellipse(0.0, 0.0, 1.0, 1.0, fill=shade(p.c, 0.55))
    p.ellipse(0.0, 0.0, 1.0, 0.3, fill=shade(p.c, 0.3))


def p_wall(p: Pen):
    p.rect(0.0, 0.0, 1.0, 1.0, outline=False)
    for r in range(6):
        y = r / 6
        p.stroke([(0.0, y), (1.0, y)], color=shade(p.c, -0.12), width=1)


def p_ball(p: Pen):
    p.ellipse(0.0, 0.0, 1.0, 1.0)
    p.stroke([(0.1, 0.5), (0.9, 0.5)], color=shade(p.c, 0.5))


def p_tower(p: Pen):
    p.rect(0.25, 0.0, 0.75, 1.0)
    for i in range(8):
        y = i / 8
        p.stroke([(0.25, y), (0.75, y + 0.12)], color=shade(p.c, -0.3), width=1)


def p_pad(p: Pen):
    p.rect(0.0, 0.3, 1.0, 1.0)


def p_generic(p: Pen):
    p.rect(0.05, 0.05, 0.95, 0.95, r=0.2)
    p.ellipse(0.3, 0.25, 0.7, 0.65, fill=shade(p.c, 0.35))


PAINTERS: dict[str, Callable[[Pen], None]] = {
    name[2:]: fn for name, fn in globals().items() if name.startswith("p_") and callable(fn)
}
