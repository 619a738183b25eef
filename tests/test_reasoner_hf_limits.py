"""The hf reasoner's deadline, its stop labels, and loading a hub id from the local cache only.

A tiny random Qwen3 built in the test (nothing downloaded), steered by test-only processors
(tiny_models.Bias / Script) that run before the reasoner's own machinery.
"""

from __future__ import annotations

import shutil
import time

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_models import Bias, Script, ascii_ids, build_tiny_qwen3, build_tokenizer, script_ids  # noqa: E402

from mmthink.errors import DeadlineReached  # noqa: E402
from mmthink.modalities.registry import guide, tagset
from mmthink.reasoners.base import Turn, last_turn  # noqa: E402
from mmthink.reasoners.hf import HFReasoner  # noqa: E402
from mmthink.request import Request  # noqa: E402


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))


def turn(**kw) -> Turn:
    kw.setdefault("mode", "on")
    kw.setdefault("tags", tagset())
    kw.setdefault("guide", guide("image"))
    return Turn(request=Request("draw a red ball"), modality="image", **kw)


def test_the_deadline_stops_generation_and_says_so(qwen_dir):
    tok = HFReasoner(str(qwen_dir), device="cpu").tokenizer
    r = HFReasoner(
        str(qwen_dir),
        device="cpu",
        max_new_tokens=100_000,
        system_prompt="You draw.",
        logits_processors=[Bias(ascii_ids(tok))],
    )
    r.load()
    got = []
    t0 = time.time()
    with pytest.raises(DeadlineReached, match="max_seconds") as e:
        for d in r.stream(turn(tokens_left=100_000, deadline=t0 + 1.0)):
            got.append(d)
    assert e.value.retryable is False
    assert r.last_run.stopped == "deadline" and got and sum(d.tokens or 0 for d in got) > 0
    assert time.time() - t0 < 30, "stopped at the deadline, not after 100,000 tokens"


def test_a_deadline_already_past_generates_nothing(qwen_dir):
    r = HFReasoner(str(qwen_dir), device="cpu", system_prompt="You draw.")
    r.last_run = None
    with pytest.raises(DeadlineReached):
        list(r.stream(turn(deadline=time.time() - 1)))
    assert r.last_run is None


@pytest.fixture(scope="module")
def merged_dir(tmp_path_factory):
    """A tiny Qwen3 whose vocabulary has a '>\\n' token, so '</sketch>' and the newline come as one piece."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-merged")
    tok = build_tokenizer()
    tok.add_tokens([">\n"])
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        tie_word_embeddings=True,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_a_stop_inside_a_merged_token_is_a_stop_at_the_tag(merged_dir):
    r = HFReasoner(str(merged_dir), device="cpu", system_prompt="You draw.", max_new_tokens=200)
    tok = r.tokenizer
    merged = tok.convert_tokens_to_ids(">\n")
    ids = script_ids(tok, 'A ball.\n<sketch id="s1">\nball: red\n</sketch') + [merged] + script_ids(tok, "MORE")
    r.logits_processors = [Script(ids)]
    thinking = "".join(d.text for d in r.stream(turn(tokens_left=500)) if d.channel == "thinking")
    assert merged in r.last_run.completion_ids and "MORE" not in thinking
    assert r.last_run.stopped == "stop string" and r.last_run.stop_tag == "</sketch>"
    assert last_turn(r) == {
        "stopped": "stop string",
        "stop_tag": "</sketch>",
        "constraint": "llguidance",
        "constrained_drafts": 1,
        "constrained_completed": 1,
    }


def test_a_cached_hub_id_loads_offline(qwen_dir, tmp_path, monkeypatch):
    snap = tmp_path / "hub" / "models--acme--tiny-qwen3" / "snapshots" / "0123abcd"
    shutil.copytree(qwen_dir, snap)
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text("0123abcd")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = HFReasoner("acme/tiny-qwen3", device="cpu", system_prompt="You draw.", max_new_tokens=4)
    r.logits_processors = [Bias(ascii_ids(r.tokenizer))]
    deltas = list(r.stream(turn(tokens_left=4)))
    assert sum(d.tokens or 0 for d in deltas if d.channel == "thinking") == 4


def test_an_empty_turn_is_a_retryable_error(qwen_dir):
    r = HFReasoner(str(qwen_dir), device="cpu", system_prompt="You draw.", max_new_tokens=8)
    tok = r.tokenizer
    r.logits_processors = [Bias([tok.eos_token_id], bonus=1e4)]  # the model ends its answer at once
    from mmthink.errors import BackendError

    with pytest.raises(BackendError, match="generated nothing") as e:
        list(r.stream(turn(mode="off")))
    assert e.value.retryable is True and r.last_run.stopped == "end of sequence"
