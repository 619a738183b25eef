"""The colour a thing made of a material is drawn in, where the request names the material and no colour.

"a brick wall", "a wooden chair", "a marble statue": the material says how the thing looks; without it the
wall came out in the table's white. Each material has a real-world tone here, and the colour drawn is the
palette colour nearest to it (CIE Lab), so the palette decides the word, not a list written by hand. Materials
with no colour of their own (plastic, wool, velvet, neon...) are not listed and change nothing.
"""

from __future__ import annotations

import functools

TONES: dict[str, tuple[int, int, int]] = {
    "brick": (156, 74, 60), "wood": (133, 94, 66), "wooden": (133, 94, 66), "stone": (128, 126, 120),
    "marble": (236, 234, 228), "bronze": (165, 113, 55), "iron": (90, 90, 95), "steel": (160, 165, 170),
    "metal": (160, 165, 170), "metallic": (170, 175, 180), "chrome": (200, 205, 210), "tin": (180, 182, 185),
    "glass": (190, 225, 240), "crystal": (200, 230, 245), "ice": (200, 230, 245), "cardboard": (190, 150, 100),
    "clay": (190, 100, 60), "straw": (220, 190, 110), "wicker": (190, 150, 90), "porcelain": (245, 245, 240),
    "ceramic": (240, 238, 230), "concrete": (150, 150, 150), "leather": (110, 70, 40), "paper": (245, 243, 235),
    "origami": (245, 243, 235), "denim": (60, 90, 140),
}  # fmt: skip
"""Typical sRGB tone of each material."""


@functools.cache
def material_color(material: str) -> str | None:
    """The palette colour (vocab.COLORS) nearest to the material's tone, or None for a material without one."""
    tone = TONES.get(material.lower())
    if tone is None:
        return None
    import numpy as np

    from mmthink.dsp.color import srgb_to_lab
    from mmthink.modalities.image.vocab import COLORS

    names = [n for n in COLORS if n not in ("gray", "golden")]  # spellings of grey and gold
    palette = srgb_to_lab(np.asarray([COLORS[n] for n in names], np.float32))
    d = np.linalg.norm(palette - srgb_to_lab(np.asarray(tone, np.float32))[None, :], axis=1)
    return names[int(d.argmin())]
