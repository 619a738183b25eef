"""End to end through the public API: the image demo, free prompts, modes, budgets, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmthink import Agent, InputError, load_trace

FREE = [
    "three red apples on a table, a blue cup to the left of them",
    "a lighthouse at dusk",
    "a castle under the moon",
    "an orange fox between two trees",
    "five balloons floating in the sky",
    "a ship sailing above a blue whale",
    "a house to the left of a tree",
    "a robot watering a plant",
    "four yellow lanterns hanging in a row",
    "a silver spaceship between two planets",
    "a yellow umbrella in the rain",
]


@pytest.fixture(scope="module")
def agent():
    return Agent.from_profile("embedded")


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)


def test_image_demo_end_to_end(tmp_path):
    agent = Agent.demo("image")
    res = agent.run(agent.reasoner.script.request, out=tmp_path)
    assert res.ok, res.reason
    img = _png(res.final)
    assert img.shape[:2] == (512, 768) and img.std() > 20
    trace = load_trace(res.trace)
    kinds = [s.kind for s in trace.steps]
    assert kinds[0] == "decision" and kinds[-1] == "final"
    drafts = trace.drafts()
    obs = [s for s in trace.observations() if s.ref and s.ref.startswith("s")]
    assert [d.ref for d in drafts] == ["s1", "s2"]
    # the critic really sees the hidden planet in s1, and s2 fixes it
    assert obs[0].passed is False and "planet" in obs[0].text
    assert obs[1].score > obs[0].score
    assert trace.manifest["status"] == "succeeded" and trace.verify() == []
    assert (res.trace / "index.html").stat().st_size > 1000


@pytest.mark.parametrize("prompt", FREE)
def test_free_prompts(agent, tmp_path, prompt):
    res = agent.run(prompt, out=tmp_path, seed=3)
    assert res.ok, res.reason
    img = _png(res.final)
    assert img.shape[:2] == (512, 768)
    assert img.std() > 15, "final is blank"
    trace = load_trace(res.trace)
    assert trace.thoughts() and trace.drafts()
    scored = [s for s in trace.observations() if s.score is not None]
    assert scored and all(0.0 <= s.score <= 1.0 for s in scored)
    assert trace.by_kind("final")


def test_requested_size_and_zip_round_trip(agent, tmp_path):
    from mmthink.trace.reader import export_bundle

    res = agent.run("a castle under the moon", out=tmp_path, width=320, height=240)
    assert Image.open(res.final).size == (320, 240)
    z = export_bundle(res.trace)
    again = load_trace(z)
    assert [s.kind for s in again.steps] == [s.kind for s in load_trace(res.trace).steps]


def test_thinking_off_is_one_shot(agent, tmp_path):
    res = agent.run("a lighthouse at dusk", thinking="off", out=tmp_path)
    assert res.ok
    trace = load_trace(res.trace)
    assert not trace.drafts() and not trace.thoughts()
    assert "<think>" not in res.answer


def test_soft_switch_and_auto_are_recorded(agent, tmp_path):
    res = agent.run("a lighthouse at dusk /no_think", out=tmp_path)
    assert res.mode == "off"
    res = agent.run("three red apples on a table, a blue cup to the left of them", thinking="auto", out=tmp_path)
    trace = load_trace(res.trace)
    decision = trace.steps[0]
    assert decision.metrics["source"] == "auto" and "difficulty" in decision.text
    assert res.mode == "on"


def test_draft_budget_forces_close(agent, tmp_path):
    res = agent.run("a cat below a chair", max_drafts=1, out=tmp_path)
    assert res.ok
    trace = load_trace(res.trace)
    assert len(trace.drafts()) == 1
    assert res.budget["drafts"] == 1


def test_token_budget_is_respected(agent, tmp_path):
    res = agent.run("an orange fox between two trees", budget_tokens=40, out=tmp_path)
    assert res.ok
    trace = load_trace(res.trace)
    assert any(s.kind == "decision" and "budget" in s.title for s in trace.steps)
    assert res.final is not None


def test_stream_yields_steps_in_order(agent, tmp_path):
    seen = [s.index for s in agent.stream("a castle under the moon", out=tmp_path)]
    assert seen == list(range(len(seen))) and len(seen) >= 5


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"request": ""}, "prompt"),
        ({"request": "a cat", "modality": "smell"}, "modality"),
        ({"request": "a cat", "budget_tokens": -3}, "budget-tokens"),
        ({"request": "a cat", "seed": "seven"}, "seed"),
        ({"request": "a cat", "width": 10}, "width"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(agent, tmp_path, kwargs, field):
    request = kwargs.pop("request")
    with pytest.raises(InputError, match=field):
        agent.run(request, out=tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args, field",
    [
        (["run", ""], "prompt"),
        (["run", "a cat", "--modality", "smell"], "modality"),
        (["run", "a cat", "--budget-tokens", "-1"], "budget-tokens"),
        (["run", "a cat", "--seed", "x"], "seed"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, args, field):
    out = subprocess.run(
        [sys.executable, "-m", "mmthink.cli", *args, "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert field in out.stderr and out.stderr.count("\n") == 1


def test_cli_run_and_view(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "mmthink.cli", "run", "a house to the left of a tree", "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert Path(info["final"]).exists() and info["status"] == "succeeded"
    view = subprocess.run([sys.executable, "-m", "mmthink.cli", "view", info["trace"]], capture_output=True, text=True)
    assert view.returncode == 0 and view.stdout.strip().endswith("index.html")


def test_python_dash_m_mmthink_is_the_mmthink_command(tmp_path):
    """``python -m mmthink`` for environments whose scripts are not on PATH: same command, same exit codes."""
    ok = subprocess.run([sys.executable, "-m", "mmthink", "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip()
    bad = subprocess.run(
        [sys.executable, "-m", "mmthink", "run", "", "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "prompt" in bad.stderr


def test_import_is_light():
    code = (
        "import sys, mmthink; mmthink.Agent; "
        "print([m for m in ('torch','transformers','diffusers','moviepy','faster_whisper','piper','langgraph')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []
