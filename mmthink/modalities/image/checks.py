"""Checks on a rendered picture before any critic sees it: decodable, non-empty, finite pixels."""

from __future__ import annotations

import io
from typing import Any

from mmthink.core.faults import InvalidOutput


def check_image(art: Any, limits: Any = None, what: str = "draft") -> None:
    payload = getattr(art, "payload", None)
    size = getattr(payload, "size", None)
    if isinstance(size, tuple) and len(size) == 2 and (size[0] <= 0 or size[1] <= 0):
        raise InvalidOutput(what, f"the image has zero size ({size[0]}x{size[1]})")
    if _is_array(payload):
        import numpy as np

        arr = np.asarray(payload)
        if arr.size == 0:
            raise InvalidOutput(what, "the image has zero size")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise InvalidOutput(what, "the image holds NaN or infinite pixels")
    data = bytes(art.data)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if w == 0 or h == 0:
            raise InvalidOutput(what, f"the image has zero size ({w}x{h})")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            img.verify()
    except UnidentifiedImageError:
        raise InvalidOutput(what, "the image file cannot be decoded (not an image format Pillow reads)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise InvalidOutput(what, f"the image file cannot be decoded ({e})") from None
    if w <= 0 or h <= 0:
        raise InvalidOutput(what, f"the image has zero size ({w}x{h})")


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")
