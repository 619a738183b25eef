"""The OpenAI-compatible reasoner against a small server on 127.0.0.1 (real sockets, streamed SSE).

The server replays scripted replies (status, headers, server-sent events, a hang) and records
every request, so the tests see exactly what the reasoner sent and how often. The text-level
pieces both model reasoners share (the think-marker splitter, the protocol system prompt) are
tested here too, since they need no model.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmthink import paths
from mmthink.core.tags import StreamParser, TagEvent
from mmthink.errors import BackendError, InputError
from mmthink.modalities.registry import guide, tagset
from mmthink.reasoners import servers
from mmthink.reasoners.base import Delta, Reasoner, Turn, describe
from mmthink.reasoners.difficulty import ReasonerDifficulty
from mmthink.reasoners.forcing import GRACEFUL_CLOSE, ThinkSplitter
from mmthink.reasoners.openai_compat import OpenAICompatReasoner
from mmthink.reasoners.prompt import build_system_prompt, example_messages
from mmthink.request import Request
from mmthink.thinking import resolve_mode


def chunk(
    content: str | None = None,
    reasoning: str | None = None,
    finish: str | None = None,
    key: str = "reasoning_content",
    **choice: Any,
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta[key] = reasoning
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "tiny",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **choice}],
    }


def sse(*events: Any, done: bool = True) -> dict[str, Any]:
    return {"status": 200, "events": list(events), "done": done}


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.log.append({"path": self.path, "headers": dict(self.headers)})
        body = json.dumps({"object": "list", "data": [{"id": "served-model", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.log.append({"path": self.path, "headers": dict(self.headers), "body": body})
        reply = self.server.replies.pop(0) if self.server.replies else sse(chunk("ok", finish="stop"))
        if reply.get("hang"):
            self.server.release.wait(5)  # bounded: the client gives up long before
            return
        self.send_response(reply.get("status", 200))
        for k, v in reply.get("headers", {}).items():
            self.send_header(k, v)
        if "body" in reply:
            data = reply["body"].encode()
            self.send_header("Content-Type", reply.get("content_type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for ev in reply["events"]:
            line = ev if isinstance(ev, str) else json.dumps(ev)
            self.wfile.write(f"data: {line}\n\n".encode())
            self.wfile.flush()
        if reply.get("done", True):
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.replies: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self.release = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up early (the tests do) is not an error here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.log if "body" in r]


@pytest.fixture
def server():
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY", "MMTHINK_MODEL"):
        monkeypatch.delenv(k, raising=False)
    servers.forget()  # a later test's server may get an earlier one's port


def reasoner(server: Server, **kw: Any) -> OpenAICompatReasoner:
    kw.setdefault("model", "tiny")
    kw.setdefault("server_kind", "vllm")  # this server honours continue_final_message (no probe needed)
    kw.setdefault("timeout", 5)
    kw.setdefault("system_prompt", "You draw.")
    kw.setdefault("constrain", False)  # the grammar path has its own tests (test_server_grammar.py)
    return OpenAICompatReasoner(base_url=server.url, **kw)


def turn(mode: str = "on", text: str = "draw a red ball", **kw: Any) -> Turn:
    kw.setdefault("tags", tagset())
    kw.setdefault("guide", guide("image"))
    return Turn(request=Request(text), modality="image", mode=mode, **kw)


def split(deltas: list[Delta]) -> tuple[str, str]:
    return (
        "".join(d.text for d in deltas if d.channel == "thinking"),
        "".join(d.text for d in deltas if d.channel == "answer"),
    )


def no_markers(deltas: list[Delta]) -> bool:
    return not any("<think>" in d.text or "</think>" in d.text for d in deltas)


# ----------------------------------------------------------------------- streams


def test_reasoning_content_and_what_is_sent(server):
    server.replies.append(
        sse(
            chunk(reasoning="Let me"),
            chunk(reasoning=" think."),
            chunk(content="Here"),
            chunk(content=" it is."),
            chunk(finish="stop"),
            {"choices": [], "usage": {"completion_tokens": 5}},
        )
    )
    r = reasoner(server)
    assert isinstance(r, Reasoner) and r.name == "openai_compat"
    deltas = list(r.stream(turn()))
    assert split(deltas) == ("Let me think.", "Here it is.")
    assert [d.tokens for d in deltas] == [1, 1, 1, 1]
    body = server.posts[0]["body"]
    assert server.posts[0]["path"] == "/v1/chat/completions"
    assert body["model"] == "tiny" and body["stream"] is True
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert body["messages"][0] == {"role": "system", "content": "You draw."}
    assert body["messages"][1] == {"role": "user", "content": "draw a red ball"}, (
        "no switch for a model not known to read it"
    )
    assert len(body["messages"]) == 2, "a fresh chain sends no assistant prefix"
    assert "</sketch>" in body["stop"] and "</draft_audio>" in body["stop"]
    assert r.last_run.calls[0].usage == {"completion_tokens": 5}


def test_reasoning_field_ollama_style(server):
    server.replies.append(sse(chunk(reasoning="Hmm.", key="reasoning"), chunk(content="Done."), chunk(finish="stop")))
    assert split(list(reasoner(server).stream(turn()))) == ("Hmm.", "Done.")


def test_inline_think_tags_split_across_chunks(server):
    pieces = ["<thi", "nk>\nI plan", " a ball.</th", "ink>", "\n\nA red", " ball."]
    server.replies.append(sse(*[chunk(p) for p in pieces], chunk(finish="stop")))
    deltas = list(reasoner(server).stream(turn()))
    assert split(deltas) == ("I plan a ball.", "A red ball.")
    assert no_markers(deltas)


def test_inline_thinking_without_an_opening_tag(server):
    # DeepSeek-R1 style: the template opened the think block, the server has no reasoning parser.
    server.replies.append(sse(chunk("Planning"), chunk(" it.</think>\n\nAnswer."), chunk(finish="stop")))
    assert split(list(reasoner(server).stream(turn()))) == ("Planning it.", "Answer.")


def test_step_tags_split_across_chunks_and_the_stop_string_is_put_back(server):
    pieces = ["<think>\nLet me sketch:\n<ske", 'tch id="s1"', ">\nball: small", ", red, center\n"]
    server.replies.append(sse(*[chunk(p) for p in pieces], chunk(finish="stop")))
    r = reasoner(server)
    deltas = list(r.stream(turn()))
    thinking, answer = split(deltas)
    assert thinking.endswith("</sketch>") and answer == ""
    assert r.last_run.calls[0].reappended == "</sketch>"
    parser = StreamParser(tagset())
    tags = [e.tag for d in deltas for e in parser.feed(d.text) if isinstance(e, TagEvent)]
    assert [(t.name, t.id, t.body) for t in tags] == [("sketch", "s1", "ball: small, red, center")]


def test_stop_reason_from_vllm_is_used(server):
    server.replies.append(
        sse(
            chunk(reasoning='<draft_audio id="a1" emotion="hope">We can'),
            chunk(reasoning=" heal it."),
            chunk(finish="stop", stop_reason="</draft_audio>"),
        )
    )
    thinking, _ = split(list(reasoner(server).stream(turn())))
    assert thinking == '<draft_audio id="a1" emotion="hope">We can heal it.</draft_audio>'


def test_a_reported_natural_stop_with_an_open_tag_appends_nothing(server):
    server.replies.append(sse(chunk(reasoning='<sketch id="s1">\nball: red\n'), chunk(finish="stop", stop_reason=None)))
    r = reasoner(server)
    thinking, _ = split(list(r.stream(turn())))
    assert not thinking.endswith("</sketch>") and r.last_run.calls[0].reappended is None


def test_a_natural_stop_appends_nothing(server):
    server.replies.append(
        sse(chunk(reasoning="Thought."), chunk(content='<final_image ref="s1"/>'), chunk(finish="stop"))
    )
    r = reasoner(server)
    assert split(list(r.stream(turn()))) == ("Thought.", '<final_image ref="s1"/>')
    assert r.last_run.calls[0].reappended is None


def test_continuation_sends_the_chain_as_an_assistant_prefix(server):
    transcript = (
        'Let me sketch.\n<sketch id="s1">\nball: red\n</sketch>\n'
        '<observation ref="s1" score="0.90">ball is red; passed</observation>\n'
    )
    server.replies.append(
        sse(
            chunk("It passed."),
            chunk("</think>\n\nA red ball. "),
            chunk('<final_image ref="s1"/>'),
            chunk(finish="stop"),
        )
    )
    deltas = list(reasoner(server).stream(turn(transcript=transcript, tokens_left=500)))
    assert split(deltas) == ("It passed.", 'A red ball. <final_image ref="s1"/>')
    body = server.posts[0]["body"]
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>\n" + transcript}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False


def test_continuation_fallback_when_the_server_rejects_prefix_fields(server):
    server.replies.append(
        {
            "status": 400,
            "body": json.dumps(
                {"error": {"message": "Unrecognized request argument supplied: continue_final_message"}}
            ),
        }
    )
    server.replies.append(sse(chunk(reasoning="Going on."), chunk(content="Done."), chunk(finish="stop")))
    r = reasoner(server)
    deltas = list(r.stream(turn(transcript="Earlier thought.\n", tokens_left=100)))
    assert split(deltas) == ("Going on.", "Done.")
    assert len(server.posts) == 2 and r.last_run.continuation == "messages"
    second = server.posts[1]["body"]
    assert "continue_final_message" not in second and "add_generation_prompt" not in second
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][2]["content"] == "Earlier thought."
    # Later calls go straight to the fallback.
    server.replies.append(sse(chunk(content="x"), chunk(finish="stop")))
    list(r.stream(turn(transcript="More.\n", tokens_left=100)))
    assert len(server.posts) == 3 and "continue_final_message" not in server.posts[2]["body"]


def test_off_mode_sends_the_switches_and_drops_any_thinking(server):
    server.replies.append(
        sse(
            chunk(reasoning="sneaky thought"),
            chunk("<think>\n\n</think>\n\n"),
            chunk("A red ball."),
            chunk(finish="stop"),
        )
    )
    r = reasoner(server)
    deltas = list(r.stream(turn(mode="off")))
    assert split(deltas) == ("", "A red ball.") and no_markers(deltas)
    body = server.posts[0]["body"]
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["messages"][1]["content"] == "draw a red ball", "the model 'tiny' is not known to read /no_think"
    assert r.last_run.calls[0].dropped_reasoning_chunks == 1


def test_soft_switch_decides_the_mode_sent(server):
    decision = resolve_mode(None, "draw a red ball /no_think", "on", "image")
    list(reasoner(server).stream(turn(mode=decision.mode)))
    assert server.posts[0]["body"]["chat_template_kwargs"] == {"enable_thinking": False}


# ------------------------------------------------------------------------ budget


def test_budget_ending_inside_thinking_closes_it_with_a_second_call(server):
    server.replies.append(sse(*[chunk(reasoning=f"w{i} ") for i in range(10)], chunk(finish="length")))
    server.replies.append(sse(chunk("The answer."), chunk(finish="stop")))
    r = reasoner(server)
    deltas = list(r.stream(turn(tokens_left=200)))
    thinking, answer = split(deltas)
    assert answer == "The answer." and thinking.endswith(GRACEFUL_CLOSE.lstrip("\n"))
    first, second = (p["body"] for p in server.posts)
    assert first["max_tokens"] < 200, "room is kept for the graceful sentence"
    prefix = second["messages"][-1]["content"]
    assert prefix.startswith("<think>\n") and prefix.endswith("</think>\n\n")
    assert "w9" in prefix and GRACEFUL_CLOSE.strip() in prefix
    assert sum(d.tokens or 0 for d in deltas if d.channel == "thinking") <= 200


def test_small_budget_is_the_token_limit(server):
    server.replies.append(sse(chunk(reasoning="a"), chunk(finish="length")))
    server.replies.append(sse(chunk("b"), chunk(finish="stop")))
    r = reasoner(server)
    thinking, answer = split(list(r.stream(turn(tokens_left=30))))
    assert server.posts[0]["body"]["max_tokens"] == 30 and thinking == "a" and answer == "b"
    assert server.posts[1]["body"]["messages"][-1]["content"] == "<think>\na\n</think>\n\n"


def test_answer_cut_by_the_budget_limit_is_finished(server):
    server.replies.append(sse(chunk(reasoning="quick"), chunk(content="The ans"), chunk(finish="length")))
    server.replies.append(sse(chunk("wer."), chunk(finish="stop")))
    thinking, answer = split(list(reasoner(server).stream(turn(tokens_left=30))))
    assert (thinking, answer) == ("quick", "The answer.")
    assert server.posts[1]["body"]["messages"][-1]["content"] == "<think>\nquick\n</think>\n\nThe ans"


def test_force_close_answers_at_once(server):
    server.replies.append(sse(chunk("Final."), chunk(finish="stop")))
    deltas = list(reasoner(server).stream(turn(transcript="long thought\n", tokens_left=0, force_close="spent")))
    assert split(deltas) == ("", "Final.")
    assert server.posts[0]["body"]["messages"][-1]["content"] == "<think>\nlong thought\n</think>\n\n"


# ------------------------------------------------------------------------ errors


def test_500_is_one_attempt_and_marked_retryable(server):
    server.replies += [{"status": 500, "body": "boom"}, sse(chunk("ok"), chunk(finish="stop"))]
    r = reasoner(server)
    with pytest.raises(BackendError, match="HTTP 500: boom") as e:
        list(r.stream(turn(mode="off")))
    assert e.value.retryable is True and len(server.posts) == 1, "retries belong to the graph"
    assert split(list(r.stream(turn(mode="off")))) == ("", "ok"), "the caller's next attempt succeeds"


def test_429_is_one_attempt_and_marked_retryable(server):
    server.replies += [{"status": 429, "body": "slow down", "headers": {"Retry-After": "0"}}] * 3
    with pytest.raises(BackendError, match="HTTP 429") as e:
        list(reasoner(server).stream(turn(mode="off")))
    assert len(server.posts) == 1 and e.value.retryable is True


def test_hang_times_out_with_a_clear_error(server):
    server.replies.append({"hang": True})
    with pytest.raises(BackendError, match=r"no response from http://127\.0\.0\.1:\d+/v1/chat/completions within 1 s"):
        list(reasoner(server, timeout=1).stream(turn()))
    assert len(server.posts) == 1, "a hang is not retried"


def test_malformed_json_is_quoted(server):
    server.replies.append(sse("{not json at all", done=False))
    with pytest.raises(BackendError, match=r"malformed reply .*\{not json at all"):
        list(reasoner(server).stream(turn()))


def test_malformed_shape_is_reported(server):
    server.replies.append(sse({"choices": "nope"}))
    with pytest.raises(BackendError, match="malformed reply"):
        list(reasoner(server).stream(turn()))


def test_error_event_mid_stream(server):
    server.replies.append(sse(chunk(reasoning="a"), {"error": {"message": "out of memory"}}))
    with pytest.raises(BackendError, match="out of memory"):
        list(reasoner(server).stream(turn()))


def test_401_is_not_retried_and_names_the_key(server):
    server.replies += [{"status": 401, "body": json.dumps({"error": {"message": "bad key"}})}] * 4
    with pytest.raises(BackendError, match="OPENAI_API_KEY") as e:
        list(reasoner(server, api_key="sk-wrong").stream(turn()))
    assert len(server.posts) == 1 and "sk-wrong" not in str(e.value)
    assert e.value.retryable is False, "the graph must not retry it either"


def test_other_4xx_quotes_the_server(server):
    server.replies.append({"status": 422, "body": "max_tokens must be positive"})
    with pytest.raises(BackendError, match="HTTP 422: max_tokens must be positive"):
        list(reasoner(server).stream(turn()))
    assert len(server.posts) == 1


def test_connection_refused_is_explained_with_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = OpenAICompatReasoner(model="m", base_url=f"http://127.0.0.1:{port}/v1", timeout=2)
    with pytest.raises(BackendError, match=f"cannot reach http://127.0.0.1:{port}/v1/models .*is the server running"):
        list(r.stream(turn()))


def test_plain_json_reply_is_accepted(server):
    reply = {
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "reasoning_content": "Short.", "content": "Done."},
            }
        ]
    }
    server.replies.append({"status": 200, "body": json.dumps(reply)})
    assert split(list(reasoner(server).stream(turn()))) == ("Short.", "Done.")


def test_closing_the_stream_early_closes_the_connection(server):
    server.replies.append(sse(*[chunk(reasoning=f"t{i} ") for i in range(200)], chunk(finish="stop")))
    gen = reasoner(server).stream(turn())
    first = [next(gen) for _ in range(3)]
    gen.close()
    assert split(first)[0] == "t0 t1 t2 "


# ------------------------------------------------------------------- configuration


def test_environment_fallbacks_and_the_key_header(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("MMTHINK_MODEL", "env-model")
    r = OpenAICompatReasoner()
    assert r.base_url == server.url and r.model == "env-model"
    list(r.stream(turn(mode="off")))
    assert server.posts[0]["headers"]["Authorization"] == "Bearer sk-env"
    assert server.posts[0]["body"]["model"] == "env-model"
    assert "sk-env" not in repr(r) and "sk-env" not in json.dumps(describe(r))
    facts = describe(r)
    assert {k: facts[k] for k in ("name", "model", "base_url")} == {
        "name": "openai_compat",
        "model": "env-model",
        "base_url": server.url,
    }
    assert facts["server_kind"] == "auto" and facts["server_detected"] == "openai"


def test_openai_api_base_is_also_read(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", server.url)
    assert OpenAICompatReasoner(model="m").base_url == server.url


def test_model_is_taken_from_the_server_when_not_named(server):
    r = OpenAICompatReasoner(base_url=server.url)
    list(r.stream(turn(mode="off")))
    assert r.model == "served-model" and server.posts[0]["body"]["model"] == "served-model"
    assert server.log[0]["path"] == "/v1/models"


def test_extra_body_is_merged(server):
    list(reasoner(server, extra_body={"top_k": 20, "min_p": 0.0}).stream(turn(mode="off")))
    body = server.posts[0]["body"]
    assert body["top_k"] == 20 and body["min_p"] == 0.0


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"base_url": "localhost:8000"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"extra_body": "x"}, "extra_body"),
        ({"backoff": -1}, "backoff"),
    ],
)
def test_bad_arguments(kw, field):
    kw.setdefault("base_url", "http://127.0.0.1:9/v1")
    with pytest.raises(InputError) as e:
        OpenAICompatReasoner(model="m", **kw)
    assert e.value.field == field


# -------------------------------------------------------------------- difficulty


@pytest.mark.parametrize("reply,score", [("hard", 0.9), ("Easy.", 0.1)])
def test_reasoner_difficulty_asks_with_thinking_off(server, reply, score):
    server.replies.append(sse(chunk(reply), chunk(finish="stop")))
    est = ReasonerDifficulty(reasoner(server))
    got, why = est.estimate("three cats left of a red barn", "image")
    assert got == score and reply.lower().strip(".") in why
    body = server.posts[0]["body"]
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert "one word" in body["messages"][0]["content"]


def test_reasoner_difficulty_falls_back_on_nonsense_and_errors(server):
    server.replies.append(sse(chunk("banana"), chunk(finish="stop")))
    est = ReasonerDifficulty(reasoner(server))
    score, why = est.estimate("an epic battle with five ships", "image")
    assert 0 <= score <= 1 and "banana" in why and "features" in why
    server.replies.append({"status": 401, "body": "no"})
    score, why = est.estimate("a cat", "image")
    assert "could not judge" in why


def test_reasoner_difficulty_drives_auto_mode(server):
    server.replies.append(sse(chunk("hard"), chunk(finish="stop")))
    decision = resolve_mode(None, "a cat", "auto", "image", estimator=ReasonerDifficulty(reasoner(server)))
    assert decision.mode == "on" and decision.source == "auto" and "reasoner" in decision.reason


# ------------------------------------------------------------------ think splitter

CASES = [
    # (start phase, drop thinking, raw text, expected thinking, expected answer)
    (
        "thinking",
        False,
        '<think>\nplan <sketch id="s1">a</sketch></think>\n\nDone <b>',
        'plan <sketch id="s1">a</sketch>',
        "Done <b>",
    ),
    ("answer", True, "<think>\n\n</think>\n\nHello <final_image/>", "", "Hello <final_image/>"),
    ("answer", True, "Sure.<think>secret</think> More.", "", "Sure. More."),
    ("thinking", False, "no close yet < 3 and <thin", "no close yet < 3 and <thin", ""),
    ("answer", False, "x</think>y", "", "xy"),
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CASES), st.lists(st.integers(min_value=0, max_value=80), max_size=8))
def test_splitter_is_independent_of_chunking(case, cuts):
    phase, drop, raw, want_think, want_answer = case
    points = sorted({c % (len(raw) + 1) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0] + points, points + [len(raw)])]
    sp = ThinkSplitter(phase, drop_thinking=drop)
    out = [p for chunk_ in pieces for p in sp.feed(chunk_)] + sp.finish()
    got_think = "".join(t for ch, t in out if ch == "thinking")
    got_answer = "".join(t for ch, t in out if ch == "answer")
    assert (got_think, got_answer) == (want_think, want_answer)


# ------------------------------------------------------------------- system prompt


@pytest.fixture
def demo_assets(tmp_path, monkeypatch):
    """An assets folder with one image and one speech demo, in the demo script format."""
    demos = tmp_path / "demos"
    demos.mkdir()
    (demos / "image.md").write_text(
        "---\nname: image\nmodality: image\nrequest: A red ball on a table.\n---\n"
        'Let me sketch it.\n<sketch id="s1">\ntable: large, brown, bottom\nball: small, red, on table\n</sketch>\n'
        'It looks right.\n===answer===\nHere is the ball.\n<final_image ref="s1"/>\n'
    )
    (demos / "speech.md").write_text(
        "---\nname: speech\nmodality: speech\nrequest: Say hello warmly.\n---\n"
        'A warm hello.\n<draft_audio id="a1" emotion="joy" revise="auto">Hello there!</draft_audio>\n'
        "Good.\n===answer===\nDone.\n<final_speech/>\n"
    )
    (demos / "broken.md").write_text("no front matter at all")
    import shutil

    from mmthink.paths import asset

    shutil.copytree(asset("prosody"), tmp_path / "prosody")  # the speech guide's emotions (its draft grammar)
    monkeypatch.setenv("MMTHINK_ASSETS", str(tmp_path))
    paths.assets_dir.cache_clear()
    yield tmp_path
    monkeypatch.delenv("MMTHINK_ASSETS")
    paths.assets_dir.cache_clear()


@pytest.mark.parametrize("modality", ["image", "speech", "video"])
@pytest.mark.parametrize("mode", ["on", "off", "auto"])
def test_system_prompt_teaches_without_placeholders_or_demos(demo_assets, modality, mode):
    text = build_system_prompt(guide(modality), mode)
    assert text.startswith(f"<thinking_mode>{mode}</thinking_mode>")
    for placeholder in ("name [xN]: attributes", "...", "…", "[xN]", "the exact words to say", "element: attributes"):
        assert placeholder not in text, f"a literal placeholder a small model would copy: {placeholder!r}"
    assert "Request:" not in text and "A red ball on a table." not in text, "the demo scripts stay demos"
    assert "<think>" not in text and "</think>" not in text
    assert len(text) < 2400, f"{len(text)} characters: the prompt must leave room for examples on small contexts"


def test_example_turns_fit_the_request_and_show_observations():
    image = guide("image")
    shots = example_messages(image, "on", "three apples on a table")
    roles = [m["role"] for m in shots]
    assert roles == ["user", "assistant"] * (len(shots) // 2) and len(shots) >= 4
    assert "cup x4:" in shots[-1]["content"], "a counting request gets the count example next to it"
    assert all("<observation ref=" in m["content"] for m in shots if m["role"] == "assistant")
    assert any('<sketch id="s2">' in m["content"] for m in shots), "a revision after an observation is shown"
    plain = example_messages(image, "on", "a cat and a guitar")
    assert "x4" not in "".join(m["content"] for m in plain), "no count example for a request without a count"
    off = example_messages(image, "off", "a cat and a guitar")
    assert off and all("<think>" not in m["content"] and "<sketch" not in m["content"] for m in off)
    assert "<final_image>\n" in off[-1]["content"], "thinking off: the scene lines go inside the final tag"
    assert example_messages(None, "on", "x") == []
    for name in ("speech", "video"):
        assert example_messages(guide(name), "on", "say hello"), f"{name} has examples"


def test_example_turns_and_system_prompt_fit_about_a_thousand_tokens():
    """Counted in words and punctuation (a BPE tokenizer spends about 1.3 tokens per word on this text)."""
    import re

    for name in ("image", "speech", "video"):
        text = build_system_prompt(guide(name), "on") + "".join(
            m["content"] for m in example_messages(guide(name), "on", "three cats left of a tree")
        )
        pieces = len(re.findall(r"\w+|[^\w\s]", text))
        assert pieces < 1000, f"{name}: {pieces} word and punctuation pieces"


def test_system_prompt_rejects_bad_arguments():
    with pytest.raises(InputError) as e:
        build_system_prompt("smell", "on")
    assert e.value.field == "modality"
    with pytest.raises(InputError) as e:
        build_system_prompt(guide("image"), "maybe")
    assert e.value.field == "thinking"


# -------------------------------------------------------------- context overflow shapes

OVERFLOWS = [
    # llama.cpp's own server: HTTP 400 with the sizes as fields
    (
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 4200,
                "n_ctx": 4096,
            }
        },
        4096,
        4200,
    ),
    # vLLM
    (
        {
            "object": "error",
            "message": "This model's maximum context length is 8192 tokens. However, you requested "
            "9000 tokens (8000 in the messages, 1000 in the completion). Please reduce the length of the messages or "
            "completion.",
            "type": "BadRequestError",
            "code": 400,
        },
        8192,
        8000,
    ),
    # llama-cpp-python outside a stream
    (
        {
            "error": {
                "message": "This model's maximum context length is 2048 tokens. However, you requested 2172 tokens "
                "(2148 in the messages, 24 in the completion). Please reduce the length of the messages or "
                "completion.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        2048,
        2148,
    ),
]


@pytest.mark.parametrize("body,ctx,prompt", OVERFLOWS)
def test_context_overflow_answers_are_final_and_name_both_sizes(server, body, ctx, prompt):
    from mmthink.errors import ContextOverflow

    server.replies.append({"status": 400, "body": json.dumps(body)})
    with pytest.raises(ContextOverflow) as e:
        list(reasoner(server).stream(turn()))
    assert (e.value.context_size, e.value.prompt_tokens) == (ctx, prompt) and e.value.retryable is False
    assert f"the prompt is {prompt} tokens and the server's context window is {ctx} tokens" in str(e.value)
    assert len(server.posts) == 1
