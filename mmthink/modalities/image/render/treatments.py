"""Treatments of the final image: styles (watercolour, pixel art, line art, oil painting, flat, cinematic,
monochrome, sepia) and conditions (night, sunset, rain, snow, fog), as plain numpy and Pillow operations.

Each treatment has a measurement that reads the finished picture only (never what was planned), so
the critic can tell whether the look is really there: night is dark, sunset warm, rain streaky,
snow speckled, fog veiled, pixel art blocky, watercolour soft-edged, line art ink on white, oil
painting brushy, flat art few-coloured, cinematic vignetted, monochrome grey, sepia brown.

``apply`` takes the picture as a float32 HxWx3 array and an ``objects`` mask (True where an
element was painted) and ``lights`` (luminous elements: lamps, the moon), which night leaves lit.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Arr = np.ndarray


def _luma(img: Arr) -> Arr:
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


def _pil(img: Arr) -> Image.Image:
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def _arr(img: Image.Image) -> Arr:
    return np.asarray(img.convert("RGB"), np.float32)


def _blur(img: Arr, r: float) -> Arr:
    return _arr(_pil(img).filter(ImageFilter.GaussianBlur(r)))


# ------------------------------------------------------------------ conditions


NIGHT_ON_THINGS = (0.85, 0.86, 0.93)
"""How the night dims the things, per channel: every palette colour keeps its name, lit or shaded."""


def night(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Moonlight: the backdrop dark and blue, the things dimmed (their colours still read), lamps and the moon lit.

    The things are dimmed by ``NIGHT_ON_THINGS``: on the shaded side of a shape a deeper dimming turned green
    and yellow olive, purple navy and white grey, so the colour asked for was no longer the colour shown."""
    dark = img * np.array([0.42, 0.48, 0.7], np.float32) + np.array([4, 6, 18], np.float32)
    dim = img * np.array(NIGHT_ON_THINGS, np.float32)
    out = np.where(objects[..., None], dim, dark)
    keep = lights[..., None].astype(np.float32)
    return out * (1 - keep) + img * keep


SUNSET_ON_THINGS = 0.12
"""The share of the sunset's warm cast the things take: every palette colour keeps its name under it
(white may read ivory, yellow gold), which 0.45 did not (white read beige, purple pink, grey tan)."""


def sunset(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """A warm low sun: orange light, strongest on the sky near the horizon, a touch of it on the things.

    The things take only a little of the warm cast (``SUNSET_ON_THINGS``): lit by the sky, a white car
    stays white and a purple apple purple, where half the sky's orange turned them beige and pink."""
    H, W = img.shape[:2]
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None, None]
    glow = np.exp(-(((y - 0.6) / 0.3) ** 2)) * np.array([90, 35, -30], np.float32)
    warm = img * np.array([1.15, 0.88, 0.65], np.float32) + glow
    w = np.where(objects, SUNSET_ON_THINGS, 1.0).astype(np.float32)[..., None]
    return img * (1 - w) + warm * w


def fog(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """A veil of mist, thickest in the middle distance, that lifts the darks and mutes the colours."""
    H, W = img.shape[:2]
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None, None]
    a = 0.42 + 0.2 * np.exp(-(((y - 0.55) / 0.25) ** 2))
    veil = np.array([205, 210, 214], np.float32) * (0.45 if _luma(img).mean() < 70 else 1.0)
    return img * (1 - a) + veil * a


def rain(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Slanting streaks over a darker, cooler picture."""
    H, W = img.shape[:2]
    mask = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(mask)
    for _ in range(int(W * H / 260)):
        x, y, ln = rng.uniform(0, W), rng.uniform(-10, H), rng.uniform(9, 20)
        d.line((x, y, x - ln * 0.28, y + ln), fill=int(rng.uniform(150, 255)), width=1)
    return _marks(img * np.array([0.86, 0.88, 0.94], np.float32), mask, np.array([225, 230, 240], np.float32), 0.55)


def snow(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Falling flakes of a few sizes, and a cold light."""
    H, W = img.shape[:2]
    mask = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(mask)
    for _ in range(int(W * H / 550)):
        x, y, r = rng.uniform(0, W), rng.uniform(0, H), rng.choice((1.0, 1.5, 2.0, 2.5))
        d.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.uniform(190, 255)))
    return _marks(img * np.array([0.94, 0.97, 1.04], np.float32), mask, np.float32(250.0), 1.0)


def _marks(out: Arr, mask: Image.Image, colour: Any, strength: float) -> Arr:
    """Lay the marks drawn in ``mask`` (streaks, flakes) over ``out`` in ``colour``, as opaque as the mask says."""
    a = np.asarray(mask, np.float32)[..., None] / 255.0 * strength
    return out * (1 - a) + colour * a


# ------------------------------------------------------------------ styles


def cinematic(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Teal shadows, warm highlights, more contrast and a vignette."""
    H, W = img.shape[:2]
    lum = _luma(img)[..., None] / 255.0
    graded = (img - 128) * 1.15 + 128
    graded = graded + (1 - lum) * np.array([-14, 4, 16], np.float32) + lum * np.array([16, 4, -14], np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = (((xx / W - 0.5) * 1.2) ** 2 + (yy / H - 0.5) ** 2) ** 0.5
    return graded * np.clip(1.2 - 0.95 * r, 0.35, 1.0)[..., None]


def monochrome(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    lum = (_luma(img) - 128) * 1.1 + 128
    return np.repeat(lum[..., None], 3, axis=2)


def sepia(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    lum = _luma(img)[..., None] / 255.0
    return 30 + lum * np.array([215, 170, 120], np.float32)


def flat(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Clip art: a handful of flat colours, no gradients."""
    return _quantize(img, objects, 12, 4)


def _quantize(img: Arr, objects: Arr, k_things: int, k_backdrop: int) -> Arr:
    """Few colours, chosen for the things and the backdrop apart, so no small thing loses its colour."""
    out = img.copy()
    for where, k in ((objects, k_things), (~objects, k_backdrop)):
        px = img[where]
        if len(px):  # a palette from a sample, then every pixel to its nearest palette colour
            sample = _pil(px[:: max(1, len(px) // 20000)].reshape(-1, 1, 3))
            pal = sample.quantize(colors=k, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            strip = _pil(px.reshape(-1, 1, 3)).quantize(palette=pal, dither=Image.Dither.NONE)
            out[where] = _arr(strip.convert("RGB")).reshape(-1, 3)
    return out


def oil_painting(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Short thick brush strokes in the picture's own colours, over a canvas weave."""
    H, W = img.shape[:2]
    base = _pil(_blur(img, 1.2))
    src = np.asarray(base)
    d = ImageDraw.Draw(base)
    n = int(W * H / 45)
    for _ in range(n):
        x, y = rng.randrange(W), rng.randrange(H)
        c = tuple(int(v) for v in src[y, x])
        c = tuple(min(255, max(0, v + rng.randint(-14, 14))) for v in c)
        ln, ang = rng.uniform(4, 10), rng.uniform(-0.6, 0.6) + (0 if (x // 40 + y // 40) % 2 else 1.2)
        dx, dy = ln * np.cos(ang), ln * np.sin(ang)
        d.line((x - dx, y - dy, x + dx, y + dy), fill=c, width=rng.choice((2, 3, 3, 4)))
    out = _arr(base)
    yy, xx = np.mgrid[0:H, 0:W]
    weave = ((xx % 4 < 2) ^ (yy % 4 < 2)).astype(np.float32)[..., None] * 8 - 4
    return out + weave


def watercolour(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Soft washes on white paper: bled edges, pigment pooled at the rims, lighter colours, paper grain."""
    H, W = img.shape[:2]
    soft = _blur(img, max(2.0, min(H, W) / 160))
    edges = np.abs(_luma(_blur(img, 1.0)) - _luma(_blur(img, 4.0)))[..., None]
    pooled = soft - np.clip(edges, 0, 40) * 0.6
    paper = np.array([250, 247, 240], np.float32)
    washed = pooled * 0.72 + paper * 0.28
    return washed * (1.0 + _noise(W, H, 1.2) * 0.03 + _noise(W, H, 14) * 0.05)  # paper grain, uneven pigment


def _noise(w: int, h: int, blur: float) -> Arr:
    """Zero-mean, unit-spread noise smoothed over ``blur`` pixels (a fixed pattern: Pillow's own generator)."""
    n = np.asarray(Image.effect_noise((w, h), 64).filter(ImageFilter.GaussianBlur(blur)), np.float32)
    return ((n - n.mean()) / max(1e-3, float(n.std())))[..., None]


def line_art(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Ink contours on white paper."""
    gray = _pil(img).convert("L").filter(ImageFilter.GaussianBlur(0.8))
    edges = np.asarray(gray.filter(ImageFilter.FIND_EDGES), np.float32)
    ink = np.clip((edges - 10) * 6, 0, 255)
    ink = np.asarray(Image.fromarray(ink.astype(np.uint8)).filter(ImageFilter.MaxFilter(3)), np.float32)
    ink[:2], ink[-2:], ink[:, :2], ink[:, -2:] = 0, 0, 0, 0  # the frame's own edge is no contour
    paper = np.full(img.shape, 252.0, np.float32)
    return paper - ink[..., None] / 255.0 * (252 - 30)


def pixel_art(img: Arr, objects: Arr, lights: Arr, rng: random.Random) -> Arr:
    """Big square pixels in a small palette."""
    H, W = img.shape[:2]
    b = block_size(W, H)
    size = (max(1, W // b), max(1, H // b))
    small = _arr(_pil(img).resize(size, Image.Resampling.BOX))
    mask = np.asarray(Image.fromarray(objects.astype(np.uint8) * 255).resize(size, Image.Resampling.BOX)) > 127
    small_img = _pil(_quantize(small, mask, 24, 8))
    big = np.asarray(small_img.resize((W // b * b, H // b * b), Image.Resampling.NEAREST), np.float32)
    out = np.empty_like(img)
    out[:] = big[-1:, -1:] if big.size else 0
    out[: big.shape[0], : big.shape[1]] = big
    out[big.shape[0] :, : big.shape[1]] = big[-1:]
    out[:, big.shape[1] :] = out[:, big.shape[1] - 1 : big.shape[1]]
    return out


def block_size(w: int, h: int) -> int:
    """One art pixel is this many image pixels: about 64 of them across the shorter side."""
    return max(3, round(min(w, h) / 64))


TREATMENTS: dict[str, Callable[[Arr, Arr, Arr, random.Random], Arr]] = {
    "night": night,
    "sunset": sunset,
    "fog": fog,
    "rain": rain,
    "snow": snow,
    "cinematic": cinematic,
    "monochrome": monochrome,
    "sepia": sepia,
    "flat": flat,
    "oil painting": oil_painting,
    "watercolour": watercolour,
    "line art": line_art,
    "pixel art": pixel_art,
}


def apply(img: Arr, looks: list[str], objects: Arr, lights: Arr, seed: int) -> Arr:
    """The picture with every look in ``looks`` applied, in order (see ``looks.ORDER``)."""
    rng = random.Random(seed * 7 + 11)
    for name in looks:
        img = np.clip(TREATMENTS[name](img, objects, lights, rng), 0, 255).astype(np.float32)
    return img


# ------------------------------------------------------------------ measurements


def _background(shape: tuple[int, ...], boxes: list[tuple[int, int, int, int]], pad: int = 4) -> Arr:
    """True where no element was placed (a little margin around each box)."""
    H, W = shape[:2]
    m = np.ones((H, W), bool)
    for x0, y0, x1, y1 in boxes:
        m[max(0, y0 - pad) : min(H, y1 + pad), max(0, x0 - pad) : min(W, x1 + pad)] = False
    return m


def _particles(img: Arr, boxes: list[tuple[int, int, int, int]]) -> dict[str, float]:
    """Small bright marks on the backdrop: how dense, and whether they run down (streaks) or not (flakes)."""
    lum = _luma(img)
    hi = lum - _luma(_blur(img, 3.0)) > 12
    bg = _background(img.shape, boxes)
    bg[:, :3] = bg[:, -3:] = False
    bg[:3] = bg[-3:] = False
    m = hi & bg
    n = float(m.sum())
    area = float(bg.sum()) or 1.0
    down = m[:-1] & (m[1:] | np.roll(m[1:], 1, axis=1) | np.roll(m[1:], -1, axis=1))
    side = m[:, :-1] & m[:, 1:]
    return {
        "density": n / area,
        "down": float(down.sum()) / max(1.0, n),
        "side": float(side.sum()) / max(1.0, n),
        "marks": n,
        "area": area,
    }


def _saturation(img: Arr) -> Arr:
    return (img.max(axis=2) - img.min(axis=2)) / np.maximum(img.max(axis=2), 1.0)


def measure(name: str, img: Arr, boxes: list[tuple[int, int, int, int]]) -> tuple[bool, str]:
    """Is look ``name`` there in ``img``? Returns the verdict and the measured value, in words."""
    H, W = img.shape[:2]
    lum = _luma(img)
    if name == "night":
        m = float(lum.mean())
        return m < 95, f"mean luminance {m:.0f} (night wants < 95)"
    if name == "sunset":
        sky = img[: int(H * 0.6)]
        warm = float((sky[..., 0] - sky[..., 2]).mean())
        return warm > 30, f"red over blue {warm:+.0f} in the upper picture (sunset wants > +30)"
    if name == "fog":
        p5, p95 = np.percentile(lum, [5, 95])
        spread = float((p95 - p5) / max(1.0, p95 + p5))
        sat = float(_saturation(img).mean())
        return spread < 0.42 and sat < 0.3, f"contrast {spread:.2f}, saturation {sat:.2f} (fog wants < 0.42 and < 0.30)"
    if name in ("rain", "snow"):
        p = _particles(img, boxes)
        if p["area"] < 0.05 * H * W:
            return False, "no open backdrop to see it on"
        if name == "rain":
            ok = p["density"] > 0.01 and p["down"] > 0.5 and p["down"] > p["side"] + 0.15
            return ok, f"streak marks on {p['density']:.1%} of the backdrop, {p['down']:.0%} running down"
        flakes = p["marks"] / 6
        ok = p["density"] > 0.015 and flakes >= 150
        return ok, f"about {flakes:.0f} flakes ({p['density']:.1%} of the backdrop)"
    if name == "pixel art":
        share, b = blockiness(img)
        return share > 0.85, f"{share:.0%} of colour changes on a {b}-px block grid (pixel art wants > 85%)"
    if name == "watercolour":
        g = np.abs(np.diff(lum, axis=1))
        sharp = float((g > 40).sum()) / max(1.0, float((g > 4).sum()))
        light = float(lum.mean())
        return sharp < 0.02 and light > 135, f"sharp edges {sharp:.1%} of edges, mean luminance {light:.0f}"
    if name == "line art":
        sat_px = _saturation(img)
        white = float(((lum > 225) & (sat_px < 0.12)).mean())
        ink = float((lum < 110).mean())
        return white > 0.55 and 0.005 < ink < 0.35, f"{white:.0%} white paper, {ink:.1%} ink"
    if name == "oil painting":
        tex = _texture(lum)
        return tex > 3.0, f"brush texture {tex:.1f} (oil wants > 3.0)"
    if name == "flat":
        cover = _top_colours(img, 16)
        return cover > 0.9, f"16 colours cover {cover:.0%} (flat wants > 90%)"
    if name == "cinematic":
        c = max(1.0, float(lum[H // 3 : 2 * H // 3, W // 3 : 2 * W // 3].mean()))
        k = max(2, min(H, W) // 10)
        corners = float(np.mean([lum[:k, :k].mean(), lum[:k, -k:].mean(), lum[-k:, :k].mean(), lum[-k:, -k:].mean()]))
        return corners / c < 0.5, f"corners at {corners / c:.0%} of the centre's luminance (vignette wants < 50%)"
    if name == "monochrome":
        spread = float((img.max(axis=2) - img.min(axis=2)).mean())
        return spread < 6, f"colour spread {spread:.1f} (monochrome wants < 6)"
    if name == "sepia":
        spread = _hue_spread(img)
        warm = float((img[..., 0] - img[..., 2] > 0).mean())
        return warm > 0.9 and spread < 4.0, f"{warm:.0%} of pixels warm-toned, hue spread {spread:.1f} degrees"
    return False, "no measurement for this look"


def _hue_spread(img: Arr) -> float:
    """Spread (std, degrees) of the hue of the coloured pixels: one tint over everything gives ~0."""
    px = img.reshape(-1, 3)[::7]
    chroma = px.max(axis=1) - px.min(axis=1)
    px = px[chroma > 8]
    if len(px) < 50:
        return 0.0
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    hue = np.degrees(np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b))
    return float(np.std(hue))


def blockiness(img: Arr) -> tuple[float, int]:
    """The share of colour changes that fall on a block grid, for the best block size in 3..24.

    In pixel art every change between neighbouring pixels is at a block's edge (share ~1); in a
    smooth drawing changes fall anywhere (share ~1/b).
    """
    lum = np.round(_luma(img))
    cx = (lum[:, 1:] != lum[:, :-1]).sum(axis=0)  # changes between columns x and x+1
    cy = (lum[1:] != lum[:-1]).sum(axis=1)
    nx, ny = max(1, int(cx.sum())), max(1, int(cy.sum()))
    best = (0.0, 0)
    for b in range(3, 25):
        share = min(float(cx[b - 1 :: b].sum()) / nx, float(cy[b - 1 :: b].sum()) / ny)
        if share >= best[0] - 0.005:  # the largest grid that explains the changes (8 px, not its 4-px half)
            best = (share, b)
    return best


def _texture(lum: Arr) -> float:
    """Median local deviation from a 5-px blur: flat fills give ~0, brush strokes several grey levels."""
    blur = np.asarray(Image.fromarray(np.clip(lum, 0, 255).astype(np.uint8)).filter(ImageFilter.BoxBlur(2)), np.float32)
    return float(np.median(np.abs(lum - blur)))


def _top_colours(img: Arr, k: int) -> float:
    q = (img.astype(np.int32) // 4).reshape(-1, 3)
    keys = q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2]
    counts = np.bincount(keys[:: max(1, len(keys) // 200000)])
    top = np.sort(counts)[::-1][:k]
    return float(top.sum()) / max(1.0, float(counts.sum()))
