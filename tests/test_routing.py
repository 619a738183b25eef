"""Requests go to the modality they ask for, and the embedded reasoner says plainly what it cannot write."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmthink import Agent
from mmthink.modalities import registry

ROUTES = [
    ("a giraffe wearing a scarf", "image"),
    ("a clip art of a cat", "image"),
    ("a movie theater with red seats", "image"),
    ("toast on a plate", "image"),
    ('whisper "good night, little one"', "speech"),
    ('announce excitedly: "we won the cup"', "speech"),
    ("read this calmly: the meeting is moved to friday", "speech"),
    ("a 30-second wedding toast", "speech"),
    ("tell me a bedtime story about a brave little turtle", "speech"),
    ("a short film about a lighthouse keeper", "video"),
    ("scene 1: a rocket at dawn; scene 2: the moon", "video"),
]


@pytest.mark.parametrize("text, modality", ROUTES)
def test_the_request_goes_where_it_asks(text: str, modality: str) -> None:
    name, reason = registry.detect(text)
    assert name == modality, reason
    assert reason


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.from_profile("embedded")


@pytest.mark.parametrize(
    "text, status",
    [
        ("a 30-second wedding toast", "refused"),
        ("tell me a bedtime story about a brave little turtle", "refused"),
        ("read this calmly: the meeting is moved to friday", "succeeded"),
        ("a diagram of the water cycle", "unmet"),
    ],
)
def test_the_status_says_what_happened(agent: Agent, tmp_path: Path, text: str, status: str) -> None:
    res = agent.run(text, out=tmp_path)
    assert res.status == status, (res.status, res.reason, res.findings)
    if status == "refused":
        assert "model reasoner" in (res.reason or "") and res.final is None
    if status == "unmet":
        assert any("stands in" in f for f in res.findings), res.findings


@pytest.mark.parametrize("text", ["🐱🐶🌈🚀", "!!! ??? ...", "something nice"])
def test_nothing_to_draw_is_refused_with_what_was_not_understood(agent: Agent, tmp_path: Path, text: str) -> None:
    res = agent.run(text, out=tmp_path)
    assert res.status == "refused" and res.final is None, (res.status, res.reason)
    assert "nothing in this request that I could draw" in (res.reason or "")
    assert "model reasoner" in (res.reason or "")


def test_non_english_is_a_best_effort_that_says_so(agent: Agent, tmp_path: Path) -> None:
    res = agent.run("un chat noir sur une table rouge", out=tmp_path)
    assert res.status == "unmet" and res.final is not None, (res.status, res.reason)
    assert any("chat" in f for f in res.findings), res.findings


def test_a_very_long_prompt_is_an_input_error_before_anything_is_written(agent: Agent, tmp_path: Path) -> None:
    from mmthink import InputError

    with pytest.raises(InputError) as e:
        agent.run(" ".join(["a red cat"] * 3400), out=tmp_path / "runs")
    assert e.value.field == "prompt" and "limit" in str(e.value)
    assert not (tmp_path / "runs").exists()
