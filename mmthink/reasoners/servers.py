"""What an OpenAI-compatible server is and how it continues a chain, found out once per server.

Servers differ where mmthink depends on them most: continuing the assistant's unfinished
message. vLLM and SGLang honour ``continue_final_message``; Ollama continues a trailing
assistant message by itself; llama-cpp-python ignores both fields, closes the message and
starts a new answer; the OpenAI API has no such thing. So the continuation used is decided per
server and recorded:

- ``prefix``: the chain goes back as a trailing assistant message the server continues;
- ``completions``: the prompt is the model's chat template rendered on our side, sent to
  ``/v1/completions`` (exact on any server that has that endpoint);
- ``messages``: neither is possible; the chain goes back as an assistant turn followed by a
  user turn asking to go on (the model starts a new turn, and the trace says so).

``server_kind="auto"`` identifies the server from what it publishes (llama.cpp's ``/props``,
``owned_by`` in ``/v1/models``, Ollama's ``/api/version``) and, where that does not settle it,
asks it once to continue a half-written number (``PROBE_PREFIX``): a server that honours the
prefix writes the rest of the number; one that starts a new answer does not.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from mmthink.reasoners.chat_template import ChatTemplate

SERVER_KINDS = ("auto", "llama_cpp", "vllm", "sglang", "ollama", "openai")
CONTINUATIONS = ("prefix", "completions", "messages")

PROBE_USER = "Count from 1 to 20, separated by commas."
PROBE_PREFIX = "1, 2, 3, 4, 5, 6, 7, 8, 9, 1"
"""Cut inside "10": a continued prefix goes on with "0"; a new answer starts afresh."""
_PROBE_HONOURED = re.compile(r"^0\b|^0,")

_KNOWN = {  # what each kind does with a trailing assistant message, when the user names the kind
    "vllm": "prefix",  # continue_final_message / add_generation_prompt
    "sglang": "prefix",  # continue_final_message
    "ollama": "prefix",  # a trailing assistant message is continued natively
    "openai": "messages",  # no continuation of an assistant message
}


@dataclass
class ServerInfo:
    """What is known about one server (shared by every reasoner that talks to it)."""

    base_url: str
    kind: str = "openai"  # detected: llama_cpp | vllm | sglang | ollama | openai (anything else)
    identified_by: str = "nothing it publishes"
    template: ChatTemplate | None = None
    context_size: int | None = None
    models: list[str] = field(default_factory=list)
    prefix_honoured: bool | None = None  # the probe's answer, once asked
    context_from: str = ""  # where context_size came from (/props n_ctx, /v1/models max_model_len, ...)
    grammar_field: str | None = None  # how the server takes a grammar (GRAMMAR_FIELDS), once probed
    grammar_probe: str = ""  # what the grammar probe found (honoured | ignored | rejected ...), once probed
    reasoning_budget: bool = False  # llama.cpp's /props mentions a reasoning budget
    tokenize_path: str | None = None  # an endpoint that counts tokens, once found ("" when there is none)


_CACHE: dict[str, ServerInfo] = {}
_LOCK = threading.Lock()


def cached(base_url: str) -> ServerInfo | None:
    with _LOCK:
        return _CACHE.get(base_url)


def remember(info: ServerInfo) -> ServerInfo:
    with _LOCK:
        return _CACHE.setdefault(info.base_url, info)


def forget(base_url: str | None = None) -> None:
    """Drop what was learnt about one server (or all): after a restart with another model, say."""
    with _LOCK:
        if base_url is None:
            _CACHE.clear()
        else:
            _CACHE.pop(base_url, None)


def server_root(base_url: str) -> str:
    """``http://host:8000/v1`` -> ``http://host:8000`` (where /props and /api live)."""
    return re.sub(r"/v1/?$", "", base_url.rstrip("/"))


def identify(info: ServerInfo, models: Any, props: Any, ollama_version: Any) -> ServerInfo:
    """Fill ``info`` from the replies of ``/v1/models``, ``/props`` and ``/api/version`` (None when absent)."""
    data = models.get("data") if isinstance(models, dict) else None
    entries = [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
    info.models = [str(d["id"]) for d in entries if d.get("id")]
    owners = {str(d.get("owned_by", "")).lower() for d in entries}
    if isinstance(props, dict) and ("chat_template" in props or "default_generation_settings" in props):
        info.kind, info.identified_by = "llama_cpp", "/props"
        text = props.get("chat_template")
        if isinstance(text, str) and text.strip():
            info.template = ChatTemplate(
                text,
                _str(props.get("bos_token")),
                _str(props.get("eos_token")),
                source=f"{server_root(info.base_url)}/props",
            )
        settings = props.get("default_generation_settings")
        n_ctx = props.get("n_ctx")
        if n_ctx is None and isinstance(settings, dict):
            n_ctx = settings.get("n_ctx")
        info.context_size = _int(n_ctx)
        if info.context_size:
            info.context_from = "/props n_ctx"
    elif "llamacpp" in owners:
        info.kind, info.identified_by = "llama_cpp", "owned_by in /v1/models"
    elif "vllm" in owners:
        info.kind, info.identified_by = "vllm", "owned_by in /v1/models"
    elif "sglang" in owners:
        info.kind, info.identified_by = "sglang", "owned_by in /v1/models"
    elif isinstance(ollama_version, dict) and isinstance(ollama_version.get("version"), str):
        info.kind, info.identified_by = "ollama", "/api/version"
    if info.context_size is None:
        for d in entries:
            if _int(d.get("max_model_len")):  # vLLM, SGLang
                info.context_size = _int(d.get("max_model_len"))
                info.context_from = "/v1/models max_model_len"
                break
    return info


def decide(info: ServerInfo, kind_option: str, template: ChatTemplate | None) -> tuple[str | None, str]:
    """``(continuation, why)`` settled without asking the model, or ``(None, "")`` when a probe must decide."""
    if kind_option != "auto":
        if kind_option == "llama_cpp":
            if template is not None:
                return "completions", f"server_kind=llama_cpp: the chat template ({template.source}) is rendered here"
            return "messages", (
                "server_kind=llama_cpp but no chat template is known (the server has no /props and no "
                "tokenizer= was given): continued as a new turn"
            )
        return _KNOWN[kind_option], f"server_kind={kind_option}"
    if info.kind == "llama_cpp" and template is not None:
        return "completions", (
            f"a llama.cpp server (from {info.identified_by}) ignores a trailing assistant "
            f"message: the chat template ({template.source}) is rendered here"
        )
    return None, ""


def probe_body(model: str) -> dict[str, Any]:
    """A short, greedy request whose reply shows whether the trailing assistant message was continued."""
    return {
        "model": model,
        "stream": False,
        "max_tokens": 4,
        "temperature": 0,
        "messages": [{"role": "user", "content": PROBE_USER}, {"role": "assistant", "content": PROBE_PREFIX}],
        "continue_final_message": True,
        "add_generation_prompt": False,
        "chat_template_kwargs": {"enable_thinking": False},
    }


def probe_honoured(reply: Any) -> bool:
    """True when the reply goes on inside the half-written number."""
    try:
        choice = reply["choices"][0]
        msg = choice.get("message") or {}
        text = msg.get("content") or msg.get("reasoning_content") or msg.get("reasoning") or choice.get("text") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return False
    text = re.sub(r"<think>.*?</think>", "", str(text), flags=re.S)
    return bool(_PROBE_HONOURED.match(text))


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    try:
        n = int(v)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


# ------------------------------------------------------------------ grammars

GRAMMAR_FIELDS: dict[str, tuple[str, ...]] = {
    # How each kind of server takes a grammar, tried in this order by the probe.
    "llama_cpp": ("grammar",),  # llama.cpp server and llama-cpp-python: GBNF
    "vllm": ("structured_outputs", "guided_grammar"),  # vLLM >= 0.10.2, then older releases (xgrammar EBNF)
    "sglang": ("ebnf",),  # SGLang: xgrammar EBNF
    "ollama": (),  # Ollama's `format` takes a JSON schema only: no grammar for free text
    "openai": ("grammar", "structured_outputs", "guided_grammar", "ebnf"),  # unknown: ask
}
NO_GRAMMAR = {"ollama": "Ollama takes only a JSON schema (format), no grammar for free text"}

PROBE_GRAMMAR = 'root ::= "zq" [0-9]\n'
"""A reply no model writes unasked: a server that honours the grammar answers ``zq`` and a digit."""
_GRAMMAR_HONOURED = re.compile(r"^\s*zq[0-9]?\s*$")


def with_grammar(body: dict[str, Any], field: str, gbnf: str) -> dict[str, Any]:
    """``body`` with ``gbnf`` in the server's field (the others removed)."""
    out = {k: v for k, v in body.items() if k not in ("grammar", "structured_outputs", "guided_grammar", "ebnf")}
    out[field] = {"grammar": gbnf} if field == "structured_outputs" else gbnf
    return out


def grammar_probe_body(model: str, path: str) -> dict[str, Any]:
    """A short greedy request whose reply shows whether the grammar was applied (without the field)."""
    body: dict[str, Any] = {"model": model, "stream": False, "max_tokens": 6, "temperature": 0}
    if path == "/completions":
        body["prompt"] = "Say hello.\n"
    else:
        body["messages"] = [{"role": "user", "content": "Say hello."}]
        body["chat_template_kwargs"] = {"enable_thinking": False}
    return body


def grammar_honoured(reply: Any) -> bool:
    """True when the probe's reply is what only the grammar allows."""
    try:
        choice = reply["choices"][0]
        msg = choice.get("message") or {}
        text = msg.get("content") or choice.get("text") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return False
    return bool(_GRAMMAR_HONOURED.match(str(text)))


# ------------------------------------------------------------------ context size

TOKENIZE_PATHS = {
    # Endpoints that count a prompt's tokens with the server's own tokenizer, by kind (under server_root).
    "llama_cpp": ("/extras/tokenize/count", "/tokenize"),  # llama-cpp-python, then llama.cpp's server
    "vllm": ("/tokenize",),
    "sglang": ("/tokenize",),
    "ollama": (),
    "openai": ("/extras/tokenize/count", "/tokenize"),
}


def tokenize_body(path: str, model: str, text: str) -> dict[str, Any]:
    if path.startswith("/extras"):
        return {"input": text, "model": model}
    if path == "/tokenize":
        return {"model": model, "prompt": text, "content": text, "add_special_tokens": False}
    raise ValueError(path)


def token_count(reply: Any) -> int | None:
    """The count in a tokenize reply (llama-cpp-python ``count``, vLLM ``count``, llama.cpp ``tokens``)."""
    if not isinstance(reply, dict):
        return None
    if isinstance(reply.get("count"), int):
        return int(reply["count"])
    if isinstance(reply.get("tokens"), list):
        return len(reply["tokens"])
    return None


def ollama_context(show: Any) -> int | None:
    """``num_ctx`` from Ollama's ``/api/show`` (its ``parameters`` text), when the model sets one."""
    if not isinstance(show, dict):
        return None
    params = show.get("parameters")
    if isinstance(params, str):
        m = re.search(r"^\s*num_ctx\s+(\d+)", params, re.M)
        if m:
            return _int(m.group(1))
    return None
