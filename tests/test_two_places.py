"""Two places of different kinds in one request ("a cabin in the woods by a lake", "a lighthouse on a beach in
front of mountains") are both painted, far band and near band, and the critic checks each on its own.

Prompts come from a seeded generator over subjects, place words of each kind and phrasings, not a fixed list.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from mmthink import Agent, load_trace
from mmthink.modalities.image.nlp import parse_image_request
from mmthink.modalities.image.objects import lookup
from mmthink.modalities.image.render import backdrops

PREPS = ["in the", "among the"]


@pytest.fixture(scope="module")
def agent():
    return Agent.from_profile("embedded")


def _final(res):
    meta = [s.metrics for s in load_trace(res.trace).steps if s.kind == "final"][-1]
    return meta, np.asarray(Image.open(res.final).convert("RGB"), dtype=np.float32)


def test_in_the_mountains_paints_mountains_behind_the_thing(agent, tmp_path):
    rng = random.Random(3)
    for _ in range(3):
        subject = rng.choice(["cabin", "goat", "tent", "house", "horse"])
        res = agent.run(f"a {subject} {rng.choice(PREPS[:2])} mountains", out=tmp_path, seed=2, width=384, height=256)
        meta, img = _final(res)
        assert res.status == "succeeded", res.findings
        assert [p["name"] for p in meta["placed"]] == [subject]
        assert meta["backdrop"]["kinds"] == ["mountains"]
        assert _signature("mountains", img, meta["backdrop"]["maps"]["mountains"]), subject


# ---------------------------------------------------------------- two places in one request

SIGNATURES = {
    # the props' own colours, read from the final's pixels where the record says they show
    "mountains": lambda c: (c[..., 2] > c[..., 0] + 10) & (c[..., 0] < 170) & (c[..., 0] > 60),  # blue-grey rock
    "woodland": lambda c: (c[..., 1] > c[..., 0] + 25) & (c[..., 1] > c[..., 2] + 15),  # leaf green
    "water": lambda c: (c[..., 2] > c[..., 0] + 60) & (c[..., 1] < 150),  # deep water blue (not the pale sky)
    "beach": lambda c: (c[..., 2] > c[..., 0] + 60) & (c[..., 1] < 150),  # its water band
    "town": lambda c: c[..., 0] > c[..., 2] + 30,  # warm walls and roofs
}


def _signature(kind: str, img: np.ndarray, grid: list[str]) -> bool:
    """At least a third of the kind's prop cells hold a good share of its own colour."""
    cells = [(i, j) for i, line in enumerate(grid) for j, ch in enumerate(line) if ch == "p"]
    hits = 0
    for i, j in cells:
        c = img[i * backdrops.CELL : (i + 1) * backdrops.CELL, j * backdrops.CELL : (j + 1) * backdrops.CELL]
        hits += SIGNATURES[kind](c).mean() > 0.25
    return bool(cells) and hits >= max(1, len(cells) // 3)


def _two_place_prompts(n: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    words = {k: [w for w in backdrops.KINDS[k] if lookup(w) is not None] for k in SIGNATURES}
    forms = ["a {s} in the {a} by a {b}", "a {s} {pa} {a} in front of {b}", "a {s} near a {b} in the {a}"]
    out = []
    while len(out) < n:
        ka, kb = rng.sample(sorted(SIGNATURES), 2)
        if {ka, kb} == {"water", "beach"}:
            continue
        a, b = rng.choice(words[ka]), rng.choice(words[kb])
        s = rng.choice(["cabin", "tent", "dog", "lighthouse", "cow", "bicycle"])
        out.append((rng.choice(forms).format(s=s, a=a, b=b, pa=rng.choice(["on a", "in the"])), ka, kb))
    return out


@pytest.mark.parametrize("text,kind_a,kind_b", _two_place_prompts(8, 21))
def test_two_places_of_different_kinds_are_both_painted_and_checked(agent, tmp_path, text, kind_a, kind_b):
    it = parse_image_request(text)
    kinds = {k for k in backdrops.places(it.setting).values() if k}
    assert kinds == {kind_a, kind_b}, (text, it.setting)
    res = agent.run(text, out=tmp_path, seed=4, width=384, height=256)
    meta, img = _final(res)
    record = meta["backdrop"]
    assert set(record["kinds"]) == {kind_a, kind_b}, (text, record["kinds"])
    assert not [f for f in res.findings if "place" in f], (text, res.findings)
    for kind in (kind_a, kind_b):
        assert _signature(kind, img, record["maps"][kind]), (text, kind, record["maps"][kind])
    assert res.status == "succeeded", (text, res.findings)


def test_a_place_that_cannot_join_the_first_is_an_unmet_finding(agent, tmp_path):
    """Inside a kitchen the sea cannot be painted too: said, and not a success."""
    res = agent.run("a cat in a kitchen by the sea", out=tmp_path, seed=1)
    assert res.status == "unmet"
    assert any("'sea' is not shown" in f and "room" in f for f in res.findings), res.findings


def test_a_place_covered_by_a_nearer_one_is_checked_on_what_still_shows(tmp_path):
    """The record's per-kind maps hold only what is left showing of each kind once nearer kinds are painted."""
    img = np.zeros((256, 384, 3), np.float32)
    img[:] = (140, 190, 240)
    rec = backdrops.paint_props(img, ["mountains", "forest"], 150, [(170, 100, 230, 190)], 3, [(170, 100, 230, 190)])
    assert rec is not None and rec["kinds"] == ["mountains", "woodland"]
    m, f = (np.array([list(x) for x in rec["maps"][k]]) == "p" for k in ("mountains", "woodland"))
    assert m.any() and f.any() and not (m & f).any()
