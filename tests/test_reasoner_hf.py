"""The transformers reasoner on a tiny random Qwen3 built in the test (nothing downloaded).

A random model writes random tokens, so each test steers it with a test-only processor
(``Bias`` / ``Script`` from tiny_models) that runs *before* the reasoner's own budget forcing;
what the tests check — where thinking closes, what is banned, where generation stops — is
decided by the reasoner's machinery.
"""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_models import (  # noqa: E402
    GGUF_QWEN3_HEAD_DIM,
    PLAIN_TEMPLATE,
    QWEN3_TEMPLATE,
    Bias,
    Script,
    ascii_ids,
    build_tiny_qwen3,
    build_tiny_qwen3_gguf,
    script_ids,
)

from mmthink.core.tags import StreamParser, TagEvent, format_observation  # noqa: E402
from mmthink.errors import BackendError, InputError  # noqa: E402
from mmthink.modalities.registry import guide, tagset
from mmthink.reasoners.base import Delta, Reasoner, Turn  # noqa: E402
from mmthink.reasoners.forcing import GRACEFUL_CLOSE  # noqa: E402
from mmthink.reasoners.hf import HFReasoner  # noqa: E402
from mmthink.request import Request  # noqa: E402
from mmthink.thinking import resolve_mode, strip_soft_switches  # noqa: E402

SYSTEM = "You draw."


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))


@pytest.fixture(scope="module")
def plain_dir(tmp_path_factory):
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-plain"), template=PLAIN_TEMPLATE)


@pytest.fixture(scope="module")
def tok(qwen_dir):
    return HFReasoner(str(qwen_dir), device="cpu").tokenizer


def make(folder, *processors, **kw) -> HFReasoner:
    kw.setdefault("system_prompt", SYSTEM)
    kw.setdefault("max_new_tokens", 64)
    return HFReasoner(str(folder), device="cpu", logits_processors=list(processors), **kw)


def turn(mode="on", text="draw a red ball", **kw) -> Turn:
    kw.setdefault("tags", tagset())
    kw.setdefault("guide", guide("image"))
    return Turn(request=Request(text), modality="image", mode=mode, **kw)


def split(deltas: list[Delta]) -> tuple[str, str, int, int]:
    th = "".join(d.text for d in deltas if d.channel == "thinking")
    an = "".join(d.text for d in deltas if d.channel == "answer")
    nt = sum(d.tokens or 0 for d in deltas if d.channel == "thinking")
    na = sum(d.tokens or 0 for d in deltas if d.channel == "answer")
    return th, an, nt, na


def no_markers(deltas: list[Delta]) -> bool:
    return not any("<think>" in d.text or "</think>" in d.text for d in deltas)


def close_id(tok) -> int:
    return tok.convert_tokens_to_ids("</think>")


def test_is_a_reasoner(qwen_dir):
    r = make(qwen_dir)
    assert isinstance(r, Reasoner) and r.name == "hf" and r.model == str(qwen_dir)


def test_budget_closes_thinking_exactly_at_the_budget(qwen_dir, tok):
    r = make(qwen_dir, Bias(ascii_ids(tok)), temperature=0.8)
    deltas = list(r.stream(turn(tokens_left=40)))
    th, an, nt, na = split(deltas)
    ids = r.last_run.completion_ids
    assert ids.count(close_id(tok)) == 1, "the end-of-thinking marker is generated exactly once"
    assert ids.index(close_id(tok)) == 40, "it comes right after the 40th thinking token"
    assert nt == 40 and len(tok.encode(th, add_special_tokens=False)) == 40
    assert r.last_run.forcing.forced_close and not r.last_run.forcing.graceful
    assert an and na > 0, "the answer continues after the forced close"
    assert no_markers(deltas)


def test_graceful_sentence_is_written_inside_the_budget(qwen_dir, tok):
    graceful = tok.encode(GRACEFUL_CLOSE, add_special_tokens=False)
    budget = 2 * len(graceful) + 10
    r = make(qwen_dir, Bias(ascii_ids(tok)), max_new_tokens=budget)
    deltas = list(r.stream(turn(tokens_left=budget)))
    th, an, nt, _ = split(deltas)
    assert th.endswith(GRACEFUL_CLOSE)
    assert nt == budget == len(tok.encode(th, add_special_tokens=False))
    assert r.last_run.forcing.graceful
    assert r.last_run.completion.count("</think>") == 1 and an


def test_budget_zero_answers_without_thinking(qwen_dir, tok):
    r = make(qwen_dir, Bias(ascii_ids(tok)))
    deltas = list(r.stream(turn(tokens_left=0)))
    th, an, nt, _ = split(deltas)
    assert th == "" and nt == 0 and an
    assert r.last_run.completion_ids[0] == close_id(tok)


def test_min_tokens_appends_wait_and_thinks_longer(qwen_dir, tok):
    eager = Bias([close_id(tok)], bonus=60.0)  # the model wants to stop thinking at once
    letters = Bias(ascii_ids(tok))
    base = make(qwen_dir, letters, eager)
    th0, _, nt0, _ = split(list(base.stream(turn(tokens_left=200))))
    assert nt0 == 0 and th0 == ""
    r = make(qwen_dir, letters, eager)
    deltas = list(r.stream(turn(tokens_left=200, min_tokens=20)))
    th, an, nt, _ = split(deltas)
    assert "Wait" in th and r.last_run.forcing.waits >= 1
    assert nt >= 20 > nt0
    assert r.last_run.completion.count("</think>") == 1 and no_markers(deltas)


def test_min_tokens_counts_tokens_already_used(qwen_dir, tok):
    eager = Bias([close_id(tok)], bonus=60.0)
    r = make(qwen_dir, Bias(ascii_ids(tok)), eager)
    deltas = list(r.stream(turn(tokens_left=200, min_tokens=20, tokens_used=20, transcript="earlier thoughts\n")))
    assert split(deltas)[2] == 0 and r.last_run.forcing.waits == 0


def test_off_qwen_template_has_no_thinking(qwen_dir, tok):
    want_think = Bias([tok.convert_tokens_to_ids("<think>"), close_id(tok)], bonus=60.0)
    r = make(qwen_dir, Bias(ascii_ids(tok)), want_think)
    deltas = list(r.stream(turn(mode="off")))
    th, an, nt, na = split(deltas)
    assert th == "" and nt == 0 and an and na > 0
    assert r.last_run.prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert r.last_run.prompt.count("<think>") == 1, "the template's own empty block, nothing injected twice"
    assert "<think>" not in r.last_run.completion and "</think>" not in r.last_run.completion
    assert no_markers(deltas)


def test_off_plain_template_injects_an_empty_think_block(plain_dir):
    r = make(plain_dir)
    tokp = r.tokenizer
    r.logits_processors = [Bias(ascii_ids(tokp))]
    assert not r.load().accepts_thinking
    deltas = list(r.stream(turn(mode="off")))
    th, an, _, _ = split(deltas)
    assert r.last_run.prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert th == "" and an and no_markers(deltas)


def test_on_plain_template_opens_a_think_block(plain_dir):
    r = make(plain_dir)
    r.logits_processors = [Bias(ascii_ids(r.tokenizer))]
    deltas = list(r.stream(turn(tokens_left=10)))
    assert r.last_run.prompt.endswith("<|im_start|>assistant\n<think>\n")
    assert split(deltas)[2] == 10


def test_an_empty_think_block_written_in_the_answer_does_not_leak(qwen_dir, tok):
    # The model itself writes "<think>\n\n</think>\n\n" in the answer; thinking is off.
    r = make(qwen_dir, Script(script_ids(tok, "Here:\n", "<think>", "\n\n", "</think>", "\n\nA red ball.")))
    r.logits_processors.append(Bias([tok.eos_token_id], bonus=0.0))
    deltas = list(r.stream(turn(mode="off")))
    th, an, _, _ = split(deltas)
    assert th == "" and "<think>" not in an and "</think>" not in an and an.startswith("Here:")


def test_stops_at_closing_sketch_and_resumes_the_same_chain(qwen_dir, tok):
    first = 'Let me sketch it.\n<sketch id="s1">\nball: small, red, center\n</sketch>\nMORE TEXT'
    r = make(qwen_dir, Script(script_ids(tok, first)), max_new_tokens=200)
    deltas = list(r.stream(turn(tokens_left=500)))
    th, an, nt, _ = split(deltas)
    assert th.endswith("</sketch>") and "MORE" not in th and an == ""
    assert r.last_run.stopped == "stop string"
    parser = StreamParser(tagset())
    tags = [e.tag for d in deltas for e in parser.feed(d.text) if isinstance(e, TagEvent)]
    assert [t.name for t in tags] == ["sketch"] and tags[0].body == "ball: small, red, center"
    first_prompt = r.last_run.prompt
    assert first_prompt.endswith("<think>\n")

    obs = "\n" + format_observation("s1", 0.91, "ball is red and centred; passed") + "\n"
    transcript = th + obs
    second = script_ids(tok, "It passed.\n", close_id(tok), '\n\nA red ball. <final_image ref="s1"/>')
    r.logits_processors = [Script(second), Bias([tok.eos_token_id], bonus=0.0)]
    deltas2 = list(r.stream(turn(tokens_left=500 - nt, tokens_used=nt, transcript=transcript)))
    th2, an2, _, _ = split(deltas2)
    assert r.last_run.prompt == first_prompt + transcript, "the second call continues the same chain"
    assert th2 == "It passed.\n"
    assert an2.startswith('A red ball. <final_image ref="s1"/>')
    assert no_markers(deltas + deltas2)


def test_unicode_is_streamed_whole_and_counted_exactly(qwen_dir, tok):
    text = "café ☕ naïve"
    r = make(qwen_dir, Script(script_ids(tok, text)))
    deltas = list(r.stream(turn(tokens_left=len(tok.encode(text, add_special_tokens=False)))))
    th, _, nt, _ = split(deltas)
    assert th == text and "\ufffd" not in th
    assert nt == len(tok.encode(text, add_special_tokens=False)) > len(text)


def test_force_close_writes_the_graceful_sentence_then_answers(qwen_dir, tok):
    r = make(qwen_dir, Bias(ascii_ids(tok)))
    deltas = list(r.stream(turn(transcript="I have thought enough.\n", tokens_left=200, force_close="budget spent")))
    th, an, nt, _ = split(deltas)
    assert th == GRACEFUL_CLOSE.lstrip("\n") and nt == len(tok.encode(th, add_special_tokens=False))
    assert r.last_run.prompt.endswith("I have thought enough.\n" + th + "</think>\n\n")
    assert r.last_run.phase == "answer" and an and "</think>" not in r.last_run.completion


def test_force_close_with_no_budget_left_writes_nothing_more(qwen_dir, tok):
    r = make(qwen_dir, Bias(ascii_ids(tok)))
    deltas = list(r.stream(turn(transcript="thinking", tokens_left=0, force_close="budget spent")))
    th, an, _, _ = split(deltas)
    assert th == "" and an and r.last_run.prompt.endswith("thinking\n</think>\n\n")


@pytest.mark.parametrize(
    "text,default,expect", [("draw a red ball /no_think", "on", "off"), ("draw a red ball /think", "off", "on")]
)
def test_soft_switches_override_the_default(qwen_dir, tok, text, default, expect):
    decision = resolve_mode(None, text, default, "image")
    assert decision.mode == expect and decision.source == "soft switch"
    r = make(qwen_dir, Bias(ascii_ids(tok)))
    deltas = list(r.stream(turn(mode=decision.mode, text=strip_soft_switches(text), tokens_left=12)))
    th, an, nt, _ = split(deltas)
    if expect == "off":
        assert th == "" and nt == 0 and r.last_run.prompt.endswith("<think>\n\n</think>\n\n")
    else:
        assert nt == 12 and r.last_run.prompt.endswith("<|im_start|>assistant\n<think>\n")
    assert "draw a red ball<|im_end|>" in r.last_run.prompt, "the switch itself is not sent to the model"


def test_stopping_iteration_stops_generation(qwen_dir, tok):
    r = make(qwen_dir, Bias(ascii_ids(tok)), max_new_tokens=5000)
    gen = r.stream(turn(tokens_left=5000))
    got = [next(gen) for _ in range(5)]
    gen.close()
    assert len(got) == 5 and r.last_run.stopped == "caller stopped"
    assert len(r.last_run.completion_ids) < 100
    assert not [t for t in threading.enumerate() if t.name == "mmthink-hf-generate"]


def test_thinking_cap_per_call_leaves_thinking_open(qwen_dir, tok):
    r = make(qwen_dir, Bias(ascii_ids(tok)), max_new_tokens=16)
    deltas = list(r.stream(turn(tokens_left=None)))
    th, an, nt, _ = split(deltas)
    assert nt == 16 and an == "" and r.last_run.stopped == "thinking cap"
    assert "</think>" not in r.last_run.completion


def test_default_system_prompt_teaches_the_protocol(qwen_dir, tok):
    r = HFReasoner(str(qwen_dir), device="cpu", max_new_tokens=4, logits_processors=[Bias(ascii_ids(tok))])
    list(r.stream(turn(tokens_left=4)))
    assert "<thinking_mode>on</thinking_mode>" in r.last_run.prompt and "<sketch" in r.last_run.prompt
    list(r.stream(turn(text="x", system="CUSTOM SYSTEM", tokens_left=2)))
    assert "CUSTOM SYSTEM" in r.last_run.prompt and "<thinking_mode>" not in r.last_run.prompt


def test_model_is_loaded_once_per_process(qwen_dir):
    a, b = HFReasoner(str(qwen_dir), device="cpu"), HFReasoner(str(qwen_dir), device="cpu", temperature=0)
    assert a.load() is b.load()
    assert a.load().dtype.__repr__() == "torch.float32" and a.device == "cpu"


def test_greedy_is_deterministic(qwen_dir, tok):
    outs = []
    for _ in range(2):
        r = make(qwen_dir, Bias(ascii_ids(tok)), temperature=0)
        outs.append(split(list(r.stream(turn(tokens_left=20))))[:2])
    assert outs[0] == outs[1]


def test_missing_model_says_how_to_get_it(tmp_path):
    with pytest.raises(BackendError, match="download") as e:
        HFReasoner(str(tmp_path / "no-such-model"), device="cpu").load()
    assert "HF_HOME" in str(e.value) and e.value.retryable is False


def test_missing_gguf_file(qwen_dir):
    with pytest.raises(BackendError, match="GGUF"):
        HFReasoner(str(qwen_dir), gguf_file="model-q4.gguf", device="cpu").load()


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"device": "gpu9"}, "device"),
    ],
)
def test_bad_arguments(qwen_dir, kw, field):
    with pytest.raises(InputError) as e:
        HFReasoner(str(qwen_dir), **kw)
    assert e.value.field == field


def test_bad_dtype(qwen_dir):
    with pytest.raises(InputError) as e:
        HFReasoner(str(qwen_dir), device="cpu", dtype="int3").load()
    assert e.value.field == "dtype"


@pytest.fixture(scope="module")
def bare_dir(tmp_path_factory):
    """A model whose vocabulary has no think markers: they are spelled in several tokens."""
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-bare"), template=PLAIN_TEMPLATE, markers=False)


def test_budget_forcing_with_markers_spelled_in_several_tokens(bare_dir):
    r = make(bare_dir)
    tokb = r.tokenizer
    assert len(r.load().close_ids) > 1
    r.logits_processors = [Bias(ascii_ids(tokb))]
    deltas = list(r.stream(turn(tokens_left=25)))
    th, an, nt, na = split(deltas)
    assert nt == 25 == len(tokb.encode(th, add_special_tokens=False))
    assert r.last_run.completion.count("</think>") == 1 and an and na > 0
    assert no_markers(deltas)


def test_off_with_markers_spelled_in_several_tokens(bare_dir):
    r = make(bare_dir)
    tokb = r.tokenizer
    r.logits_processors = [Script(script_ids(tokb, "<think>\nsecret plan\n</think>\n\nA red ball."))]
    deltas = list(r.stream(turn(mode="off")))
    th, an, _, _ = split(deltas)
    assert th == "" and "secret" not in an and an.startswith("A red ball.")
    assert r.last_run.prompt.endswith("<think>\n\n</think>\n\n")


def test_end_of_sequence_inside_thinking_becomes_a_close(qwen_dir, tok):
    letters = Script(script_ids(tok, "short plan"))
    quit_early = Bias([tok.eos_token_id], bonus=40.0)  # after the script, the model wants to end the turn
    r = make(qwen_dir, letters, quit_early)
    deltas = list(r.stream(turn(tokens_left=100)))
    th, an, nt, _ = split(deltas)
    assert th == "short plan" and nt == len("short plan")
    assert r.last_run.forcing.closed and not r.last_run.forcing.forced_close
    assert r.last_run.completion == "short plan</think>" and r.last_run.stopped == "end of sequence"


# ---------------------------------------------------------------------------------------- GGUF
# The same tiny Qwen3 saved twice: as safetensors (+ tokenizer.json) and as one F32 GGUF file
# in a folder of its own, so everything the GGUF loads (config, weights, tokenizer, template)
# comes from the file. transformers reads a qwen3 GGUF with head_dim 128 whatever the file
# says (see tiny_models.GGUF_QWEN3_HEAD_DIM), hence a model of its own here.


@pytest.fixture(scope="module")
def gguf_pair(tmp_path_factory):
    pytest.importorskip("gguf")  # the `hf` extra; transformers reads GGUF through it
    src = build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3-st"), head_dim=GGUF_QWEN3_HEAD_DIM)
    path = build_tiny_qwen3_gguf(tmp_path_factory.mktemp("tiny-qwen3-gguf"), source=src)
    assert [p.name for p in path.parent.iterdir()] == [path.name], "the GGUF is alone in its folder"
    return src, path


def gguf_forms(gguf_pair, *processors, **kw) -> list[HFReasoner]:
    """The GGUF model loaded both ways: the file's path, and its folder with ``gguf_file``."""
    _, path = gguf_pair
    return [make(path, *processors, **kw), make(path.parent, *processors, gguf_file=path.name, **kw)]


def test_gguf_loads_the_same_weights_and_logits(gguf_pair):
    import torch

    src, path = gguf_pair
    ref = make(src).load()
    sd_ref = ref.model.state_dict()
    ids = torch.tensor(
        [ref.tokenizer.encode("<|im_start|>user\ndraw a red ball<|im_end|>\n<think>\nhmm", add_special_tokens=False)]
    )
    with torch.no_grad():
        want = ref.model(ids).logits
    for r in gguf_forms(gguf_pair):
        lm = r.load()
        cfg = lm.model.config
        assert cfg.model_type == "qwen3" and cfg.num_hidden_layers == 2 and cfg.head_dim == GGUF_QWEN3_HEAD_DIM
        assert (
            cfg.tie_word_embeddings
            and lm.model.lm_head.weight.data_ptr() == lm.model.model.embed_tokens.weight.data_ptr()
        ), "no output tensor in the file: the head is tied again"
        sd = lm.model.state_dict()
        assert sd.keys() == sd_ref.keys()
        for k, v in sd.items():
            assert v.dtype == torch.float32 and torch.equal(v, sd_ref[k]), k  # F32 in, F32 out: bit-exact
        with torch.no_grad():
            got = lm.model(ids).logits
        assert got.shape == want.shape and torch.allclose(got, want, atol=1e-5, rtol=0)
        assert lm.eos_ids == ref.eos_ids == [ref.tokenizer.convert_tokens_to_ids("<|im_end|>")]


def test_gguf_tokenizer_round_trips_and_keeps_the_markers_whole(gguf_pair):
    src, _ = gguf_pair
    ref = make(src).load()
    text = "<|im_start|>user\ncafé ☕ naïve  tabs\tand\nlines<|im_end|>\n<think>\nplan</think>\n\nanswer"
    for r in gguf_forms(gguf_pair):
        lm = r.load()
        tok = lm.tokenizer
        ids = tok.encode(text, add_special_tokens=False)
        assert ids == ref.tokenizer.encode(text, add_special_tokens=False)
        assert tok.decode(ids, skip_special_tokens=False) == text
        for marker in ("<think>", "</think>", "<|im_start|>", "<|im_end|>"):
            assert tok.encode(marker, add_special_tokens=False) == [ref.tokenizer.convert_tokens_to_ids(marker)]
        assert len(tok) == len(ref.tokenizer) and tok.bos_token is None
        assert (tok.eos_token, tok.pad_token) == ("<|im_end|>", "<|endoftext|>")
        assert (lm.close_ids, lm.open_ids, lm.marker_ids) == (ref.close_ids, ref.open_ids, ref.marker_ids)
        assert lm.hidden_ids == ref.hidden_ids, "the control tokens are hidden from the stream as with the folder"


def test_gguf_chat_template_comes_through(gguf_pair):
    src, _ = gguf_pair
    ref = make(src)
    for r in gguf_forms(gguf_pair):
        assert r.tokenizer.chat_template == QWEN3_TEMPLATE and r.load().accepts_thinking
        off, phase, _ = r.build_prompt(turn(mode="off"))
        assert phase == "answer" and off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
        assert off.count("<think>") == 1, "the template's own empty block"
        assert off == ref.build_prompt(turn(mode="off"))[0]
        assert r.build_prompt(turn(mode="on"))[0] == ref.build_prompt(turn(mode="on"))[0]


def test_gguf_stops_at_closing_sketch_like_the_folder_model(gguf_pair):
    src, _ = gguf_pair
    first = 'Let me sketch it.\n<sketch id="s1">\nball: small, red, center\n</sketch>\nMORE TEXT'
    runs = []
    for r in [make(src)] + gguf_forms(gguf_pair):
        r.max_new_tokens = 200
        r.logits_processors = [Script(script_ids(r.tokenizer, first))]
        deltas = list(r.stream(turn(tokens_left=500)))
        th, an, nt, _ = split(deltas)
        assert th.endswith("</sketch>") and "MORE" not in th and an == ""
        assert r.last_run.stopped == "stop string" and r.last_run.prompt.endswith("<think>\n")
        parser = StreamParser(tagset())
        tags = [e.tag for d in deltas for e in parser.feed(d.text) if isinstance(e, TagEvent)]
        assert [t.name for t in tags] == ["sketch"] and tags[0].body == "ball: small, red, center"
        runs.append(([(d.text, d.channel, d.tokens) for d in deltas], r.last_run.completion_ids, r.last_run.prompt))
    assert runs[1] == runs[0] and runs[2] == runs[0], "the GGUF model streams exactly what the folder model does"


def test_gguf_greedy_generation_matches_the_folder_model(gguf_pair):
    src, _ = gguf_pair
    outs = []
    for r in [make(src, temperature=0)] + gguf_forms(gguf_pair, temperature=0):
        r.logits_processors = [Bias(ascii_ids(r.tokenizer))]  # random weights: steer to letters, argmax decides
        deltas = list(r.stream(turn(tokens_left=20)))
        outs.append((split(deltas), r.last_run.completion_ids))
    assert outs[0][0][2] == 20 and outs[1] == outs[0] and outs[2] == outs[0]


def test_gguf_control_tokens_do_not_leak_into_the_stream(gguf_pair):
    src, _ = gguf_pair
    for r in [make(src)] + gguf_forms(gguf_pair):
        tok = r.tokenizer
        start = tok.convert_tokens_to_ids("<|im_start|>")
        r.logits_processors = [Script(script_ids(tok, "abc", start, "def"))]
        th, _, nt, _ = split(list(r.stream(turn(tokens_left=7))))
        assert th == "abcdef" and nt == 6 and start in r.last_run.completion_ids
        assert "<|im_start|>" not in r.last_run.completion


def test_a_follow_up_turn_reads_the_warm_cache_and_decodes_the_same(qwen_dir, tok):
    """The transcript only grows: the second call encodes only the appended observation, and greedy
    decoding gives the same tokens as a cold call on the whole prompt."""
    first = 'Let me sketch it.\n<sketch id="s1">\nball: small, red, center\n</sketch>'
    runs = []
    for warm in (True, False):
        r = make(qwen_dir, max_new_tokens=60, temperature=0, warm_cache=warm)
        r.logits_processors = [Script(script_ids(tok, first))]
        th, _, nt, _ = split(list(r.stream(turn(tokens_left=500))))
        assert r.last_run.cached_tokens == 0, "nothing is cached before the first call"
        obs = "\n" + format_observation("s1", 0.4, "ball is too small") + "\n"
        r.logits_processors = [Bias(ascii_ids(tok))]  # plain letters, chosen by the model's own logits
        r.max_new_tokens = 12
        second = list(r.stream(turn(tokens_left=500 - nt, tokens_used=nt, transcript=th + obs)))
        runs.append((r.last_run.completion_ids, r.last_run.cached_tokens, r.last_run.prompt_tokens, second))
    (warm_ids, cached, prompt_tokens, _), (cold_ids, cold_cached, _, _) = runs
    assert cold_cached == 0
    new = len(tok.encode(obs, add_special_tokens=False))
    assert prompt_tokens - new - 2 <= cached < prompt_tokens, "only the observation (and a seam token) is encoded"
    assert warm_ids == cold_ids and warm_ids


def copying(qwen_dir, tok, text: str, **kw) -> HFReasoner:
    """A tiny model scripted to write ``text`` (the placeholder a small model copies), pushed towards letters."""
    kw.setdefault("temperature", 0)
    return make(qwen_dir, Script(script_ids(tok, text)), Bias(ascii_ids(tok, "abcdefgh ,:\n"), bonus=5.0), **kw)


def test_inside_a_sketch_decoding_follows_the_scene_grammar(qwen_dir, tok):
    """A model pushed to copy the placeholder writes it when free, and cannot under the grammar."""
    pytest.importorskip("llguidance", reason="constrained drafting needs llguidance: pip install 'mmthink[hf]'")
    from mmthink.modalities.image.scene import parse_scene

    copy = 'I sketch.\n<sketch id="s1">\nname [xN]: attributes\n...\n</sketch>'
    bodies = {}
    for constrain in (False, True):
        r = copying(
            qwen_dir,
            tok,
            copy,
            max_new_tokens=400,
            constrain=constrain,
        )
        th = "".join(d.text for d in r.stream(turn(tokens_left=1000)) if d.channel == "thinking")
        assert th.startswith('I sketch.\n<sketch id="s1">') and th.endswith("</sketch>"), th
        bodies[constrain] = th.split('<sketch id="s1">', 1)[1].rsplit("</sketch>", 1)[0]
        log = r.last_run.constraint
        if constrain:
            assert (log.path, log.drafts, log.completed, log.broken) == ("llguidance", 1, 1, [])
        else:
            assert log.path == "none: off (constrain=False)"
    assert "[xN]" in bodies[False]
    scene, findings = parse_scene(bodies[True])
    syntax = [f for f in findings if f.startswith("line ")]  # not: a relation to a name drawn nowhere
    assert "[" not in bodies[True] and "..." not in bodies[True] and scene.elements and not syntax, bodies[True]


def test_after_a_rejected_sketch_the_turn_opens_the_revision_under_the_grammar(qwen_dir, tok):
    """The critic rejected s1 and drafts are left: the turn starts inside <sketch id="s2"> and the body is
    decoded under the scene grammar (a model pushed to write the placeholder cannot)."""
    pytest.importorskip("llguidance", reason="constrained drafting needs llguidance: pip install 'mmthink[hf]'")
    from mmthink.core.state import DraftRecord

    transcript = (
        'A ball.\n<sketch id="s1">\nball: red\n</sketch>\n'
        '<observation ref="s1" score="0.40">the ball reads as grey, not red</observation>\n'
    )
    rejected = [DraftRecord(id="s1", tag="sketch", body="ball: red", passed=False)]
    copy = "\nname [xN]: attributes\n...\n</sketch>"
    for force in (True, False):
        r = copying(
            qwen_dir,
            tok,
            copy,
            max_new_tokens=300,
            force_revision=force,
        )
        t = turn(transcript=transcript, drafts=rejected, revise="sketch", tokens_left=1000, drafts_left=2)
        th = "".join(d.text for d in r.stream(t) if d.channel == "thinking")
        facts = r.turn_facts()
        if force:
            assert r.last_run.prompt.endswith('</observation>\n<sketch id="s2">')
            assert th.startswith('<sketch id="s2">') and th.endswith("</sketch>") and "[xN]" not in th, th
            log = r.last_run.constraint
            assert (log.drafts, log.completed, log.broken) == (1, 1, [])
            assert "critic rejected s1" in facts["revision"]
        else:
            assert not r.last_run.prompt.endswith('<sketch id="s2">') and "revision" not in facts


def test_after_an_unchanged_rewrite_the_critics_lines_start_the_revision(qwen_dir, tok):
    pytest.importorskip("llguidance", reason="constrained drafting needs llguidance: pip install 'mmthink[hf]'")
    from mmthink.core.state import DraftRecord

    transcript = (
        'A ball.\n<sketch id="s1">\nball: grey\n</sketch>\n<observation ref="s1" score="0.40">no</observation>\n'
        '<sketch id="s2">\nball: grey\n</sketch>\n'
        '<observation ref="s2" score="0.40">the ball reads as grey, not red; the line: `ball: medium, red`'
        "</observation>\n"
    )
    rejected = [DraftRecord(id=i, tag="sketch", body="ball: grey", passed=False) for i in ("s1", "s2")]
    r = copying(
        qwen_dir,
        tok,
        "\nname [xN]: attributes\n...\n</sketch>",
        max_new_tokens=300,
    )
    t = turn(
        transcript=transcript,
        drafts=rejected,
        revise="sketch",
        required=("ball: medium, red", "not a line !"),
        tokens_left=1000,
        drafts_left=1,
    )
    th = "".join(d.text for d in r.stream(t) if d.channel == "thinking")
    assert th.startswith('<sketch id="s3">\nball: medium, red\n') and th.endswith("</sketch>"), th
    assert "required ball: medium, red" in r.turn_facts()["revision"]
    assert r.last_run.constraint.completed == 1 and not r.last_run.constraint.broken
