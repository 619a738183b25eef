"""Durable runs on a database as the README's "A served deployment with Postgres" describes them, tried the way
a newcomer would: passwords with characters a URL reserves, and a run resumed by a process that was not told
where its checkpoints are.

The Postgres tests start a real, throwaway PostgreSQL server (``tests/pg_server.py``) and skip, saying why,
where the server or the Python client is not installed; the rest need nothing extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pg_server
import pytest

import mmthink
from mmthink.checkpoint_url import WHERE, checkpointer_from_url, mask_url
from mmthink.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "three red apples on a table, a blue cup to the left of them"
postgres_url = pg_server.postgres_url  # the fixture: a server of our own for this module
TINY = {"width": 128, "height": 96}
ODD = "p@ss:w/rd#%?&x y"  # a password with every character a URL reserves


@pytest.mark.parametrize("password", ["pa/ss99", "pa#ss99", "pa?ss99", "pa@ss99", "pa%ss99", "pa ss99", ODD])
def test_a_password_written_as_it_is_never_shows_in_the_masked_url(password: str) -> None:
    for url in (
        f"postgresql://mmthink:{password}@db.internal:5432/mmthink",
        f"postgres://mmthink:{password}@db.internal/mmthink?sslmode=require",
    ):
        shown = mask_url(url)
        assert "ss99" not in shown and "rd#" not in shown and "***" in shown, shown
        assert shown.startswith(url.split(":", 1)[0] + "://mmthink:***@")


def test_masking_keeps_a_url_without_a_password_as_it_was_written() -> None:
    for url in ("postgresql://", "postgresql:///mmthink", "postgres://db.internal/mmthink?sslmode=require"):
        assert mask_url(url) == url
    assert mask_url(f"postgresql://mmthink:{quote(ODD, safe='')}@h/db") == "postgresql://mmthink:***@h/db"


@pytest.mark.parametrize("password", ["pa/ss99", "pa@ss99", "pa%ss99", "pa ss99"])
def test_an_unusable_password_fails_at_start_without_showing_it_and_says_to_percent_encode(password: str) -> None:
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install 'mmthink[postgres]')")
    pytest.importorskip("langgraph.checkpoint.postgres", reason="pip install 'mmthink[postgres]'")
    url = f"postgresql://mmthink:{password}@127.0.0.1:{pg_server.free_port()}/mmthink"
    with pytest.raises(InputError) as e, checkpointer_from_url(url):
        pass
    assert "ss99" not in str(e.value), str(e.value)
    assert "percent-encode" in e.value.fix and "%40" in e.value.fix


def test_a_password_with_reserved_characters_works_percent_encoded(postgres_url: str, tmp_path: Path) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE odd LOGIN SUPERUSER PASSWORD 'p@ss:w/rd#%?&x y'")
    host = postgres_url.rsplit("@", 1)[1]
    with checkpointer_from_url(postgres_url.replace("postgresql://", "postgres://", 1)) as saver:
        assert getattr(saver, WHERE) == mask_url(postgres_url)  # where a run's checkpoints are: one spelling
    url = f"postgresql://odd:{quote(ODD, safe='')}@{host}"
    with checkpointer_from_url(url) as saver:
        agent = mmthink.Agent.from_profile("embedded", checkpointer=saver)
        paused = agent.run(PROMPT, out=tmp_path, review=True, width=128, height=96)
        assert paused.status == "awaiting_review"
        assert agent.resume(paused.trace, decision="approve").status == "succeeded"
    with pytest.raises(InputError) as e, checkpointer_from_url(f"postgresql://odd:{ODD}@{host}"):
        pass  # the same password written as it is: refused, and not shown
    assert "ss:w" not in str(e.value) and "rd#" not in str(e.value) and "percent-encode" in e.value.fix


# ------------------------------------------------------------ a resume that is not told where the checkpoints are
START_FOR_REVIEW = """
import json, sys, mmthink
res = mmthink.Agent.from_profile("embedded").run(sys.argv[1], out=sys.argv[2], run_id=sys.argv[3], review=True,
                                                  width=128, height=96)
print(json.dumps({"status": res.status, "trace": str(res.trace), "steps": res.steps}))
"""


def _python(code: str, url: str | None, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MMTHINK_CHECKPOINT_URL"}
    env["PYTHONPATH"] = str(ROOT)
    if url:
        env["MMTHINK_CHECKPOINT_URL"] = url
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(params=["postgres", "sqlite"])
def checkpoint_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'shared' / 'checkpoints.sqlite'}"


def test_a_resume_without_the_database_refuses_instead_of_starting_the_run_over(
    checkpoint_url: str, tmp_path: Path, monkeypatch
) -> None:
    """The paused run's checkpoints are in the database; a worker without MMTHINK_CHECKPOINT_URL must not take
    the missing checkpoint for "killed before its first one" and run the request again from the start."""
    shared = tmp_path / "bundles"
    run_id = f"review-{uuid.uuid4().hex[:8]}"
    proc = _python(START_FOR_REVIEW, checkpoint_url, PROMPT, str(shared), run_id)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first = json.loads(proc.stdout.strip().splitlines()[-1])
    assert first["status"] == "awaiting_review"
    before = (shared / run_id / "steps.jsonl").read_bytes()
    monkeypatch.delenv("MMTHINK_CHECKPOINT_URL", raising=False)
    with pytest.raises(InputError) as e:
        mmthink.Agent.resume(shared / run_id, decision="approve")
    assert e.value.field == "MMTHINK_CHECKPOINT_URL"
    assert ("checkpoints.sqlite" if checkpoint_url.startswith("sqlite") else mask_url(checkpoint_url)) in str(e.value)
    assert (shared / run_id / "steps.jsonl").read_bytes() == before  # nothing dropped, nothing run again
    assert not list((shared / run_id).glob(".checkpoint.sqlite*"))  # nor an empty checkpoint file left behind
    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", checkpoint_url)  # told where they are, the approval goes through
    done = mmthink.Agent.resume(shared / run_id, decision="approve")
    assert done.status == "succeeded"
    assert mmthink.load_trace(shared / run_id).manifest["resumes"][0]["from_step"] >= first["steps"] - 1


def test_a_run_with_its_checkpoints_in_its_folder_is_not_restarted_by_a_process_that_has_a_database(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("MMTHINK_CHECKPOINT_URL", raising=False)
    paused = mmthink.Agent.from_profile("embedded").run(
        PROMPT, out=tmp_path / "runs", review=True, width=128, height=96
    )
    assert paused.status == "awaiting_review"
    before = (paused.trace / "steps.jsonl").read_bytes()
    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", f"sqlite:///{tmp_path / 'db' / 'ck.sqlite'}")
    with pytest.raises(InputError) as e:
        mmthink.Agent.resume(paused.trace, decision="approve")
    assert e.value.field == "MMTHINK_CHECKPOINT_URL" and "run folder" in str(e.value)
    assert (paused.trace / "steps.jsonl").read_bytes() == before


def test_mmthink_resume_on_a_served_run_says_to_continue_it_through_the_served_graph(
    tmp_path: Path, monkeypatch
) -> None:
    """A served run is kept under the thread id its caller chose, not its run id: ``Agent.resume`` (and
    ``mmthink resume``) finds no checkpoint under the run id and must not start the run over."""
    from langgraph.types import Command

    from mmthink.serve import served_graph

    url = f"sqlite:///{tmp_path / 'db' / 'ck.sqlite'}"
    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", url)
    monkeypatch.setenv("MMTHINK_OUT_DIR", str(tmp_path / "served"))
    graph = served_graph()
    cfg = {"configurable": {"thread_id": f"req-{uuid.uuid4().hex[:6]}"}}
    state = graph.invoke({"request": {"text": PROMPT, "modality": "image", **TINY}, "review": True}, cfg)
    run_dir = Path(state["run_dir"])
    before = (run_dir / "steps.jsonl").read_bytes()
    with pytest.raises(InputError) as e:
        mmthink.Agent.resume(run_dir, decision="approve")
    assert e.value.field == "run" and "served graph" in str(e.value) and "thread_id" in e.value.fix
    assert (run_dir / "steps.jsonl").read_bytes() == before
    assert graph.invoke(Command(resume={"action": "approve"}), cfg)["status"] == "succeeded"


def test_runs_go_on_after_the_database_dropped_the_pools_connections(postgres_url: str, tmp_path: Path) -> None:
    """A database restart, a failover or a proxy that closes idle connections leaves the pool holding dead
    ones: the next run must get a live connection, not fail on a dead one."""
    import psycopg

    with checkpointer_from_url(postgres_url) as saver:
        agent = mmthink.Agent.from_profile("embedded", checkpointer=saver)
        assert agent.run(PROMPT, out=tmp_path, **TINY).status == "succeeded"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            dropped = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE usename = 'mmthink' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()[0]
        assert dropped >= 1
        for _ in range(2):
            assert agent.run(PROMPT, out=tmp_path, **TINY).status == "succeeded"
