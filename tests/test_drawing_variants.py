"""Names that share a category drawing but look nothing alike get their own shape within it: a snowman is not
a person in white, a hot air balloon is not a party balloon, a windmill is not a plain tower."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mmthink.modalities.image.render.drawables import PAINTERS
from mmthink.modalities.image.render.drawings.pen import Pen


def _mask(kind: str, name: str, w: int = 120, h: int = 160) -> np.ndarray:
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    PAINTERS[kind](Pen(ImageDraw.Draw(layer), w, h, (240, 240, 240), False, name=name))
    return np.asarray(layer)[..., 3] > 90


@pytest.mark.parametrize(
    ("kind", "name", "plain"),
    [("person", "snowman", "man"), ("tower", "windmill", "tower")],
)
def test_the_named_variant_has_its_own_shape(kind: str, name: str, plain: str) -> None:
    a, b = _mask(kind, name), _mask(kind, plain)
    assert a.sum() > 0.1 * a.size  # something substantial is drawn
    iou = (a & b).sum() / max(1, (a | b).sum())
    assert iou < 0.7, iou


def test_a_snowman_is_snow_white_with_a_carrot_nose() -> None:
    layer = Image.new("RGBA", (120, 160), (0, 0, 0, 0))
    PAINTERS["person"](Pen(ImageDraw.Draw(layer), 120, 160, (245, 245, 245), False, name="snowman"))
    rgba = np.asarray(layer).astype(int)
    shown = rgba[..., 3] > 90
    orange = (rgba[..., 0] > 200) & (rgba[..., 1] > 90) & (rgba[..., 1] < 150) & (rgba[..., 2] < 80) & shown
    assert orange.sum() > 3  # the nose
    assert (rgba[..., :3][shown].mean(axis=1) > 200).mean() > 0.6  # mostly snow, no skin-coloured head


def test_a_hot_air_balloon_hangs_a_basket_where_a_party_balloon_has_a_string() -> None:
    hot, party = _mask("balloon", "hot air balloon"), _mask("balloon", "balloon")
    basket = (slice(int(0.87 * 160), 158), slice(int(0.4 * 120), int(0.6 * 120)))
    assert hot[basket].mean() > 0.8 and party[basket].mean() < 0.3
