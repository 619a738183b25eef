"""A run folder carries its checkpoint: a killed or paused run moved or copied elsewhere resumes where it
lies, and a run's scratch files live in its own folder (``.work``), so a kill leaves nothing in the temp folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import faults  # noqa: E402

from mmthink import Agent  # noqa: E402
from mmthink.core.checkpoints import CHECKPOINT_FILE  # noqa: E402
from mmthink.core.review import ReviewDecision  # noqa: E402
from mmthink.trace.reader import load_trace  # noqa: E402


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    res = faults.toy_agent(tmp_path_factory.mktemp("ref")).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.ok
    return res.trace


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run SIGKILLed after its second draft step, before that step's checkpoint."""
    out = tmp_path_factory.mktemp("killed")
    proc = subprocess.run(
        faults.child_cmd(out, "moving", kill_node="act", kill_nth=2), capture_output=True, timeout=180
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert (out / "moving" / CHECKPOINT_FILE).is_file()
    return out / "moving"


def _same_as_reference(run_dir: Path, reference: Path) -> None:
    assert load_trace(run_dir).verify() == []
    assert faults.signature(run_dir) == faults.signature(reference)  # no step lost, none twice
    final = load_trace(run_dir).final_path
    assert final is not None and final.read_bytes() == load_trace(reference).final_path.read_bytes()


def test_a_killed_run_moved_elsewhere_resumes_there(tmp_path: Path, killed: Path, reference: Path) -> None:
    original = tmp_path / "before" / "moving"
    shutil.copytree(killed, original)
    moved = tmp_path / "somewhere" / "else" / "moving"
    moved.parent.mkdir(parents=True)
    shutil.move(str(original), str(moved))
    assert not original.exists()
    res = faults.toy_agent(moved.parent).resume(moved)
    assert res.ok, res.reason
    assert res.trace == moved.resolve() and res.final is not None and res.final.is_relative_to(moved.resolve())
    _same_as_reference(moved, reference)
    assert not original.exists()  # nothing was written where it used to be
    resumed = load_trace(moved).manifest["resumes"][0]
    assert resumed["from_step"] > 0 and resumed["moved_from"] == str(killed.resolve())  # from its checkpoint


def test_a_killed_run_copied_resumes_both_where_they_lie(tmp_path: Path, killed: Path, reference: Path) -> None:
    a, b = tmp_path / "a" / "moving", tmp_path / "b" / "moving"
    shutil.copytree(killed, a)
    shutil.copytree(killed, b)
    rb = faults.toy_agent(b.parent).resume(b)
    ra = faults.toy_agent(a.parent).resume(a)
    assert ra.ok and rb.ok
    for run in (a, b):
        _same_as_reference(run, reference)
        assert not (run / CHECKPOINT_FILE).exists()


def test_a_paused_review_moved_elsewhere(tmp_path: Path) -> None:
    res = faults.toy_agent(tmp_path / "first").run(faults.IMAGE_REQUEST, seed=faults.SEED, review=True)
    assert res.status == "awaiting_review"
    moved = tmp_path / "second" / res.trace.name
    moved.parent.mkdir()
    shutil.move(str(res.trace), str(moved))
    agent = faults.toy_agent(tmp_path / "second")
    still = agent.resume(moved)
    assert still.status == "awaiting_review"
    assert still.review["run_dir"] == str(moved.resolve()) and Path(still.review["draft"]["path"]).is_file()
    done = agent.resume(moved, decision=ReviewDecision.approve())
    assert done.ok and done.final is not None and done.final.is_relative_to(moved.resolve())
    assert load_trace(moved).verify() == []
    assert not (tmp_path / "first" / res.trace.name).exists()


# ----------------------------------------------------------------------------- scratch files
_VIDEO_CHILD = r"""
import os, signal, sys
import moviepy.video.io.ffmpeg_writer as fw
from mmthink import Agent

real, seen = fw.FFMPEG_VideoWriter.write_frame, {"n": 0}

def write_frame(self, img):
    seen["n"] += 1
    if seen["n"] == 12:  # the encoder is running and its work files exist
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, img)

fw.FFMPEG_VideoWriter.write_frame = write_frame
agent = Agent.demo("video")
agent.run(agent.reasoner.script.request, out=sys.argv[1], run_id="film")
"""


@pytest.mark.slow
def test_sigkill_while_composing_a_video_leaves_nothing_in_the_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("moviepy")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _VIDEO_CHILD, str(tmp_path / "runs")], env=env, capture_output=True, timeout=600
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    run_dir = tmp_path / "runs" / "film"
    assert [p.name for p in tmp.iterdir() if p.name.startswith("mmthink-video-")] == []
    assert (run_dir / ".work").is_dir() and any((run_dir / ".work").rglob("*"))  # the kill left them here
    assert load_trace(run_dir).verify() == []  # private files are no part of the bundle

    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    res = Agent.resume(run_dir)
    assert res.ok, res.reason
    assert not (run_dir / ".work").exists()
    assert [p.name for p in tmp.iterdir() if p.name.startswith("mmthink-")] == []
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and len(manifest["resumes"]) == 1


def test_a_served_graph_never_takes_a_folder_from_the_client(tmp_path: Path) -> None:
    """The agent tells its own graph where a moved run lies; a server's client saying the same is ignored."""
    from mmthink.core.graph import build_graph

    comp = Agent.from_profile("embedded", durable=False, out_dir=str(tmp_path / "served")).components()
    comp.fixed_out_dir = True
    graph = build_graph(served=comp).compile()
    evil = tmp_path / "evil" / "run"
    out = graph.invoke(
        {"request": {"text": "a red apple on a table"}},
        config={"configurable": {"thread_id": "t", "mmthink_run_dir": str(evil)}},
    )
    assert out["status"] in ("succeeded", "unmet") and Path(out["run_dir"]).parent == (tmp_path / "served")
    assert not (tmp_path / "evil").exists()
    assert load_trace(out["run_dir"]).verify() == []
