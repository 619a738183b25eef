"""Named places are drawn as a backdrop of their own kind, and a place that is not shown is not a success."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmthink import Agent
from mmthink.modalities.image.objects import load_table
from mmthink.modalities.image.render import backdrops


@pytest.fixture(scope="module")
def agent():
    return Agent.from_profile("embedded")


def _run(agent, tmp_path, prompt):
    res = agent.run(prompt, out=tmp_path, seed=3)
    img = np.asarray(Image.open(res.final).convert("RGB"), dtype=np.float32)
    return res, img


def _final_meta(res):
    import json

    rows = [json.loads(x) for x in (res.trace / "steps.jsonl").read_text().splitlines()]
    return [r["metrics"] for r in rows if r["kind"] == "final"][-1]


def _outside_things(res, img):
    """A mask of the pixels no drawn thing's box (padded) covers."""
    meta = _final_meta(res)
    keep = np.ones(img.shape[:2], bool)
    for line_no, line in enumerate(meta["backdrop"]["map"]):
        for j, ch in enumerate(line):
            if ch == " ":
                keep[line_no * 16 : (line_no + 1) * 16, j * 16 : (j + 1) * 16] = False
    return keep


def test_every_place_in_the_table_has_a_backdrop_kind():
    names = [e.name for e in load_table().entries if e.is_place]
    assert names and [n for n in names if n not in backdrops.PLACE_KIND] == []


def test_forest_shows_trees(agent, tmp_path):
    res, img = _run(agent, tmp_path, "a fox in a snowy forest")
    assert res.status == "succeeded", res.findings
    band = img[: int(img.shape[0] * 0.6)]
    r, g, b = band[..., 0], band[..., 1], band[..., 2]
    tree = (g > r + 20) & (g > b + 10) & (g < 160)  # dark leaf green, not the grey sky nor white snow
    assert tree.mean() > 0.03, tree.mean()


def test_city_shows_buildings_and_the_car_stays_whole(agent, tmp_path):
    res, img = _run(agent, tmp_path, "a red car in a city")
    assert res.status == "succeeded", res.findings
    keep = _outside_things(res, img)
    upper = np.zeros_like(keep)
    upper[: int(img.shape[0] * 0.55)] = True
    px = img[keep & upper]
    grey_blue = (np.abs(px[:, 0] - px[:, 1]) < 25) & (px[:, 2] - px[:, 0] < 45) & (px.sum(axis=1) < 450)
    assert grey_blue.mean() > 0.05, grey_blue.mean()  # building blocks against a blue sky
    car = [p for p in _final_meta(res)["placed"] if p["name"] == "car"]
    assert car and all(p["visible"] > 0.95 for p in car)


def test_beach_shows_water_and_sand(agent, tmp_path):
    res, img = _run(agent, tmp_path, "a dog on a beach")
    assert res.status == "succeeded", res.findings
    px = img[_outside_things(res, img)]
    water = (px[:, 2] > px[:, 0] + 80) & (px[:, 2] > 120) & (px.sum(axis=1) < 450)
    sand = (px[:, 0] > 190) & (px[:, 1] > 160) & (px[:, 2] < 170)
    assert water.mean() > 0.05 and sand.mean() > 0.05, (water.mean(), sand.mean())


def test_kitchen_shows_wall_floor_and_counter(agent, tmp_path):
    res, img = _run(agent, tmp_path, "a cat in a kitchen")
    assert res.status == "succeeded", res.findings
    meta = _final_meta(res)
    assert meta["backdrop"]["kind"] == "room" and meta["backdrop"]["places"] == {"kitchen": "room"}
    left = img[:, :40]  # the edge, clear of the cat: wall above, counter, floor below
    rows = left.mean(axis=1)
    top, bottom = rows[: len(rows) // 4].mean(axis=0), rows[-len(rows) // 6 :].mean(axis=0)
    assert np.linalg.norm(top - bottom) > 40  # wall and floor differ
    assert (rows.min(axis=1) > 225).any()  # the white counter top


def test_requested_thing_is_never_covered_by_props(agent, tmp_path):
    for prompt in (
        "a fox in a forest",
        "a small red ball in a city",
        "a tiger in the jungle",
        "a goat on a mountainside",
    ):
        res = agent.run(prompt, out=tmp_path, seed=5)
        assert res.status == "succeeded", (prompt, res.findings)
        meta = _final_meta(res)
        assert meta["backdrop"]["kind"] in ("woodland", "city", "jungle", "mountains")
        assert all(p["visible"] > 0.95 for p in meta["placed"]), meta["placed"]
        # props are smaller than the things asked for: no prop cell row band taller than the tallest thing
        rows = [i for i, line in enumerate(meta["backdrop"]["map"]) if "p" in line]
        tallest = max(p["box"][3] - p["box"][1] for p in meta["placed"])
        assert rows and (max(rows) - min(rows)) * 16 <= tallest + 32


def test_backdrop_is_deterministic_per_seed(agent, tmp_path):
    a = np.asarray(Image.open(agent.run("a fox in a forest", out=tmp_path / "a", seed=7).final))
    b = np.asarray(Image.open(agent.run("a fox in a forest", out=tmp_path / "b", seed=7).final))
    assert np.array_equal(a, b)


def test_place_without_backdrop_is_unmet(agent, tmp_path, monkeypatch):
    monkeypatch.delitem(backdrops.PLACE_KIND, "zoo")
    res = agent.run("a giraffe at the zoo", out=tmp_path, seed=3)
    assert res.status == "unmet"
    assert any("the place 'zoo' has no backdrop of its own, so it is not shown" in f for f in res.findings)


def test_storyboard_frames_show_their_place_or_say_so(monkeypatch):
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene
    from mmthink.modalities.video.critic import VideoCritic
    from mmthink.modalities.video.frames import FrameTool, storyboard_style

    text = "setting: forest\nfox: large, orange"
    style = storyboard_style("a short film about a fox in a forest", 4)
    tool = FrameTool(EmbeddedImageBackend())
    frame = tool.render(parse_scene(text)[0], style=style, quality="final", size=(480, 270), scene_no=1)
    assert frame.meta["backdrop"]["places"] == {"forest": "woodland"}
    shown = VideoCritic().critique_frame(frame, scene_text=text, style=style)
    assert not any("place" in f for f in shown.findings), shown.findings
    monkeypatch.delitem(backdrops.PLACE_KIND, "forest")
    bare = tool.render(parse_scene(text)[0], style=style, quality="final", size=(480, 270), scene_no=1)
    said = VideoCritic().critique_frame(bare, scene_text=text, style=style)
    assert not said.passed
    assert "the place 'forest' has no backdrop of its own, so it is not shown" in said.findings


def test_the_pixel_check_fails_when_the_props_are_not_in_the_picture():
    plain = np.zeros((256, 384, 3), np.float32)
    plain[:] = (150, 195, 240)
    plain[150:] = (86, 150, 70)
    painted = plain.copy()
    record = backdrops.paint_props(painted, ["forest"], 150, [(160, 100, 230, 200)], seed=1)
    assert record is not None and record["kind"] == "woodland"
    assert backdrops.shown(painted, record)[0]
    assert not backdrops.shown(plain, record)[0]  # the same record over a bare field: the forest is not there


@pytest.mark.parametrize("size", [(16, 16), (40, 30), (128, 96)])
def test_every_backdrop_kind_paints_on_a_tiny_canvas(size: tuple[int, int]) -> None:
    """A batch at 128x96 met a prop too small to draw (PIL refused an inverted box) and a row that never moved
    on (a prop of width 0): every kind must finish on tiny canvases, sketch and final."""
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene

    backend = EmbeddedImageBackend()
    for kind, words in backdrops.KINDS.items():
        scene = parse_scene(f"setting: {sorted(words)[0]}\ndog: small\nhouse: medium")[0]
        for quality in ("sketch", "final"):
            art = backend.render(scene, size=size, quality=quality, seed=3)
            assert np.asarray(art.payload).shape[:2] == size[::-1], kind


def test_a_sketch_must_declare_the_requested_place_the_final_paints_from_it():
    """The final's backdrop comes from the scene's setting, so a sketch without it is told the line to add."""
    from mmthink.modalities.image.critic import ImageCritic
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene
    from mmthink.modalities.image.understanding import parse_image_request

    intent = parse_image_request("a red sailboat on a calm sea")
    backend = EmbeddedImageBackend()
    for text, declared in (("sailboat: large, red", False), ("sailboat: large, red\nsetting: sea", True)):
        scene = parse_scene(text)[0]
        art = backend.render(scene, quality="sketch", size=(384, 256), seed=1)
        crit = ImageCritic().critique(art, scene, intent, prompt="a red sailboat on a calm sea")
        said = [f for f in crit.findings if "is not in the scene" in f]
        if declared:
            assert not said and crit.passed, crit.findings
        else:
            assert said == ["the place 'sea' is not in the scene: add `setting: sea`"] and not crit.passed
