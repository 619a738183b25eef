"""Words drawn on things: the text of "a sign that says OPEN" or "a shop called Bean There", fitted to its object.

The text goes on a light plate in the object's text area (the board of a sign; a band across
anything else), in the largest size of the project font (:mod:`mmthink.dsp.fonts`) that fits on
one or two lines. :func:`measure` reads it back: it renders the expected words the same way and
compares them with the dark marks actually in that area of the picture, so a sign with the wrong
words, no words or smudged words does not pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from mmthink.dsp.fonts import font

Box = tuple[int, int, int, int]
PLATE = (250, 248, 238)
INK = (28, 28, 36)
MIN_SIZE = 7
"""Smallest letters worth drawing (px); below this the words are reported as too small to read."""
MATCH_MIN = 0.6
"""How closely the marks in the text area must match the expected words (F1 of ink pixels) to pass."""


def is_sign(name: str, kind: str) -> bool:
    """Signs, logos, posters and labels carry their words on the board; other things across the middle."""
    if kind == "sign":
        return True
    from mmthink.modalities.image.objects import lookup

    entry = lookup(name)
    return entry is not None and entry.category == "sign"


def text_area(box: Box, name: str, kind: str) -> Box:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if is_sign(name, kind):
        return int(x0 + 0.1 * w), int(y0 + 0.1 * h), int(x1 - 0.1 * w), int(y0 + 0.62 * h)
    return int(x0 + 0.12 * w), int(y0 + 0.36 * h), int(x1 - 0.12 * w), int(y0 + 0.64 * h)


def fit(text: str, area: Box) -> tuple[list[str], int]:
    """The lines and the largest font size that fit ``area`` (one line, or two split at a middle space)."""
    aw, ah = max(1, area[2] - area[0]), max(1, area[3] - area[1])
    words = text.split()
    options = [[text]]
    if len(words) > 1:
        cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
        options.append([" ".join(words[:cut]), " ".join(words[cut:])])
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    best: tuple[list[str], int] = (options[0], 1)
    for lines in options:
        lo, hi = 1, 200
        while lo < hi:  # the largest size whose lines fit the plate with a margin
            mid = (lo + hi + 1) // 2
            f = font(mid)
            tw = max(probe.textlength(line, font=f) for line in lines)
            th = mid * 1.2 * len(lines)
            if tw <= 0.88 * aw and th <= 0.8 * ah:
                lo = mid
            else:
                hi = mid - 1
        if lo > best[1]:
            best = (lines, lo)
    return best


def _ink_layer(text: str, area: Box, size: tuple[int, int]) -> Image.Image:
    """The words as a white-on-black mask of the whole picture's size."""
    lines, fsize = fit(text, area)
    mask = Image.new("L", size, 0)
    d = ImageDraw.Draw(mask)
    f = font(fsize)
    cx, cy = (area[0] + area[2]) / 2, (area[1] + area[3]) / 2
    top = cy - fsize * 1.2 * len(lines) / 2
    for i, line in enumerate(lines):
        d.text((cx, top + fsize * 1.2 * (i + 0.5)), line, fill=255, font=f, anchor="mm")
    return mask


def draw(img: Image.Image, box: Box, name: str, kind: str, text: str) -> dict[str, Any]:
    """Letter ``text`` on the thing drawn in ``box``; returns what was drawn (size, lines) for the record."""
    area = text_area(box, name, kind)
    if area[2] - area[0] < 4 or area[3] - area[1] < 4:
        return {"text": text, "drawn": False, "why": "the thing is too small to carry words"}
    lines, fsize = fit(text, area)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle(
        area, radius=max(2, (area[3] - area[1]) // 8), fill=PLATE, outline=INK, width=max(1, fsize // 10)
    )
    ink = _ink_layer(text, area, img.size)
    img.paste(Image.new("RGB", img.size, INK), (0, 0), ink)
    return {"text": text, "drawn": True, "font_px": fsize, "lines": lines, "readable": fsize >= MIN_SIZE}


def measure(img: np.ndarray, box: Box, name: str, kind: str, text: str) -> tuple[float, str]:
    """How well the dark marks in the text area match ``text`` rendered there (F1 of ink pixels, 0..1)."""
    H, W = img.shape[:2]
    area = text_area(box, name, kind)
    inset = fit(text, area)[1] // 10 + 2  # inside the plate's rim
    x0, y0 = max(0, area[0] + inset), max(0, area[1] + inset)
    x1, y1 = min(W, area[2] - inset), min(H, area[3] - inset)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0, "no room for words on it"
    want = np.asarray(_ink_layer(text, area, (W, H)), np.float32)[y0:y1, x0:x1] > 110
    if not want.any():
        return 0.0, "the words do not fit on it"
    lum = img[y0:y1, x0:x1] @ np.array([0.299, 0.587, 0.114], np.float32)
    plate = float(np.percentile(lum, 90))
    got = lum < plate - 70
    grow = lambda m: np.asarray(Image.fromarray(m.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0  # noqa: E731
    precision = float((got & grow(want)).sum()) / max(1.0, float(got.sum()))
    recall = float((want & grow(got)).sum()) / max(1.0, float(want.sum()))
    f1 = 2 * precision * recall / max(1e-6, precision + recall)
    return f1, f"ink matches the words at {f1:.0%} ({got.mean():.0%} of the text area inked)"
