"""The one font source: Pillow's scalable default font, cached per size (no font files to ship)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=64)
def font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=max(1, int(size)))
    except TypeError:  # pragma: no cover - Pillow < 10.1 has no scalable default
        return ImageFont.load_default()
