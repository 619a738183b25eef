"""Runs killed in their first moments, before route wrote the manifest, really killed (SIGKILL).

The child process kills itself at an exact point of the real code path, found with a Python audit
hook (``sys.addaudithook``): when it opens the new run folder's ``.lock`` (the folder was just made,
nothing is in it yet), or when it opens a checkpoint database (the start record is written,
the graph has not run). Then another process resumes, or the batch is run again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import mmthink
from mmthink.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "three red apples on a table, a blue cup to the left of them"

KILL_AT = """
import os, signal, sys

def hook(event, args):
    # "lock": the run folder was just made; "checkpoint": its start record is written, no node has run
    try:
        path = os.fsdecode(os.fspath(args[0])) if args else ""
    except TypeError:
        return
    if (sys.argv[1] == "lock" and event == "open" and path.endswith("/.lock")) or (
        sys.argv[1] == "checkpoint" and event == "sqlite3.connect" and path.endswith("/.checkpoint.sqlite")
    ):
        os.kill(os.getpid(), signal.SIGKILL)

sys.addaudithook(hook)
"""

RUN = (
    KILL_AT
    + """
import mmthink
mmthink.Agent.from_profile("embedded").run(sys.argv[2], out=sys.argv[3], run_id="early", width=128, height=96)
"""
)

BATCH = (
    KILL_AT
    + """
from mmthink.cli import main
sys.exit(main(["batch", sys.argv[2], "--out", sys.argv[3], "--workers", "1", "-q"]))
"""
)


def _child(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MMTHINK_CHECKPOINT_URL", None)  # the per-run SQLite checkpoint
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_run_killed_as_its_folder_appears_says_there_is_nothing_to_resume(tmp_path: Path) -> None:
    killed = _child(RUN, "lock", PROMPT, str(tmp_path))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run_dir = tmp_path / "early"
    assert run_dir.is_dir() and not list(run_dir.iterdir())  # killed before even the lock file was made
    for resume in (mmthink.Agent.resume, mmthink.Agent.from_profile("embedded").resume):
        with pytest.raises(InputError) as e:
            resume(run_dir)
        assert e.value.field == "run" and str(run_dir) in str(e.value)
        assert "before anything was recorded" in str(e.value) and "run the request again" in str(e.value)


def test_a_run_killed_before_its_manifest_is_resumed_from_its_start_record(tmp_path: Path) -> None:
    killed = _child(RUN, "checkpoint", PROMPT, str(tmp_path))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run_dir = tmp_path / "early"
    assert not (run_dir / "manifest.json").exists() and (run_dir / ".start.json").is_file()
    done = mmthink.Agent.resume(run_dir)  # the agent's settings come from the start record too
    assert done.status == "succeeded"
    trace = mmthink.load_trace(run_dir)
    assert trace.status == "succeeded" and trace.manifest["request"]["text"] == PROMPT
    assert trace.steps[0].node == "route" and trace.by_kind("final")
    assert not (run_dir / ".start.json").exists()  # the manifest now says what it said


def test_a_batch_killed_early_runs_those_requests_again(tmp_path: Path) -> None:
    requests = tmp_path / "r.jsonl"
    requests.write_text(
        "\n".join(
            json.dumps({"prompt": p, "width": 128, "height": 96}) for p in (PROMPT, "a yellow kite above a house")
        )
        + "\n"
    )
    out = tmp_path / "out"
    # 1. killed as the first request's folder appears: an empty folder is left
    assert _child(BATCH, "lock", str(requests), str(out)).returncode == -signal.SIGKILL
    [empty] = [p for p in out.iterdir() if p.is_dir()]
    assert not list(empty.iterdir())
    # 2. run again, killed once the first request's start record is written (its manifest is not)
    assert _child(BATCH, "checkpoint", str(requests), str(out)).returncode == -signal.SIGKILL
    assert not empty.exists()  # nothing of a run was in it: removed, not set aside
    [started] = [p for p in out.iterdir() if p.is_dir()]
    assert (started / ".start.json").is_file() and not (started / "manifest.json").exists()
    # 3. run again to the end: the first request is resumed from its start record, the second runs
    done = _child(BATCH, "none", str(requests), str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    recs = {r["line"]: r for r in map(json.loads, (out / "batch.jsonl").read_text().splitlines())}
    assert (recs[1]["run_id"], recs[1]["action"], recs[1]["status"]) == (started.name, "resumed", "succeeded")
    assert (recs[2]["action"], recs[2]["status"]) == ("ran", "succeeded")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(r["run_id"] for r in recs.values())
    for rec in recs.values():
        assert mmthink.load_trace(out / rec["run_id"]).status == "succeeded"
