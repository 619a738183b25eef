"""One writer per run folder: a second run, resume or review decision is refused, a killed holder is not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mmthink import Agent, load_trace
from mmthink.core.lock import run_lock
from mmthink.errors import InputError, RunBusy

ROOT = Path(__file__).resolve().parents[1]
HOLD = (
    "import sys, time; from pathlib import Path; from mmthink.core.lock import run_lock\n"
    "with run_lock(Path(sys.argv[1]), fresh=False):\n    print('held', flush=True); time.sleep(60)\n"
)


def holder(run_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture()
def paused(tmp_path: Path) -> Path:
    res = Agent.from_profile("embedded").run("a red kite above a green hill", out=tmp_path, review=True)
    assert res.status == "awaiting_review"
    return res.trace


def test_a_second_writer_is_refused_with_its_own_exit_code(paused: Path) -> None:
    before = (paused / "steps.jsonl").read_bytes(), (paused / "manifest.json").read_bytes()
    proc = holder(paused)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "mmthink.cli", "resume", str(paused), "--approve"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
        assert out.returncode == 7, out.stderr
        assert "busy" in out.stderr and f"pid {proc.pid}" in out.stderr and len(out.stderr.strip().splitlines()) == 1
        with pytest.raises(RunBusy):
            Agent.for_run(paused).resume(paused, decision="approve")
    finally:
        proc.kill()
        proc.wait()
    assert before == ((paused / "steps.jsonl").read_bytes(), (paused / "manifest.json").read_bytes()), (
        "the refused calls wrote nothing"
    )


def test_a_killed_holder_does_not_block_the_next_writer(paused: Path) -> None:
    proc = holder(paused)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    res = Agent.for_run(paused).resume(paused, decision="approve")
    assert res.status in ("succeeded", "unmet") and load_trace(paused).verify() == []


def test_approve_and_abort_at_once_record_one_decision(paused: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mmthink.cli", "resume", str(paused), flag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ("--approve", "--abort")
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    trace = load_trace(paused)
    decisions = [s for s in trace.steps if s.node == "review" and s.title.startswith("review:")]
    assert trace.verify() == [] and len(decisions) == 1
    assert trace.status in ("succeeded", "unmet", "stopped")
    assert codes[-1] in (2, 7), codes  # the loser is refused (busy) or finds the review already answered


def test_a_given_run_id_that_exists_is_refused(tmp_path: Path) -> None:
    agent = Agent.from_profile("embedded")
    agent.run("a blue boat", out=tmp_path, run_id="same")
    with pytest.raises(InputError) as e:
        agent.run("a red boat", out=tmp_path, run_id="same")
    assert e.value.field == "run_id"


def test_two_runs_racing_for_one_run_id_never_share_a_folder(tmp_path: Path) -> None:
    agent = Agent.from_profile("embedded")
    results: list[object] = []

    def go(text: str) -> None:
        try:
            results.append(agent.run(text, out=tmp_path, run_id="race"))
        except (InputError, RunBusy) as e:
            results.append(e)

    threads = [threading.Thread(target=go, args=(t,)) for t in ("a blue boat", "a red boat")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, Exception) for r in results) == 1
    assert load_trace(tmp_path / "race").verify() == []


def test_lock_claims_a_fresh_folder_atomically(tmp_path: Path) -> None:
    with run_lock(tmp_path / "r", fresh=True):
        with pytest.raises(RunBusy):
            with run_lock(tmp_path / "r", fresh=False):
                pass
    with pytest.raises(InputError):
        with run_lock(tmp_path / "r", fresh=True):
            pass
    time.sleep(0)
