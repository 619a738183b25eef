"""An OpenAI-compatible server on 127.0.0.1 that behaves like llama-cpp-python 0.3.36's.

What it reproduces, because mmthink must cope with each:
- the chat endpoint renders the messages with the model's chat template and *always* adds the
  generation prompt: ``continue_final_message`` / ``add_generation_prompt`` /
  ``chat_template_kwargs`` are ignored, so a trailing assistant message is closed and a new
  answer starts (``honour_prefix=True`` makes it behave like vLLM instead);
- stop strings are cut from the output and the reply ends with ``finish_reason: "stop"``
  (no ``stop_reason``); the token cap ends it with ``"length"``; no usage in the stream;
- an in-flight stream is ended by a bare ``data: [DONE]`` with no finish reason (what
  ``interrupt_requests`` does when another request arrives): a reply with ``cut_after``;
- a prompt over the context window streams an HTTP 200 whose one event is
  ``{"error": {"message": "Requested tokens (N) exceed context window of C", ...}}``;
- ``/v1/models`` (``owned_by: "me"``), llama.cpp's ``/props`` (``chat_template``, ``n_ctx``,
  ``default_generation_settings.n_ctx``; ``props=False`` answers 404 like servers without it),
  and ``/v1/completions`` with a raw prompt;
- (``strict=True`` only) the OpenAI API's HTTP 400 for request fields it does not know;
- ``seed`` is read;
- ``grammar`` (GBNF) is read as llama-cpp-python reads it: a grammar that does not parse is an HTTP 500
  (the parse is llguidance's GBNF reader, an implementation independent of ours); ``grammar="ignore"``
  makes it a server that drops the field. The probe grammar is answered as a constrained model would
  (``zq7``); other replies are the scripted text, and every grammar received is kept in ``grammars``;
- ``/extras/tokenize/count`` (``tokenize=True``) counts a text's tokens.

The "model" writes the next scripted text (``server.replies``) or, asked to count, continues the
count written so far in the current assistant message: a real continuation goes on inside the
half-written number, a new answer starts again from 1. Token counting is one token per word or
punctuation mark (``tokens``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHATML_TEMPLATE = r"""
{%- for message in messages %}
    {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
""".strip()
"""Qwen2.5-Instruct's shape: ChatML, no thinking, no soft switches."""

_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
_COUNT = re.compile(r"Count from 1 to (\d+)")


def tokens(text: str) -> list[str]:
    """The server's tokens: a word or a punctuation mark with the spaces before it."""
    return _TOKEN.findall(text)


def render(template: str, messages: list[dict[str, Any]], add_generation_prompt: bool = True, **kw: Any) -> str:
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, bos_token="", eos_token="<|im_end|>", **kw
    )


class Handler(BaseHTTPRequestHandler):
    server: LlamaLikeServer

    def log_message(self, *args: Any) -> None:
        pass

    # ------------------------------------------------------------------- GET
    def do_GET(self) -> None:  # noqa: N802
        srv = self.server
        srv.log.append({"method": "GET", "path": self.path})
        if self.path == "/v1/models":
            self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": srv.model_id, "object": "model", "owned_by": "me", "permissions": []}],
                },
            )
        elif self.path == "/props" and srv.props:
            self._json(
                200,
                {
                    "chat_template": srv.template,
                    "bos_token": "",
                    "eos_token": "<|im_end|>",
                    "n_ctx": srv.n_ctx,
                    "total_slots": 1,
                    "default_generation_settings": {"n_ctx": srv.n_ctx, "temperature": 0.8},
                },
            )
        else:
            self._json(404, {"detail": "Not Found"})

    # ------------------------------------------------------------------ POST
    def do_POST(self) -> None:  # noqa: N802
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        unknown = [f for f in ("continue_final_message", "add_generation_prompt", "chat_template_kwargs") if f in body]
        if srv.strict and unknown:  # the OpenAI API's answer to fields it does not know
            self._json(
                400,
                {
                    "error": {
                        "message": f"Unrecognized request argument supplied: {unknown[0]}",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
            srv.log.append({"method": "POST", "path": self.path, "body": body, "prompt": None})
            return
        if self.path == "/extras/tokenize/count" and srv.tokenize:
            self._json(200, {"count": len(tokens(str(body.get("input", ""))))})
            return
        grammar = body.get("grammar") if srv.grammar == "honour" else None
        if grammar is not None:
            from llguidance.gbnf_to_lark import any_to_lark

            try:
                any_to_lark(grammar)
            except Exception as e:  # llama-cpp-python: LlamaGrammar.from_string fails, the route answers 500
                srv.log.append({"method": "POST", "path": self.path, "body": body, "prompt": None})
                self._json(500, {"error": {"message": f"grammar parse error: {e}", "type": "internal_server_error"}})
                return
            srv.grammars.append(grammar)
        if self.path == "/v1/chat/completions":
            messages = body.get("messages") or []
            if (
                srv.honour_prefix
                and body.get("continue_final_message")
                and messages
                and messages[-1].get("role") == "assistant"
            ):
                prompt = render(srv.template, messages, add_generation_prompt=False)
                prompt = prompt[: prompt.rfind("<|im_end|>")]  # the open message is continued
            else:
                prompt = render(srv.template, messages, add_generation_prompt=True)  # fields ignored
            kind = "chat"
        elif self.path == "/v1/completions":
            prompt, kind = str(body.get("prompt", "")), "text"
        else:
            self._json(404, {"detail": "Not Found"})
            return
        srv.log.append({"method": "POST", "path": self.path, "body": body, "prompt": prompt})
        n_prompt = len(tokens(prompt))
        if grammar is not None and grammar.startswith('root ::= "zq"'):
            reply = {"text": "zq7"}  # the grammar probe, answered as a constrained model answers it
        elif "Say hello." in prompt:
            reply = {"text": "Hello!"}  # the probe where the grammar was dropped
        else:
            reply = srv.next_reply(prompt)
        if not body.get("stream"):
            self._whole(kind, body, prompt, reply, n_prompt)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if n_prompt >= srv.n_ctx:
            self._event(
                {
                    "error": {
                        "message": f"Requested tokens ({n_prompt}) exceed context window of {srv.n_ctx}",
                        "type": "internal_server_error",
                        "param": None,
                        "code": None,
                    }
                }
            )
            return
        text, finish = self._generate(reply, body)
        if kind == "chat":
            self._event(self._chunk(kind, {"role": "assistant"}, None))
        if reply.get("error_event"):  # the model failed after the headers went out
            self._event(
                {
                    "error": {
                        "message": reply["error_event"],
                        "type": "internal_server_error",
                        "param": None,
                        "code": None,
                    }
                }
            )
            return
        for i, piece in enumerate(tokens(text)):
            if reply.get("cut_after") is not None and i >= reply["cut_after"]:
                self._raw("data: [DONE]\n\n")  # another request arrived: the stream ends, no finish reason
                return
            if reply.get("delay"):
                time.sleep(reply["delay"])
            self._event(self._chunk(kind, {"content": piece}, None))
        if reply.get("cut_after") is not None:
            self._raw("data: [DONE]\n\n")
            return
        self._event(self._chunk(kind, {}, finish))
        self._raw("data: [DONE]\n\n")

    # ------------------------------------------------------------- pieces
    def _generate(self, reply: dict[str, Any], body: dict[str, Any]) -> tuple[str, str]:
        text = reply.get("text", "")
        finish = "stop"
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else stops
        hits = [i for i in (text.find(s) for s in stops) if i >= 0]
        if hits:
            text = text[: min(hits)]  # the stop string is cut from the output
        cap = body.get("max_tokens")
        if isinstance(cap, int) and len(tokens(text)) > cap:
            text, finish = "".join(tokens(text)[:cap]), "length"
        return text, finish

    def _chunk(self, kind: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        if kind == "chat":
            choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {
                "id": "chatcmpl-1",
                "model": self.server.model_id,
                "created": 1,
                "object": "chat.completion.chunk",
                "choices": [choice],
            }
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1,
            "model": self.server.model_id,
            "choices": [{"text": delta.get("content", ""), "index": 0, "logprobs": None, "finish_reason": finish}],
        }

    def _whole(self, kind: str, body: dict[str, Any], prompt: str, reply: dict[str, Any], n_prompt: int) -> None:
        if n_prompt >= self.server.n_ctx:  # outside a stream the route handler turns it into a 400
            cap = body.get("max_tokens") or 0
            self._json(
                400,
                {
                    "error": {
                        "message": f"This model's maximum context length is {self.server.n_ctx} "
                        f"tokens. However, you requested {n_prompt + cap} tokens "
                        f"({n_prompt} in the messages, {cap} in the completion). Please "
                        "reduce the length of the messages or completion.",
                        "type": "invalid_request_error",
                        "param": "messages",
                        "code": "context_length_exceeded",
                    }
                },
            )
            return
        text, finish = self._generate(reply, body)
        if kind == "chat":
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": finish,
            }
        else:
            choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
        self._json(
            200,
            {
                "id": "x-1",
                "object": "chat.completion" if kind == "chat" else "text_completion",
                "created": 1,
                "model": self.server.model_id,
                "choices": [choice],
                "usage": {
                    "prompt_tokens": n_prompt,
                    "completion_tokens": len(tokens(text)),
                    "total_tokens": n_prompt + len(tokens(text)),
                },
            },
        )

    def _event(self, obj: dict[str, Any]) -> None:
        self._raw(f"data: {json.dumps(obj)}\n\n")

    def _raw(self, text: str) -> None:
        try:
            self.wfile.write(text.encode())
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LlamaLikeServer(ThreadingHTTPServer):
    """Start with :meth:`start`, stop with :meth:`stop`; ``replies`` holds what the model writes next
    (dicts: ``text``, optional ``cut_after`` (chunks before a bare [DONE]), ``delay`` (s per chunk) and
    ``error_event`` (a message sent as an error event instead of the text))."""

    daemon_threads = True

    def __init__(
        self,
        *,
        template: str = CHATML_TEMPLATE,
        n_ctx: int = 2048,
        props: bool = True,
        honour_prefix: bool = False,
        strict: bool = False,
        model_id: str = "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        grammar: str = "honour",
        tokenize: bool = False,
    ) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.template, self.n_ctx, self.props = template, n_ctx, props
        self.honour_prefix, self.strict, self.model_id = honour_prefix, strict, model_id
        self.grammar, self.tokenize = grammar, tokenize
        self.grammars: list[str] = []
        self.replies: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up early (deadline tests) are not errors here

    def next_reply(self, prompt: str) -> dict[str, Any]:
        counted = _count_continuation(prompt)
        if counted is not None:
            return {"text": counted}
        with self._lock:
            return self.replies.pop(0) if self.replies else {"text": "OK."}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.log if r["method"] == "POST"]

    def start(self) -> LlamaLikeServer:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _count_continuation(prompt: str) -> str | None:
    """Asked to count: the rest of the count after what the current assistant message already holds."""
    head, sep, tail = prompt.rpartition("<|im_start|>assistant\n")
    asked = _COUNT.findall(head.rsplit("<|im_start|>user\n", 1)[-1]) if sep else []
    if not asked:
        return None
    full = ", ".join(str(i) for i in range(1, int(asked[-1]) + 1))
    return full[len(tail) :] if full.startswith(tail) else full
