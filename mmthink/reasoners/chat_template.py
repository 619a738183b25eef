"""A model's chat template rendered on our side, and what a template tells about the model.

Servers that ignore a trailing assistant message (llama-cpp-python closes it and starts a new
answer) can still continue a chain exactly through ``/v1/completions`` if we write the prompt
ourselves, token for token as the server's chat endpoint would: the template comes from the
server (llama.cpp publishes it in ``/props``) or from the model's tokenizer files. Templates are
Jinja2, rendered in a sandbox the way transformers renders them (``trim_blocks``,
``lstrip_blocks``, ``loopcontrols``, ``raise_exception``, ``tojson``, ``strftime_now``).

jinja2 is imported when a template is first rendered (it comes with transformers and with the
``server`` extra).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmthink.errors import BackendError, InputError


@dataclass(frozen=True)
class ChatTemplate:
    """A Jinja chat template and the special tokens it may print; ``source`` says where it came from."""

    text: str
    bos_token: str = ""
    eos_token: str = ""
    source: str = ""

    def render(self, messages: list[dict[str, Any]], *, add_generation_prompt: bool = True, **kwargs: Any) -> str:
        """The prompt text for ``messages`` (what a chat endpoint would feed the model)."""
        template = _compile(self.text)
        try:
            return template.render(
                messages=messages,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                **kwargs,
            )
        except Exception as e:  # a template may raise_exception() on a role order it does not accept
            raise BackendError(
                f"the chat template ({self.source or 'given'}) failed: {type(e).__name__}: {e}", retryable=False
            ) from e

    @property
    def knows_soft_switches(self) -> bool:
        return template_knows_soft_switches(self.text)


def template_knows_soft_switches(text: str) -> bool:
    """True for templates of models trained on the ``/think`` / ``/no_think`` switches.

    Some templates spell the switches out (SmolLM3); Qwen3's hybrid templates do not, but they
    are the ones that take ``enable_thinking`` and write think blocks. Templates of models that
    never think (Qwen2.5, Llama) have neither, and such models echo a switch into the answer.
    """
    if "/no_think" in text or "/think" in text:
        return True
    return "enable_thinking" in text and "<think>" in text


_SWITCH_FAMILIES = re.compile(r"qwen3|qwq|smollm3", re.I)
_NO_SWITCH = re.compile(r"2507|coder|qwen3[-_.]?5|qwen3[-_.]?6", re.I)


def model_knows_soft_switches(model: str | None) -> bool:
    """The fallback when no template is known: the model's name says its family (Qwen3 hybrids, SmolLM3)."""
    if not model:
        return False
    return bool(_SWITCH_FAMILIES.search(model)) and not _NO_SWITCH.search(model)


@lru_cache(maxsize=16)
def _compile(text: str) -> Any:
    try:
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError as e:
        raise BackendError(
            "rendering a chat template needs jinja2: pip install 'mmthink[server]'", retryable=False
        ) from e

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    def tojson(
        value: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: Any = None,
        sort_keys: bool = False,
    ) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt: str) -> str:
        import datetime

        return datetime.datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now)
    try:
        return env.from_string(text)
    except Exception as e:
        raise BackendError(f"the chat template does not parse: {type(e).__name__}: {e}", retryable=False) from e


# ------------------------------------------------------------------------- from tokenizer files


def template_from_tokenizer(tokenizer: str) -> ChatTemplate:
    """The chat template of a tokenizer folder, or of a hub id already in the local Hugging Face cache.

    Reads ``chat_template.jinja`` or ``tokenizer_config.json`` only (no tokenizer is built). A hub
    id that is not cached fails at once with the command that fetches it.
    """
    if not isinstance(tokenizer, str) or not tokenizer.strip():
        raise InputError(
            "tokenizer",
            f"must be a tokenizer folder or a hub id, got {tokenizer!r}",
            "e.g. tokenizer='Qwen/Qwen3-0.6B'",
        )
    path = Path(tokenizer).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return template_from_gguf(path)
    if path.is_dir():
        files = {
            name: path / name for name in ("chat_template.jinja", "tokenizer_config.json") if (path / name).is_file()
        }
        where = str(path)
    elif path.exists() or tokenizer.startswith(("/", "./", "../", "~")) or tokenizer.count("/") > 1:
        raise BackendError(
            f"no tokenizer folder at {str(path)!r} (looked for chat_template.jinja and "
            "tokenizer_config.json there): pass the folder that holds the model's tokenizer files",
            retryable=False,
        )
    else:
        files = _cached_hub_files(tokenizer)
        where = f"{tokenizer} (Hugging Face cache)"
    text = files["chat_template.jinja"].read_text() if "chat_template.jinja" in files else None
    config: dict[str, Any] = {}
    if "tokenizer_config.json" in files:
        try:
            config = json.loads(files["tokenizer_config.json"].read_text())
        except (OSError, ValueError) as e:
            raise BackendError(f"{files['tokenizer_config.json']} is not valid JSON: {e}", retryable=False) from e
    if text is None:
        text = _pick_template(config.get("chat_template"))
    if not text:
        raise BackendError(
            f"the tokenizer at {where} has no chat template (no chat_template.jinja, no "
            "chat_template in tokenizer_config.json)",
            retryable=False,
        )
    return ChatTemplate(
        text, _token_text(config.get("bos_token")), _token_text(config.get("eos_token")), source=f"tokenizer {where}"
    )


def template_from_gguf(path: Path) -> ChatTemplate:
    """The chat template a GGUF file carries (``tokenizer.chat_template``), with its BOS and EOS token text:
    the template llama.cpp servers apply, for ``tokenizer="model.gguf"`` where the server publishes none."""
    try:
        from gguf import GGUFReader
    except ImportError as e:
        raise BackendError("reading a GGUF's chat template needs the gguf package: pip install gguf") from e
    try:
        reader = GGUFReader(str(path))
    except Exception as e:
        raise BackendError(f"{path} is not a readable GGUF file: {type(e).__name__}: {e}", retryable=False) from e

    def value(key: str, index: int = 0) -> Any:
        f = reader.fields.get(key)
        if f is None or not f.data:
            return None
        part = f.parts[f.data[index]]
        return (
            bytes(part).decode("utf-8", "replace") if part.dtype.kind == "u" and part.dtype.itemsize == 1 else part[0]
        )

    text = value("tokenizer.chat_template")
    if not isinstance(text, str) or not text.strip():
        raise BackendError(f"{path} carries no chat template (tokenizer.chat_template)", retryable=False)
    tokens = reader.fields.get("tokenizer.ggml.tokens")

    def token(key: str) -> str:
        i = value(key)
        if i is None or tokens is None or not 0 <= int(i) < len(tokens.data):
            return ""
        return bytes(tokens.parts[tokens.data[int(i)]]).decode("utf-8", "replace")

    return ChatTemplate(
        text, token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id"), source=f"GGUF {path.name}"
    )


def _cached_hub_files(repo_id: str) -> dict[str, Path]:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError as e:
        raise BackendError(
            "reading a tokenizer from the Hugging Face cache needs huggingface_hub "
            "(pip install huggingface_hub), or pass the tokenizer folder",
            retryable=False,
        ) from e
    found: dict[str, Path] = {}
    for name in ("chat_template.jinja", "tokenizer_config.json"):
        hit = try_to_load_from_cache(repo_id, name)
        if isinstance(hit, str):
            found[name] = Path(hit)
    if not found:
        raise BackendError(
            f"the tokenizer {repo_id!r} is not in the local Hugging Face cache: fetch it with "
            f"`hf download {repo_id} tokenizer_config.json` (or pass the folder that holds it)",
            retryable=False,
        )
    return found


def _pick_template(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
        named = {d.get("name"): d.get("template") for d in value if isinstance(d, dict)}
        return named.get("default") or next((t for t in named.values() if isinstance(t, str)), None)
    return None


def _token_text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""
