"""The embedded renderer: layout rules, exact visibility, colours, determinism, the vocabulary."""

import io

import numpy as np
import pytest
from PIL import Image

from mmthink.modalities.image.critic import measure_color
from mmthink.modalities.image.render.drawables import KINDS, PAINTERS, drawable_kind
from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
from mmthink.modalities.image.scene import parse_scene

B = EmbeddedImageBackend()


def render(text, quality="final", size=(768, 512), seed=0):
    scene, findings = parse_scene(text)
    assert findings == []
    return B.render(scene, quality=quality, size=size, seed=seed)


def centre(art, name):
    ps = [p for p in art.placed if p.name == name]
    return np.mean([p.center[0] for p in ps]), np.mean([p.center[1] for p in ps])


@pytest.mark.parametrize("quality", ["sketch", "final"])
def test_png_size_and_not_blank(quality):
    art = render("setting: dusk\nlighthouse: large\nsun: orange, bottom", quality, size=(320, 200))
    img = Image.open(io.BytesIO(art.data))
    assert img.size == (320, 200) and img.format == "PNG"
    assert np.asarray(img, np.float32).std() > 15


@pytest.mark.parametrize("rel, axis, sign", [("left of", 0, -1), ("right of", 0, 1), ("above", 1, -1), ("below", 1, 1)])
def test_relations_hold_by_box_centres(rel, axis, sign):
    art = render(f"setting: room\ncat: medium, {rel} chair\nchair: medium")
    a, b = centre(art, "cat"), centre(art, "chair")
    assert (a[axis] - b[axis]) * sign > 0


def test_counts_between_and_in():
    art = render("setting: field\ntree x2: large\nfox: orange, between tree and tree")
    assert sum(p.name == "tree" for p in art.placed) == 2
    xs = sorted(p.center[0] for p in art.placed if p.name == "tree")
    assert xs[0] < centre(art, "fox")[0] < xs[1]
    art = render("fish x7: small, in bowl\nbowl: large")
    bowl = next(p for p in art.placed if p.name == "bowl")
    for f in (p for p in art.placed if p.name == "fish"):
        assert bowl.box[0] <= f.center[0] <= bowl.box[2] and bowl.box[1] <= f.center[1] <= bowl.box[3]


def test_behind_lowers_visibility_and_masks_are_exact():
    clear = render("setting: space\nplanet: large, right, top\nbattlecruiser: huge, grey, left, foreground")
    hidden = render(
        "setting: space\nplanet: large, background, behind battlecruiser\nbattlecruiser: huge, grey, foreground"
    )
    peeking = render("setting: space\nplanet: large, behind battlecruiser\nbattlecruiser: huge, grey, foreground")
    vis = {p.name: p.visible for p in clear.placed}
    assert vis["planet"] == 1.0
    assert next(p for p in hidden.placed if p.name == "planet").visible < 0.6  # far back: straight behind it
    assert 0.5 <= next(p for p in peeking.placed if p.name == "planet").visible < 0.9  # behind: partly hidden
    assert all(p.area > 0 for p in hidden.placed)


@pytest.mark.parametrize("colour", ["red", "blue", "yellow", "green", "purple"])
def test_asked_colour_reads_back_from_pixels(colour):
    art = render(f"setting: field\numbrella: large, {colour}")
    img = np.asarray(art.payload, np.float32)
    p = next(p for p in art.placed if p.name == "umbrella")
    assert measure_color(img, p, art.background_rgb) == colour


def test_deterministic_for_a_seed():
    text = "setting: sky\nballoon x5: small\ncloud x2: medium"
    assert render(text, seed=1).data == render(text, seed=1).data
    assert render(text, seed=1).data != render(text, seed=2).data


def test_vocabulary_and_fallback():
    assert len(PAINTERS) >= 30 and set(PAINTERS) == set(KINDS)
    assert drawable_kind("starfighters") == "spaceship" and drawable_kind("sailboat") == "boat"
    assert drawable_kind("flux capacitor") == "generic"
    art = render("flux capacitor: large, teal", quality="sketch")
    assert art.placed[0].kind == "generic" and art.placed[0].visible > 0.9


@pytest.mark.parametrize("quality", ["sketch", "final"])
def test_every_kind_renders(quality):
    kinds = sorted(KINDS)
    drawn: set[str] = set()
    for part in (kinds[: len(kinds) // 2], kinds[len(kinds) // 2 :]):  # a scene holds at most 64 elements
        scene, _ = parse_scene("\n".join(f"{k}: small" for k in part))
        drawn |= {p.kind for p in B.render(scene, quality=quality, size=(640, 480), seed=0).placed}
    assert drawn == set(KINDS)


def test_many_elements():
    body = "\n".join(f"thing{i}: tiny" for i in range(64))
    art = render(body, quality="sketch")
    assert len(art.placed) == 64


@pytest.mark.parametrize("quality", ["sketch", "final"])
def test_a_neighbour_of_things_on_a_table_stands_on_the_table_too(quality):
    scene = parse_scene("apple x3: small, red, on table\ntable: large\ncup: small, blue, left of apple")[0]
    art = EmbeddedImageBackend().render(scene, quality=quality, size=(768, 512), seed=0)
    box = {p.name: p.box for p in art.placed if p.index == 0}
    table, cup, apple = box["table"], box["cup"], box["apple"]
    assert table[0] <= cup[0] and cup[2] <= table[2]  # over the table top, not beside it in the air
    assert cup[2] <= apple[0]  # still left of the apples
    assert abs(cup[3] - apple[3]) <= 0.1 * (table[3] - table[1])  # on the same surface
    if quality == "sketch":  # the table's label does not cover the apples standing on it
        img = np.asarray(art.payload.convert("RGB"), dtype=np.int16)
        x0, y0, x1, y1 = apple
        red = np.abs(img[y0:y1, x0:x1] - np.array([214, 40, 40])).sum(axis=2) < 60
        assert red.mean() > 0.4
