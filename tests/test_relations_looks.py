"""Relations drawn as meant, styles and conditions as treatments of the final, words lettered on signs, and
a critic that checks each of them: driven through the public API, judged here from the bundle's own
boxes and pixels (never from the critic's verdict alone)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmthink import Agent, load_trace
from mmthink.modalities.image.render import lettering


@pytest.fixture(scope="module")
def agent():
    return Agent.from_profile("embedded")


def _final(agent, tmp_path, prompt):
    res = agent.run(prompt, modality="image", out=tmp_path)
    trace = load_trace(res.trace)
    step = next(s for s in trace.steps if s.kind == "final")
    img = np.asarray(Image.open(res.final).convert("RGB"), np.float32)
    boxes: dict[str, list[dict]] = {}
    for p in step.metrics["placed"]:
        boxes.setdefault(p["name"], []).append(p)
    return res, step, img, boxes


def _one(boxes, name):
    return max(boxes[name], key=lambda p: p["visible"])


def _w(b):
    return b[2] - b[0]


def _h(b):
    return b[3] - b[1]


def _cx(b):
    return (b[0] + b[2]) / 2


def _cy(b):
    return (b[1] + b[3]) / 2


def _overlap(a, b):
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _worn(a, t):  # the scarf on the giraffe's neck: inside its box, drawn after it, smaller
    A, T = a["box"], t["box"]
    return T[0] <= _cx(A) <= T[2] and T[1] <= _cy(A) <= T[3] and a["z"] > t["z"] and _w(A) * _h(A) < _w(T) * _h(T)


def _riding(a, t):  # astride: centred over the back, seat in the mount's upper part, rider drawn after
    A, T = a["box"], t["box"]
    return T[0] <= _cx(A) <= T[2] and T[1] < A[3] < _cy(T) + 0.25 * _h(T) and A[1] < T[1] and a["z"] > t["z"]


def _held(a, t):  # at a hand: touching the holder's side, at its middle height, drawn after it
    A, T = a["box"], t["box"]
    side = min(abs(_cx(A) - T[0]), abs(_cx(A) - T[2])) < 0.35 * _w(T)
    return _overlap(A, T) > 0 and T[1] + 0.3 * _h(T) <= _cy(A) <= T[1] + 0.8 * _h(T) and side and a["z"] > t["z"]


def _inside(a, t):
    A, T = a["box"], t["box"]
    return _overlap(A, T) >= 0.6 * _w(A) * _h(A) and _w(A) * _h(A) < _w(T) * _h(T) and a["z"] > t["z"]


def _under(a, t):  # beneath its top, within its width, standing on the same floor
    A, T = a["box"], t["box"]
    return T[0] <= _cx(A) <= T[2] and A[1] > T[1] + 0.1 * _h(T) and A[3] >= T[3] - 0.2 * _h(T)


def _behind(a, t):  # drawn first, overlapping, partly hidden, base further back
    A, T = a["box"], t["box"]
    return a["z"] < t["z"] and _overlap(A, T) > 0 and 0.35 <= a["visible"] < 0.98 and A[3] <= T[3] + 2


def _in_front(a, t):  # drawn later, overlapping, base lower
    A, T = a["box"], t["box"]
    return a["z"] > t["z"] and _overlap(A, T) > 0 and A[3] >= T[3] - 0.05 * _h(T)


def _on(a, t):  # resting on its top edge
    A, T = a["box"], t["box"]
    return T[1] - 0.15 * _h(T) <= A[3] <= T[1] + 0.5 * _h(T) and _overlap(A, T) > 0 and a["z"] > t["z"]


def _near(a, t):
    A, T = a["box"], t["box"]
    gap = max(0, max(A[0], T[0]) - min(A[2], T[2]), max(A[1], T[1]) - min(A[3], T[3]))
    return gap <= 0.6 * max(_w(A), _w(T), _h(A), _h(T))


def _over(a, t):  # in the air above it, over its width
    A, T = a["box"], t["box"]
    return A[3] <= T[1] + 0.1 * _h(T) and T[0] - 0.25 * _w(T) <= _cx(A) <= T[2] + 0.25 * _w(T)


RELATIONS = [
    ("a giraffe wearing a scarf", "scarf", "giraffe", _worn),
    ("a man wearing a hat", "hat", "man", _worn),
    ("an astronaut riding a horse", "astronaut", "horse", _riding),
    ("a boy holding a balloon", "balloon", "boy", _held),
    ("a woman carrying a guitar", "guitar", "woman", _held),
    ("a cat inside a box", "cat", "box", _inside),
    ("seven fish in a round bowl", "fish", "bowl", _inside),
    ("a cat under a table", "cat", "table", _under),
    ("a tree behind a house", "tree", "house", _behind),
    ("a yellow school bus in front of a brick school", "school bus", "school", _in_front),
    ("a cup on top of a table", "cup", "table", _on),
    ("a lamp next to a chair", "lamp", "chair", _near),
    ("a plane flying over a house", "plane", "house", _over),
]


@pytest.mark.parametrize("prompt,subject,target,holds", RELATIONS, ids=[r[0] for r in RELATIONS])
def test_each_relation_is_drawn_with_its_geometry(agent, tmp_path, prompt, subject, target, holds):
    res, step, _img, boxes = _final(agent, tmp_path, prompt)
    assert subject in boxes and target in boxes, (prompt, list(boxes))
    for a in boxes[subject]:
        assert holds(a, _one(boxes, target)), (prompt, a, _one(boxes, target), step.metrics.get("scene"))
    assert not [f for f in step.metrics.get("findings") or [] if "is not drawn so" in f]


def test_between_left_right_above_below(agent, tmp_path):
    _, _, _, b = _final(agent, tmp_path, "an orange fox between two trees")
    xs = sorted(_cx(t["box"]) for t in b["tree"])
    assert xs[0] < _cx(b["fox"][0]["box"]) < xs[1]
    _, _, _, b = _final(agent, tmp_path, "a cat to the left of a dog")
    assert _cx(b["cat"][0]["box"]) < _cx(b["dog"][0]["box"])
    _, _, _, b = _final(agent, tmp_path, "a kite above a house")
    assert _cy(b["kite"][0]["box"]) < _cy(b["house"][0]["box"])


def test_a_relation_the_drawing_cannot_show_is_a_finding_and_unmet(agent, tmp_path):
    res, step, _, boxes = _final(agent, tmp_path, "a man kicking a ball")
    assert "man" in boxes and "ball" in boxes
    assert res.status == "unmet"
    assert any("kicking" in f for f in res.findings), res.findings


def test_a_style_with_no_treatment_is_a_finding_and_unmet(agent, tmp_path):
    res = agent.run("an anime cat", modality="image", out=tmp_path)
    assert res.status == "unmet" and any("anime" in f for f in res.findings), res.findings


# ------------------------------------------------------------------ styles and conditions

BASE = "a house next to a tree"


def _luma(img):
    return img @ np.array([0.299, 0.587, 0.114], np.float32)


def _bright_marks(img):
    """Thin marks brighter than their 5x5 neighbourhood: rain streaks and snowflakes."""
    lum = _luma(img)
    pad = np.pad(lum, 2, mode="edge")
    local = sum(pad[i : i + lum.shape[0], j : j + lum.shape[1]] for i in range(5) for j in range(5)) / 25
    return lum - local > 15


def _blocky(img, b):
    h, w = img.shape[0] // b * b, img.shape[1] // b * b
    crop = img[:h, :w]
    ref = np.repeat(np.repeat(crop[::b, ::b], b, axis=0), b, axis=1)
    return float((np.abs(crop - ref).max(axis=2) < 1).mean())


def _sharp_edges(img):
    g = np.abs(np.diff(_luma(img), axis=1))
    return float((g > 40).sum()) / max(1.0, float((g > 4).sum()))


def _colours(img, k=16):
    q = (img.astype(np.int32) // 4).reshape(-1, 3)
    counts = np.bincount(q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2])
    return float(np.sort(counts)[::-1][:k].sum()) / counts.sum()


def _spread(img):
    return float((img.max(axis=2) - img.min(axis=2)).mean())


LOOKS = [
    ("at night", "night", lambda t, b: _luma(t).mean() < 0.6 * _luma(b).mean()),
    ("at sunset", "sunset", lambda t, b: (t[..., 0] - t[..., 2]).mean() > (b[..., 0] - b[..., 2]).mean() + 40),
    ("in the rain", "rain", lambda t, b: _bright_marks(t).mean() > 3 * _bright_marks(b).mean() + 0.005),
    ("in the snow", "snow", lambda t, b: _bright_marks(t).mean() > 2.5 * _bright_marks(b).mean() + 0.002),
    ("in the fog", "fog", lambda t, b: np.percentile(_luma(t), 5) > np.percentile(_luma(b), 5) + 30),
    ("pixel art", "pixel art", lambda t, b: _blocky(t, 8) > 0.85 > _blocky(b, 8)),
    ("watercolor painting", "watercolour", lambda t, b: _sharp_edges(t) < 0.5 * _sharp_edges(b)),
    ("line art", "line art", lambda t, b: (_luma(t) > 225).mean() > 0.55 and _spread(t) < 10),
    ("oil painting", "oil painting", lambda t, b: np.abs(np.diff(_luma(t), axis=1)).mean() > 2 * np.abs(np.diff(_luma(b), axis=1)).mean()),
    ("clip art", "flat", lambda t, b: _colours(t) > 0.9 and _colours(t) > _colours(b) + 0.1),
    ("cinematic", "cinematic", lambda t, b: _luma(t)[:40, :40].mean() < 0.6 * _luma(b)[:40, :40].mean()),
    ("black and white", "monochrome", lambda t, b: _spread(t) < 6 < _spread(b)),
    ("sepia", "sepia", lambda t, b: ((t[..., 0] >= t[..., 1]) & (t[..., 1] >= t[..., 2])).mean() > 0.9),
]  # fmt: skip


@pytest.fixture(scope="module")
def base_image(agent, tmp_path_factory):
    res, step, img, boxes = _final(agent, tmp_path_factory.mktemp("base"), BASE)
    assert step.metrics.get("looks") == []
    return img


@pytest.mark.parametrize("words,look,changed", LOOKS, ids=[x[1] for x in LOOKS])
def test_each_look_measurably_treats_the_final(agent, tmp_path, base_image, words, look, changed):
    noun = {"cinematic": "cinematic shot", "sepia": "sepia photo", "black and white": "black and white photo"}
    prompt = f"{BASE} {words}" if words.startswith(("at ", "in ")) else f"a {noun.get(words, words)} of {BASE}"
    res, step, img, boxes = _final(agent, tmp_path, prompt)
    assert look in step.metrics["looks"], (prompt, step.metrics.get("looks"))
    assert changed(img, base_image), prompt
    assert set(boxes) <= {"house", "tree", "sun", "moon", "cloud"}, boxes.keys()  # "pixel", "art" are no things
    assert not [f for f in res.findings if f"look {look}" in f], res.findings
    assert res.status == "succeeded", res.findings


def test_the_critic_fails_a_final_without_the_asked_look(agent, tmp_path):
    """The same picture judged against a request for night: the night check must fail on a day picture."""
    from mmthink.modalities.image.critic import ImageCritic
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene
    from mmthink.modalities.image.understanding import parse_image_request

    scene = parse_scene("setting: field\nhouse: large\ntree: large, right of house")[0]
    art = EmbeddedImageBackend().render(scene, quality="final", size=(384, 256), seed=0)
    crit = ImageCritic().critique(art, scene, parse_image_request("a house and a tree at night"))
    assert not crit.passed and any("night" in f for f in crit.findings)


# ------------------------------------------------------------------ words on things


def test_words_are_lettered_on_the_sign_and_read_back(agent, tmp_path):
    res, step, img, boxes = _final(agent, tmp_path, "a sign that says OPEN")
    sign = _one(boxes, "sign")
    assert [x["text"] for x in step.metrics["lettered"]] == ["OPEN"]
    x0, y0, x1, y1 = lettering.text_area(tuple(sign["box"]), "sign", sign["kind"])
    ink = _luma(img[y0:y1, x0:x1]) < 100
    assert 0.03 < ink.mean() < 0.6  # there are letters in the sign's text area
    right, _ = lettering.measure(img, tuple(sign["box"]), "sign", sign["kind"], "OPEN")
    wrong, _ = lettering.measure(img, tuple(sign["box"]), "sign", sign["kind"], "SHUT")
    assert right >= lettering.MATCH_MIN > wrong
    assert not [f for f in res.findings if "OPEN" in f], res.findings


def test_called_names_go_on_the_logo(agent, tmp_path):
    res, step, img, boxes = _final(agent, tmp_path, "a logo for a coffee shop called Bean There")
    assert 'says "Bean There"' in step.metrics["scene"] and "logo" in boxes
    logo = _one(boxes, "logo")
    score, _ = lettering.measure(img, tuple(logo["box"]), "logo", logo["kind"], "Bean There")
    assert score >= lettering.MATCH_MIN


def test_words_that_are_not_drawn_fail_the_critic():
    from mmthink.modalities.image.critic import ImageCritic
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene
    from mmthink.modalities.image.understanding import parse_image_request

    intent = parse_image_request('a sign that says "OPEN"')
    for body in ("sign: large", 'sign: large, says "SHUT"'):
        scene = parse_scene(body)[0]
        art = EmbeddedImageBackend().render(scene, quality="final", size=(384, 256), seed=0)
        crit = ImageCritic().critique(art, scene, intent)
        assert not crit.passed and any("OPEN" in f for f in crit.findings), (body, crit.findings)


def test_subject_side_verbs_in_a_scene_line_are_placed_on_the_other_element():
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene

    scene, findings = parse_scene("giraffe: large, wearing scarf\nscarf: small, red\ncat: inside box\nbox: large")
    assert findings == [] and scene.find("cat").relations[0].kind == "in"
    art = EmbeddedImageBackend().render(scene, quality="final", size=(384, 256), seed=0)
    by = {p.name: {"box": p.box, "z": p.z, "visible": p.visible} for p in art.placed}
    assert _worn(by["scarf"], by["giraffe"]) and _inside(by["cat"], by["box"])


def test_words_too_long_for_a_sign_are_a_finding(agent, tmp_path):
    res = agent.run('a banner that says "Happy birthday to the very best mom in the whole wide world"', out=tmp_path)
    assert res.status == "unmet" and any("longer than a sign holds" in f for f in res.findings), res.findings


def test_sitting_on_a_chair_rests_on_its_seat_and_glasses_go_on_the_eyes(agent, tmp_path):
    _, _, _, b = _final(agent, tmp_path, "a cat sitting on a chair")
    cat, chair = _one(b, "cat")["box"], _one(b, "chair")["box"]
    assert chair[1] + 0.3 * _h(chair) <= cat[3] <= chair[1] + 0.8 * _h(chair)  # on the seat, not the backrest
    _, _, _, b = _final(agent, tmp_path, "a man wearing sunglasses")
    glasses, man = b["sunglass"][0]["box"], _one(b, "man")["box"]
    assert _cy(glasses) < man[1] + 0.3 * _h(man)  # at the head, not the chest


def test_standing_on_the_moon_makes_it_the_ground_under_a_black_sky(agent, tmp_path):
    res, step, img, b = _final(agent, tmp_path, "an astronaut riding a horse on the moon")
    assert "setting: space" in step.metrics["scene"]
    astronaut, horse, moon = _one(b, "astronaut"), _one(b, "horse"), _one(b, "moon")
    assert _riding(astronaut, horse) and _on(horse, moon)
    assert _luma(img[:40]).mean() < 40  # a black sky, not a day one


def test_pixel_art_and_clip_art_keep_the_asked_colours(agent, tmp_path):
    for prompt in ("a pixel art red fox", "a clip art of a yellow car"):
        res = agent.run(prompt, out=tmp_path)
        assert not [f for f in res.findings if "reads as" in f], (prompt, res.findings)


def test_relations_chain_and_what_rests_on_a_thing_stays_on_it(agent, tmp_path):
    _, _, _, b = _final(agent, tmp_path, "a woman sitting on a bench under a tree")
    assert _on(_one(b, "woman"), _one(b, "bench")) and _under(_one(b, "bench"), _one(b, "tree"))


def test_between_two_different_things_and_colours_at_night(agent, tmp_path):
    _, _, _, b = _final(agent, tmp_path, "a cat between a dog and a tree")
    xs = sorted([_cx(_one(b, "dog")["box"]), _cx(_one(b, "tree")["box"])])
    assert xs[0] < _cx(_one(b, "cat")["box"]) < xs[1]
    res = agent.run("a red car in front of a house at night", out=tmp_path)
    assert res.status == "succeeded", res.findings  # dimmed by the night, still red


def test_the_planner_adds_a_look_the_critic_found_missing():
    from mmthink.modalities.image.planner import revise_scene
    from mmthink.modalities.image.scene import parse_scene
    from mmthink.modalities.image.understanding import parse_image_request
    from mmthink.reasoners.base import DraftRecord

    scene = parse_scene("house: large")[0]
    issues = [{"type": "look", "look": "snow"}, {"type": "look", "look": "pixel art"}]
    last = DraftRecord(id="s1", tag="sketch", body=scene.format(), metrics={"issues": issues})
    revised, notes = revise_scene(scene, last, parse_image_request("a pixel art house in the snow"))
    assert "snow" in revised.setting and "pixel art" in revised.style and len(notes) == 2


@pytest.mark.parametrize("big,small", [("car", "box"), ("train", "tunnel"), ("bus", "dog")])
def test_a_wide_thing_in_front_of_a_small_one_leaves_it_in_sight(big, small):
    """ "In front of" overlaps the target; a subject as wide as it or wider stands off to one side, so the
    target stays partly visible instead of disappearing behind it."""
    from mmthink.modalities.image.relations import judge
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    from mmthink.modalities.image.scene import parse_scene

    scene = parse_scene(f"{big}: large, red, in front of {small}\n{small}: small, brown")[0]
    art = EmbeddedImageBackend().render(scene, quality="final", size=(512, 384), seed=2)
    a = [p for p in art.placed if p.name == big]
    t = [p for p in art.placed if p.name == small]
    assert a and t and min(p.visible for p in t) >= 0.3, [(p.name, p.visible) for p in art.placed]
    ok, why = judge("in front of", a, t)
    assert ok, why
