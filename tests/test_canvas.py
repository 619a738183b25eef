"""Small canvases and lit scenes: what was asked stays visible, measured on the final itself.

The prompts are built from a seeded generator over colours, things and phrasings, not a fixed list.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from mmthink import Agent, load_trace
from mmthink.modalities.base import Placed
from mmthink.modalities.image.critic import color_matches, measure_color
from mmthink.modalities.image.render import treatments

SMALL = {"width": 256, "height": 192}


@pytest.fixture(scope="module")
def agent():
    return Agent.from_profile("embedded")


def _final(res):
    meta = [s.metrics for s in load_trace(res.trace).steps if s.kind == "final"][-1]
    placed = [
        Placed(**{**p, "box": tuple(p["box"]), "rgb": tuple(p["rgb"]) if p.get("rgb") else None})
        for p in meta.get("placed") or []
    ]
    img = np.asarray(Image.open(res.final).convert("RGB"), dtype=np.float32)
    return meta, placed, img


def _lit_prompts(n: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    colours = ["white", "purple", "grey", "black", "red", "blue", "green", "yellow", "brown", "orange"]
    things = ["car", "cat", "apple", "ball", "boat", "chair", "cup", "house", "lamp", "flower"]
    forms = ["a {c} {o}, at dusk", "a {c} {o} at sunset", "a {c} {o} in the evening", "a {c} {o} at dusk"]
    out = []
    for _ in range(n):
        c, o = rng.choice(colours), rng.choice(things)
        out.append((rng.choice(forms).format(c=c, o=o), c, o))
    return out


@pytest.mark.parametrize("prompt,colour,thing", _lit_prompts(10, 7))
def test_a_sunset_keeps_the_asked_colour_on_a_small_canvas(agent, tmp_path, prompt, colour, thing):
    """The warm light is on the sky and the land; the thing still reads as the colour asked for."""
    res = agent.run(prompt, out=tmp_path, seed=5, **SMALL)
    meta, placed, img = _final(res)
    mine = [p for p in placed if p.name == thing and p.visible >= 0.5]
    assert mine, (prompt, [p.name for p in placed])
    bg = tuple(meta["background_rgb"])
    got = [measure_color(img, p, bg) for p in mine]
    assert all(g and color_matches(colour, g) for g in got), (prompt, got, res.findings)
    ok, measured = treatments.measure("sunset", img, [p.box for p in placed])
    assert ok, (prompt, measured)
    assert not [f for f in res.findings if "reads as" in f], res.findings


@pytest.mark.parametrize("look", ["night", "sunset"])
def test_the_light_on_things_keeps_every_palette_colour_lit_or_shaded(look):
    """Night and sunset on flat patches of each colour, at the renderer's lit and shaded tones: each keeps its name."""
    from mmthink.modalities.image.vocab import COLORS

    names = ["red", "blue", "green", "yellow", "white", "grey", "orange", "purple", "brown", "black", "pink"]
    tones = (1.14, 1.0, 0.86)  # the final's shading ramp, lit corner to shaded corner
    img = np.zeros((60 * len(tones), 40 * len(names), 3), np.float32)
    img[:] = (60, 50, 120)
    objects = np.zeros(img.shape[:2], bool)
    for k, n in enumerate(names):
        for j, t in enumerate(tones):
            img[60 * j + 10 : 60 * j + 50, 40 * k + 5 : 40 * k + 35] = np.clip(np.asarray(COLORS[n]) * t, 0, 255)
            objects[60 * j + 10 : 60 * j + 50, 40 * k + 5 : 40 * k + 35] = True
    out = treatments.apply(img, [look], objects, np.zeros_like(objects), 0)
    for k, n in enumerate(names):
        for j in range(len(tones)):
            p = Placed(n, 0, (40 * k, 60 * j, 40 * k + 40, 60 * j + 60), "generic", n, COLORS[n], 0, 1.0, 1200)
            got = measure_color(out, p)
            assert got and color_matches(n, got), (look, n, tones[j], got)


def _lightness(rgb) -> float:
    from mmthink.dsp.color import srgb_to_lab

    return float(srgb_to_lab(np.asarray(rgb, np.float32).reshape(-1, 3)).mean(axis=0)[0])


@pytest.mark.parametrize("seed", range(4))
def test_dark_things_of_the_night_sky_are_not_lost_in_a_night_nobody_asked_for(agent, tmp_path, seed):
    """ "three black stars": a night sky was only the planner's guess; on it they vanish, so the sky is a day's."""
    rng = random.Random(seed)
    thing = rng.choice(["star", "moon", "stars", "moons"])
    colour = rng.choice(["black", "navy"])
    count = "three" if thing.endswith("s") else "a"
    res = agent.run(f"{count} {colour} {thing}", out=tmp_path, seed=seed, **SMALL)
    meta, placed, img = _final(res)
    mine = [p for p in placed if p.name == thing.rstrip("s")]
    assert mine and res.status == "succeeded", (thing, colour, res.findings)
    for p in mine:
        x0, y0, x1, y1 = p.box
        ring = np.concatenate([img[max(0, y0 - 6) : y0, x0:x1].reshape(-1, 3), img[y1 : y1 + 6, x0:x1].reshape(-1, 3)])
        own = img[y0:y1, x0:x1].reshape(-1, 3)
        own = own[np.linalg.norm(own - np.asarray(p.rgb, np.float32), axis=1) < 60]
        assert len(own) and _lightness(ring) - _lightness(own) > 30, (thing, colour, p.box)


@pytest.mark.parametrize("seed", range(3))
def test_small_things_on_a_small_canvas_are_big_enough_to_see(agent, tmp_path, seed):
    """A "small"/"tiny" thing is a share of the canvas; on 256 x 192 it is still drawn at least 26 px across."""
    from mmthink.modalities.image.render.layout import MIN_PX

    rng = random.Random(seed)
    things = rng.sample(["cat", "cup", "apple", "bird", "flower", "ball", "car", "lamp"], 2)
    colours = rng.sample(["red", "blue", "green", "yellow", "purple", "orange"], 2)
    size = rng.choice(["small", "tiny"])
    prompt = f"a {size} {colours[0]} {things[0]} next to a {size} {colours[1]} {things[1]}"
    res = agent.run(prompt, out=tmp_path, seed=seed, **SMALL)
    meta, placed, img = _final(res)
    bg = tuple(meta["background_rgb"])
    for thing, colour in zip(things, colours, strict=True):
        mine = [p for p in placed if p.name == thing]
        assert mine, (prompt, [p.name for p in placed])
        for p in mine:
            assert max(p.box[2] - p.box[0], p.box[3] - p.box[1]) >= MIN_PX - 2, (prompt, p.box)
            got = measure_color(img, p, bg)
            assert got and color_matches(colour, got), (prompt, thing, got)


@pytest.mark.parametrize("seed", range(4))
def test_in_front_of_things_on_a_table_is_drawn_in_front_of_them(agent, tmp_path, seed):
    """ "two birds on a table, a lamp in front of them": the lamp is nearer (its base lower) and over them,
    not pushed up between them to keep clear of the table's edge."""
    from mmthink.modalities.image.relations import judge

    rng = random.Random(seed)
    on, front = rng.sample(["bird", "apple", "cup", "ball", "cat", "flower"], 2)
    front = rng.choice(["lamp", "cup", "ball", "apple"]) if front == on else front
    if front == on:
        front = "lamp" if on != "lamp" else "cup"
    n = rng.choice(["two", "three"])
    res = agent.run(f"{n} {on}s on a table, a {front} in front of them", out=tmp_path, seed=seed, **SMALL)
    meta, placed, img = _final(res)
    a = [p for p in placed if p.name == front]
    t = [p for p in placed if p.name == on]
    ok, measured = judge("in front of", a, t)
    assert ok, (on, front, measured)


@pytest.mark.parametrize("seed", range(6))
def test_a_thing_in_front_leaves_the_colour_of_what_is_behind_it_to_see(agent, tmp_path, seed):
    """ "a black kite in front of a red apple": a smaller thing in front overlaps off the middle, so the apple still
    reads red where the critic and a person look at it, and the kite is still in front of it."""
    from mmthink.modalities.image.relations import judge

    rng = random.Random(100 + seed)
    front, back = rng.choice(["kite", "tree", "lamp", "flower"]), rng.choice(["apple", "bird", "ball", "cup", "cat"])
    c1, c2 = rng.sample(["black", "red", "blue", "yellow", "green", "orange", "white"], 2)
    res = agent.run(f"a {c1} {front} in front of a {c2} {back}", out=tmp_path, seed=seed, **SMALL)
    meta, placed, img = _final(res)
    a, t = [p for p in placed if p.name == front], [p for p in placed if p.name == back]
    ok, measured = judge("in front of", a, t)
    assert ok, (front, back, measured)
    got = measure_color(img, t[0], tuple(meta["background_rgb"]))
    assert got and color_matches(c2, got), (front, back, c2, got, res.findings)
