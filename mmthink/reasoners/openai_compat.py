"""Any OpenAI-compatible chat endpoint as a reasoner (vLLM, SGLang, Ollama, llama.cpp, LM Studio).

Streams ``/chat/completions`` (or ``/completions``, see below) over server-sent events with
httpx. Thinking arrives either as a separate ``reasoning_content`` (vLLM, SGLang, DeepSeek) or
``reasoning`` (Ollama, OpenRouter) field, or inline as ``<think>...</think>`` in the content
(split across chunks in any way); both become the thinking channel, and the markers never reach
the caller.

Thinking on/off is sent as ``chat_template_kwargs: {"enable_thinking": ...}`` (vLLM, SGLang),
and as the ``/think`` / ``/no_think`` soft switch in the user message only for models whose chat
template knows it (Qwen3 hybrids, SmolLM3; see :mod:`.chat_template`); a switch the model writes
back is removed from its output.

Continuing a chain: how depends on the server (see :mod:`.servers`): a trailing assistant
message the server continues (``prefix``), the model's chat template rendered on our side and
sent to ``/v1/completions`` (``completions``: llama.cpp, which ignores the prefix fields), or an
assistant turn plus a user turn asking to go on (``messages``: less exact). ``server_kind``
names the server, or ``"auto"`` finds out once per server; :meth:`facts` says what is used.

One turn is one HTTP attempt: retries belong to the caller (the graph's fault policy). Errors say
whether another attempt can help (``retryable``): a stream that ends without a finish reason, an
error event inside the stream, a turn with no tokens, 429/5xx and connection failures are
retryable; a wrong key, a prompt over the context window (:class:`~mmthink.errors.ContextOverflow`,
naming both sizes) and the run's deadline (:class:`~mmthink.errors.DeadlineReached`,
``turn.deadline``) are not.

Drafting: where the modality has a draft grammar and the server takes one (found by a probe), the free
stream is cut at an opening drafting tag and the tag's body is requested again under the grammar, the
transcript continued exactly (:mod:`.server_drafts`, :mod:`.gbnf`); every request is checked against the
server's context window first; ``turn_facts()`` says per turn what was constrained and why not.

Budget: ``max_tokens`` is the thinking tokens left. If the server stops for length inside the
thinking, a second call closes the thinking with a short graceful sentence and gets the answer.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mmthink.errors import BackendError, ContextOverflow, DeadlineReached, InputError
from mmthink.reasoners import gbnf, server_drafts, servers
from mmthink.reasoners.base import Delta, Turn, last_turn
from mmthink.reasoners.chat_template import ChatTemplate, model_knows_soft_switches, template_from_tokenizer
from mmthink.reasoners.forcing import GRACEFUL_CLOSE, THINK_CLOSE, THINK_OPEN, LiteralDrop, ThinkSplitter
from mmthink.reasoners.grammar import ConstraintLog
from mmthink.reasoners.prompt import build_system_prompt, example_messages
from mmthink.thinking import count_tokens

DEFAULT_BASE_URL = "http://localhost:8000/v1"
SOFT_SWITCHES = (" /no_think", " /think", "/no_think", "/think")
_OPTIONAL = ("continue_final_message", "add_generation_prompt", "chat_template_kwargs", "stream_options", "seed")


@dataclass
class CallRecord:
    """One HTTP call: the body sent (the key travels in a header, never here) and what came back."""

    body: dict[str, Any]
    path: str = "/chat/completions"
    finish_reason: str | None = None
    stopped: str = ""  # stop string | end of sequence | length | caller stopped | deadline | error | <finish_reason>
    stop_tag: str | None = None  # the drafting tag's closing string the call stopped at
    usage: dict[str, Any] | None = None
    thinking_chunks: int = 0
    answer_chunks: int = 0
    dropped_reasoning_chunks: int = 0  # reasoning a server sent while thinking was off
    reappended: str | None = None  # the stop string the server stripped and we put back


@dataclass
class StreamRecord:
    calls: list[CallRecord] = field(default_factory=list)
    continuation: str | None = None  # prefix | completions | messages; None when the turn continued nothing
    constraint: ConstraintLog | None = None  # how draft bodies were constrained this turn (gbnf via ... | none: why)
    revision: str | None = None  # the turn opened a draft itself because the critic rejected the last (force_revision)

    @property
    def stopped(self) -> str:
        """Why the turn's last call ended (see :attr:`CallRecord.stopped`)."""
        return self.calls[-1].stopped if self.calls else ""


class OpenAICompatReasoner:
    """See the module docstring. Arguments fall back to OPENAI_BASE_URL (or OPENAI_API_BASE),
    OPENAI_API_KEY and MMTHINK_MODEL; with no model named, the server's only model is used.

    ``server_kind``: auto | llama_cpp | vllm | sglang | ollama | openai (how to continue a chain);
    ``tokenizer``: a tokenizer folder or cached hub id whose chat template renders ``/completions``
    prompts when the server publishes none; ``soft_switches``: force the ``/think`` switches on or
    off (None: only for templates that know them); ``connect_timeout``: seconds to reach the server.
    """

    name = "openai_compat"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60,
        connect_timeout: float = 5.0,
        server_kind: str = "auto",
        tokenizer: str | None = None,
        soft_switches: bool | None = None,
        extra_body: dict[str, Any] | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.6,
        system_prompt: str | None = None,
        graceful_close: str | None = GRACEFUL_CLOSE,
        max_retries: Any = None,
        backoff: Any = None,
        constrain: bool = True,
        draft_names: str = "request",
        context_size: int | None = None,
        turn_tokens: int | None = 512,
        draft_tokens: int = 256,
        server_budget: bool | None = None,
        examples: bool = True,
        force_revision: bool = True,
    ) -> None:
        url = base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or DEFAULT_BASE_URL
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise InputError("base_url", f"{url!r} is not an http(s) URL", "e.g. http://localhost:8000/v1")
        for name, value in (("max_retries", max_retries), ("backoff", backoff)):
            if value is not None:
                raise InputError(
                    name,
                    "the reasoner makes one HTTP attempt per turn; retries belong to the run",
                    "drop it and set the fault policy's reason attempts (policy.reason.attempts)",
                )
        for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise InputError(name, f"must be a positive number of seconds, got {value!r}", "e.g. 60")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise InputError("max_tokens", f"must be a positive integer, got {max_tokens!r}", "e.g. 1024")
        if extra_body is not None and not isinstance(extra_body, dict):
            raise InputError("extra_body", f"must be a dict, got {type(extra_body).__name__}")
        if server_kind not in servers.SERVER_KINDS:
            raise InputError(
                "server_kind", f"unknown value {server_kind!r}", f"use one of {', '.join(servers.SERVER_KINDS)}"
            )
        if tokenizer is not None and (not isinstance(tokenizer, str) or not tokenizer.strip()):
            raise InputError(
                "tokenizer",
                f"must be a tokenizer folder or hub id, got {tokenizer!r}",
                "e.g. tokenizer='Qwen/Qwen3-0.6B'",
            )
        if soft_switches not in (None, True, False):
            raise InputError(
                "soft_switches",
                f"must be true, false or None, got {soft_switches!r}",
                "None appends them only for chat templates that know them",
            )
        if draft_names not in ("understood", "request", "free"):
            raise InputError("draft_names", f"unknown value {draft_names!r}", "use understood, request or free")
        for name, value in (("context_size", context_size), ("turn_tokens", turn_tokens)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InputError(name, f"must be a positive integer or None, got {value!r}", "e.g. 4096")
        if isinstance(draft_tokens, bool) or not isinstance(draft_tokens, int) or draft_tokens < 16:
            raise InputError("draft_tokens", f"must be an integer of at least 16, got {draft_tokens!r}", "e.g. 256")
        if server_budget not in (None, True, False):
            raise InputError("server_budget", f"must be true, false or None, got {server_budget!r}", "None: auto")
        self.base_url = url.rstrip("/")
        self.model = model or os.environ.get("MMTHINK_MODEL") or None
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.server_kind = server_kind
        self.tokenizer = tokenizer
        self.soft_switches = soft_switches
        self.extra_body = dict(extra_body or {})
        self.max_tokens = max_tokens
        self.temperature = float(temperature)
        self.system_prompt = system_prompt
        self.graceful_close = graceful_close
        self.continuation: str | None = None  # decided at the first continuation (or by prepare())
        self.continuation_why = ""
        self._template: ChatTemplate | None = None
        self._info: servers.ServerInfo | None = None
        self._unsupported: set[str] = set()
        self.last_run: StreamRecord | None = None
        self.constrain = bool(constrain)
        """Decode each draft body under the modality's grammar where the server takes one (see server_drafts)."""
        self.draft_names = draft_names
        self.context_size = context_size
        """The server's context window when it does not publish one (llama-cpp-python, OpenAI-style proxies)."""
        self.turn_tokens = turn_tokens
        """Free thinking per turn while drafts are left: a drafting turn is a sentence or two and a tag."""
        self.draft_tokens = draft_tokens
        self.server_budget = server_budget
        self.examples = bool(examples)
        self.force_revision = bool(force_revision)
        """After the critic rejects a draft (drafts left), open the next one at once and decode it under the
        grammar: a small model otherwise accepts the rejected draft or names one it never wrote."""
        self._grammar: server_drafts.GrammarSupport | None = None
        self.not_names: Any = None
        """``text -> [words]`` the understanding read as places, times, weather or modifiers (the agent sets it):
        not offered as element names."""
        self.understood_names: Any = None
        """``text -> [names]``: the objects the request's understanding found (the agent sets it). A draft
        grammar's names: those with ``draft_names="understood"``, the request's own words with ``"request"``
        (and where the understanding finds none), any word with ``"free"``."""

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatReasoner(model={self.model!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------ server
    def prepare(self) -> dict[str, Any]:
        """Find out now (not at the first continuation) what the server is and how chains continue.

        Fails within ``connect_timeout`` seconds, naming the URL, when the server cannot be reached.
        Returns :meth:`facts`.
        """
        self._server()
        self._decide_continuation()
        return self.facts()

    def facts(self) -> dict[str, Any]:
        """What the trace should say about this backend: server kind, continuation, context size."""
        out: dict[str, Any] = {"server_kind": self.server_kind}
        if self._info is not None:
            out["server_detected"] = self._info.kind
            out["server_identified_by"] = self._info.identified_by
            if self._info.context_size:
                out["context_size"] = self._info.context_size
                out["context_from"] = self._info.context_from
            elif self.context_size:
                out["context_size"], out["context_from"] = self.context_size, "configured (context_size=)"
            out["budget_by"] = self._budget_field()[1]
        if not self.constrain:
            out["constraint"] = "none: off (constrain=False)"
        elif self._grammar is not None:
            out["constraint"] = self._grammar.path
        if self.continuation:
            out["continuation"] = self.continuation
            out["continuation_why"] = self.continuation_why
        if self._template is not None:
            out["chat_template_from"] = self._template.source
        if self._info is not None:
            try:
                out["soft_switches"] = self._switches_known()
            except BackendError:  # a tokenizer= that cannot be read: the first call reports it
                pass
        return out

    def turn_facts(self) -> dict[str, Any]:
        """What the trace's thought step records about the last turn: why it stopped, the continuation, how the
        draft body was constrained (or why not: the probe's finding), and who enforced the budget."""
        out = last_turn(self)
        if self._grammar is not None:
            out["grammar_probe"] = self._grammar.probe
        if self._info is not None:
            out["budget_by"] = self._budget_field()[1]
        return out

    def _server(self) -> servers.ServerInfo:
        if self._info is not None:
            return self._info
        info = servers.cached(self.base_url)
        if info is None:
            models = self._get_json(self._url("/models"), required=True)
            root = servers.server_root(self.base_url)
            props = self._get_json(root + "/props")
            is_llama = isinstance(props, dict) and "chat_template" in props
            version = None if is_llama else self._get_json(root + "/api/version")
            info = servers.identify(servers.ServerInfo(self.base_url), models, props, version)
            if isinstance(props, dict) and any("reasoning_budget" in k for k in _keys(props)):
                info.reasoning_budget = True
            if info.kind == "ollama" and info.context_size is None:
                self._ollama_context(info, root)
            info = servers.remember(info)
        self._info = info
        if not self.model:
            if not info.models:
                raise BackendError(
                    f"no model named and {self._url('/models')} lists none: pass model= or set MMTHINK_MODEL",
                    retryable=False,
                )
            self.model = info.models[0]
        return info

    def _ollama_context(self, info: servers.ServerInfo, root: str) -> None:
        """Ollama's context: what a loaded model was given (/api/ps), else num_ctx in its parameters (/api/show)."""
        ps = self._get_json(root + "/api/ps")
        for m in (ps or {}).get("models") or [] if isinstance(ps, dict) else []:
            if isinstance(m, dict) and m.get("name") in (self.model, *(info.models[:1])) and m.get("context_length"):
                info.context_size, info.context_from = int(m["context_length"]), "/api/ps context_length"
                return
        name = self.model or (info.models[0] if info.models else None)
        if name:
            show = self._post_json(root + "/api/show", {"model": name})
            n = servers.ollama_context(show)
            if n:
                info.context_size, info.context_from = n, "/api/show num_ctx"

    def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        status, reply, _ = self._post(url, body)
        return reply if status < 400 else None

    def _post(self, url: str, body: dict[str, Any]) -> tuple[int, Any, str]:
        """One small non-streamed POST: (status, parsed JSON or None, text); transport errors raise."""
        import httpx

        try:
            with httpx.Client(timeout=self._timeout(None)) as client:
                resp = client.post(url, json=body, headers=self._headers())
        except httpx.HTTPError as e:
            raise self._transport_error(e, url, started=False) from e
        try:
            return resp.status_code, resp.json(), resp.text
        except ValueError:
            return resp.status_code, None, resp.text

    def _chat_template(self) -> ChatTemplate | None:
        if self._template is None:
            if self.tokenizer:
                self._template = template_from_tokenizer(self.tokenizer)
            elif self._info is not None and self._info.template is not None:
                self._template = self._info.template
        return self._template

    def _switches_known(self) -> bool:
        if self.soft_switches is not None:
            return self.soft_switches
        template = self._chat_template()
        if template is not None:
            return template.knows_soft_switches
        return model_knows_soft_switches(self.model)

    def _decide_continuation(self) -> str:
        if self.continuation:
            return self.continuation
        info = self._server()
        template = self._chat_template()
        choice, why = servers.decide(info, self.server_kind, template)
        if choice is None:
            if info.prefix_honoured is None:
                info.prefix_honoured = self._probe()
            if info.prefix_honoured:
                choice, why = "prefix", "the server continued a half-written assistant message (probe)"
            elif template is not None:
                choice, why = (
                    "completions",
                    (
                        "the server ignores a trailing assistant message (probe): the chat "
                        f"template ({template.source}) is rendered on our side"
                    ),
                )
            else:
                choice, why = (
                    "messages",
                    (
                        "the server ignores a trailing assistant message (probe) and no chat "
                        "template is known (pass tokenizer=...): continued as a new turn"
                    ),
                )
        self.continuation, self.continuation_why = choice, why
        return choice

    def _probe(self) -> bool:
        import httpx

        url = self._url()
        body = servers.probe_body(self._model_name())
        for _ in range(2):  # as is, then without optional fields the server rejected
            for key in self._unsupported:
                body.pop(key, None)
            try:
                with httpx.Client(timeout=self._timeout(None)) as client:
                    resp = client.post(url, json=body, headers=self._headers())
            except httpx.HTTPError as e:
                raise self._transport_error(e, url, started=False) from e
            if resp.status_code in (400, 422):
                named = {f for f in _OPTIONAL if f in resp.text}
                if named & {"continue_final_message", "add_generation_prompt"}:
                    self._unsupported |= named | {"continue_final_message", "add_generation_prompt"}
                    return False  # it refuses the prefix fields: no prefix continuation
                if named - self._unsupported:
                    self._unsupported |= named
                    continue
            if resp.status_code >= 400:
                err = self._http_error(resp, url)
                raise err if isinstance(err, BackendError) else BackendError(str(err), retryable=False)
            try:
                return servers.probe_honoured(resp.json())
            except ValueError:
                return False
        raise BackendError(f"{url} keeps rejecting the continuation probe", retryable=False)

    def _get_json(self, url: str, required: bool = False) -> Any:
        import httpx

        try:
            with httpx.Client(timeout=self._timeout(None)) as client:
                resp = client.get(url, headers=self._headers())
        except httpx.HTTPError as e:
            if required:
                raise self._transport_error(e, url, started=False) from e
            return None
        if resp.status_code >= 400:
            if required and resp.status_code in (401, 403):
                raise self._http_error(resp, url)
            return None
        try:
            return resp.json()
        except ValueError:
            return None

    # ------------------------------------------------------------------ stream
    def stream(self, turn: Turn) -> Iterator[Delta]:
        record = StreamRecord()
        self.last_run = record
        self._server()
        system = turn.system or self.system_prompt or _system(turn)
        if turn.mode == "off":
            yield from self._call(
                record, turn, system, prefix=turn.answer or None, phase="answer", max_tokens=self.max_tokens
            )
            return
        closing = bool(turn.answer or turn.force_close or turn.tokens_left == 0)
        if closing:
            pre = ""
            if turn.force_close and not turn.answer:
                pre = self._graceful_text(turn.transcript, turn.tokens_left)
                if pre:
                    yield Delta(pre, "thinking", tokens=count_tokens(pre))
            closed = _closed_prefix(turn.transcript + pre) + turn.answer
            yield from self._call(record, turn, system, prefix=closed, phase="answer", max_tokens=self.max_tokens)
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
        stems = self._stems(turn, record)
        first = limit if not stems or self.turn_tokens is None else min(limit, self.turn_tokens)
        if stems and turn.revise and self.force_revision and f"<{turn.revise}" in stems:
            opened = f"<{turn.revise}"  # the revision, decoded under the grammar from its first attribute on
            record.revision = (
                f"opened by the reasoner: the critic rejected {turn.drafts[-1].id if turn.drafts else 'the last draft'}"
            )
            texts["thinking"] += opened
            yield Delta(opened, "thinking", tokens=count_tokens(opened))
            yield from self._draft(record, turn, system, turn.revise, texts, limit, required=turn.required)
            return
        if stems:
            state["cut"] = server_drafts.StemCut(stems)
        for d in self._call(record, turn, system, prefix=prefix, phase="thinking", max_tokens=first, state=state):
            texts[d.channel] += d.text
            yield d
        if state.get("opened"):  # the model opened a drafting tag: its body follows the grammar
            yield from self._draft(record, turn, system, state["opened"], texts, limit)
        elif first < limit:
            return  # the turn's own cap (turn_tokens), not the budget: the graph decides what comes next
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
            yield from self._call(
                record, turn, system, prefix=_closed_prefix(so_far + pre), phase="answer", max_tokens=self.max_tokens
            )
        else:
            # Thinking closed in time but the budget-sized limit cut the answer: let it finish.
            yield from self._call(
                record,
                turn,
                system,
                prefix=_closed_prefix(so_far) + texts["answer"],
                phase="answer",
                max_tokens=self.max_tokens,
                answer_so_far=texts["answer"],
            )

    # ------------------------------------------------------------ constrained drafts
    def _stems(self, turn: Turn, record: StreamRecord) -> dict[str, str]:
        """The opening-tag stems to cut the free stream at (``{"<sketch": "sketch"}``), or none and why (recorded)."""
        grammar = turn.guide.grammar if turn.guide is not None else ""
        tags = [t for t in turn.tags.draft if re.search(rf"^\s*{re.escape(t)}\s*:", grammar, re.M)]
        why: str | None = None
        if not self.constrain:
            why = "off (constrain=False)"
        elif not grammar:
            why = f"the {turn.modality} modality has no draft grammar"
        elif not tags:
            why = f"the grammar has no rule for {', '.join(turn.tags.draft)}"
        elif turn.drafts_left == 0:
            why = "no drafts left this run"
        else:
            why = server_drafts.require_exact(self._decide_continuation())
            if why is None:
                support = self._grammar_support()
                why = None if support.field else support.probe
        record.constraint = ConstraintLog(path=f"none: {why}" if why else self._grammar_support().path)
        return {} if why else {f"<{t}": t for t in tags}

    def _grammar_support(self) -> server_drafts.GrammarSupport:
        if self._grammar is None:
            info = self._server()
            path = "/completions" if self.continuation == "completions" else "/chat/completions"
            self._grammar = server_drafts.probe_grammar(
                lambda p, body: self._post(self._url(p), body), info, self._model_name(), path, self.server_kind
            )
        return self._grammar

    def _draft(
        self,
        record: StreamRecord,
        turn: Turn,
        system: str,
        tag: str,
        texts: dict[str, str],
        limit: int,
        required: tuple[str, ...] = (),
    ) -> Iterator[Delta]:
        """The body of a drafting tag the model opened, decoded under the draft grammar (the same transcript,
        continued exactly); what happened goes into the turn's constraint log."""
        log = record.constraint if record.constraint is not None else ConstraintLog()
        so_far = turn.transcript + texts["thinking"]
        reference = turn.guide.tags if turn.guide is not None else ""
        draft_id = gbnf.next_id(tag, so_far, reference)
        things, not_things = self._read(turn.prompt)
        try:
            g: gbnf.DraftGrammar | None = gbnf.draft_grammar(
                turn.guide.grammar if turn.guide else "",
                tag,
                draft_id,
                turn.prompt,
                "free" if self.draft_names == "free" else "request",
                understood=self._understood(turn.prompt),
                required=required,
                objects=things,
                exclude=set(not_things),
            )
            if g.required and record.revision:
                record.revision += f"; the model rewrote it unchanged, so the grammar required {', '.join(g.required)}"
        except BackendError as e:  # a grammar the translation refuses: this draft is written freely, said so
            log.broken.append(f"<{tag}>: no server grammar ({e}); drafted unconstrained")
            g = None
        used = count_tokens(texts["thinking"])
        n = max(16, min(self.draft_tokens, limit - used)) if g is not None else max(16, limit - used)
        state: dict[str, Any] = {"before": texts["thinking"]}
        body = ""
        if g is not None:
            log.drafts += 1
        try:
            for d in self._call(
                record,
                turn,
                system,
                prefix=THINK_OPEN + "\n" + so_far,
                phase="thinking",
                max_tokens=n,
                state=state,
                grammar=g.gbnf if g is not None else None,
            ):
                texts[d.channel] += d.text
                body += d.text if d.channel == "thinking" else ""
                if g is not None and d.channel == "thinking" and body.endswith(f"</{tag}>"):
                    _judge(log, g, body, record)
                    g = None
                yield d
        finally:
            if g is not None:
                _judge(log, g, body, record)

    def _read(self, text: str) -> tuple[list[str], list[str]]:
        """The request's things and the words that are not things (places, times, weather, modifiers), from the
        one understanding the agent hands in (``understood_names`` / ``not_names``); none without it."""
        got: list[list[str]] = []
        for fn in (self.understood_names, self.not_names):
            try:
                got.append([str(n).lower() for n in fn(text) if str(n).strip()] if callable(fn) else [])
            except Exception:  # an understanding that fails leaves the request's words
                got.append([])
        return got[0], got[1]

    def _understood(self, text: str) -> list[str]:
        if self.draft_names != "understood" or not callable(self.understood_names):
            return []
        try:
            return [str(n).lower() for n in self.understood_names(text) if str(n).strip()]
        except Exception:  # an understanding that fails leaves the request's words
            return []

    def _graceful_text(self, transcript: str, tokens_left: int | None) -> str:
        if not self.graceful_close or self.graceful_close.strip() in transcript[-len(self.graceful_close) - 8 :]:
            return ""
        text = self.graceful_close.lstrip("\n") if transcript.endswith("\n") or not transcript else self.graceful_close
        if tokens_left is not None and count_tokens(text) > tokens_left:
            return ""
        return text

    # ------------------------------------------------------------------- calls
    def _user_text(self, turn: Turn) -> str:
        if not self._switches_known():
            return turn.prompt
        return f"{turn.prompt} {'/think' if turn.mode != 'off' else '/no_think'}"

    def _request(
        self,
        turn: Turn,
        system: str,
        prefix: str | None,
        max_tokens: int,
        model: str,
        grammar: str | None = None,
        phase: str = "thinking",
    ) -> tuple[str, dict[str, Any]]:
        """The path and body of one call."""
        on = turn.mode != "off"
        user = self._user_text(turn)
        builtin = self.examples and not (turn.system or self.system_prompt)
        shots = example_messages(turn.guide, turn.mode, turn.prompt) if builtin else []
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            *shots,
            {"role": "user", "content": user},
        ]
        common: dict[str, Any] = {
            "model": model,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "stop": _stops(turn),
            "seed": turn.seed,
            "stream_options": {"include_usage": True},
        }
        path = "/chat/completions"
        if prefix and self.continuation == "completions":
            template = self._chat_template()
            assert template is not None  # "completions" is only chosen with a template
            path = "/completions"
            base = template.render(messages, add_generation_prompt=True, enable_thinking=on)
            if prefix.startswith(THINK_OPEN) and base.rstrip().endswith(THINK_OPEN):
                base = base.rstrip()[: -len(THINK_OPEN)]  # the template opened the block: ours replaces it
            body = {**common, "prompt": base + prefix}
        else:
            body = {**common, "messages": messages, "chat_template_kwargs": {"enable_thinking": on}}
            if prefix and self.continuation == "messages":
                # The chain so far as an assistant turn, then ask to go on (the trace says "messages").
                plain = prefix.replace(THINK_OPEN, "").replace(THINK_CLOSE, "").strip()
                messages.append({"role": "assistant", "content": plain})
                ask = (
                    "Continue your reasoning exactly where it stopped; any observation above came from the tools."
                    if THINK_CLOSE not in prefix
                    else "Continue your answer exactly where it stopped."
                )
                if self._switches_known():
                    ask += " /think" if on else " /no_think"
                messages.append({"role": "user", "content": ask})
            elif prefix:
                messages.append({"role": "assistant", "content": prefix})
                if self.server_kind != "ollama":  # Ollama continues it natively
                    body["continue_final_message"] = True
                    body["add_generation_prompt"] = False
        if grammar is not None and self._grammar is not None and self._grammar.field:
            body = servers.with_grammar(body, self._grammar.field, grammar)
        budget_field = self._budget_field()[0]
        if budget_field and on and phase == "thinking" and turn.tokens_left is not None:
            body[budget_field] = max(1, int(turn.tokens_left))
        body.update(self.extra_body)
        for key in self._unsupported:
            body.pop(key, None)
        return path, body

    def _budget_field(self) -> tuple[str | None, str]:
        """The request field that carries the thinking budget to the server, if any, and what the trace says."""
        info = self._info
        ours = "ours (budget forcing: max_tokens per call and a graceful close)"
        if self.server_budget is False:
            return None, ours + "; server_budget=False"
        if (info is not None and info.kind == "vllm") or self.server_budget:
            return "thinking_token_budget", "server (vLLM thinking_token_budget) and ours as the check"
        if info is not None and info.kind == "llama_cpp" and info.reasoning_budget:
            return "thinking_budget_tokens", "server (llama.cpp reasoning budget, from /props) and ours as the check"
        return None, ours

    def _fit(self, path: str, body: dict[str, Any]) -> int:
        """``max_tokens`` for this body: checked against the context window (a clear error when the prompt cannot
        fit) and, with an exact count, cut to the room left (vLLM refuses a request that asks for more)."""
        info = self._server()
        context = info.context_size or self.context_size
        if not context:
            return int(body["max_tokens"])
        where = info.context_from if info.context_size else "configured (context_size=)"
        if path == "/completions":
            text = str(body.get("prompt", ""))
        else:
            template = self._chat_template()
            messages = body.get("messages") or []
            if template is not None:
                text = template.render(messages, add_generation_prompt=True, enable_thinking=True)
            else:
                text = "".join(str(m.get("content", "")) + " " * 8 for m in messages)
        n, exact = self._count(text)
        exact = exact and (path == "/completions" or self._chat_template() is not None)  # else no template tokens
        return server_drafts.check_fits(n, exact, context, where, int(body["max_tokens"]), self.base_url)

    def _count(self, text: str) -> tuple[int, bool]:
        """Tokens in ``text`` by the server's own tokenizer where it has an endpoint for it, else an estimate."""
        info = self._server()
        root = servers.server_root(self.base_url)
        model = self._model_name()
        if info.tokenize_path is None:
            info.tokenize_path = ""
            for p in servers.TOKENIZE_PATHS.get(info.kind, servers.TOKENIZE_PATHS["openai"]):
                status, reply, _ = self._post(root + p, servers.tokenize_body(p, model, "hello"))
                if status < 400 and servers.token_count(reply) is not None:
                    info.tokenize_path = p
                    break
        if info.tokenize_path:
            status, reply, _ = self._post(
                root + info.tokenize_path, servers.tokenize_body(info.tokenize_path, model, text)
            )
            n = servers.token_count(reply) if status < 400 else None
            if n is not None:
                return n, True
        return count_tokens(text), False

    def _call(
        self,
        record: StreamRecord,
        turn: Turn,
        system: str,
        *,
        prefix: str | None,
        phase: str,
        max_tokens: int,
        state: dict[str, Any] | None = None,
        answer_so_far: str = "",
        grammar: str | None = None,
    ) -> Iterator[Delta]:
        state = state if state is not None else {}
        model = self._model_name()
        if prefix:
            record.continuation = self._decide_continuation()
        for _ in range(3):  # at most: as is, without rejected optional fields (a negotiation, not a retry)
            path, body = self._request(turn, system, prefix, max_tokens, model, grammar, phase)
            body["max_tokens"] = self._fit(path, body)
            call = CallRecord(body=body, path=path)
            record.calls.append(call)
            try:
                yield from self._consume(call, turn, phase, state, turn.answer + answer_so_far)
                return
            except _Rejected as e:
                if not e.fields or e.fields <= self._unsupported:
                    raise BackendError(e.message, retryable=False) from None
                self._unsupported |= e.fields
                if "continue_final_message" in e.fields and self.continuation == "prefix":
                    if self._info is not None:
                        self._info.prefix_honoured = False
                    template = self._chat_template()
                    self.continuation = "completions" if template is not None else "messages"
                    self.continuation_why = "the server rejected continue_final_message" + (
                        f": the chat template ({template.source}) is rendered on our side"
                        if template
                        else " and no chat template is known (pass tokenizer=...): continued as a new turn"
                    )
                    record.continuation = self.continuation
        raise BackendError(f"{self.base_url} keeps rejecting the request", retryable=False)

    def _consume(
        self, call: CallRecord, turn: Turn, phase: str, state: dict[str, Any], answer_before: str
    ) -> Iterator[Delta]:
        on = turn.mode != "off"
        splitter = ThinkSplitter(phase, drop_thinking=not on, lstrip_answer=not answer_before)
        pending = {"thinking": 0, "answer": 0}
        texts = {"thinking": "", "answer": ""}
        drops = {ch: LiteralDrop(SOFT_SWITCHES) for ch in texts} if self._switches_known() else None
        reasoning_seen = False
        stop_reason: Any = None
        reports_stop = False  # the server says which stop matched (vLLM stop_reason, SGLang matched_stop)
        url = self._url(call.path)
        cut: server_drafts.StemCut | None = state.pop("cut", None)

        def out(pieces: list[tuple[str, str]], final: bool = False) -> Iterator[Delta]:
            for channel, text in pieces:
                if drops is not None:
                    text = drops[channel].feed(text) + (drops[channel].finish() if final else "")
                opened = None
                if cut is not None and channel == "thinking":
                    text, opened = cut.feed(text)
                    if final and opened is None:
                        text += cut.finish()
                if text:
                    texts[channel] += text
                    yield Delta(text, channel, tokens=pending[channel])  # type: ignore[arg-type]
                    pending[channel] = 0
                if opened is not None:
                    state["opened"] = opened
                    raise _Opened(opened)

        completed = False
        events = self._events(call, turn.deadline)
        try:
            for obj in events:
                if obj.get("usage"):
                    call.usage = obj["usage"]
                choices = obj.get("choices") or []
                if not isinstance(choices, list):
                    raise BackendError(f"malformed reply from {url}: 'choices' is not a list in {_snippet(obj)}")
                for choice in choices[:1]:
                    if not isinstance(choice, dict):
                        raise BackendError(f"malformed reply from {url}: a choice is not an object: {_snippet(obj)}")
                    delta = choice.get("delta") or choice.get("message") or {}
                    if not isinstance(delta, dict):
                        raise BackendError(f"malformed reply from {url}: 'delta' is not an object: {_snippet(obj)}")
                    reasoning = delta.get("reasoning_content") or delta.get("reasoning") or delta.get("thinking")
                    content = delta.get("content")
                    if content is None and isinstance(choice.get("text"), str):  # /completions
                        content = choice["text"]
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
            completed = True
        except _Opened as e:  # the free stretch ends at an opening drafting tag; the connection is closed
            call.stopped = f"<{e.tag} opened"
            for channel, n in pending.items():
                if n:
                    yield Delta("", channel, tokens=n)  # type: ignore[arg-type]
            return
        except DeadlineReached:
            call.stopped = "deadline"
            raise
        except _Rejected:
            call.stopped = "rejected"
            raise
        except BackendError:
            call.stopped = "error"
            raise
        finally:
            events.close()
            if not completed and not call.stopped:
                call.stopped = "caller stopped"
        pieces = splitter.finish()
        state["phase"] = splitter.phase
        if drops is not None:
            for channel in texts:  # flush what the soft-switch filter held back
                pieces.append((channel, ""))
        yield from out(pieces, final=True)
        if call.finish_reason is None:
            call.stopped = "error"
            raise BackendError(
                f"{url}: the stream ended without a finish_reason after {call.thinking_chunks} "
                f"thinking and {call.answer_chunks} answer chunks (the server cut the reply short; "
                "llama-cpp-python does so when another request arrives)",
                retryable=True,
            )
        call.stopped = {"stop": "end of sequence", "length": "length"}.get(call.finish_reason, call.finish_reason)
        if call.finish_reason == "stop":
            # Servers strip the stop string: put the closing tag back.
            channel = splitter.phase if splitter.phase in texts else "answer"
            before = turn.transcript + state.get("before", "") if channel == "thinking" else answer_before
            context = before + texts[channel]
            if reports_stop:  # None or a token id there means the model ended by itself
                tag = stop_reason if stop_reason in _stops(turn) else None
            else:
                tag = _unclosed(context, turn)
            if tag:
                call.reappended = call.stop_tag = tag
                call.stopped = "stop string"
                pending[channel] += 1
                texts[channel] += tag
                yield Delta(tag, channel, tokens=pending[channel])  # type: ignore[arg-type]
                pending[channel] = 0
        if not any(texts.values()) and not call.dropped_reasoning_chunks and call.finish_reason != "length":
            call.stopped = "error"
            raise BackendError(
                f"{url} returned no tokens (finish_reason {call.finish_reason!r}): an empty turn", retryable=True
            )
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

    def _timeout(self, deadline: float | None) -> Any:
        import httpx

        read = self.timeout
        if deadline is not None:
            left = deadline - time.time()
            if left <= 0:
                raise _deadline_error(self._url(), deadline)
            read = min(read, left + 0.05)
        return httpx.Timeout(read, connect=min(self.connect_timeout, read))

    def _model_name(self) -> str:
        if self.model:
            return self.model
        self._server()
        assert self.model
        return self.model

    def _events(self, call: CallRecord, deadline: float | None) -> Iterator[dict[str, Any]]:
        """Parsed JSON objects of the reply; the stream is cut at ``deadline`` (epoch seconds)."""
        import httpx

        url = self._url(call.path)
        started = False
        watchdog: _Watchdog | None = None
        try:
            with httpx.Client(timeout=self._timeout(deadline)) as client:
                with client.stream("POST", url, json=call.body, headers=self._headers()) as resp:
                    if resp.status_code >= 400:
                        resp.read()
                        raise self._http_error(resp, url)
                    if deadline is not None:
                        watchdog = _Watchdog(resp, deadline)
                    if "text/event-stream" not in resp.headers.get("content-type", "text/event-stream"):
                        resp.read()
                        yield _parse_json(resp.text, url)
                        return
                    for payload in _sse(resp.iter_lines()):
                        if deadline is not None and time.time() >= deadline:
                            raise _deadline_error(url, deadline)
                        if payload.strip() == "[DONE]":
                            return
                        started = True
                        obj = _parse_json(payload, url)
                        if isinstance(obj.get("error"), (dict, str)) or obj.get("object") == "error":
                            raise _stream_error(obj, url, self.base_url, self._info)
                        yield obj
                    if deadline is not None and watchdog is not None and watchdog.fired:
                        raise _deadline_error(url, deadline)
        except httpx.HTTPError as e:
            if deadline is not None and (time.time() >= deadline - 0.05 or (watchdog and watchdog.fired)):
                raise _deadline_error(url, deadline) from e
            raise self._transport_error(e, url, started) from e
        finally:
            if watchdog is not None:
                watchdog.cancel()

    def _transport_error(self, e: Exception, url: str, started: bool) -> BackendError:
        import httpx

        if isinstance(e, httpx.ConnectTimeout):
            return BackendError(
                f"could not connect to {url} within {self.connect_timeout:g} s; is the server "
                "running? Set base_url= or OPENAI_BASE_URL",
                retryable=True,
            )
        if isinstance(e, httpx.TimeoutException):
            return BackendError(f"no response from {url} within {self.timeout:g} s", retryable=True)
        if started:
            return BackendError(f"{url} dropped the connection mid-reply: {e}", retryable=True)
        return BackendError(
            f"cannot reach {url} ({type(e).__name__}: {e}); is the server running? Set base_url= or OPENAI_BASE_URL",
            retryable=True,
        )

    def _http_error(self, resp: Any, url: str) -> Exception:
        code = resp.status_code
        text = resp.text
        if code == 429 or code >= 500:
            return BackendError(f"{url} answered HTTP {code}: {_clip(text)}", retryable=True)
        if code in (401, 403):
            msg = f"{url} rejected the API key (HTTP {code}): pass api_key= or set OPENAI_API_KEY"
            return BackendError(f"{msg}; server said: {_clip(text)}", retryable=False)
        if code == 404:
            msg = f"{url} answered HTTP 404 (check that base_url ends with /v1 and that {self.model!r} is served)"
            return BackendError(f"{msg}: {_clip(text)}", retryable=False)
        if code in (400, 413, 422):
            overflow = _overflow(_error_obj(text), text, self.base_url, self._info)
            if overflow is not None:
                return overflow
            fields = {f for f in _OPTIONAL if f in text}
            if fields:
                return _Rejected(f"{url} answered HTTP {code}: {_clip(text)}", fields)
        return BackendError(f"{url} answered HTTP {code}: {_clip(text)}", retryable=False)


# ------------------------------------------------------------------------- helpers


class _Opened(Exception):
    """The free stream wrote an opening drafting tag: stop reading it there."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def _judge(log: ConstraintLog, g: gbnf.DraftGrammar, body: str, record: StreamRecord) -> None:
    """Check a constrained draft against the grammar it was sent with (what the server did, not what we asked)."""
    if g.holds(body):
        log.completed += 1
    else:
        log.broken.append(
            f'<{g.tag} id="{g.draft_id}">: the reply does not follow the grammar (stopped: {record.stopped}): '
            f"{body[:80]!r}"
        )


def _keys(obj: Any) -> list[str]:
    """Every key of a JSON object, nested objects included."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(str(k))
            out += _keys(v)
    return out


class _Rejected(Exception):
    def __init__(self, message: str, fields: set[str]) -> None:
        super().__init__(message)
        self.message, self.fields = message, fields


class _Watchdog:
    """Cut a streamed reply at the deadline, even while a read is blocked: shut the socket down."""

    def __init__(self, resp: Any, deadline: float) -> None:
        self.resp = resp
        self.fired = False
        self.timer = threading.Timer(max(0.0, deadline - time.time()), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        self.fired = True
        stream = self.resp.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self.timer.cancel()


def _deadline_error(url: str, deadline: float) -> DeadlineReached:
    when = time.strftime("%H:%M:%S", time.localtime(deadline))
    return DeadlineReached(
        f"the run's time limit (max_seconds) was reached at {when}: the call to {url} was cut "
        "there; what streamed before it is kept",
        deadline=deadline,
    )


def _error_obj(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


_LLAMA_CPP_PY = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")
_OPENAI_STYLE = re.compile(
    r"maximum context length is (\d+) tokens.*?requested (\d+) tokens"
    r"(?: \((\d+) in the messages)?",
    re.S | re.I,
)
_GENERIC = re.compile(r"context (?:length|window|size)|exceeds? the available context", re.I)


def _overflow(obj: Any, text: str, base_url: str, info: servers.ServerInfo | None) -> ContextOverflow | None:
    """A context-window error, in any of the shapes servers use, as a final error naming both sizes."""
    err = obj.get("error", obj) if isinstance(obj, dict) else {}
    if not isinstance(err, dict):
        err = {"message": str(err)}
    message = str(err.get("message") or text)
    ctx = prompt = None
    if (m := _LLAMA_CPP_PY.search(message)) is not None:  # llama-cpp-python, in the stream
        prompt, ctx = int(m.group(1)), int(m.group(2))
    elif (m := _OPENAI_STYLE.search(message)) is not None:  # vLLM, llama-cpp-python's 400
        ctx = int(m.group(1))
        prompt = int(m.group(3)) if m.group(3) else None
    elif isinstance(err.get("n_ctx"), int) or err.get("type") == "exceed_context_size_error":  # llama.cpp server
        ctx, prompt = err.get("n_ctx"), err.get("n_prompt_tokens")
    elif not _GENERIC.search(message):
        return None
    if ctx is None and info is not None:
        ctx = info.context_size
    sizes = (f"the prompt is {prompt} tokens" if prompt else "the prompt is too long") + (
        f" and the server's context window is {ctx} tokens" if ctx else " for the server's context window"
    )
    return ContextOverflow(
        f"{sizes} ({base_url}; server said: {_clip(message, 200)}). Start the server with a larger context "
        "(llama.cpp: --ctx-size N; llama_cpp.server: --n_ctx N; vLLM: --max-model-len N) or shorten the "
        "system prompt",
        context_size=ctx,
        prompt_tokens=prompt,
    )


def _stream_error(obj: dict[str, Any], url: str, base_url: str, info: servers.ServerInfo | None) -> BackendError:
    """An error event inside an HTTP 200 stream: a context overflow is final, anything else retryable."""
    overflow = _overflow(obj, json.dumps(obj), base_url, info)
    if overflow is not None:
        return overflow
    err = obj.get("error", obj.get("message"))
    msg = err.get("message", err) if isinstance(err, dict) else err
    return BackendError(f"{url} reported an error mid-stream: {str(msg)[:300]}", retryable=True)


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
    if last is None or f"</{last.group(1)}" in text[last.end() :]:
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
        raise BackendError(f"malformed reply from {url}: {e.msg} in {payload[:120]!r}", retryable=True) from None
    if not isinstance(obj, dict):
        raise BackendError(f"malformed reply from {url}: expected a JSON object, got {payload[:120]!r}", retryable=True)
    return obj


def _snippet(obj: Any) -> str:
    return repr(json.dumps(obj)[:120])


def _clip(text: str, n: int = 300) -> str:
    text = " ".join(str(text).split())
    return text[:n] + ("…" if len(text) > n else "")


def _system(turn: Turn) -> str:
    """The protocol prompt for the turn's modality (an empty one where the graph gave no guide)."""
    return build_system_prompt(turn.guide, turn.mode) if turn.guide is not None else ""
