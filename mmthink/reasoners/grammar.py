"""Grammar-constrained drafting: inside a drafting tag, decoding follows the modality's step grammar.

Between tags the model thinks freely. When the text it generated ends an opening drafting tag
(``<sketch id="s2">``), a matcher for that tag's rule in :attr:`Guide.grammar` starts, and from then
on only tokens the grammar allows keep their logits, up to and including the closing tag. Small
models then cannot write a placeholder (``name [xN]: attributes``) or an attribute the renderer
does not know: every scene line parses.

The matcher is llguidance's (MIT; a CPU wheel with no dependencies, masks a 50k vocabulary in
well under a millisecond). xgrammar would do the same but pulls in triton and a second runtime.
What happened is logged in :class:`ConstraintLog` for the trace: which path was used
(``llguidance`` | ``none: <why>``), how many drafts were constrained and whether each ended
inside the grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mmthink.errors import BackendError

_WINDOW = 48
"""Free tokens decoded again each step to find an opening tag (tags are a few tokens long)."""


@dataclass
class ConstraintLog:
    """What the constraint did during one generation (for the trace step and the manifest)."""

    path: str = "none"
    drafts: int = 0  # drafting tags entered under the grammar
    completed: int = 0  # reached the closing tag inside the grammar
    broken: list[str] = field(default_factory=list)  # why a draft left the grammar (a forced token, ...)

    def facts(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "constraint": self.path,
            "constrained_drafts": self.drafts,
            "constrained_completed": self.completed,
        }
        if self.broken:
            out["constraint_broken"] = list(self.broken)
        return out


def available() -> str | None:
    """None when llguidance can be imported, else why not (with the install hint)."""
    try:
        import llguidance  # noqa: F401
    except ImportError:
        return "llguidance is not installed (pip install 'mmthink[hf]')"
    return None


def tag_grammar(grammar: str, tag: str) -> str:
    """The full Lark grammar whose start rule is ``tag``'s body (its rule in the modality's grammar)."""
    if not re.search(rf"^\s*{re.escape(tag)}\s*:", grammar, re.M):
        raise BackendError(f"the modality's grammar has no rule for <{tag}>")
    return f"start: {tag}\n{grammar}"


class Compiled:
    """llguidance's view of one tokenizer and one modality grammar, built once per model and grammar."""

    def __init__(self, tokenizer: Any, grammar: str, tags: tuple[str, ...], n_vocab: int) -> None:
        import llguidance
        import llguidance.hf

        self.tokenizer = tokenizer
        self.n_vocab = n_vocab
        self.source = grammar
        self.ll_tok = llguidance.hf.from_tokenizer(tokenizer, n_vocab=n_vocab)
        self.grammars: dict[str, str] = {}
        for tag in tags:
            if not re.search(rf"^\s*{re.escape(tag)}\s*:", grammar, re.M):
                continue  # a tag the grammar leaves free
            text = llguidance.LLMatcher.grammar_from_lark(tag_grammar(grammar, tag))
            is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(text, self.ll_tok)
            if is_error:
                raise BackendError(f"the grammar for <{tag}> does not compile: {'; '.join(messages)}")
            self.grammars[tag] = text
        self.opening = (
            re.compile(r"<(" + "|".join(re.escape(t) for t in self.grammars) + r")\b[^<>]*>") if self.grammars else None
        )

    def matcher(self, tag: str) -> Any:
        import llguidance

        return llguidance.LLMatcher(self.ll_tok, self.grammars[tag])

    def requiring(self, tag: str, lines: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
        """A matcher for ``tag``'s body that starts with ``lines`` (those the grammar holds; see
        :func:`mmthink.reasoners.gbnf.require_lines`), and the lines kept; the plain matcher when none is."""
        import llguidance
        from llguidance.gbnf_to_lark import any_to_lark

        from mmthink.reasoners import gbnf

        rules = gbnf.parse_lark(self.source)
        kept = gbnf.require_lines(rules, tag, list(lines)) if tag in rules else []
        if not kept:
            return self.matcher(tag), ()
        text = llguidance.LLMatcher.grammar_from_lark(any_to_lark(gbnf.to_gbnf(rules, tag)))
        return llguidance.LLMatcher(self.ll_tok, text), tuple(kept)


class DraftConstraint:
    """A logits processor: free text until an opening drafting tag, then the tag's grammar to its close.

    Runs before the budget forcing (which keeps the last word): a token the forcing imposes that the
    grammar does not allow ends the constrained stretch, and the log says so.
    """

    def __init__(self, compiled: Compiled, prompt_len: int, log: ConstraintLog) -> None:
        self.c = compiled
        self.prompt_len = prompt_len
        self.log = log
        self.seen = 0
        self.free: list[int] = []
        self.matcher: Any = None
        self.tag = ""

    def enter(self, tag: str, required: tuple[str, ...] = ()) -> tuple[str, ...] | None:
        """Start inside ``tag``, whose opening was written for the model (a revision the critic asked for),
        its body starting with the ``required`` lines the grammar holds; returns those, or None when the
        grammar leaves that tag free."""
        if tag not in self.c.grammars:
            return None
        self.tag = tag
        self.matcher, kept = self.c.requiring(tag, required) if required else (self.c.matcher(tag), ())
        self.log.drafts += 1
        self.free = []
        return kept

    def _advance(self, tid: int) -> None:
        if self.matcher is not None:
            if not self.matcher.consume_token(tid):
                self.log.broken.append(
                    f"<{self.tag}>: token {tid} outside the grammar ({self.matcher.get_error() or 'a forced token'})"
                )
                self.matcher = None
            elif self.matcher.is_stopped() or self.matcher.is_accepting():  # the closing tag is written
                self.log.completed += 1
                self.matcher = None
            return
        self.free.append(tid)
        window = self.free[-_WINDOW:]
        text = self.c.tokenizer.decode(window, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        m = self.c.opening.search(text) if self.c.opening is not None else None
        if m is None:
            return
        self.tag = m.group(1)
        self.matcher = self.c.matcher(self.tag)
        self.log.drafts += 1
        self.free = []
        rest = text[m.end() :]
        if rest:  # the token that closed the opening tag carried more text (">\n"): the grammar reads it too
            ids = self.c.tokenizer.encode(rest, add_special_tokens=False)
            if not self.matcher.consume_tokens(ids):
                self.log.broken.append(f"<{self.tag}>: {rest!r} after the opening tag is outside the grammar")
                self.matcher = None

    def finish(self, completion_ids: list[int]) -> None:
        """Read the tokens generated after the last step (the closing tag that stopped generation)."""
        for tid in completion_ids[self.seen :]:
            self._advance(int(tid))
        self.seen = len(completion_ids)
        if self.matcher is not None:
            self.log.broken.append(f"<{self.tag}>: generation stopped inside the draft")
            self.matcher = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        new = input_ids[0, self.prompt_len :].tolist()
        for tid in new[self.seen :]:
            self._advance(int(tid))
        self.seen = len(new)
        if self.matcher is None:
            return scores
        mask = torch.frombuffer(bytearray(self.matcher.compute_bitmask()), dtype=torch.int32)
        bits = ((mask.unsqueeze(1) >> torch.arange(32, dtype=torch.int32)) & 1).reshape(-1).bool()
        allowed = torch.zeros(scores.shape[-1], dtype=torch.bool)
        n = min(scores.shape[-1], bits.shape[0])
        allowed[:n] = bits[:n]
        if not allowed.any():  # nothing allowed (should not happen): leave the stretch rather than stall
            self.log.broken.append(f"<{self.tag}>: the grammar allowed no token")
            self.matcher = None
            return scores
        return scores.masked_fill(~allowed.to(scores.device), float("-inf"))
