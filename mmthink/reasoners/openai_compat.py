"""Any OpenAI-compatible chat endpoint as a reasoner (vLLM, SGLang, Ollama, llama.cpp, LM Studio).

Streams ``/chat/completions`` over server-sent events with httpx. Thinking arrives either as
a separate ``reasoning_content`` (vLLM, SGLang, DeepSeek) or ``reasoning`` (Ollama, OpenRouter)
field, or inline as ``<think>...</think>`` in the content (split across chunks in any way);
both become the thinking channel, and the markers never reach the caller.

Thinking on/off is sent two ways: ``chat_template_kwargs: {"enable_thinking": ...}`` (vLLM,
SGLang) and the ``/think`` / ``/no_think`` soft switch in the user message (Qwen3 models on
servers that ignore template kwargs).

Continuing a chain: the chain so far goes back as a final assistant message that the server
continues (``continue_final_message: true, add_generation_prompt: false`` for vLLM; llama.cpp
and Ollama continue a trailing assistant message by themselves). A server that rejects those
fields is retried once without them, and from then on the chain is sent as an assistant turn
followed by a user turn asking to continue (the ``messages`` fallback: less exact, since the
model starts a new turn). Note that Qwen3's own template renders an empty think block before
a trailing assistant message that has not closed its thinking; serve Qwen3 with a template
that does not (or use the ``hf`` reasoner) for exact mid-thought continuation.

Budget: ``max_tokens`` is the thinking tokens left. If the server stops for length inside the
thinking, a second call closes the thinking with a short graceful sentence and gets the answer.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mmthink.errors import BackendError, InputError
from mmthink.reasoners.base import Delta, Turn
from mmthink.reasoners.forcing import GRACEFUL_CLOSE, THINK_CLOSE, THINK_OPEN, ThinkSplitter
from mmthink.reasoners.prompt import build_system_prompt
from mmthink.thinking import count_tokens

DEFAULT_BASE_URL = "http://localhost:8000/v1"
_OPTIONAL = ("continue_final_message", "add_generation_prompt", "chat_template_kwargs", "stream_options")


@dataclass
class CallRecord:
    """One HTTP call: the body sent (the key travels in a header, never here) and what came back."""

    body: dict[str, Any]
    attempts: int = 0
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    thinking_chunks: int = 0
    answer_chunks: int = 0
    dropped_reasoning_chunks: int = 0  # reasoning a server sent while thinking was off
    reappended: str | None = None  # the stop string the server stripped and we put back


@dataclass
class StreamRecord:
    calls: list[CallRecord] = field(default_factory=list)
    continuation: str = "prefix"


class OpenAICompatReasoner:
    """See the module docstring. Arguments fall back to OPENAI_BASE_URL (or OPENAI_API_BASE),
    OPENAI_API_KEY and MMTHINK_MODEL; with no model named, the server's only model is used."""

    name = "openai_compat"

    def __init__(self, model: str | None = None, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 60, max_retries: int = 3, backoff: float = 0.5,
                 extra_body: dict[str, Any] | None = None, max_tokens: int = 1024, temperature: float = 0.6,
                 system_prompt: str | None = None, graceful_close: str | None = GRACEFUL_CLOSE) -> None:
        url = base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or DEFAULT_BASE_URL
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise InputError("base_url", f"{url!r} is not an http(s) URL", "e.g. http://localhost:8000/v1")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise InputError("timeout", f"must be a positive number of seconds, got {timeout!r}", "e.g. 60")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InputError("max_retries", f"must be 0 or more, got {max_retries!r}", "e.g. 3")
        if not isinstance(backoff, (int, float)) or backoff < 0:
            raise InputError("backoff", f"must be 0 or more seconds, got {backoff!r}", "e.g. 0.5")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise InputError("max_tokens", f"must be a positive integer, got {max_tokens!r}", "e.g. 1024")
        if extra_body is not None and not isinstance(extra_body, dict):
            raise InputError("extra_body", f"must be a dict, got {type(extra_body).__name__}")
        self.base_url = url.rstrip("/")
        self.model = model or os.environ.get("MMTHINK_MODEL") or None
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.extra_body = dict(extra_body or {})
        self.max_tokens = max_tokens
        self.temperature = float(temperature)
        self.system_prompt = system_prompt
        self.graceful_close = graceful_close
        self._unsupported: set[str] = set()
        self.last_run: StreamRecord | None = None

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatReasoner(model={self.model!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------ stream
    def stream(self, turn: Turn) -> Iterator[Delta]:
        record = StreamRecord(continuation="messages" if "continue_final_message" in self._unsupported else "prefix")
        self.last_run = record
        system = turn.system or self.system_prompt or _system(turn)
        if turn.mode == "off":
            yield from self._call(record, turn, system, prefix=turn.answer or None, phase="answer",
                                  max_tokens=self.max_tokens)
            return
        closing = bool(turn.answer or turn.force_close or turn.tokens_left == 0)
        if closing:
            pre = ""
            if turn.force_close and not turn.answer:
                pre = self._graceful_text(turn.transcript, turn.tokens_left)
                if pre:
                    yield Delta(pre, "thinking", tokens=count_tokens(pre))
            prefix = _closed_prefix(turn.transcript + pre) + turn.answer
            yield from self._call(record, turn, system, prefix=prefix, phase="answer", max_tokens=self.max_tokens)
            return
        budget = turn.tokens_left
        reserve = 0
        if budget is not None and self.graceful_close:
            g = count_tokens(self.graceful_close)
            reserve = g if budget >= 4 * g else 0
        limit = self.max_tokens if budget is None else max(1, min(self.max_tokens, budget - reserve))
        prefix = THINK_OPEN + "\n" + turn.transcript if turn.transcript else None
        texts = {"thinking": "", "answer": ""}
        state: dict[str, Any] = {}
        for d in self._call(record, turn, system, prefix=prefix, phase="thinking", max_tokens=limit, state=state):
            texts[d.channel] += d.text
            yield d
        budget_bound = budget is not None and budget - reserve <= self.max_tokens
        if record.calls[-1].finish_reason != "length" or not budget_bound:
            return
        so_far = turn.transcript + texts["thinking"]
        if state.get("phase") == "thinking":
            # The budget ran out inside the thinking: close it gracefully and get the answer.
            pre = self.graceful_close.lstrip("\n") if (self.graceful_close and reserve) else ""
            if pre and not so_far.endswith("\n"):
                pre = "\n" + pre
            if pre:
                yield Delta(pre, "thinking", tokens=reserve)
            yield from self._call(record, turn, system, prefix=_closed_prefix(so_far + pre), phase="answer",
                                  max_tokens=self.max_tokens)
        else:
            # Thinking closed in time but the budget-sized limit cut the answer: let it finish.
            yield from self._call(record, turn, system, prefix=_closed_prefix(so_far) + texts["answer"],
                                  phase="answer", max_tokens=self.max_tokens, answer_so_far=texts["answer"])

    def _graceful_text(self, transcript: str, tokens_left: int | None) -> str:
        if not self.graceful_close or self.graceful_close.strip() in transcript[-len(self.graceful_close) - 8:]:
            return ""
        text = self.graceful_close.lstrip("\n") if transcript.endswith("\n") or not transcript else self.graceful_close
        if tokens_left is not None and count_tokens(text) > tokens_left:
            return ""
        return text

    # ------------------------------------------------------------------- calls
    def _body(self, turn: Turn, system: str, prefix: str | None, max_tokens: int, model: str) -> dict[str, Any]:
        on = turn.mode != "off"
        user = f"{turn.prompt} {'/think' if on else '/no_think'}"
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": True, "max_tokens": max_tokens,
                                "temperature": self.temperature, "stop": _stops(turn),
                                "chat_template_kwargs": {"enable_thinking": on},
                                "stream_options": {"include_usage": True}}
        if prefix:
            if "continue_final_message" in self._unsupported:
                # The messages fallback: the chain so far as an assistant turn, then ask to go on.
                plain = prefix.replace(THINK_OPEN, "").replace(THINK_CLOSE, "").strip()
                messages.append({"role": "assistant", "content": plain})
                ask = ("Continue your reasoning exactly where it stopped; any observation above came from the "
                       "tools." if THINK_CLOSE not in prefix else "Continue your answer exactly where it stopped.")
                messages.append({"role": "user", "content": ask + (" /think" if on else " /no_think")})
            else:
                messages.append({"role": "assistant", "content": prefix})
                body["continue_final_message"] = True
                body["add_generation_prompt"] = False
        body.update(self.extra_body)
        for key in self._unsupported:
            body.pop(key, None)
        return body

    def _call(self, record: StreamRecord, turn: Turn, system: str, *, prefix: str | None, phase: str,
              max_tokens: int, state: dict[str, Any] | None = None, answer_so_far: str = "") -> Iterator[Delta]:
        state = state if state is not None else {}
        model = self._model_name()
        for _ in range(3):  # at most: as is, without rejected optional fields
            body = self._body(turn, system, prefix, max_tokens, model)
            call = CallRecord(body=body)
            record.calls.append(call)
            try:
                yield from self._consume(call, turn, phase, state, turn.answer + answer_so_far)
                return
            except _Rejected as e:
                if not e.fields or e.fields <= self._unsupported:
                    raise _final(BackendError(e.message)) from None
                self._unsupported |= e.fields
                record.continuation = "messages" if "continue_final_message" in self._unsupported else "prefix"
        raise BackendError(f"{self.base_url} keeps rejecting the request")

    def _consume(self, call: CallRecord, turn: Turn, phase: str, state: dict[str, Any],
                 answer_before: str) -> Iterator[Delta]:
        on = turn.mode != "off"
        splitter = ThinkSplitter(phase, drop_thinking=not on, lstrip_answer=not answer_before)
        pending = {"thinking": 0, "answer": 0}
        texts = {"thinking": "", "answer": ""}
        reasoning_seen = False
        stop_reason: Any = None
        reports_stop = False  # the server says which stop matched (vLLM stop_reason, SGLang matched_stop)

        def out(pieces: list[tuple[str, str]]) -> Iterator[Delta]:
            for channel, text in pieces:
                texts[channel] += text
                yield Delta(text, channel, tokens=pending[channel])  # type: ignore[arg-type]
                pending[channel] = 0

        for obj in self._events(call):
            if obj.get("usage"):
                call.usage = obj["usage"]
            choices = obj.get("choices") or []
            if not isinstance(choices, list):
                raise BackendError(f"malformed reply from {self._url()}: 'choices' is not a list in {_snippet(obj)}")
            for choice in choices[:1]:
                if not isinstance(choice, dict):
                    raise BackendError(f"malformed reply from {self._url()}: a choice is not an object: "
                                       f"{_snippet(obj)}")
                delta = choice.get("delta") or choice.get("message") or {}
                if not isinstance(delta, dict):
                    raise BackendError(f"malformed reply from {self._url()}: 'delta' is not an object: "
                                       f"{_snippet(obj)}")
                reasoning = delta.get("reasoning_content") or delta.get("reasoning") or delta.get("thinking")
                content = delta.get("content")
                if isinstance(reasoning, str) and reasoning:
                    if not on:
                        call.dropped_reasoning_chunks += 1
                    else:
                        reasoning_seen = True
                        call.thinking_chunks += 1
                        pending["thinking"] += 1
                        text = reasoning.replace(THINK_OPEN, "").replace(THINK_CLOSE, "")
                        if text:
                            yield from out([("thinking", text)])
                if isinstance(content, str) and content:
                    if reasoning_seen and splitter.phase == "thinking":
                        # The server splits reasoning off, so content is the answer.
                        yield from out(splitter.close_thinking())
                    if not splitter.dropping:
                        pending[splitter.phase] += 1
                        if splitter.phase == "thinking":
                            call.thinking_chunks += 1
                        else:
                            call.answer_chunks += 1
                    yield from out(splitter.feed(content))
                if choice.get("finish_reason"):
                    call.finish_reason = choice["finish_reason"]
                    reports_stop = "stop_reason" in choice or "matched_stop" in choice
                    stop_reason = choice.get("stop_reason", choice.get("matched_stop"))
        yield from out(splitter.finish())
        state["phase"] = splitter.phase
        if call.finish_reason == "stop":
            # Servers strip the stop string: put the closing tag back.
            channel = splitter.phase if splitter.phase in texts else "answer"
            context = (turn.transcript if channel == "thinking" else answer_before) + texts[channel]
            if reports_stop:  # None or a token id there means the model ended by itself
                tag = stop_reason if stop_reason in _stops(turn) else None
            else:
                tag = _unclosed(context, turn)
            if tag:
                call.reappended = tag
                pending[channel] += 1
                yield from out([(channel, tag)])
        for channel, n in pending.items():
            if n:
                yield Delta("", channel, tokens=n)  # type: ignore[arg-type]

    # -------------------------------------------------------------------- http
    def _url(self, path: str = "/chat/completions") -> str:
        return self.base_url + path

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "text/event-stream", "Content-Type": "application/json"}
        if self._api_key:
            h["Authorization"] = f"Bearer {self._api_key}"
        return h

    def _model_name(self) -> str:
        if self.model:
            return self.model
        import httpx

        url = self._url("/models")
        try:
            resp = httpx.get(url, headers=self._headers(), timeout=self.timeout)
            data = resp.json().get("data") if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError) as e:
            raise BackendError(f"no model named and {url} could not list one ({e}): "
                               "pass model= or set MMTHINK_MODEL") from e
        if not data or not isinstance(data, list) or not isinstance(data[0], dict) or not data[0].get("id"):
            raise BackendError(f"no model named and {url} lists none: pass model= or set MMTHINK_MODEL")
        self.model = str(data[0]["id"])
        return self.model

    def _events(self, call: CallRecord) -> Iterator[dict[str, Any]]:
        """Parsed JSON objects of the reply, retrying before the first byte on 429/5xx/connection errors."""
        import httpx

        url = self._url()
        attempt = 0
        while True:
            call.attempts = attempt + 1
            started = False
            try:
                with httpx.Client(timeout=self.timeout) as client:
                    with client.stream("POST", url, json=call.body, headers=self._headers()) as resp:
                        if resp.status_code >= 400:
                            resp.read()
                            err = self._http_error(resp)
                            if isinstance(err, _Retryable) and attempt < self.max_retries:
                                self._sleep(attempt, resp.headers.get("retry-after"))
                                attempt += 1
                                continue
                            raise err.final() if isinstance(err, _Retryable) else err
                        if "text/event-stream" not in resp.headers.get("content-type", "text/event-stream"):
                            resp.read()
                            yield _parse_json(resp.text, url)
                            return
                        for payload in _sse(resp.iter_lines()):
                            if payload.strip() == "[DONE]":
                                return
                            started = True
                            obj = _parse_json(payload, url)
                            if isinstance(obj.get("error"), (dict, str)):
                                err = obj["error"]
                                msg = err.get("message", err) if isinstance(err, dict) else err
                                raise BackendError(f"{url} reported an error mid-stream: {str(msg)[:300]}")
                            yield obj
                        return
            except httpx.ConnectTimeout as e:
                raise BackendError(f"could not connect to {url} within {self.timeout:g} s") from e
            except httpx.TimeoutException as e:
                raise BackendError(f"no response from {url} within {self.timeout:g} s") from e
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
                if started:
                    raise BackendError(f"{url} dropped the connection mid-reply: {e}") from e
                if attempt < self.max_retries:
                    self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise BackendError(f"cannot reach {url} ({type(e).__name__}: {e}); is the server running? "
                                   "Set base_url= or OPENAI_BASE_URL") from e

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2 ** attempt)
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), 30.0))
            except ValueError:
                pass
        time.sleep(delay)

    def _http_error(self, resp: Any) -> Exception:
        url, code = self._url(), resp.status_code
        text = resp.text
        if code == 429 or code >= 500:
            return _Retryable(BackendError(f"{url} answered HTTP {code} after {self.max_retries + 1} tries: "
                                           f"{_clip(text)}"))
        if code in (401, 403):
            msg = f"{url} rejected the API key (HTTP {code}): pass api_key= or set OPENAI_API_KEY"
            return _final(BackendError(f"{msg}; server said: {_clip(text)}"))
        if code == 404:
            msg = f"{url} answered HTTP 404 (check that base_url ends with /v1 and that {self.model!r} is served)"
            return _final(BackendError(f"{msg}: {_clip(text)}"))
        if code in (400, 422):
            fields = {f for f in _OPTIONAL if f in text}
            if fields:
                return _Rejected(f"{url} answered HTTP {code}: {_clip(text)}", fields)
        return _final(BackendError(f"{url} answered HTTP {code}: {_clip(text)}"))


def _final(error: BackendError) -> BackendError:
    """Mark an error that another attempt cannot fix (a wrong key, a bad request), so callers do not retry it."""
    error.retryable = False  # type: ignore[attr-defined]
    return error


# ------------------------------------------------------------------------- helpers


class _Retryable(Exception):
    def __init__(self, error: BackendError) -> None:
        self.error = error

    def final(self) -> BackendError:
        return self.error


class _Rejected(Exception):
    def __init__(self, message: str, fields: set[str]) -> None:
        super().__init__(message)
        self.message, self.fields = message, fields


def _closed_prefix(thinking: str) -> str:
    """An assistant prefix whose thinking is closed, so the model writes the answer."""
    return THINK_OPEN + "\n" + thinking + ("" if thinking.endswith("\n") else "\n") + THINK_CLOSE + "\n\n"


def _stops(turn: Turn) -> list[str]:
    """Generation stops when one of the modality's drafting tags closes."""
    return [f"</{t}>" for t in turn.tags.draft]


def _unclosed(text: str, turn: Turn) -> str | None:
    """The closing tag of the last drafting tag left open in ``text``, if any."""
    last = None
    names = "|".join(re.escape(t) for t in turn.tags.draft) or r"(?!)"
    for m in re.finditer(r"<(" + names + r")\b[^<>]*>", text):
        last = m
    if last is None or f"</{last.group(1)}" in text[last.end():]:
        return None
    return f"</{last.group(1)}>"


def _sse(lines: Iterator[str]) -> Iterator[str]:
    """The data payloads of a server-sent event stream."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _parse_json(payload: str, url: str) -> dict[str, Any]:
    try:
        obj = json.loads(payload)
    except json.JSONDecodeError as e:
        raise BackendError(f"malformed reply from {url}: {e.msg} in {payload[:120]!r}") from None
    if not isinstance(obj, dict):
        raise BackendError(f"malformed reply from {url}: expected a JSON object, got {payload[:120]!r}")
    return obj


def _snippet(obj: Any) -> str:
    return repr(json.dumps(obj)[:120])


def _clip(text: str, n: int = 300) -> str:
    text = " ".join(str(text).split())
    return text[:n] + ("…" if len(text) > n else "")


def _system(turn: Turn) -> str:
    """The protocol prompt for the turn's modality (an empty one where the graph gave no guide)."""
    return build_system_prompt(turn.guide, turn.mode) if turn.guide is not None else ""
