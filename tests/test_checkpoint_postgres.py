"""Durable runs across processes with a checkpointer chosen by URL (``MMTHINK_CHECKPOINT_URL``).

The Postgres tests start a real, throwaway PostgreSQL server from Debian's ``postgresql`` package
(``tools/install_postgres.sh``): ``initdb`` in a temporary folder as an unprivileged user, password
authentication, listening on 127.0.0.1 on a free port. They skip, saying why, where the server or
the Python client (``pip install 'mmthink[postgres]'``) is not installed. The same two-process
scenarios also run against a shared SQLite file, which needs nothing extra.
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
from mmthink.checkpoint_url import checkpointer_from_url, mask_url, url_kind
from mmthink.cli import main
from mmthink.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "three red apples on a table, a blue cup to the left of them"
PASSWORD = pg_server.PASSWORD
postgres_url = pg_server.postgres_url  # the fixture: a server of our own for this module
free_port = pg_server.free_port


@pytest.fixture(params=["postgres", "sqlite"])
def checkpoint_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'shared' / 'checkpoints.sqlite'}"


def _python(code: str, url: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that only knows the URL (the other process shares nothing else)."""
    env = {**os.environ, "MMTHINK_CHECKPOINT_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


START_FOR_REVIEW = """
import json, sys, mmthink
res = mmthink.Agent.from_profile("embedded").run(sys.argv[1], out=sys.argv[2], run_id=sys.argv[3], review=True,
                                                  width=128, height=96)
print(json.dumps({"status": res.status, "trace": str(res.trace)}))
"""

KILL_AT_FIRST_OBSERVATION = """
import os, signal, sys, mmthink
stream = mmthink.Agent.from_profile("embedded").stream(sys.argv[1], out=sys.argv[2], run_id=sys.argv[3],
                                                         width=128, height=96)
for step in stream:
    if step.kind == "observation":
        os.kill(os.getpid(), signal.SIGKILL)
"""

RESUME = """
import json, sys, mmthink
res = mmthink.Agent.resume(sys.argv[1], **({"decision": sys.argv[2]} if len(sys.argv) > 2 else {}))
print(json.dumps({"status": res.status, "final": str(res.final)}))
"""


def _last_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_run_paused_in_one_process_is_approved_from_another(checkpoint_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "bundles"  # the path both workers see
    run_id = f"review-{uuid.uuid4().hex[:8]}"
    first = _last_json(_python(START_FOR_REVIEW, checkpoint_url, PROMPT, str(shared), run_id))
    assert first["status"] == "awaiting_review"
    run_dir = shared / run_id
    assert not list(run_dir.glob(".checkpoint*"))  # the checkpoint lives in the database named by the URL
    second = _last_json(_python(RESUME, checkpoint_url, str(run_dir), "approve"))
    assert second["status"] == "succeeded"
    trace = mmthink.load_trace(run_dir)
    assert trace.status == "succeeded" and trace.final_path.resolve() == Path(second["final"]).resolve()
    assert trace.by_kind("final")


def test_a_killed_workers_run_is_resumed_by_another_process(checkpoint_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "bundles"
    run_id = f"killed-{uuid.uuid4().hex[:8]}"
    killed = _python(KILL_AT_FIRST_OBSERVATION, checkpoint_url, PROMPT, str(shared), run_id)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run_dir = shared / run_id
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "running"
    done = _last_json(_python(RESUME, checkpoint_url, str(run_dir)))
    assert done["status"] == "succeeded"
    trace = mmthink.load_trace(run_dir)  # indices contiguous, hashes intact: nothing lost or repeated
    resumes = trace.manifest["resumes"]
    assert len(resumes) == 1 and resumes[0]["from_step"] >= 1  # picked up from the database, not from scratch
    if checkpoint_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(checkpoint_url) as conn:
            n = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (run_id,)).fetchone()[0]
        assert n > 0


def test_an_unreachable_database_fails_at_start_with_the_url_masked(monkeypatch, capsys, tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install 'mmthink[postgres]')")
    pytest.importorskip("langgraph.checkpoint.postgres", reason="pip install 'mmthink[postgres]'")
    url = f"postgresql://mmthink:{PASSWORD}@127.0.0.1:{free_port()}/mmthink"
    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", url)
    with pytest.raises(InputError) as e:
        mmthink.Agent.from_profile("embedded")
    msg = str(e.value)
    assert e.value.field == "MMTHINK_CHECKPOINT_URL"
    assert f"mmthink:***@127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}/mmthink" in msg and PASSWORD not in msg
    assert main(["run", PROMPT, "--out", str(tmp_path / "runs"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the checkpoint database" in err and PASSWORD not in err
    assert not (tmp_path / "runs").exists()  # nothing started
    (tmp_path / "r.jsonl").write_text('"a red apple"\n')
    assert main(["batch", str(tmp_path / "r.jsonl"), "--out", str(tmp_path / "batch"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the checkpoint database" in err and PASSWORD not in err
    assert not (tmp_path / "batch").exists()


def test_urls_are_checked_and_masked(tmp_path: Path) -> None:
    assert (
        mask_url("postgresql://u:pw@h:5432/db?sslmode=require&password=x")
        == "postgresql://u:***@h:5432/db?sslmode=require&password=***"
    )
    assert mask_url("postgres://h/db") == "postgres://h/db"
    assert [url_kind(u) for u in ("postgresql://h/db", "postgres://h/db", "sqlite:///a/b.sqlite", "runs/ck.db")] == [
        "postgres",
        "postgres",
        "sqlite",
        "sqlite",
    ]
    for bad in ("mysql://u:pw@h/db", "", "runs/ck.txt"):
        with pytest.raises(InputError) as e:
            url_kind(bad)
        assert e.value.field == "MMTHINK_CHECKPOINT_URL" and "pw" not in str(e.value)
    with checkpointer_from_url(f"sqlite:///{tmp_path / 'a' / 'ck.sqlite'}") as saver:
        assert type(saver).__name__ == "SqliteSaver"
    assert (tmp_path / "a" / "ck.sqlite").is_file()


def test_postgres_checkpointer_is_shared_by_runs_in_one_process(postgres_url: str, tmp_path: Path) -> None:
    with checkpointer_from_url(postgres_url) as saver:
        agent = mmthink.Agent.from_profile("embedded", checkpointer=saver)
        first = agent.run(PROMPT, out=tmp_path, review=True, width=128, height=96)
        assert first.status == "awaiting_review"
        done = agent.resume(first.trace, decision="approve")
        assert done.status == "succeeded"


def test_a_batch_on_two_workers_checkpoints_into_postgres(postgres_url: str, tmp_path: Path, monkeypatch) -> None:
    import psycopg

    monkeypatch.setenv("MMTHINK_CHECKPOINT_URL", postgres_url)  # the workers inherit it
    prompts = [
        {"prompt": p, "width": 128, "height": 96}
        for p in (PROMPT, "a yellow kite above a house", "two white clouds above a red house")
    ]
    res = mmthink.batch(prompts, tmp_path / "out", workers=2)
    assert res.ok, res.records
    with psycopg.connect(postgres_url) as conn:
        for rec in res.records:
            assert not list((res.out / rec["run_id"]).glob(".checkpoint*"))
            n = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (rec["run_id"],)).fetchone()[0]
            assert n > 0, rec
