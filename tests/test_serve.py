"""Serving the graphs with the LangGraph tooling users already have.

Starts ``langgraph dev`` (from ``langgraph-cli[inmem]``) on 127.0.0.1 and a free port, runs a
graph through the LangGraph SDK client, and checks the streamed steps (custom stream mode), the
final artifact, and a review interrupt resumed with ``Command(resume=...)``. Skipped when the
CLI is not installed. The server uses the graphs listed in the repository's ``langgraph.json``
when the embedded image renderer is installed; otherwise the same graph built with the box
renderer from tools/faults.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUEST = {
    "text": "Please create a cinematic image of an interstellar war. It needs to be epic.",
    "modality": "image",
    "seed": 7,
}


def test_langgraph_json_lists_every_modality() -> None:
    cfg = json.loads((ROOT / "langgraph.json").read_text())
    assert set(cfg["graphs"]) >= {"image", "speech", "video"}
    for name, spec in cfg["graphs"].items():
        path, _, symbol = spec.partition(":")
        source = (ROOT / path).read_text()
        assert symbol == "graph" and re.search(r"^graph = ", source, re.M), name
        assert f'"modality": "{name}"' in source  # documents its input


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _project(tmp: Path) -> Path:
    """A langgraph.json for the server: the repository's graphs, or the same graph with the box renderer."""
    if importlib.util.find_spec("mmthink.modalities.image.render.embedded") is not None:
        repo = json.loads((ROOT / "langgraph.json").read_text())
        graphs = {
            name: str((ROOT / spec.split(":")[0]).resolve()) + ":" + spec.split(":")[1]
            for name, spec in repo["graphs"].items()
        }
    else:
        (tmp / "toy_graph.py").write_text(
            "import os, sys\n"
            f"sys.path.insert(0, {str(ROOT / 'tools')!r})\n"
            "import faults\n"
            "from mmthink.core.graph import build_graph\n"
            "agent = faults.toy_agent(os.path.abspath(os.environ['MMTHINK_OUT_DIR']), durable=False)\n"
            "comp = agent.components()\n"
            "comp.fixed_out_dir = True\n"
            "graph = build_graph(served=comp).compile()\n"
        )
        graphs = {"image": "./toy_graph.py:graph"}
    cfg = tmp / "langgraph.json"
    cfg.write_text(json.dumps({"dependencies": [str(ROOT)], "graphs": graphs, "env": {}}))
    return cfg


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if importlib.util.find_spec("langgraph_cli") is None or importlib.util.find_spec("langgraph_api") is None:
        pytest.skip("langgraph-cli[inmem] is not installed (pip install 'langgraph-cli[inmem]')")
    tmp = tmp_path_factory.mktemp("serve")
    cfg = _project(tmp)
    port = _free_port()
    env = {
        **os.environ,
        "MMTHINK_OUT_DIR": str(tmp / "runs"),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "PYTHONUNBUFFERED": "1",
    }
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "langgraph_cli",
            "dev",
            "--no-browser",
            "--no-reload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(cfg),
        ],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail("langgraph dev exited:\n" + (tmp / "server.log").read_text(errors="replace")[-3000:])
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "langgraph dev did not answer within 120 s:\n"
                    + (tmp / "server.log").read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)
        yield url, tmp
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(15)
        log.close()


def _stream(client: Any, thread_id: str, **kw: Any) -> tuple[list[dict], dict]:
    steps: list[dict] = []
    values: dict = {}
    for part in client.runs.stream(thread_id, "image", stream_mode=["custom", "values"], **kw):
        if part.event.startswith("custom") and part.data.get("type") == "step":
            steps.append(part.data["step"])
        elif part.event.startswith("values"):
            values = part.data
        elif part.event == "error":
            raise AssertionError(f"the server reported an error: {part.data}")
    return steps, values


@pytest.mark.slow
def test_run_a_graph_through_the_sdk(server: tuple[str, Path]) -> None:
    from langgraph_sdk import get_sync_client
    from PIL import Image

    from mmthink.trace.reader import load_trace

    url, tmp = server
    client = get_sync_client(url=url)
    thread = client.threads.create()
    # a client cannot choose where the server writes
    steps, values = _stream(client, thread["thread_id"], input={"request": REQUEST, "out_dir": str(tmp / "elsewhere")})
    assert values["status"] == "succeeded"
    kinds = [s["kind"] for s in steps]
    assert kinds[0] == "decision" and "draft" in kinds and kinds[-1] == "final"
    final = Path(values["final"]["path"])
    assert final.is_file() and final.is_relative_to(tmp / "runs") and not (tmp / "elsewhere").exists()
    with Image.open(final) as img:
        assert img.size == (768, 512)
    trace = load_trace(values["run_dir"])
    assert [s.to_dict()["title"] for s in trace.steps] == [s["title"] for s in steps]


@pytest.mark.slow
def test_review_interrupt_over_the_server(server: tuple[str, Path]) -> None:
    from langgraph_sdk import get_sync_client

    url, _ = server
    client = get_sync_client(url=url)
    thread = client.threads.create()
    steps, values = _stream(client, thread["thread_id"], input={"request": REQUEST, "review": True})
    assert steps[-1]["title"] == "awaiting review" and values.get("final") is None
    state = client.threads.get_state(thread["thread_id"])
    [pending] = state["interrupts"]
    assert pending["value"]["type"] == "review" and pending["value"]["draft"]["id"].startswith("s")
    more, values = _stream(client, thread["thread_id"], command={"resume": {"action": "approve"}})
    assert [s["title"] for s in more] == ["review: approved", "final image"]
    assert values["status"] == "succeeded" and Path(values["final"]["path"]).is_file()
