"""Work a run used to repeat is done once, and what it produces is the same as doing it every time.

A small image run reads its request twice (before anything is written, and in the graph's route node),
and the final's backdrop search paints up to 36 candidate backdrops with the same props on each. These
tests pin that the shortcuts change nothing but the time: the same pictures, the same readings.
"""

from __future__ import annotations

import numpy as np
import pytest

from mmthink import Agent
from mmthink.dsp.color import distances
from mmthink.modalities import registry
from mmthink.modalities.image.render import backdrops


def test_distances_are_the_euclidean_ones() -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 255, (500, 3)).astype(np.float32)
    refs = rng.uniform(0, 255, (17, 3)).astype(np.float32)
    want = np.linalg.norm(points[:, None, :] - refs[None, :, :], axis=2)
    got = distances(points, refs)
    assert got.shape == (500, 17)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)
    assert float(distances(np.array([[0.0, 3.0, 4.0]]), np.array([[0.0, 0.0, 0.0]]))[0, 0]) == 5.0


@pytest.mark.parametrize("setting", [["forest"], ["indoors"], ["mountains", "forest"], ["lake"]])
def test_props_drawn_once_paint_the_same_on_every_candidate(setting: list[str]) -> None:
    boxes = [(160, 100, 230, 200)]
    drawn: dict = {}
    for tone in [(150, 195, 240), (60, 95, 170), (240, 242, 248)]:
        plain = np.zeros((256, 384, 3), np.float32)
        plain[:] = tone
        plain[150:] = (86, 150, 70)
        fresh, reused = plain.copy(), plain.copy()
        record = backdrops.paint_props(fresh, setting, 150, boxes, seed=5, ashore=boxes)
        assert backdrops.paint_props(reused, setting, 150, boxes, 5, boxes, mapped=False, drawn=drawn) is None
        assert record is not None and not np.array_equal(fresh, plain)  # the props were painted
        np.testing.assert_array_equal(reused, fresh)
    assert len(drawn) == 1  # drawn once, blended three times


def test_an_unmapped_painting_returns_nothing_to_record() -> None:
    img = np.full((96, 128, 3), 200.0, np.float32)
    assert backdrops.paint_props(img, ["forest"], 50, [(40, 30, 80, 80)], seed=1, mapped=False) is None
    assert not np.all(img == 200.0)  # but it painted


def test_a_run_reads_its_request_once(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    calls: list[str] = []
    real = registry.detect

    def counting(text: str) -> tuple[str, str]:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(registry, "detect", counting)
    agent = Agent.from_profile("embedded")
    res = agent.run("a red kite above a green tree", out=tmp_path, width=256, height=192)
    assert res.modality == "image" and res.final is not None
    assert calls == ["a red kite above a green tree"]
    res = agent.run("say hello to the crew", out=tmp_path)  # another request is read afresh, and routed by it
    assert res.modality == "speech"
    assert calls[1:] == ["say hello to the crew"]
