"""Missing weights fail at once with the fix for what was asked (hf reasoner, mmthink.weights).

Nothing here needs the network: the hub is either switched off (HF_HUB_OFFLINE) or pointed at a
port where nothing listens, and the Hugging Face cache is an empty folder of the test's own.
"""

from __future__ import annotations

import socket
import time

import pytest

from mmthink.errors import BackendError, ModelUnavailable
from mmthink.reasoners.hf import HFReasoner
from mmthink.weights import locate


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_error(model: str, **kw) -> tuple[ModelUnavailable, float]:
    t0 = time.monotonic()
    with pytest.raises(ModelUnavailable) as e:
        HFReasoner(model, device="cpu", **kw).load()
    return e.value, time.monotonic() - t0


def test_a_missing_gguf_names_the_file_not_its_folder(tmp_path):
    gguf = tmp_path / "models" / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    err, took = load_error(str(gguf))
    msg = str(err)
    assert f"no GGUF file at '{gguf}'" in msg and "does not exist" in msg and "gguf_file=" in msg
    assert "hf download" not in msg and f"no model at '{gguf.parent}'" not in msg
    assert err.retryable is False and isinstance(err, BackendError) and took < 5


def test_a_missing_gguf_lists_the_files_beside_it(tmp_path):
    (tmp_path / "other-q8_0.gguf").write_bytes(b"GGUF")
    err, _ = load_error(str(tmp_path / "model-q4.gguf"))
    assert "other-q8_0.gguf" in str(err)


def test_a_folder_of_gguf_files_says_which_to_pass(tmp_path):
    (tmp_path / "a-q4.gguf").write_bytes(b"GGUF")
    (tmp_path / "b-q8.gguf").write_bytes(b"GGUF")
    err, _ = load_error(str(tmp_path))
    assert "gguf_file='a-q4.gguf'" in str(err) and "b-q8.gguf" in str(err)
    err, _ = load_error(str(tmp_path), gguf_file="c.gguf")
    assert "no GGUF file 'c.gguf'" in str(err) and "a-q4.gguf" in str(err)


def test_a_missing_local_folder_names_the_path_looked_at(tmp_path):
    folder = tmp_path / "weights" / "qwen3"
    err, took = load_error(str(folder))
    assert f"no model at '{folder}'" in str(err) and "does not exist" in str(err)
    assert f"hf download {folder}" not in str(err) and took < 5
    empty = tmp_path / "empty"
    empty.mkdir()
    err, _ = load_error(str(empty))
    assert "no config.json and no .gguf" in str(err)


def test_a_missing_hub_id_offline_fails_at_once_with_the_download_command(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    err, took = load_error("Qwen/Qwen3-0.6B")
    assert "`hf download Qwen/Qwen3-0.6B`" in str(err) and "HF_HUB_OFFLINE" in str(err)
    assert err.retryable is False and err.fatal is True and took < 5
    err, _ = load_error("Qwen/Qwen2.5-0.5B-Instruct-GGUF", gguf_file="qwen2.5-0.5b-instruct-q4_k_m.gguf")
    assert "`hf download Qwen/Qwen2.5-0.5B-Instruct-GGUF qwen2.5-0.5b-instruct-q4_k_m.gguf`" in str(err)


def test_a_hub_that_does_not_answer_counts_as_offline(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    err, took = load_error("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert "did not answer" in str(err) and "`hf download HuggingFaceTB/SmolLM2-135M-Instruct`" in str(err)
    assert took < 5


def test_a_cached_hub_id_is_found_without_the_network(tmp_path, monkeypatch):
    snap = tmp_path / "hub-cache" / "models--acme--tiny" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    found = locate("acme/tiny")
    assert found.local_only and found.source == "acme/tiny" and found.cache_dir == str(tmp_path / "hub-cache")
