"""Grammar-constrained drafting on a server, and what a server's context window allows.

Between tags the model thinks freely. When its stream writes an opening drafting tag (``<sketch``
followed by a space or ``>``), :class:`StemCut` stops reading there (the connection is closed, so
the server stops too), and the next request continues the transcript exactly, ``<sketch``
included, with the draft's grammar (:func:`mmthink.reasoners.gbnf.draft_grammar`) in the field the
server takes: llama.cpp ``grammar``, vLLM ``structured_outputs`` / ``guided_grammar``, SGLang
``ebnf``. Which field, if any, is found once per server by a probe (:func:`probe_grammar`); a
server that takes none (Ollama, the OpenAI API), a server without exact continuation, or a
modality without a draft grammar drafts unconstrained, and the trace says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmthink.errors import ContextOverflow
from mmthink.reasoners import servers


class StemCut:
    """Pass streamed thinking through until an opening drafting tag starts; then say which tag.

    ``stems`` maps ``"<sketch"`` to ``"sketch"``. A stem counts when the next character is a space,
    a newline or ``>`` (``<sketches`` does not). Text that may be the start of a stem is held back.
    """

    def __init__(self, stems: dict[str, str]) -> None:
        self.stems = stems
        self.held = ""

    def feed(self, text: str) -> tuple[str, str | None]:
        """``(text to pass on, tag)``: the text ends with the stem when a tag was opened (the rest is dropped)."""
        buf = self.held + text
        best: tuple[int, str] | None = None
        for stem in self.stems:
            start = 0
            while (i := buf.find(stem, start)) >= 0:
                nxt = buf[i + len(stem) : i + len(stem) + 1]
                if nxt == "":
                    break  # the next character decides: hold it back
                if nxt in " \n\t>":
                    if best is None or i < best[0]:
                        best = (i, stem)
                    break
                start = i + 1
        if best is not None:
            i, stem = best
            self.held = ""
            return buf[: i + len(stem)], self.stems[stem]
        keep = 0
        for stem in self.stems:  # the longest tail that could still grow into a stem (or is one)
            for n in range(min(len(stem), len(buf)), 0, -1):
                if stem.startswith(buf[-n:]) or (n == len(stem) and buf.endswith(stem)):
                    keep = max(keep, n)
                    break
        self.held = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep], None

    def finish(self) -> str:
        out, self.held = self.held, ""
        return out


@dataclass
class GrammarSupport:
    """What one server does with grammars, for the manifest and every turn's record."""

    field: str | None
    probe: str  # what the probe found, per field tried, or why none was tried

    @property
    def path(self) -> str:
        return f"gbnf via {self.field}" if self.field else f"none: {self.probe}"


def probe_grammar(
    post: Any, info: servers.ServerInfo, model: str, path: str, kind: str | None = None
) -> GrammarSupport:
    """Ask the server, once, which grammar field it honours (``post(path, body)`` -> (status, json|None, text)).

    Each candidate field gets a short greedy request whose grammar allows only ``zq`` and a digit: an
    honouring server answers that; one that ignores the field answers something else; one that refuses
    it answers HTTP 400/422. The first honoured field is kept."""
    if info.grammar_probe:
        return GrammarSupport(info.grammar_field, info.grammar_probe)
    kind = kind if kind and kind != "auto" else info.kind
    fields = servers.GRAMMAR_FIELDS.get(kind, servers.GRAMMAR_FIELDS["openai"])
    if not fields:
        info.grammar_probe = servers.NO_GRAMMAR.get(kind, f"a {kind} server takes no grammar")
        return GrammarSupport(None, info.grammar_probe)
    found: list[str] = []
    for field in fields:
        body = servers.with_grammar(servers.grammar_probe_body(model, path), field, servers.PROBE_GRAMMAR)
        status, reply, text = post(path, body)
        if status >= 400:
            found.append(f"{field}: rejected (HTTP {status}: {' '.join(str(text).split())[:120]})")
            continue
        if servers.grammar_honoured(reply):
            info.grammar_field = field
            found.append(f"{field}: honoured")
            break
        found.append(f"{field}: ignored (the reply did not follow the probe grammar)")
    info.grammar_probe = "; ".join(found) + ("" if info.grammar_field else ": drafting is unconstrained")
    return GrammarSupport(info.grammar_field, info.grammar_probe)


def check_fits(
    prompt_tokens: int, exact: bool, context: int | None, context_from: str, max_tokens: int, where: str
) -> int:
    """The ``max_tokens`` that fits beside a prompt of ``prompt_tokens`` in ``context``; a clear error when the
    prompt itself does not fit. An estimate (``exact=False``) only fails when it is far over."""
    if not context:
        return max_tokens
    room = context - prompt_tokens
    over = room < 16 if exact else prompt_tokens > 1.25 * context
    if over:
        counted = "counted by the server" if exact else "estimated"
        raise ContextOverflow(
            f"the prompt is {prompt_tokens} tokens ({counted}) and {where}'s context window is {context} tokens "
            f"({context_from}): it does not fit. Start the server with a larger context (llama.cpp: --ctx-size N; "
            "llama_cpp.server: --n_ctx N; vLLM: --max-model-len N; Ollama: OLLAMA_CONTEXT_LENGTH=N) or pass "
            "examples=False / a shorter system_prompt",
            context_size=context,
            prompt_tokens=prompt_tokens,
        )
    return max(1, min(max_tokens, room)) if exact else max_tokens


def require_exact(continuation: str | None) -> str | None:
    """Why a grammar cannot be applied to a draft body with this continuation, or None."""
    if continuation in ("prefix", "completions"):
        return None
    return "the server cannot continue a chain exactly (continuation: messages), so a draft body cannot be constrained"
