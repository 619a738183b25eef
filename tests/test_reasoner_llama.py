"""The OpenAI-compatible reasoner against a server that behaves like llama-cpp-python 0.3.36.

Everything goes through ``Reasoner.stream(turn)`` over real sockets (tests/llama_like_server.py):
end-of-stream checks, context overflow, stop labels, seed, soft switches, how a chain is
continued on each kind of server, and the deadline.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from llama_like_server import CHATML_TEMPLATE, LlamaLikeServer, render
from tiny_models import QWEN3_TEMPLATE

from mmthink.core.faults import retryable
from mmthink.errors import BackendError, ContextOverflow, DeadlineReached, InputError
from mmthink.modalities.registry import guide, tagset
from mmthink.reasoners import servers
from mmthink.reasoners.base import Delta, Turn, describe
from mmthink.reasoners.openai_compat import OpenAICompatReasoner
from mmthink.request import Request

SYSTEM = "You draw."


pytestmark = pytest.mark.usefixtures("fresh_servers")


@pytest.fixture
def llama(make_server) -> LlamaLikeServer:
    return make_server()


def reasoner(srv: LlamaLikeServer, **kw) -> OpenAICompatReasoner:
    kw.setdefault("system_prompt", SYSTEM)
    kw.setdefault("timeout", 5)
    kw.setdefault("constrain", False)  # the grammar path has its own tests (test_server_grammar.py)
    return OpenAICompatReasoner(base_url=srv.url, **kw)


def turn(mode: str = "on", text: str = "draw a red ball", **kw) -> Turn:
    kw.setdefault("tags", tagset())
    kw.setdefault("guide", guide("image"))
    return Turn(request=Request(text), modality="image", mode=mode, **kw)


def split(deltas: list[Delta]) -> tuple[str, str]:
    return (
        "".join(d.text for d in deltas if d.channel == "thinking"),
        "".join(d.text for d in deltas if d.channel == "answer"),
    )


def collect(gen) -> tuple[list[Delta], BaseException | None]:
    out: list[Delta] = []
    try:
        for d in gen:
            out.append(d)
    except Exception as e:  # noqa: BLE001 - the test inspects it
        return out, e
    return out, None


# -------------------------------------------------------------------------- end of stream


def test_a_bare_done_without_finish_reason_is_a_retryable_error(llama):
    llama.replies.append({"text": "<think>\nI will draw a red ball in the middle of the picture", "cut_after": 5})
    r = reasoner(llama)
    deltas, err = collect(r.stream(turn()))
    assert isinstance(err, BackendError) and "without a finish_reason" in str(err)
    assert err.retryable is True and retryable(err), "the graph's guarded stream retries it"
    assert split(deltas)[0].startswith("I will"), "what streamed before the cut was handed on"
    assert r.last_run.stopped == "error" and len(llama.posts) == 1


def test_an_error_event_in_a_200_stream_is_a_final_context_overflow(make_server):
    srv = make_server(n_ctx=40, props=False)  # no /props: the window is unknown until the server says it
    r = reasoner(srv, system_prompt="You draw pictures by thinking. " * 8)
    deltas, err = collect(r.stream(turn()))
    assert isinstance(err, ContextOverflow) and deltas == []
    prompt_tokens = len(__import__("llama_like_server").tokens(srv.posts[0]["prompt"]))
    assert err.context_size == 40 and err.prompt_tokens == prompt_tokens > 40
    assert f"the prompt is {prompt_tokens} tokens and the server's context window is 40 tokens" in str(err)
    assert "--n_ctx" in str(err) and srv.url in str(err)
    assert err.retryable is False and not retryable(err), "the same prompt overflows again"


def test_another_error_event_is_retryable(llama):
    llama.replies.append({"error_event": "llama_decode returned -3"})
    deltas, err = collect(reasoner(llama).stream(turn()))
    assert isinstance(err, BackendError) and not isinstance(err, ContextOverflow)
    assert "llama_decode returned -3" in str(err) and err.retryable is True


def test_zero_tokens_is_a_retryable_error(llama):
    llama.replies.append({"text": ""})
    deltas, err = collect(reasoner(llama).stream(turn(mode="off")))
    assert isinstance(err, BackendError) and "no tokens" in str(err) and err.retryable is True and deltas == []


def test_unreachable_server_fails_at_once_with_its_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    r = OpenAICompatReasoner(model="m", base_url=url, connect_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(BackendError, match=f"cannot reach {url}/models .*is the server running") as e:
        list(r.stream(turn()))
    assert time.monotonic() - t0 < 5 and e.value.retryable is True
    with pytest.raises(BackendError, match=url):
        r.prepare()


def test_retries_options_are_refused_with_the_fix():
    with pytest.raises(InputError) as e:
        OpenAICompatReasoner(model="m", base_url="http://127.0.0.1:9/v1", max_retries=3)
    assert e.value.field == "max_retries" and "policy.reason.attempts" in str(e.value)
    with pytest.raises(InputError) as e:
        OpenAICompatReasoner(model="m", base_url="http://127.0.0.1:9/v1", server_kind="tgi")
    assert e.value.field == "server_kind" and "llama_cpp" in str(e.value)


# -------------------------------------------------------------------------- stops, seed, switches


def test_a_stop_at_the_closing_sketch_is_labelled_a_stop_string(llama):
    llama.replies.append({"text": '<think>\nA ball.\n<sketch id="s1">\nball: small, red, center\n</sketch>\nMORE'})
    r = reasoner(llama)
    thinking, answer = split(list(r.stream(turn(seed=7))))
    assert thinking.endswith("ball: small, red, center\n</sketch>") and "MORE" not in thinking and answer == ""
    call = r.last_run.calls[0]
    assert call.finish_reason == "stop" and r.last_run.stopped == "stop string" and call.stop_tag == "</sketch>"
    assert llama.posts[0]["body"]["seed"] == 7, "the request's seed is forwarded"


def test_a_natural_end_and_the_token_cap_are_labelled(llama):
    llama.replies.append({"text": "A red ball."})
    r = reasoner(llama)
    assert split(list(r.stream(turn(mode="off")))) == ("", "A red ball.")
    assert r.last_run.stopped == "end of sequence"
    llama.replies.append({"text": "one two three four five six seven"})
    r = reasoner(llama, max_tokens=3)
    assert split(list(r.stream(turn(mode="off"))))[1] == "one two three"
    assert r.last_run.stopped == "length"


def test_no_soft_switch_for_a_template_that_does_not_know_it(llama):
    r = reasoner(llama)
    list(r.stream(turn(mode="off")))
    assert llama.posts[0]["body"]["messages"][1]["content"] == "draw a red ball"
    assert "/no_think" not in llama.posts[0]["prompt"] and describe(r)["soft_switches"] is False


def test_soft_switch_for_a_qwen3_template_and_never_echoed(make_server):
    srv = make_server(template=QWEN3_TEMPLATE, model_id="Qwen3-0.6B-Q8_0.gguf")
    srv.replies.append({"text": "A red ball /no_think."})
    r = reasoner(srv)
    deltas = list(r.stream(turn(mode="off")))
    assert srv.posts[0]["body"]["messages"][1]["content"] == "draw a red ball /no_think"
    assert split(deltas) == ("", "A red ball.") and describe(r)["soft_switches"] is True


def test_soft_switch_from_the_model_name_when_no_template_is_published(make_server):
    srv = make_server(props=False, model_id="Qwen/Qwen3-8B")
    list(reasoner(srv).stream(turn()))
    assert srv.posts[0]["body"]["messages"][1]["content"] == "draw a red ball /think"
    srv2 = make_server(props=False, model_id="Qwen/Qwen2.5-7B-Instruct")
    list(reasoner(srv2).stream(turn()))
    assert srv2.posts[0]["body"]["messages"][1]["content"] == "draw a red ball"


# -------------------------------------------------------------------------- continuation

TRANSCRIPT = (
    'Let me sketch.\n<sketch id="s1">\nball: red\n</sketch>\n'
    '<observation ref="s1" score="0.90">ball is red; passed</observation>\n'
)


def test_llama_cpp_with_props_continues_through_completions_with_our_rendering(llama):
    llama.replies.append({"text": 'It passed.</think>\n\nA red ball. <final_image ref="s1"/>'})
    r = reasoner(llama)
    deltas = list(r.stream(turn(transcript=TRANSCRIPT, tokens_left=500)))
    assert split(deltas) == ("It passed.", 'A red ball. <final_image ref="s1"/>')
    assert [p["path"] for p in llama.posts] == ["/v1/completions"], "no probe: /props settles it"
    want = (
        render(CHATML_TEMPLATE, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "draw a red ball"}])
        + "<think>\n"
        + TRANSCRIPT
    )
    assert llama.posts[0]["body"]["prompt"] == want, "the exact chain, token for token, as the chat endpoint would"
    assert r.last_run.continuation == "completions"
    facts = describe(r)
    assert facts["continuation"] == "completions" and facts["server_detected"] == "llama_cpp"
    assert facts["context_size"] == 2048 and facts["chat_template_from"].endswith("/props")


def test_the_chat_endpoint_would_have_started_a_new_answer(llama):
    # What "continuation: prefix" did on this server: the prefix is closed and a new answer starts.
    r = reasoner(llama, server_kind="vllm")
    list(r.stream(turn(transcript=TRANSCRIPT, tokens_left=500)))
    prompt = llama.posts[0]["prompt"]
    assert prompt.endswith(TRANSCRIPT + "<|im_end|>\n<|im_start|>assistant\n")
    assert llama.posts[0]["body"]["continue_final_message"] is True, "sent, and ignored"


def test_auto_probes_a_server_without_props_once_and_records_new_turns(make_server):
    srv = make_server(props=False)
    srv.replies.append({"text": "Going on."})
    r = reasoner(srv)
    deltas = list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    assert split(deltas)[0] == "Going on."
    probe, call = srv.posts
    assert probe["body"]["messages"][-1]["content"] == servers.PROBE_PREFIX and probe["body"]["stream"] is False
    assert r.last_run.continuation == "messages" and "probe" in r.continuation_why
    assert [m["role"] for m in call["body"]["messages"]] == ["system", "user", "assistant", "user"]
    assert "continue_final_message" not in call["body"]
    # once per server: another reasoner on the same URL does not ask again
    r2 = reasoner(srv)
    list(r2.stream(turn(transcript="More.\n", tokens_left=100)))
    assert len(srv.posts) == 3 and r2.last_run.continuation == "messages"


def test_auto_with_a_tokenizer_folder_renders_its_template(make_server, tmp_path):
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"chat_template": CHATML_TEMPLATE, "eos_token": "<|im_end|>"})
    )
    srv = make_server(props=False)
    srv.replies.append({"text": "Going on."})
    r = reasoner(srv, tokenizer=str(tmp_path))
    deltas = list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    assert split(deltas)[0] == "Going on."
    assert [p["path"] for p in srv.posts] == ["/v1/chat/completions", "/v1/completions"]  # probe, then the call
    assert srv.posts[1]["body"]["prompt"].endswith("<|im_start|>assistant\n<think>\nEarlier thought.\n")
    assert describe(r)["continuation"] == "completions" and str(tmp_path) in describe(r)["chat_template_from"]


def test_auto_finds_a_server_that_honours_the_prefix(make_server):
    srv = make_server(props=False, honour_prefix=True)
    srv.replies.append({"text": "Going on."})
    r = reasoner(srv)
    facts = r.prepare()
    assert facts["continuation"] == "prefix" and "probe" in facts["continuation_why"]
    list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    body = srv.posts[-1]["body"]
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>\nEarlier thought.\n"}
    assert body["continue_final_message"] is True
    assert srv.posts[-1]["prompt"].endswith("<think>\nEarlier thought.\n"), "the server continued it"


def test_auto_on_a_server_that_rejects_the_prefix_fields(make_server):
    srv = make_server(props=False, strict=True)
    srv.replies.append({"text": "Going on."})
    r = reasoner(srv)
    deltas = list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    assert split(deltas)[0] == "Going on." and r.last_run.continuation == "messages"
    # the probe (refused), the call (chat_template_kwargs refused: the server names one field at a time), the call
    assert len(srv.posts) == 3 and "Unrecognized" not in json.dumps(srv.posts[2]["body"])
    assert not {"continue_final_message", "chat_template_kwargs"} & set(srv.posts[2]["body"])
    list(r.stream(turn(transcript="More.\n", tokens_left=100)))
    assert len(srv.posts) == 4, "learnt once: the next turn is one request"


@pytest.mark.parametrize("kind,want", [("llama_cpp", "completions"), ("openai", "messages"), ("vllm", "prefix")])
def test_server_kind_overrides_detection(llama, kind, want):
    r = reasoner(llama, server_kind=kind)
    list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    assert r.last_run.continuation == want and len(llama.posts) == 1, "no probe when the kind is named"
    assert describe(r)["continuation"] == want and describe(r)["server_kind"] == kind


def test_llama_cpp_named_but_no_template_known_is_recorded_as_new_turns(make_server):
    srv = make_server(props=False)
    r = reasoner(srv, server_kind="llama_cpp")
    list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    assert r.last_run.continuation == "messages" and "tokenizer=" in r.continuation_why


def test_a_missing_tokenizer_folder_says_where_it_looked(llama, tmp_path):
    r = reasoner(llama, tokenizer=str(tmp_path / "nope"))
    with pytest.raises(BackendError, match="no tokenizer folder at .*nope"):
        list(r.stream(turn(transcript="x\n", tokens_left=10)))


# -------------------------------------------------------------------------- deadline


def test_the_deadline_cuts_a_slow_stream(llama):
    llama.replies.append({"text": "<think>\n" + "word " * 60, "delay": 0.05})
    r = reasoner(llama)
    t0 = time.time()
    deltas, err = collect(r.stream(turn(deadline=t0 + 0.6)))
    elapsed = time.time() - t0
    assert isinstance(err, DeadlineReached) and "max_seconds" in str(err) and err.retryable is False
    assert 0 < len(split(deltas)[0].split()) < 60, "what streamed before the deadline was handed on"
    assert elapsed < 3, "cut at the deadline, not at the end of the reply"
    assert r.last_run.stopped == "deadline"


def test_the_deadline_cuts_a_blocked_read(llama):
    llama.replies.append({"text": "<think>\nslow thought", "delay": 4})
    r = reasoner(llama, timeout=30)
    t0 = time.time()
    deltas, err = collect(r.stream(turn(deadline=t0 + 0.5)))
    assert isinstance(err, DeadlineReached) and time.time() - t0 < 3


def test_a_deadline_already_past_sends_nothing(llama):
    r = reasoner(llama)
    deltas, err = collect(r.stream(turn(deadline=time.time() - 1)))
    assert isinstance(err, DeadlineReached) and llama.posts == []


def test_last_turn_summarises_the_call_for_the_trace(llama):
    from mmthink.reasoners.base import last_turn

    llama.replies.append({"text": 'It passed.\n<sketch id="s2">\nball: blue\n</sketch>'})
    r = reasoner(llama)
    assert last_turn(r) == {}
    list(r.stream(turn(transcript=TRANSCRIPT, tokens_left=500)))
    assert last_turn(r) == {
        "stopped": "stop string",
        "stop_tag": "</sketch>",
        "continuation": "completions",
        "constraint": "none: off (constrain=False)",
        "constrained_drafts": 0,
        "constrained_completed": 0,
    }
