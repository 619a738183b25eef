"""A backdrop the asked colours read on: the usual tones, or other tones of the same surfaces.

A brown dresser on a brown floor, a grey key between a blue sky and green grass, a white mansion
against a pale sky: the final is drawn as asked, but the thing vanishes into what is around it,
and the critic (rightly) says so. A painter would pick another wall or another sky, so the final
tries the usual tones first and, only where an asked colour would blend in, other tones of the
same surfaces (a painted wall, a darker lawn, a deeper sky), keeping the one where every asked
colour stands out most. Sketches are drawn on paper and are not affected.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from mmthink.dsp.color import distances, srgb_to_lab

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

TONES: dict[str, list[RGB]] = {
    "wall": [(200, 180, 150), (190, 205, 220), (246, 244, 240), (160, 190, 165), (120, 128, 148), (60, 62, 78)],
    "floor": [(150, 110, 80), (95, 120, 150), (228, 222, 210), (112, 114, 120), (70, 60, 55), (40, 38, 42)],
    "sky": [(200, 225, 250), (240, 242, 248), (120, 165, 225), (60, 95, 170)],
    # a dusk sky's glow at the horizon (its top stays the evening's violet): orange, rose, mauve, pale gold
    "dusk": [(250, 150, 90), (225, 105, 135), (140, 85, 150), (250, 215, 150)],
    "grass": [(86, 150, 70), (205, 225, 190), (175, 190, 120), (45, 90, 45), (35, 65, 35)],
    "sea": [(30, 95, 160), (90, 170, 180), (150, 200, 215), (15, 45, 85)],
    "sand": [(222, 196, 140), (240, 228, 200), (170, 140, 95)],
    "street": [(110, 112, 118), (175, 175, 180), (60, 62, 68)],
    "snow": [(240, 244, 250), (190, 200, 215)],
}
"""Each surface's usual tone first, then the others it may take."""

READS = 34.0
"""The Lab distance between a thing's colour and its surroundings above which it reads (the critic asks 28)."""
APART = 50.0
"""The RGB distance every surface pixel near a thing keeps from its lit and shaded colour,
so its own pixels are never mistaken for the backdrop's (the critic's colour reading drops those within 38);
the shadow falls just under the box, outside the edge the critic samples."""


def ring_strips(img: np.ndarray, box: Box) -> list[np.ndarray]:
    """The pixels of the four strips around a box (15% of its long side wide, at least 6 px), empty ones left
    out, as (n, 3) arrays: what the critic compares a thing with, so the final's tones are chosen on the same."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    pad = max(6, int(0.15 * max(x1 - x0, y1 - y0)))
    strips = [
        img[max(0, y0 - pad) : max(0, y0), max(0, x0) : min(w, x1)],
        img[min(h, y1) : min(h, y1 + pad), max(0, x0) : min(w, x1)],
        img[max(0, y0) : min(h, y1), max(0, x0 - pad) : max(0, x0)],
        img[max(0, y0) : min(h, y1), min(w, x1) : min(w, x1 + pad)],
    ]
    return [s.reshape(-1, 3) for s in strips if s.size]


def ring_means(img: np.ndarray, box: Box) -> np.ndarray:
    """Mean colour of the strips around a box (as wide as the critic's), then of each strip: a thing must
    stand out from its surroundings as a whole and from each surface it touches."""
    parts = ring_strips(img, box)
    if not parts:
        return img.reshape(-1, 3).mean(axis=0)[None, :]
    return np.stack([np.concatenate(parts).mean(axis=0), *(q.mean(axis=0) for q in parts)])


def separation(img: np.ndarray, asked: list[tuple[Box, RGB]]) -> float:
    """How well the worst-placed asked colour stands out from the backdrop around it (Lab distance)."""
    if not asked:
        return float("inf")
    worst = float("inf")
    for box, colour in asked:
        col = srgb_to_lab(np.asarray(colour, np.float32))
        rings = srgb_to_lab(ring_means(img, box).astype(np.float32))
        worst = min(worst, float(np.min(np.linalg.norm(rings - col[None, :], axis=1))))
        tones = np.clip(np.asarray(colour, np.float32)[None, :] * np.array([[0.86], [1.0], [1.14]]), 0, 255)
        near = ring_pixels(img, box)
        apart = float(np.min(distances(near, tones)))
        worst = min(worst, READS * apart / APART)
    return worst


def ring_pixels(img: np.ndarray, box: Box, n: int = 400) -> np.ndarray:
    """A sample of the backdrop's pixels in and just around a box."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    pad = max(6, int(0.15 * max(x1 - x0, y1 - y0)))
    region = img[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)].reshape(-1, 3)
    return region[:: max(1, len(region) // n)]


SCOUT = 4
"""Candidate backdrops are judged at 1/SCOUT of the size (gradients scale), then the chosen one is painted."""
SCOUT_MIN_SIDE = 128
"""...but never on a scout whose shorter side is under this: the rings the critic samples are at least 6 px wide,
so on a 48-px scout of a 192-px canvas a ring would stand for 24 px where the critic looks at 6."""


def scout_scale(w: int, h: int) -> int:
    """The scale candidate backdrops are judged at for a ``w`` x ``h`` canvas: 1/4 of it, or larger for a small one."""
    return max(1, min(SCOUT, min(w, h) // SCOUT_MIN_SIDE))


def legible_backdrop(
    paint: Callable[[dict[str, RGB], int, bool], tuple[np.ndarray, str]],
    asked: list[tuple[Box, RGB]],
    surfaces: tuple[str, ...],
    scout: int = SCOUT,
    light: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, str]:
    """``paint(tones, scale, final)`` with the usual tones when every asked colour reads on them, else with the tones of
    ``surfaces`` (those of the setting's backdrop that may change: "wall", "floor", "sky", "grass", "sea"...)
    under which the worst-placed asked colour stands out most; candidates are judged at 1/``scout`` of the size
    and, where ``light`` is given, as the final's light (a sunset, the night) will leave them. ``final`` is true
    only for the one painting returned: what is recorded about it (where the places' props show) is worked out
    for that one alone."""
    surfaces = tuple(x for x in surfaces if x in TONES)
    if not asked or not surfaces:
        return paint({}, 1, True)
    small = [(tuple(int(v) // scout for v in box), rgb) for box, rgb in asked]

    def score(tones: dict[str, RGB]) -> float:
        img = paint(tones, scout, False)[0]
        return separation(light(img) if light else img, small)  # type: ignore[arg-type]

    if scout == 1:  # the usual tones are judged on the painting itself, kept if they read
        usual = paint({}, 1, True)
        if separation(light(usual[0]) if light else usual[0], asked) >= READS:
            return usual
    elif score({}) >= READS:
        return paint({}, 1, True)
    combos = [dict(zip(surfaces, c, strict=True)) for c in itertools.product(*(TONES[x] for x in surfaces))]
    best = max(combos, key=score)
    return paint(best, 1, True)
