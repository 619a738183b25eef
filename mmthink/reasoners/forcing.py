"""Budget forcing and think-marker handling shared by the model reasoners.

s1 ("Simple test-time scaling") controls how long a model thinks by editing the decoding:
when the thinking budget is spent it forces the end-of-thinking marker, and when the model
tries to stop before a minimum it suppresses the marker and appends "Wait". Qwen3's report
(and llama.cpp's reasoning budget) precede the forced marker with a short sentence so the
answer that follows reads naturally. :class:`BudgetForcer` does all of that as a logits
processor, so the budget holds to the token.

:class:`ThinkSplitter` turns a raw text stream into thinking and answer channels and never
lets the ``<think>`` / ``</think>`` markers (or an empty think block) through.

Nothing here imports torch at module import; the processors import it when first called.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
GRACEFUL_CLOSE = (
    "\n\nConsidering the limited time by the user, I have to give the solution based on the thinking directly now.\n"
)
"""Written before a forced end of thinking (the sentence Qwen3's report uses for its budget)."""
WAIT = "\nWait"
"""Appended instead of an early end of thinking while ``min_tokens`` is not reached (s1)."""


# ------------------------------------------------------------------------------ text


class ThinkSplitter:
    """Split streamed text into ``("thinking" | "answer", text)`` pieces, dropping the markers.

    ``phase`` is where the text starts: ``"thinking"`` when the prompt already opened a think
    block, ``"answer"`` otherwise. A ``<think>`` met in the answer opens a block again; with
    ``drop_thinking`` (thinking off) its content is discarded, so an empty or stray think block
    never reaches the answer. Text that might be the start of a marker is held back until it
    is certain, so markers split across chunks are still caught.
    """

    def __init__(self, phase: str = "thinking", *, drop_thinking: bool = False, lstrip_answer: bool = True) -> None:
        if phase not in ("thinking", "answer"):
            raise ValueError(f"phase must be thinking or answer, not {phase!r}")
        self.phase = phase
        self.drop_thinking = drop_thinking
        self._dropping = drop_thinking and phase == "thinking"
        self._buf = ""
        self._strip_answer = lstrip_answer
        self._strip_thinking = False
        self._answer_started = False
        self.markers_seen = 0

    @property
    def dropping(self) -> bool:
        """True while the current text is thinking that is being discarded."""
        return self.phase == "thinking" and self._dropping

    def feed(self, text: str) -> list[tuple[str, str]]:
        self._buf += text
        return self._drain(final=False)

    def finish(self) -> list[tuple[str, str]]:
        return self._drain(final=True)

    def close_thinking(self) -> list[tuple[str, str]]:
        """The thinking ended out of band (e.g. a server's reasoning channel went quiet)."""
        out = self._drain(final=True)
        if self.phase == "thinking":
            self.phase, self._dropping, self._strip_answer = "answer", False, True
        return out

    def _drain(self, final: bool) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        while self._buf:
            i_open, i_close = self._buf.find(THINK_OPEN), self._buf.find(THINK_CLOSE)
            hits = [(i, m) for i, m in ((i_open, THINK_OPEN), (i_close, THINK_CLOSE)) if i >= 0]
            if hits:
                i, marker = min(hits)
                self._emit(out, self._buf[:i])
                self._buf = self._buf[i + len(marker) :]
                self.markers_seen += 1
                if marker == THINK_OPEN and self.phase == "answer":
                    self.phase, self._dropping, self._strip_thinking = "thinking", self.drop_thinking, True
                elif marker == THINK_OPEN:
                    self._strip_thinking = True  # a repeated opening: the text after it goes on
                elif self.phase == "thinking":
                    self.phase, self._dropping, self._strip_answer = "answer", False, True
                continue
            keep = 0 if final else _partial_marker(self._buf)
            self._emit(out, self._buf[: len(self._buf) - keep])
            self._buf = self._buf[len(self._buf) - keep :]
            break
        return out

    def _emit(self, out: list[tuple[str, str]], text: str) -> None:
        if not text:
            return
        if self.phase == "answer":
            if self._strip_answer:
                # Whitespace after a closed think block is layout; mid-answer keep the words apart.
                text = text.lstrip() if not self._answer_started else text.lstrip("\n")
                if not text:
                    return
                self._strip_answer = False
            self._answer_started = True
        else:
            if self._dropping:
                return
            if self._strip_thinking:
                text = text.lstrip("\n")
                if not text:
                    return
                self._strip_thinking = False
        if out and out[-1][0] == self.phase:
            out[-1] = (self.phase, out[-1][1] + text)
        else:
            out.append((self.phase, text))


def _partial_marker(buf: str) -> int:
    """Length of the longest suffix of ``buf`` that could begin a think marker."""
    for n in range(min(len(buf), len(THINK_CLOSE) - 1), 0, -1):
        tail = buf[-n:]
        if THINK_OPEN.startswith(tail) or THINK_CLOSE.startswith(tail):
            return n
    return 0


# --------------------------------------------------------------------------- decoding


@dataclass
class ForcingLog:
    """What the forcer did in one generation, for the trace and for tests."""

    thinking_tokens: int = 0
    answer_tokens: int = 0
    closed: bool = False  # the end-of-thinking marker was generated (by the model or forced)
    forced_close: bool = False  # ... and it was forced by the budget
    graceful: bool = False  # the graceful sentence was written before the forced close
    waits: int = 0  # times "Wait" replaced an early end of thinking
    events: list[str] = field(default_factory=list)


class BudgetForcer:
    """Logits processor for one ``generate`` call over a single sequence (batch size 1).

    It follows the generated tokens itself (so it needs no help from the streaming thread):
    in the thinking phase it counts tokens, forces ``close_ids`` when ``budget`` is reached
    (after ``graceful_ids`` when they fit in half the budget), replaces an early close or end
    of sequence with ``wait_ids`` until ``min_tokens``, turns a plain end of sequence into a
    close, and never lets the model reopen thinking. ``budget=None`` means no limit.
    """

    def __init__(
        self,
        *,
        prompt_len: int,
        phase: str,
        close_ids: list[int],
        open_ids: list[int],
        eos_ids: Iterable[int],
        budget: int | None = None,
        min_tokens: int = 0,
        graceful_ids: list[int] | None = None,
        wait_ids: list[int] | None = None,
    ) -> None:
        if not close_ids:
            raise ValueError("close_ids must not be empty")
        self.prompt_len = prompt_len
        self.phase = phase
        self.close_ids = list(close_ids)
        self.open_ids = list(open_ids)
        self.eos_ids = sorted(set(eos_ids))
        self.budget = budget
        self.min_tokens = min_tokens
        self.graceful_ids = list(graceful_ids or [])
        self.wait_ids = list(wait_ids or [])
        self.log = ForcingLog()
        # Only single-token markers can be recognised or banned before they are written.
        self._close = self.close_ids[:1] if len(self.close_ids) == 1 else []
        self._open = self.open_ids[:1] if len(self.open_ids) == 1 else []
        self._seen = 0
        self._queue: list[int] = []
        self._tail: list[int] = []

    # -- following the sequence
    def sync(self, input_ids) -> None:
        """Account for the tokens appended since the last call (usually one)."""
        total = input_ids.shape[1] - self.prompt_len
        if total <= self._seen:
            return
        for tok in input_ids[0, self.prompt_len + self._seen :].tolist():
            self._observe(tok)
        self._seen = total

    def _observe(self, tok: int) -> None:
        if self.phase == "answer":
            self.log.answer_tokens += 1
            return
        self._tail.append(tok)
        if len(self._tail) > len(self.close_ids):
            self._tail.pop(0)
        self.log.thinking_tokens += 1
        if self._tail == self.close_ids:
            self.log.thinking_tokens -= len(self.close_ids)  # the marker is not thinking
            self.phase = "answer"
            self.log.closed = True
            self._queue.clear()

    @property
    def thinking_tokens(self) -> int:
        return self.log.thinking_tokens

    @property
    def forcing(self) -> bool:
        """True while a forced sequence (graceful sentence, marker, "Wait") is being written."""
        return bool(self._queue)

    # -- deciding the next token
    def __call__(self, input_ids, scores):
        self.sync(input_ids)
        if self._queue:
            return _force(scores, self._queue.pop(0))
        if self.phase == "answer":
            return _ban(scores, self._open + self._close)
        n = self.log.thinking_tokens
        if self.budget is not None:
            room = self.budget - n
            if room <= 0:
                return self._start_forced_close(scores, graceful=False)
            g = len(self.graceful_ids)
            if g and room == g and g <= self.budget // 2:
                return self._start_forced_close(scores, graceful=True)
        top = int(scores[0].argmax())
        if top in self._close or top in self.eos_ids:  # the model wants to stop thinking
            fits = self.budget is None or n + len(self.wait_ids) <= self.budget
            if n < self.min_tokens and self.wait_ids and fits:
                self.log.waits += 1
                self.log.events.append(f"wait at {n}")
                self._queue = self.wait_ids[1:]
                return _force(scores, self.wait_ids[0])
            if n >= self.min_tokens and top in self.eos_ids:
                # Ending the sequence inside thinking would leave it unclosed: close it instead.
                self._queue = self.close_ids[1:]
                return _force(scores, self.close_ids[0])
        banned = self._open + self.eos_ids + (self._close if n < self.min_tokens else [])
        return _ban(scores, banned)

    def _start_forced_close(self, scores, graceful: bool):
        seq = (self.graceful_ids if graceful else []) + self.close_ids
        self.log.forced_close = True
        self.log.graceful = graceful
        self.log.events.append(f"budget close at {self.log.thinking_tokens}" + (" (graceful)" if graceful else ""))
        self._queue = seq[1:]
        return _force(scores, seq[0])


def _force(scores, token: int):
    import torch

    out = torch.full_like(scores, float("-inf"))
    out[:, token] = 0.0
    return out


def _ban(scores, ids: list[int]):
    # In place: generate() hands each step a fresh copy of the logits.
    if ids:
        scores[:, ids] = float("-inf")
    return scores


class StopFlag:
    """Stopping criterion that ends generation once :meth:`set` is called from another thread."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        self.event.set()

    def stop_now(self, input_ids, scores=None) -> bool:
        return self.event.is_set()

    def __call__(self, input_ids, scores, **kwargs):
        return _rows(input_ids, self.stop_now(input_ids))


class ChannelCap:
    """Stopping criterion: at most ``thinking`` thinking tokens and ``answer`` answer tokens per call."""

    def __init__(self, forcer: BudgetForcer, thinking: int | None, answer: int | None) -> None:
        self.forcer, self.thinking, self.answer = forcer, thinking, answer
        self.hit: str | None = None

    def stop_now(self, input_ids, scores=None) -> bool:
        self.forcer.sync(input_ids)
        log = self.forcer.log
        if (
            self.forcer.phase == "thinking"
            and not self.forcer.forcing
            and self.thinking is not None
            and log.thinking_tokens >= self.thinking
        ):
            self.hit = "thinking"
            return True
        if self.forcer.phase == "answer" and self.answer is not None and log.answer_tokens >= self.answer:
            self.hit = "answer"
            return True
        return False

    def __call__(self, input_ids, scores, **kwargs):
        return _rows(input_ids, self.stop_now(input_ids))


class GuardedStop:
    """Run an expensive stop-string criterion only when the newest token could end a stop string.

    Every stop string here ends in ``>``, so only a token whose text holds ``>`` can complete
    one; on every other step this answers "go on" without looking further.
    """

    def __init__(self, inner, candidate_ids: Iterable[int]) -> None:
        self.inner = inner
        self.candidates = frozenset(candidate_ids)

    def stop_now(self, input_ids, scores=None) -> bool:
        if int(input_ids[0, -1]) not in self.candidates:
            return False
        return bool(self.inner(input_ids, scores).any())

    def __call__(self, input_ids, scores, **kwargs):
        if int(input_ids[0, -1]) in self.candidates:
            return self.inner(input_ids, scores, **kwargs)
        return _rows(input_ids, False)


def _rows(input_ids, value: bool):
    import torch

    return torch.full((input_ids.shape[0],), value, dtype=torch.bool, device=input_ids.device)


class ChainedProcessors:
    """Several logits processors as one.

    transformers' ``LogitsProcessorList`` looks up every processor's call signature on every
    token; handing it one processor instead of several keeps our machinery's cost per token
    close to a plain ``generate``.
    """

    def __init__(self, processors: list) -> None:
        self.processors = list(processors)

    def __call__(self, input_ids, scores):
        for proc in self.processors:
            scores = proc(input_ids, scores)
        return scores


class AnyStop:
    """Several stopping criteria as one call, for one sequence: stop when any of them says so.

    Criteria with a ``stop_now`` method answer with a plain bool, so a token costs one small
    tensor instead of one per criterion. Every criterion is asked (``ChannelCap`` records which
    cap was hit).
    """

    def __init__(self, criteria: list) -> None:
        self.criteria = list(criteria)

    def __call__(self, input_ids, scores, **kwargs):
        stop = False
        for crit in self.criteria:
            quick = getattr(crit, "stop_now", None)
            hit = quick(input_ids, scores) if quick is not None else bool(crit(input_ids, scores, **kwargs).any())
            stop = stop or hit
        return _rows(input_ids, stop)


class LiteralDrop:
    """Remove fixed strings from a text stream, wherever the chunks split them.

    Used for the ``/think`` / ``/no_think`` soft switches: a model that was sent one sometimes
    writes it back, and it must never reach the thought or the answer. Text that might be the
    start of a dropped string is held back until it is certain.
    """

    def __init__(self, literals: Iterable[str]) -> None:
        self.literals = sorted({s for s in literals if s}, key=len, reverse=True)
        self._buf = ""

    def feed(self, text: str) -> str:
        self._buf += text
        return self._drain(final=False)

    def finish(self) -> str:
        return self._drain(final=True)

    def _drain(self, final: bool) -> str:
        out = []
        while self._buf:
            hits = [(i, s) for s in self.literals if (i := self._buf.find(s)) >= 0]
            if hits:
                i, s = min(hits, key=lambda h: (h[0], -len(h[1])))
                out.append(self._buf[:i])
                self._buf = self._buf[i + len(s) :]
                continue
            keep = 0 if final else self._partial()
            out.append(self._buf[: len(self._buf) - keep])
            self._buf = self._buf[len(self._buf) - keep :]
            break
        return "".join(out)

    def _partial(self) -> int:
        longest = max((len(s) for s in self.literals), default=0)
        for n in range(min(len(self._buf), longest - 1), 0, -1):
            tail = self._buf[-n:]
            if any(s.startswith(tail) for s in self.literals):
                return n
        return 0
