"""The drawing primitives every painter uses: a pen in box-relative units (0..1).

A painter describes one instance inside its own box; the pen turns that description into pixels
on the instance's layer. Besides shapes, the pen carries the instance's name, so a painter can
vary proportions and details by a stable hash of it: two different things drawn with the same
category drawing ("kangaroo", "goat") never come out as the same picture.
"""

from __future__ import annotations

import hashlib
import math

from PIL import ImageDraw

RGB = tuple[int, int, int]

DARK: RGB = (40, 40, 48)
GLASS: RGB = (150, 200, 235)
WARM: RGB = (255, 220, 120)
SKIN: RGB = (235, 190, 150)
WOOD: RGB = (120, 80, 45)
METAL: RGB = (150, 152, 160)
MARGIN = 3.0
"""Pixels left clear inside every box edge: the backdrop the critic samples on a box's border stays backdrop,
even where the final grows an outline around the shape."""


INK_FULL = 48
"""A final's outline is its colour darkened by 55% on a thing at least this many pixels across, less on a
smaller one: on a 20-px bird the 1-px rim (smoothed to two) is a third of its pixels, and a rim that dark
made a yellow bird read olive, a purple one navy and a brown ball black."""


def shade(rgb: RGB, f: float) -> RGB:
    """Lighter (f > 0) or darker (f < 0) version of a colour."""
    if f >= 0:
        return tuple(int(c + (255 - c) * f) for c in rgb)  # type: ignore[return-value]
    return tuple(int(c * (1 + f)) for c in rgb)  # type: ignore[return-value]


def detail(rgb: RGB, f: float = 0.3) -> RGB:
    """A tone of the colour that still reads apart from it: darker for light colours, lighter for dark."""
    return shade(rgb, -f) if sum(rgb) > 200 else shade(rgb, f + 0.15)


def star_points(cx, cy, r0, r1, n=5, rot=-90):
    pts = []
    for i in range(2 * n):
        r = r0 if i % 2 == 0 else r1
        a = math.radians(rot + i * 180 / n)
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


class Pen:
    """Primitives in box-relative units (0..1), so painters read like descriptions."""

    def __init__(self, draw: ImageDraw.ImageDraw, w: int, h: int, color: RGB, sketch: bool, name: str = "") -> None:
        self.d, self.w, self.h, self.c, self.sketch = draw, w, h, color, sketch
        self.name = name
        self.line = shade(color, -0.55 * min(1.0, min(w, h) / INK_FULL)) if not sketch else (60, 60, 70)
        self.lw = max(1, int(min(w, h) * 0.03)) if not sketch else max(1, int(min(w, h) * 0.025))
        self._hash = hashlib.sha256(name.encode("utf-8")).digest()
        # name-fixed proportions: a bend (kx, ky) and a width and height (fx, fy) standing on the box's floor
        fx, fy = (self.var(28, 0.9, 1.0), self.var(29, 0.93, 1.0)) if name else (1.0, 1.0)
        self._warp = (
            (self.var(30, -0.14, 0.14), self.var(31, -0.1, 0.1), fx, fy, self.var(27, 0.0, 1.0 - fx))
            if name
            else (0.0, 0.0, 1.0, 1.0, 0.0)
        )

    # ------------------------------------------------------------ variation by name
    def var(self, i: int, lo: float = 0.0, hi: float = 1.0) -> float:
        """A value in [lo, hi] fixed by the name (the i-th of 32): the same name always draws the same."""
        return lo + (hi - lo) * self._hash[i % 32] / 255.0

    def pick(self, i: int, n: int) -> int:
        """One of n variants, fixed by the name."""
        return self._hash[i % 32] % max(1, n)

    def has(self, *words: str) -> bool:
        """True when the name contains one of the words (a drawing's variant for "drum", "knife"...)."""
        n = self.name.lower()
        return any(w in n for w in words)

    # ------------------------------------------------------------ shapes
    def _box(self, x0, y0, x1, y1):
        """A box in pixels, corners in order: at a few pixels' size the margin and warp can swap them."""
        (ax, ay), (bx, by) = self._xy([(x0, y0), (x1, y1)])
        return [min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]

    def _xy(self, pts):
        # a gentle warp fixed by the name (the box's edges stay put): every name its own proportions
        # and a margin: the box's edge stays backdrop, which is what the critic samples it as
        kx, ky, fx, fy, ox = self._warp
        mx, my = (
            max(1.0, min(MARGIN, 0.05 * self.w, (self.w - 2) / 4)),
            max(1.0, min(MARGIN, 0.05 * self.h, (self.h - 2) / 4)),
        )
        sx, sy = self.w - 1 - 2 * mx, self.h - 1 - 2 * my
        return [
            (mx + (ox + fx * (x + kx * x * (1 - x))) * sx, my + (1 - fy * (1 - y - ky * y * (1 - y))) * sy)
            for x, y in pts
        ]

    def _style(self, fill):
        fill = self.c if fill is None else fill
        return {"fill": fill + (255,), "outline": self.line + (255,), "width": self.lw}

    def ellipse(self, x0, y0, x1, y1, fill=None, outline=True):
        st = self._style(fill)
        if not outline:
            st.pop("outline"), st.pop("width")
        self.d.ellipse(self._box(x0, y0, x1, y1), **st)

    def rect(self, x0, y0, x1, y1, fill=None, r=0.0, outline=True):
        st = self._style(fill)
        if not outline:
            st.pop("outline"), st.pop("width")
        box = self._box(x0, y0, x1, y1)
        rad = int(r * min(self.w, self.h))
        self.d.rounded_rectangle(box, radius=rad, **st) if rad else self.d.rectangle(box, **st)

    def poly(self, pts, fill=None, outline=True):
        st = self._style(fill)
        if not outline:
            st.pop("outline"), st.pop("width")
        self.d.polygon(self._xy(pts), **st)

    def stroke(self, pts, color=None, width=None):
        self.d.line(self._xy(pts), fill=(color or self.line) + (255,), width=width or self.lw, joint="curve")

    def thick(self, pts, f: float = 0.06, color=None):
        """A stroke as thick as ``f`` of the box's short side (legs, handles, frames)."""
        self.stroke(pts, color=color or self.c, width=max(2, int(min(self.w, self.h) * f)))

    def pieslice(self, x0, y0, x1, y1, a0, a1, fill=None):
        self.d.pieslice(self._xy([(x0, y0), (x1, y1)]), a0, a1, **self._style(fill))

    def chord(self, x0, y0, x1, y1, a0, a1, fill=None):
        self.d.chord(self._xy([(x0, y0), (x1, y1)]), a0, a1, **self._style(fill))


class Variant:
    """One shape of a category drawing, picked by the words in an instance's name."""

    __slots__ = ("name", "words", "aspect")

    def __init__(self, name: str, words: tuple[str, ...] = (), aspect: float | None = None) -> None:
        self.name, self.words, self.aspect = name, words, aspect


def choose(variants: list[Variant], name: str) -> Variant:
    """The first variant one of whose words the name contains; the last variant is the default."""
    n = name.lower()
    for v in variants:
        if any(w in n for w in v.words):
            return v
    return variants[-1]
