"""Durable runs through the public API: SIGKILL and resume, human review, limits, concurrency, the CLI.

Runs use the scripted image demo with the real image critic and composer; the renderer is the
embedded one where installed, else the box renderer from tools/faults.py. Kill tests run the
agent in a child process that is SIGKILLed (by this test, or by itself at a chosen step).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import faults  # noqa: E402

from mmthink.agent import Agent  # noqa: E402
from mmthink.core.checkpoints import CHECKPOINT_FILE
from mmthink.core.review import ReviewDecision
from mmthink.errors import InputError  # noqa: E402
from mmthink.request import Request  # noqa: E402
from mmthink.trace.reader import load_trace  # noqa: E402


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run with the seed every test here uses."""
    res = faults.toy_agent(tmp_path_factory.mktemp("ref")).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.ok, res.reason
    return res.trace


def _final_bytes(run_dir: Path) -> bytes:
    path = load_trace(run_dir).final_path
    assert path is not None
    return path.read_bytes()


def _wait_for(path: Path, proc: subprocess.Popen, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the child ended before the marker: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the child never reached the marker")
        time.sleep(0.05)


# ------------------------------------------------------------------ kill and resume
@pytest.mark.slow
def test_sigkill_mid_draft_resumes_without_redrawing_or_repeating(tmp_path: Path, reference: Path) -> None:
    marker = tmp_path / "rendering-s2"
    proc = subprocess.Popen(
        faults.child_cmd(tmp_path, "killed", plan={2: "marker"}, marker=marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)  # the second sketch is half drawn
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    run_dir = tmp_path / "killed"
    before = load_trace(run_dir)  # a killed run is still a valid, readable bundle
    assert before.status == "running"
    assert [s.title for s in before.drafts()] == ["sketch s1"]
    assert (run_dir / CHECKPOINT_FILE).is_file()

    counter = faults.Faulty(faults.image_backend())
    res = faults.toy_agent(tmp_path, backend=counter).resume(run_dir)

    assert res.ok, res.reason
    assert counter.calls == 2  # s2 and the final; s1 was accepted before the kill and is not redrawn
    assert _final_bytes(run_dir) == _final_bytes(reference)
    assert faults.signature(run_dir) == faults.signature(reference)  # same steps, same order, none twice
    after = load_trace(run_dir)
    assert after.verify() == []
    assert [s.to_dict() for s in after.steps[: len(before.steps)]] == [s.to_dict() for s in before.steps]
    assert after.manifest["resumes"][0]["from_step"] == len(before.steps)
    assert not (run_dir / CHECKPOINT_FILE).exists()  # nothing left to resume
    again = faults.toy_agent(tmp_path).resume(run_dir)  # resuming a finished run changes nothing
    assert again.status == "succeeded" and again.steps == res.steps


@pytest.mark.slow
def test_kill_between_step_and_checkpoint_does_not_duplicate(tmp_path: Path, reference: Path) -> None:
    # The child kills itself right after the first critique step is on disk, before its checkpoint.
    proc = subprocess.run(
        faults.child_cmd(tmp_path, "torn", kill_node="critique", kill_nth=1), capture_output=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    run_dir = tmp_path / "torn"
    assert [s.node for s in load_trace(run_dir).steps][-1] == "critique"
    lost_checkpoint = tmp_path / "copy" / "torn"
    shutil.copytree(run_dir, lost_checkpoint)
    (lost_checkpoint / CHECKPOINT_FILE).unlink()

    res = faults.toy_agent(tmp_path).resume(run_dir)
    assert res.ok
    assert load_trace(run_dir).manifest["resumes"][0]["dropped_steps"] == 1
    assert faults.signature(run_dir) == faults.signature(reference)
    assert _final_bytes(run_dir) == _final_bytes(reference)

    # without its checkpoint the run starts again from the request in its manifest, in the same bundle
    res2 = faults.toy_agent(tmp_path / "copy").resume(lost_checkpoint)
    assert res2.ok
    assert faults.signature(lost_checkpoint) == faults.signature(reference)
    assert load_trace(lost_checkpoint).verify() == []


def test_runs_without_checkpoints(tmp_path: Path, reference: Path) -> None:
    res = faults.toy_agent(tmp_path, durable=False).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.ok and not (res.trace / CHECKPOINT_FILE).exists()
    assert _final_bytes(res.trace) == _final_bytes(reference)


def test_resume_by_run_id_and_refusals(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, run_id="by-id")
    steps = (res.trace / "steps.jsonl").read_bytes()
    again = agent.resume("by-id")
    assert again.ok and (res.trace / "steps.jsonl").read_bytes() == steps
    with pytest.raises(InputError) as e:
        agent.resume(tmp_path / "no-such-run")
    assert e.value.field == "run"
    with pytest.raises(InputError):
        Agent(
            config=agent.config,
            modalities=agent.modalities,
            image_backend=agent.image_backend,
            reasoner=agent.reasoner,
            durable=False,
        ).resume(res.trace)


# ------------------------------------------------------------------ review
def _steps(run_dir: Path) -> list[tuple[str, str, str]]:
    return [(s.kind, s.node, s.title) for s in load_trace(run_dir, verify=False).steps]


def test_review_pauses_with_draft_critique_and_planned_final(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=True)
    assert res.status == "awaiting_review" and res.final is None
    p = res.review
    assert p["type"] == "review" and p["options"] == ["approve", "revise", "abort"]
    assert p["draft"]["id"] == "s2" and Path(p["draft"]["path"]).is_file()
    assert p["draft"]["path"].startswith(str(res.trace))
    assert isinstance(p["critique"]["score"], float) and isinstance(p["critique"]["findings"], list)
    assert 'ref="s2"' in p["final"]["raw"]
    assert _steps(res.trace)[-1] == ("decision", "review", "awaiting review")
    assert load_trace(res.trace).status == "awaiting_review"  # what verify, view and a batch see

    still = agent.resume(res.trace)  # no decision: stays paused, trace untouched
    assert still.status == "awaiting_review" and still.steps == res.steps

    done = agent.resume(res.trace, decision=ReviewDecision.approve())
    assert done.ok and done.final is not None and done.final.is_file()
    titles = [t for _, _, t in _steps(res.trace)]
    assert titles.count("awaiting review") == 1 and titles[-2:] == ["review: approved", "final image"]
    assert load_trace(res.trace).verify() == []


def test_review_revise_sends_the_note_back_to_the_reasoner(tmp_path: Path) -> None:
    seen: list[str] = []

    class Listening:
        name = "listening"

        def __init__(self) -> None:
            from mmthink.reasoners.scripted import ScriptedReasoner

            self.inner = ScriptedReasoner("image")

        def stream(self, turn):
            seen.append(turn.transcript)
            return self.inner.stream(turn)

    agent = faults.toy_agent(tmp_path, reasoner=Listening())
    answers = iter(["revise: make the planet twice as large", "approve"])
    payloads: list[dict] = []
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=lambda p: payloads.append(p) or next(answers))
    assert res.ok
    assert len(payloads) == 2 and payloads[1]["reviews"] == [
        {"action": "revise", "note": "make the planet twice as large"}
    ]
    assert 'ref="review"' in seen[-1] and "make the planet twice as large" in seen[-1]
    kinds = _steps(res.trace)
    revise = kinds.index(("observation", "review", "review: revise"))
    assert kinds[revise + 1][1] == "think"  # back to thinking, then a second review, then the final
    assert [t for _, _, t in kinds].count("awaiting review") == 2
    assert load_trace(res.trace).steps[revise].parts[0].text == "make the planet twice as large"


def test_review_abort_stops_with_a_reason(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=True)
    out = agent.resume(res.trace, decision="abort: the client cancelled")
    assert out.status == "stopped" and out.reason == "stopped at review: the client cancelled"
    trace = load_trace(out.trace)
    assert trace.status == "stopped" and trace.manifest["reason"] == out.reason
    assert trace.final_path is None and not trace.by_kind("final")


def test_review_with_a_shared_checkpointer(tmp_path: Path) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    agent = faults.toy_agent(tmp_path, checkpointer=InMemorySaver())
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=True)
    assert res.status == "awaiting_review"
    assert not (res.trace / CHECKPOINT_FILE).exists()
    assert agent.resume(res.run_id, decision={"action": "approve"}).ok


def test_review_input_errors(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    with pytest.raises(InputError) as e:
        faults.toy_agent(tmp_path, durable=False).stream("a red ball", review=True)
    assert e.value.field == "review"
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=True)
    for bad in ("revise", "maybe", {"action": "later"}, 3):
        with pytest.raises(InputError):
            agent.resume(res.trace, decision=bad)
    assert agent.resume(res.trace).status == "awaiting_review"


# ------------------------------------------------------------------ limits
def test_limits_fail_before_any_work(tmp_path: Path) -> None:
    from mmthink.config import make_config

    out = tmp_path / "runs"
    agent = faults.toy_agent(out)
    cfg = make_config(
        "embedded",
        out_dir=str(out),
        max_prompt_chars=40,
        max_image_side=1000,
        max_audio_seconds=2.0,
        max_video_seconds=5.0,
        limits={"max_drafts": 3},
    )
    assert cfg.limits.max_drafts == 3 and cfg.thinking.max_drafts == 6  # the cap, not the budget
    with pytest.raises(InputError, match="limits.max_draft"):
        make_config("embedded", limits={"max_draft": 3})
    with pytest.raises(InputError, match="limits.max_drafts"):
        make_config("embedded", limits={"max_drafts": 0})
    tight = Agent(
        faults.ScriptedReasoner("image"), modalities=agent.modalities, image_backend=agent.image_backend, config=cfg
    )
    cases = [
        (lambda: tight.stream("x" * 41), "prompt"),
        (lambda: tight.stream("a red ball", width=1024), "width"),
        (lambda: tight.stream("a red ball", max_drafts=4), "max-drafts"),
        (lambda: tight.stream("say hello to every one of you", modality="speech"), "prompt"),
        (lambda: tight.stream(Request(text="a red ball", modality="speech", options={"seconds": 3})), "seconds"),
        (lambda: tight.stream("a red ball", run_id="../escape"), "run_id"),
        (lambda: tight.stream("a red ball", modality="video"), "modality"),
    ]
    for make, field in cases:
        with pytest.raises(InputError) as e:
            make()
        assert e.value.field == field, (field, str(e.value))
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(InputError) as e:
        Agent(
            faults.ScriptedReasoner("image"),
            config=make_config("embedded", max_steps=0),
            modalities=agent.modalities,
            image_backend=agent.image_backend,
        )
    assert e.value.field == "limits.max_steps"


def test_step_limit_stops_the_run_readably(tmp_path: Path) -> None:
    from mmthink.config import make_config

    agent = faults.toy_agent(tmp_path)
    short = Agent(
        faults.ScriptedReasoner("image"),
        modalities=agent.modalities,
        image_backend=agent.image_backend,
        config=make_config("embedded", out_dir=str(tmp_path), max_steps=4),
    )
    res = short.run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.status == "stopped" and "step limit" in res.reason
    assert load_trace(res.trace).verify() == []


# ------------------------------------------------------------------ concurrency
def test_runs_in_threads_do_not_interfere(tmp_path: Path, reference: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(agent.run(faults.IMAGE_REQUEST, seed=faults.SEED)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 3 and len({r.trace for r in results}) == 3
    for r in results:
        assert r.ok, r.reason
        assert faults.signature(r.trace) == faults.signature(reference)
        assert _final_bytes(r.trace) == _final_bytes(reference)


@pytest.mark.slow
def test_runs_in_processes_do_not_interfere(tmp_path: Path, reference: Path) -> None:
    procs = [
        subprocess.Popen(faults.child_cmd(tmp_path, f"p{i}"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(2)
    ]
    for p in procs:
        assert p.wait(120) == 0, p.stderr.read().decode()[-2000:]
    for i in range(2):
        run_dir = tmp_path / f"p{i}"
        assert faults.signature(run_dir) == faults.signature(reference)
        assert _final_bytes(run_dir) == _final_bytes(reference)
        assert not (run_dir / CHECKPOINT_FILE).exists()


def test_shared_model_is_used_by_one_call_at_a_time() -> None:
    from mmthink.core.faults import CallPolicy, guarded_call, model_lock

    class Model:
        def __init__(self) -> None:
            self.inside, self.most = 0, 0
            self.guard = threading.Lock()

        def work(self) -> None:
            with self.guard:
                self.inside += 1
                self.most = max(self.most, self.inside)
            time.sleep(0.01)
            with self.guard:
                self.inside -= 1

    class Handler:
        def __init__(self, backend: Model) -> None:
            self.backend = backend

    model = Model()
    h1, h2 = Handler(model), Handler(model)
    assert model_lock(h1) is model_lock(h2)
    threads = [
        threading.Thread(
            target=lambda h=h: [guarded_call(h.backend.work, CallPolicy(10, 1), "w", model=h) for _ in range(5)]
        )
        for h in (h1, h2, h1, h2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert model.most == 1
    model.thread_safe = True
    assert model_lock(h1) is None


# ------------------------------------------------------------------ CLI
@pytest.fixture
def toy_builders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Agents the CLI builds by name (demo, resume) get the fault kit's renderer."""
    import mmthink.agent as agent_mod

    monkeypatch.setattr(agent_mod, "build_image_backend", lambda cfg: faults.image_backend())
    monkeypatch.setattr(agent_mod, "build_modalities", lambda cfg, backend: faults.toy_modalities(backend))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_review_without_a_terminal_then_resume(
    tmp_path: Path, toy_builders: None, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmthink.cli import EXIT_OK, EXIT_PAUSED, main

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["demo", "image", "--review", "--out", str(tmp_path), "--json", "--seed", "7"])
    out, err = capsys.readouterr()
    assert code == EXIT_PAUSED
    assert "stdin is not a terminal" in err
    res = json.loads(out)
    assert res["status"] == "awaiting_review" and res["review"]["draft"]["id"] == "s2"
    code = main(["resume", res["trace"], "--revise", "bigger planet", "--json"])
    assert code == EXIT_PAUSED  # revised, thought again, paused at the next review
    capsys.readouterr()
    code = main(["resume", Path(res["trace"]).name, "--out", str(tmp_path), "--approve", "--json"])
    done = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and done["status"] == "succeeded" and Path(done["final"]).is_file()


def test_cli_review_asks_on_the_terminal(
    tmp_path: Path, toy_builders: None, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmthink.cli import EXIT_FAILED, main

    monkeypatch.setattr(sys, "stdin", _Terminal("what?\nabort too dark\n"))
    code = main(["demo", "image", "--review", "--out", str(tmp_path), "-q"])
    out, err = capsys.readouterr()
    assert code == EXIT_FAILED
    assert "review before the final" in err and "draft s2" in err and "unknown action 'what?'" in err
    assert "stopped" in out and "stopped at review: too dark" in out


@pytest.mark.slow
def test_cli_resume_after_sigkill(tmp_path: Path, reference: Path, toy_builders: None, capsys) -> None:
    from mmthink.cli import EXIT_OK, main

    proc = subprocess.run(
        faults.child_cmd(tmp_path, "cli-killed", kill_node="act", kill_nth=2), capture_output=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL
    run_dir = tmp_path / "cli-killed"  # `mmthink resume` rebuilds the agent from the manifest
    assert main(["resume", str(run_dir), "-q", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["status"] == "succeeded"
    assert faults.signature(run_dir) == faults.signature(reference)
    assert _final_bytes(run_dir) == _final_bytes(reference)


def test_agent_resume_rebuilds_the_agent_from_the_bundle(tmp_path: Path, toy_builders: None) -> None:
    agent = Agent.demo("image", out_dir=str(tmp_path))
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=True)
    assert res.status == "awaiting_review"
    done = Agent.resume(res.trace, decision="approve")  # no agent at hand: built from the manifest
    assert done.ok and done.final.is_file()


def test_a_stream_left_half_way_can_be_resumed(tmp_path: Path, reference: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    stream = agent.stream(faults.IMAGE_REQUEST, seed=faults.SEED, run_id="left")
    it = iter(stream)
    for step in it:
        if step.kind == "draft":
            break
    it.close()  # the caller walked away after the first draft
    assert load_trace(tmp_path / "left").status == "running"
    res = agent.resume(tmp_path / "left")
    assert res.ok and faults.signature(res.trace) == faults.signature(reference)


def test_bad_answer_from_a_reviewer_leaves_the_run_paused(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path)
    with pytest.raises(InputError) as e:
        agent.run(faults.IMAGE_REQUEST, seed=faults.SEED, review=lambda p: "perhaps", run_id="paused")
    assert e.value.field == "decision"
    assert agent.resume(tmp_path / "paused", decision="approve").ok


def test_manifest_keeps_settings_but_not_secrets(tmp_path: Path) -> None:
    from mmthink.config import make_config

    base = faults.toy_agent(tmp_path)
    cfg = make_config(
        "embedded",
        out_dir=str(tmp_path),
        budget_tokens=900,
        reasoner_options={"api_key": "sk-secret", "base_url": "http://x", "access_token": "t"},
    )
    agent = Agent(base.reasoner, config=cfg, modalities=base.modalities, image_backend=base.image_backend)
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED)
    manifest = load_trace(res.trace).manifest
    text = json.dumps(manifest)
    assert "sk-secret" not in text and '"t"' not in text
    assert manifest["agent"]["reasoner_options"] == {
        "api_key": "<redacted>",
        "base_url": "http://x",
        "access_token": "<redacted>",
    }
    assert manifest["agent"]["thinking"]["budget_tokens"] == 900
    assert manifest["policy"]["render"]["attempts"] == 2
