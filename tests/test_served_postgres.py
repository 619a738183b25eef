"""Served graphs shared by processes through a checkpointer chosen by ``MMTHINK_CHECKPOINT_URL``.

Each process builds ``mmthink.serve.served_graph()`` in a fresh interpreter that knows only the URL
and the shared bundle folder (``MMTHINK_OUT_DIR``), and drives it as a Python service would, with
LangGraph's own calls and a thread id: a run paused for review in one process is approved from
another; a process killed (SIGKILL) in the middle of a run is continued by another with
``graph.invoke(None, config)``. Against a real PostgreSQL server (tests/pg_server.py; skipped, saying
why, where it cannot be started) and against one shared SQLite file, which needs nothing extra.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pg_server
import pytest

import mmthink
from mmthink.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
REQUEST = {"text": "three red apples on a table, a blue cup to the left of them", "width": 128, "height": 96}
postgres_url = pg_server.postgres_url  # the fixture: a server of our own for this module


@pytest.fixture(params=["postgres", "sqlite"])
def checkpoint_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'shared' / 'checkpoints.sqlite'}"


GRAPH = """
import json, os, signal, sys
from langgraph.types import Command
from mmthink.serve import served_graph

graph = served_graph()
config = {"configurable": {"thread_id": sys.argv[1]}}

def report(state):
    pending = [i.value for t in graph.get_state(config).tasks for i in t.interrupts]
    print(json.dumps({"status": state.get("status"), "run_dir": state.get("run_dir"),
                      "final": (state.get("final") or {}).get("path"), "pending": pending}))
"""

START_FOR_REVIEW = (
    GRAPH
    + """
report(graph.invoke({"request": json.loads(sys.argv[2]), "review": True}, config))
"""
)

APPROVE = (
    GRAPH
    + """
report(graph.invoke(Command(resume={"action": "approve"}), config))
"""
)

KILL_AT_FIRST_OBSERVATION = (
    GRAPH
    + """
for part in graph.stream({"request": json.loads(sys.argv[2])}, config, stream_mode="custom"):
    if part.get("type") == "step" and part["step"]["kind"] == "observation":
        os.kill(os.getpid(), signal.SIGKILL)  # the critique's step is on disk, its checkpoint is not
"""
)

CONTINUE = (
    GRAPH
    + """
report(graph.invoke(None, config))
"""
)


def _process(code: str, url: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter that shares only the database URL and the bundle folder with the others."""
    env = {**os.environ, "MMTHINK_CHECKPOINT_URL": url, "MMTHINK_OUT_DIR": str(out), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def _report(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_served_run_paused_in_one_process_is_approved_from_another(checkpoint_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "bundles"
    thread = f"review-{uuid.uuid4().hex[:8]}"
    first = _report(_process(START_FOR_REVIEW, checkpoint_url, shared, thread, json.dumps(REQUEST)))
    [pending] = first["pending"]  # awaiting review: paused before the final, the draft shown
    assert pending["type"] == "review" and pending["draft"]["id"].startswith("s") and first["final"] is None
    run_dir = Path(first["run_dir"])
    assert run_dir.parent == shared.resolve() and not list(run_dir.glob(".checkpoint*"))
    assert [json.loads(x)["title"] for x in (run_dir / "steps.jsonl").read_text().splitlines()][-1] == "awaiting review"
    second = _report(_process(APPROVE, checkpoint_url, shared, thread))
    assert second["status"] == "succeeded" and second["pending"] == [] and second["run_dir"] == str(run_dir)
    trace = mmthink.load_trace(run_dir)  # verifies every hash and the step indices
    assert trace.status == "succeeded" and trace.final_path.resolve() == Path(second["final"]).resolve()
    titles = [s.title for s in trace.steps]
    assert titles[-3:] == ["awaiting review", "review: approved", "final image"]
    assert titles.count("awaiting review") == 1
    [resume] = trace.manifest["resumes"]  # the other process picked the run up
    assert resume["by"] != f"pid {os.getpid()}"


def test_a_killed_served_process_is_continued_by_another(checkpoint_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "bundles"
    thread = f"killed-{uuid.uuid4().hex[:8]}"
    killed = _process(KILL_AT_FIRST_OBSERVATION, checkpoint_url, shared, thread, json.dumps(REQUEST))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    [run_dir] = [p for p in shared.iterdir() if p.is_dir()]
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "running"
    done = _report(_process(CONTINUE, checkpoint_url, shared, thread))
    assert done["status"] == "succeeded" and Path(done["run_dir"]) == run_dir.resolve()
    trace = mmthink.load_trace(run_dir)
    assert trace.status == "succeeded" and trace.by_kind("final")
    [resume] = trace.manifest["resumes"]
    assert resume["from_step"] >= 2  # from the checkpoint in the database, not from scratch
    # the killed critique's observation is dropped and written again once (1), unless its checkpoint reached the
    # database before the kill (0: the graph's checkpoint write races the SIGKILL); never more, never twice
    assert resume["dropped_steps"] in (0, 1)
    observed = [s.ref for s in trace.by_kind("observation")]
    assert len(observed) == len(set(observed))
    if checkpoint_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(checkpoint_url) as conn:
            n = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread,)).fetchone()[0]
        assert n > 0


def test_a_served_graph_with_an_unreachable_database_fails_at_start(monkeypatch, tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install 'mmthink[postgres]')")
    pytest.importorskip("langgraph.checkpoint.postgres", reason="pip install 'mmthink[postgres]'")
    from mmthink.serve import served_graph

    port = pg_server.free_port()
    url = f"postgresql://mmthink:{pg_server.PASSWORD}@127.0.0.1:{port}/mmthink"
    monkeypatch.setenv("MMTHINK_OUT_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", url)
    for call in (lambda: served_graph(), lambda: served_graph(checkpointer=url)):
        with pytest.raises(InputError) as e:
            call()
        msg = str(e.value)
        assert e.value.field == "MMTHINK_CHECKPOINT_URL" and "cannot reach the checkpoint database" in msg
        assert f"postgresql://mmthink:***@127.0.0.1:{port}/mmthink" in msg and pg_server.PASSWORD not in msg
    assert not (tmp_path / "runs").exists()  # nothing started
    # a graph for a LangGraph server never opens ours: the server brings its own persistence
    assert served_graph(checkpointer="server").checkpointer is None


REVISE = (
    GRAPH
    + """
report(graph.invoke(Command(resume={"action": "revise", "note": "make the apples green"}), config))
"""
)


def test_a_long_lived_server_process_sees_what_another_wrote_in_between(
    checkpoint_url: str, tmp_path: Path, monkeypatch
) -> None:
    """Process A (this one) pauses a run, B answers with a revision (the run pauses again), A approves: A's
    copy of the trace is stale by then, so it reads the run back instead of writing over B's steps."""
    from langgraph.types import Command

    from mmthink.serve import served_graph

    shared = tmp_path / "bundles"
    monkeypatch.setenv("MMTHINK_OUT_DIR", str(shared))
    graph = served_graph(checkpointer=checkpoint_url)
    config = {"configurable": {"thread_id": f"long-{uuid.uuid4().hex[:8]}"}}
    first = graph.invoke({"request": REQUEST, "review": True}, config)
    assert graph.get_state(config).tasks[0].interrupts and first.get("final") is None
    revised = _report(_process(REVISE, checkpoint_url, shared, config["configurable"]["thread_id"]))
    assert revised["pending"] and revised["final"] is None  # paused again, on the revised draft
    done = graph.invoke(Command(resume={"action": "approve"}), config)
    assert done["status"] in ("succeeded", "unmet")
    trace = mmthink.load_trace(done["run_dir"])  # step indices contiguous: nobody wrote over anybody
    titles = [s.title for s in trace.steps]
    assert titles.count("awaiting review") == 2 and "review: revise" in titles
    assert titles[-2:] == ["review: approved", "final image"]
