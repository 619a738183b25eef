"""Any transformers causal LM as a reasoner: hub id, local folder or GGUF file, CPU or GPU.

Each call continues the chain of thought the graph holds: the prompt is the model's own chat
template (system + user) with the generation prompt, an opened think block and the transcript
so far, so an observation appended by the graph is read as part of the same thought. Thinking
"off" uses the template's ``enable_thinking=False`` where it has one (Qwen3 style) and an
injected empty think block otherwise. Budgets are enforced while decoding (see
:mod:`.forcing`): thinking closes exactly at ``tokens_left``; ``min_tokens`` turns an early
end into "Wait". Generation runs in a thread and stops at the first closing drafting tag, or
as soon as the caller stops iterating.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmthink.devices import resolve_device as _resolve_device
from mmthink.devices import resolve_dtype as _resolve_dtype
from mmthink.errors import BackendError, DeadlineReached, InputError
from mmthink.reasoners.base import Delta, Turn, last_turn
from mmthink.reasoners.forcing import (
    GRACEFUL_CLOSE,
    THINK_CLOSE,
    THINK_OPEN,
    WAIT,
    AnyStop,
    BudgetForcer,
    ChainedProcessors,
    ChannelCap,
    ForcingLog,
    GuardedStop,
    StopFlag,
    ThinkSplitter,
)
from mmthink.reasoners.grammar import Compiled, ConstraintLog, DraftConstraint, available
from mmthink.reasoners.prompt import build_system_prompt, example_messages
from mmthink.weights import locate, looks_local

_END = object()


@dataclass
class GenerationRecord:
    """What one ``stream`` call did: the exact prompt, the raw completion and why it stopped."""

    prompt: str
    phase: str  # where generation started: thinking | answer
    completion: str = ""  # generated text with markers, without end-of-sequence tokens
    completion_ids: list[int] = field(default_factory=list)
    thinking_tokens: int = 0  # exact, from the tokenizer (markers not counted)
    answer_tokens: int = 0
    stopped: str = ""  # stop string | end of sequence | thinking cap | answer cap | caller stopped | deadline | length
    stop_tag: str | None = None  # the drafting tag's closing string generation stopped at
    forcing: ForcingLog | None = None
    constraint: ConstraintLog | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens read from the warm KV cache of the previous turn (not encoded again)."""
    revision: str | None = None
    """The turn opened a draft itself because the critic rejected the last one (``force_revision``)."""
    first_token_s: float | None = None
    """Seconds from the call to the first generated token (encoding the uncached prompt included)."""
    """Which path constrained the drafts this turn (llguidance | none: why) and how they ended."""


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    device: str
    dtype: Any
    accepts_thinking: bool
    close_ids: list[int]
    open_ids: list[int]
    eos_ids: list[int]
    hidden_ids: frozenset[int]
    marker_ids: frozenset[int]
    stops: dict[tuple[str, ...], Any]
    """Stop-string criteria per set of closing tags (built once: the tokenizer's precomputation is slow)."""
    comma_ids: list[int]
    grammars: dict[tuple[str, tuple[str, ...]], Compiled] = field(default_factory=dict)
    """The modality grammars compiled for this tokenizer (compiling takes about a second)."""

    def grammar(self, text: str, tags: tuple[str, ...]) -> Compiled:
        if (text, tags) not in self.grammars:
            vocab = max(len(self.tokenizer), int(getattr(self.model.config, "vocab_size", 0) or 0))
            self.grammars[(text, tags)] = Compiled(self.tokenizer, text, tags, vocab)
        return self.grammars[(text, tags)]

    def stop_criteria(self, strings: tuple[str, ...]) -> list[Any]:
        """The criterion that stops at one of ``strings`` (none when a turn names no drafting tags)."""
        from transformers import StopStringCriteria

        if not strings:
            return []
        if strings not in self.stops:
            self.stops[strings] = GuardedStop(
                StopStringCriteria(tokenizer=self.tokenizer, stop_strings=list(strings)), self.comma_ids
            )
        return [self.stops[strings]]


_CACHE: dict[tuple[Any, ...], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


class HFReasoner:
    """A transformers causal LM speaking the step protocol; see the module docstring.

    ``system_prompt`` replaces the built-in protocol prompt when the turn carries none (the
    graph's ``turn.system`` wins, so one prompt governs a run). ``logits_processors`` run
    before the budget forcing, which therefore always has the last word.
    """

    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        gguf_file: str | None = None,
        device: str | None = None,
        dtype: Any = None,
        max_new_tokens: int = 1024,
        temperature: float = 0.6,
        top_p: float = 0.95,
        seed: int = 0,
        system_prompt: str | None = None,
        trust_remote_code: bool = False,
        graceful_close: str | None = GRACEFUL_CLOSE,
        wait_text: str = WAIT,
        logits_processors: Sequence[Any] = (),
        constrain: bool = True,
        examples: bool = True,
        warm_cache: bool = True,
        force_revision: bool = True,
    ) -> None:
        if not isinstance(model, (str, os.PathLike)) or not str(model).strip():
            raise InputError(
                "model",
                f"must be a hub id, a local folder or a .gguf file, got {model!r}",
                "e.g. model='Qwen/Qwen3-4B'",
            )
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise InputError("max_new_tokens", f"must be a positive integer, got {max_new_tokens!r}", "e.g. 1024")
        if not isinstance(temperature, (int, float)) or temperature < 0:
            raise InputError("temperature", f"must be 0 or more, got {temperature!r}", "0 means greedy decoding")
        if not isinstance(top_p, (int, float)) or not 0 < top_p <= 1:
            raise InputError("top_p", f"must be in (0, 1], got {top_p!r}", "e.g. 0.95")
        if not wait_text:
            raise InputError("wait_text", "must not be empty", 'e.g. "\\nWait"')
        self.model = str(model)
        self.gguf_file = gguf_file
        self.device = _resolve_device(device)
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.seed = int(seed)
        self.system_prompt = system_prompt
        self.trust_remote_code = trust_remote_code
        self.graceful_close = graceful_close
        self.wait_text = wait_text
        self.logits_processors = list(logits_processors)
        self.constrain = bool(constrain)
        """Decode inside drafting tags under the modality's grammar (llguidance), where it has one."""
        self.examples = bool(examples)
        self.force_revision = bool(force_revision)
        """After the critic rejects a draft (drafts left), open the next one at once and decode it under the
        grammar: a small model otherwise accepts the rejected draft or names one it never wrote."""
        self.warm_cache = bool(warm_cache)
        """Keep the KV cache between calls: the transcript only grows, so a follow-up turn encodes only
        what was appended (the observation) instead of the whole prompt."""
        self._warm: tuple[list[int], Any] | None = None
        """Give the protocol's short example exchanges as prior chat turns (with the built-in prompt)."""
        self.last_run: GenerationRecord | None = None

    # ------------------------------------------------------------------ loading
    def load(self) -> _Loaded:
        """Load (once per process) the model and tokenizer; raises BackendError when they are missing."""
        key = (self.model, self.gguf_file, self.device, str(self.dtype), self.trust_remote_code)
        with _CACHE_LOCK:
            if key not in _CACHE:
                try:
                    _CACHE[key] = _load(self.model, self.gguf_file, self.device, self.dtype, self.trust_remote_code)
                except BackendError as e:
                    e.retryable = False  # type: ignore[attr-defined]  # missing weights stay missing
                    raise
            return _CACHE[key]

    @property
    def tokenizer(self) -> Any:
        return self.load().tokenizer

    # ---------------------------------------------------------------- prompting
    def build_prompt(self, turn: Turn) -> tuple[str, str, str]:
        """The exact prompt for ``turn``, where generation starts, and forced thinking written before it.

        Returns ``(prompt, phase, pre_thinking)``: ``phase`` is "thinking" when the model
        continues a think block, "answer" when thinking is off or closed; ``pre_thinking`` is
        the graceful sentence written when the turn forces thinking closed (may be empty).
        """
        lm = self.load()
        system = turn.system or self.system_prompt or _system(turn)
        thinking = turn.mode != "off"
        builtin = not (turn.system or self.system_prompt)  # examples go with the built-in protocol prompt
        shots = example_messages(turn.guide, turn.mode, turn.prompt) if self.examples and builtin else []
        base = _chat(lm, system, turn.prompt, thinking, shots)
        opened = base.rstrip(" ").endswith(THINK_OPEN) or base.endswith(THINK_OPEN + "\n")
        if not thinking:
            if opened:  # a thinking-only template opened the block itself: close it empty
                base += ("" if base.endswith("\n") else "\n") + "\n" + THINK_CLOSE + "\n\n"
            elif not lm.accepts_thinking:
                base += THINK_OPEN + "\n\n" + THINK_CLOSE + "\n\n"
            return base + turn.answer, "answer", ""
        if not opened:
            base += THINK_OPEN + "\n"
        elif base.endswith(THINK_OPEN):
            base += "\n"
        prompt = base + turn.transcript
        if not (turn.answer or turn.force_close):
            return prompt, "thinking", ""
        pre = ""
        if turn.force_close and not turn.answer and self.graceful_close:
            text = self.graceful_close.lstrip("\n") if prompt.endswith("\n") else self.graceful_close
            n = len(lm.tokenizer.encode(text, add_special_tokens=False))
            already = text.strip() in turn.transcript[-len(text) - 8 :]  # the forcer wrote it last call
            if not already and (turn.tokens_left is None or n <= turn.tokens_left):
                pre = text
        prompt += pre
        if not prompt.endswith("\n"):
            prompt += "\n"
        return prompt + THINK_CLOSE + "\n\n" + turn.answer, "answer", pre

    # --------------------------------------------------------------- streaming
    def stream(self, turn: Turn) -> Iterator[Delta]:
        """Continue the chain; at ``turn.deadline`` generation stops and :class:`DeadlineReached` is raised
        after what was generated (a prompt being encoded is not interrupted)."""
        if turn.deadline is not None and time.time() >= turn.deadline:
            raise _deadline_error(self.model)
        lm = self.load()
        tok = lm.tokenizer
        prompt, phase, pre = self.build_prompt(turn)
        if pre:
            yield Delta(pre, "thinking", tokens=len(tok.encode(pre, add_special_tokens=False)))
        opened = self._revision_opening(turn, phase, pre)
        if opened:
            prompt += opened
            yield Delta(opened, "thinking", tokens=len(tok.encode(opened, add_special_tokens=False)))
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        enc = tok(prompt, add_special_tokens=False, return_tensors="pt")
        input_ids = enc["input_ids"].to(lm.device)
        budget = turn.tokens_left if phase == "thinking" else None
        forcer = BudgetForcer(
            prompt_len=input_ids.shape[1],
            phase=phase,
            close_ids=lm.close_ids,
            open_ids=lm.open_ids,
            eos_ids=lm.eos_ids,
            budget=budget,
            min_tokens=max(0, turn.min_tokens - turn.tokens_used),
            graceful_ids=tok.encode(self.graceful_close, add_special_tokens=False) if self.graceful_close else None,
            wait_ids=tok.encode(self.wait_text, add_special_tokens=False),
        )
        think_cap = None if budget is not None and budget <= self.max_new_tokens else self.max_new_tokens
        cap = ChannelCap(forcer, thinking=think_cap, answer=self.max_new_tokens)
        constraint, constraint_log = self._constraint(lm, turn, phase, input_ids.shape[1])
        bound: tuple[str, ...] | None = None
        if opened and turn.revise:
            bound = constraint[0].enter(turn.revise, turn.required) if constraint else None
            if bound is None:
                constraint_log.broken.append(f"<{turn.revise}>: opened for a revision but written without a grammar")
        flag = StopFlag()
        clock = _Deadline(turn.deadline)
        items: queue.SimpleQueue[Any] = queue.SimpleQueue()

        class _Tokens(BaseStreamer):
            def __init__(self) -> None:
                self.prompt_seen = False

            def put(self, value: Any) -> None:
                if not self.prompt_seen:  # generate() first hands over the prompt
                    self.prompt_seen = True
                    return
                items.put(value.reshape(-1).tolist())

            def end(self) -> None:
                pass

        sample = self.temperature > 0
        kwargs: dict[str, Any] = dict(
            input_ids=input_ids,
            attention_mask=enc["attention_mask"].to(lm.device),
            max_new_tokens=2 * self.max_new_tokens + len(forcer.graceful_ids) + len(lm.close_ids) + 2,
            do_sample=sample,
            logits_processor=LogitsProcessorList([ChainedProcessors([*self.logits_processors, *constraint, forcer])]),
            stopping_criteria=StoppingCriteriaList(
                [
                    AnyStop(
                        [flag, cap, *lm.stop_criteria(stop_strings(turn))]
                        + ([clock] if turn.deadline is not None else [])
                    )
                ]
            ),
            streamer=_Tokens(),
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else lm.eos_ids[0],
        )
        if sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        prompt_ids = input_ids[0].tolist()
        cached = self._reuse(prompt_ids)
        if cached is not None:
            kwargs[_cache_kwarg()] = cached[1]
        kwargs["return_dict_in_generate"] = self.warm_cache
        seed = (self.seed * 1_000_003 + turn.seed + len(turn.transcript) + len(turn.answer)) % 2**32

        def run() -> None:
            try:
                torch.manual_seed(seed)
                out = lm.model.generate(**kwargs)
                self._keep(out)
            except BaseException as e:  # handed to the consuming thread
                items.put(e)
            finally:
                items.put(_END)

        record = GenerationRecord(
            prompt=prompt,
            phase=phase,
            constraint=constraint_log,
            prompt_tokens=len(prompt_ids),
            cached_tokens=cached[0] if cached else 0,
            revision=(
                f"opened by the reasoner: the critic rejected {turn.drafts[-1].id if turn.drafts else 'the last draft'}"
                + (f"; the model rewrote it unchanged, so the grammar required {', '.join(bound)}" if bound else "")
                if opened
                else None
            ),
        )
        started = time.perf_counter()
        self.last_run = record
        thread = threading.Thread(target=run, name="mmthink-hf-generate", daemon=True)
        thread.start()
        splitter = ThinkSplitter(phase, drop_thinking=turn.mode == "off", lstrip_answer=not turn.answer)
        pending = {"thinking": 0, "answer": 0}
        multi_close = len(lm.close_ids) if len(lm.close_ids) > 1 else 0
        multi_open = len(lm.open_ids) if len(lm.open_ids) > 1 else 0
        detok = _Detok(tok)
        caller_stopped = True
        try:
            while True:
                item = items.get()
                if item is _END:
                    break
                if record.first_token_s is None:
                    record.first_token_s = time.perf_counter() - started
                if isinstance(item, BaseException):
                    self._warm = None
                    raise BackendError(f"{self.model}: generation failed: {type(item).__name__}: {item}") from item
                for tid in item:
                    record.completion_ids.append(tid)
                    if tid in lm.hidden_ids:
                        continue
                    if tid not in lm.marker_ids and not splitter.dropping:
                        pending[splitter.phase] += 1
                    text = detok.add(tid)
                    if not text:
                        continue
                    before, seen = splitter.phase, splitter.markers_seen
                    pieces = splitter.feed(text)
                    if splitter.markers_seen > seen:  # a marker spelled in several tokens is not content
                        n = multi_close if before == "thinking" and splitter.phase == "answer" else multi_open
                        pending[before] = max(0, pending[before] - n * (splitter.markers_seen - seen))
                    for channel, piece in pieces:
                        yield Delta(piece, channel, tokens=pending[channel])  # type: ignore[arg-type]
                        pending[channel] = 0
            for channel, piece in splitter.finish():
                yield Delta(piece, channel, tokens=pending[channel])  # type: ignore[arg-type]
                pending[channel] = 0
            for channel, n in pending.items():
                if n:
                    yield Delta("", channel, tokens=n)  # type: ignore[arg-type]
            caller_stopped = False
        finally:
            flag.set()
            thread.join()
            self._finish_record(record, lm, forcer, cap, caller_stopped, stop_strings(turn), clock.hit)
            for c in constraint:
                c.finish(record.completion_ids)
        if clock.hit:
            raise _deadline_error(self.model)
        if not pre and not record.completion.strip():
            raise BackendError(
                f"{self.model} generated nothing this turn (stopped: {record.stopped}): an empty turn", retryable=True
            )

    def _reuse(self, prompt_ids: list[int]) -> tuple[int, Any] | None:
        """The kept cache cut to the longest prefix it shares with this prompt (at least one token is left
        to encode), or None when there is none worth reusing."""
        warm, self._warm = self._warm, None  # generate() extends the cache in place: it is used once
        if not self.warm_cache or warm is None:
            return None
        ids, cache = warm
        n = 0
        for a, b in zip(ids, prompt_ids[:-1]):
            if a != b:
                break
            n += 1
        if n < 8 or not hasattr(cache, "crop"):
            return None
        drop = int(cache.get_seq_length()) - n
        if drop > 0:
            cache.crop(-drop)  # a negative size removes that many tokens, in every transformers version
        return n, cache

    def _keep(self, out: Any) -> None:
        """Keep the cache generate() built, with the token ids it covers."""
        cache = getattr(out, "cache", None) if _cache_kwarg() == "cache" else None
        if cache is None:
            cache = getattr(out, "past_key_values", None)
        seqs = getattr(out, "sequences", None)
        if not self.warm_cache or cache is None or seqs is None or not hasattr(cache, "get_seq_length"):
            self._warm = None
            return
        ids = seqs[0].tolist()
        self._warm = (ids[: int(cache.get_seq_length())], cache)

    def _revision_opening(self, turn: Turn, phase: str, pre: str) -> str:
        """``<sketch id="s2">`` when this turn is the revision of a draft the critic rejected, else ""."""
        if not (turn.revise and self.force_revision and phase == "thinking" and not pre and self.constrain):
            return ""
        from mmthink.reasoners.gbnf import next_id

        reference = turn.guide.tags if turn.guide is not None else ""
        sep = "" if not turn.transcript or turn.transcript.endswith("\n") else "\n"
        return f'{sep}<{turn.revise} id="{next_id(turn.revise, turn.transcript, reference)}">'

    def _constraint(self, lm: _Loaded, turn: Turn, phase: str, prompt_len: int) -> tuple[list[Any], ConstraintLog]:
        """The grammar processor for this turn's drafting tags, or none and why (recorded either way)."""
        grammar = turn.guide.grammar if turn.guide is not None else ""
        why = None
        if not self.constrain:
            why = "off (constrain=False)"
        elif not grammar:
            why = f"the {turn.modality} modality has no draft grammar"
        elif phase != "thinking":
            why = "not drafting (answer phase)"
        else:
            why = available()
        if why is not None:
            return [], ConstraintLog(path=f"none: {why}")
        try:
            compiled = lm.grammar(grammar, tuple(turn.tags.draft))
        except Exception as e:  # a slow tokenizer llguidance cannot read, a grammar it refuses: draft freely, say so
            return [], ConstraintLog(path=f"none: {type(e).__name__}: {str(e)[:200]}")
        if compiled.opening is None:
            return [], ConstraintLog(path=f"none: the grammar has no rule for {', '.join(turn.tags.draft)}")
        log = ConstraintLog(path="llguidance")
        return [DraftConstraint(compiled, prompt_len, log)], log

    def turn_facts(self) -> dict[str, Any]:
        """What the trace's thought step records about the last turn (stop, constraint, the warm cache)."""
        out = last_turn(self)
        run = self.last_run
        if run is not None:
            out.update(prompt_tokens=run.prompt_tokens, cached_tokens=run.cached_tokens)
            if run.first_token_s is not None:
                out["first_token_s"] = round(run.first_token_s, 3)
        return out

    def facts(self) -> dict[str, Any]:
        """What the manifest says about this backend: the constraint path drafts will take."""
        why = None if self.constrain else "off (constrain=False)"
        return {
            "constraint": "llguidance" if why is None and available() is None else f"none: {why or available()}",
            "examples": "chat turns" if self.examples else "none",
        }

    def _finish_record(
        self,
        record: GenerationRecord,
        lm: _Loaded,
        forcer: BudgetForcer,
        cap: ChannelCap,
        caller_stopped: bool,
        stops: tuple[str, ...] = (),
        deadline_hit: bool = False,
    ) -> None:
        ids = record.completion_ids
        record.completion = lm.tokenizer.decode([i for i in ids if i not in lm.hidden_ids], skip_special_tokens=False)
        record.forcing = forcer.log
        record.thinking_tokens = forcer.log.thinking_tokens
        record.answer_tokens = forcer.log.answer_tokens
        shown = [i for i in ids if i not in lm.hidden_ids]
        last = lm.tokenizer.decode(shown[-1:], skip_special_tokens=False) if shown else ""
        record.stop_tag = _stop_tag(record.completion, last, stops)
        if caller_stopped:
            record.stopped = "caller stopped"
        elif deadline_hit:
            record.stopped = "deadline"
        elif cap.hit:
            record.stopped = f"{cap.hit} cap"
        elif record.stop_tag:
            record.stopped = "stop string"
        elif ids and ids[-1] in lm.eos_ids:
            record.stopped = "end of sequence"
        else:
            record.stopped = "length"


# ---------------------------------------------------------------------- helpers


class _Deadline:
    """Stopping criterion: stop at ``deadline`` (epoch seconds), and remember that it did."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline, self.hit = deadline, False

    def stop_now(self, input_ids: Any = None, scores: Any = None) -> bool:
        if self.deadline is not None and time.time() >= self.deadline:
            self.hit = True
        return self.hit

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full((input_ids.shape[0],), self.stop_now(), dtype=torch.bool, device=input_ids.device)


def _stop_tag(completion: str, last: str, stops: Sequence[str]) -> str | None:
    """The stop string that ends inside the last token's text: that token may carry more after it
    (``</sketch>`` and a newline in one piece), which is still a stop at the tag, not a length stop."""
    start = len(completion) - len(last)
    for stop in stops:
        i = completion.rfind(stop)
        if i >= 0 and i + len(stop) > start:
            return stop
    return None


def _cache_kwarg() -> str:
    """generate()'s name for a cache handed in: ``cache`` from transformers 5 (where ``past_key_values`` is
    deprecated), ``past_key_values`` before."""
    import transformers

    return "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"


def _deadline_error(model: str) -> DeadlineReached:
    return DeadlineReached(
        f"the run's time limit (max_seconds) was reached: generation with {model} was cut "
        "there; what was generated before it is kept"
    )


class _Detok:
    """Text added by each new token. Fast tokenizers decode incrementally (``DecodeStream``: one
    step per token, holding back half a UTF-8 character); others re-decode a small window."""

    def __init__(self, tok: Any) -> None:
        self.tok, self.ids, self.offsets = tok, [], [0, 0]
        self.backend = getattr(tok, "backend_tokenizer", None)
        self.stream = None
        if self.backend is not None:
            try:
                from tokenizers.decoders import DecodeStream

                self.stream = DecodeStream(skip_special_tokens=False)
            except (ImportError, TypeError):
                self.stream = None

    def add(self, tid: int) -> str:
        if self.stream is not None:
            return self.stream.step(self.backend, int(tid)) or ""
        self.ids.append(int(tid))
        return _detok(self.tok, self.ids, self.offsets)


def _detok(tok: Any, ids: list[int], offsets: list[int]) -> str:
    """Text added by the last token, decoding a small window (never half a UTF-8 character)."""
    prefix, read = offsets
    kw = {"skip_special_tokens": False, "clean_up_tokenization_spaces": False}
    before = tok.decode(ids[prefix:read], **kw) if read > prefix else ""
    now = tok.decode(ids[prefix:], **kw)
    if len(now) > len(before) and not now.endswith("\ufffd"):
        offsets[0], offsets[1] = read, len(ids)
        return now[len(before) :]
    return ""


def _chat(lm: _Loaded, system: str, user: str, thinking: bool, shots: Sequence[dict[str, Any]] = ()) -> str:
    """system, example turns and user through the model's chat template, with the generation prompt."""
    tok = lm.tokenizer
    kw = {"enable_thinking": thinking} if lm.accepts_thinking else {}
    if not tok.chat_template:
        prior = "".join(f"{'User' if m['role'] == 'user' else 'Assistant'}: {m['content']}\n\n" for m in shots)
        return f"{system}\n\n{prior}User: {user}\n\nAssistant: "
    msgs = [{"role": "system", "content": system}, *shots, {"role": "user", "content": user}]
    try:
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, **kw)
    except Exception:
        # Some templates refuse a system role: fold it into the user turn.
        merged = [*shots, {"role": "user", "content": f"{system}\n\n{user}"}]
        try:
            return tok.apply_chat_template(merged, tokenize=False, add_generation_prompt=True, **kw)
        except Exception as e:
            raise BackendError(f"the chat template of this model failed: {type(e).__name__}: {e}") from e


def _how_to_get(model: str) -> str:
    if looks_local(model):
        return "check the files in that folder (config.json and the weights, or a .gguf with gguf_file=...)"
    return (
        f"download the weights on a connected machine (`hf download {model}`), then pass the local folder "
        "as model=..., or set HF_HOME to a Hugging Face cache that already holds them"
    )


def _load(model: str, gguf_file: str | None, device: str, dtype: Any, trust_remote_code: bool) -> _Loaded:
    found = locate(model, gguf_file)  # fails at once, with the fix, when the weights are not here
    src, gguf_file = found.source, found.gguf_file
    torch_dtype = _resolve_dtype(dtype, device)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kw: dict[str, Any] = {"trust_remote_code": trust_remote_code, "local_files_only": found.local_only}
        if found.cache_dir:
            kw["cache_dir"] = found.cache_dir
        if gguf_file:
            kw["gguf_file"] = gguf_file
        tok = AutoTokenizer.from_pretrained(src, **kw)
        lm = AutoModelForCausalLM.from_pretrained(src, dtype=torch_dtype, **kw)
    except ImportError as e:
        hint = " (reading GGUF files needs the gguf package: pip install gguf)" if gguf_file else ""
        raise BackendError(f"cannot load {model!r}: {e}{hint}") from e
    except (OSError, ValueError) as e:
        raise BackendError(f"cannot load {model!r}: {str(e).splitlines()[0][:300]}. {_how_to_get(model)}") from e
    except Exception as e:
        raise BackendError(f"cannot load {model!r}: {type(e).__name__}: {str(e)[:300]}") from e
    lm.to(device)
    lm.eval()
    template = tok.chat_template if isinstance(tok.chat_template, str) else str(tok.chat_template or "")
    eos = _ids(tok.eos_token_id) + _ids(getattr(lm.generation_config, "eos_token_id", None))
    close_ids = tok.encode(THINK_CLOSE, add_special_tokens=False)
    open_ids = tok.encode(THINK_OPEN, add_special_tokens=False)
    markers = frozenset(ids[0] for ids in (close_ids, open_ids) if len(ids) == 1)
    # A tokenizer read from GGUF registers the file's control tokens (<|im_start|> ...) as special
    # added tokens without listing them among its named special tokens: hide those too.
    added = getattr(tok, "added_tokens_decoder", None) or {}
    special = set(tok.all_special_ids) | {i for i, t in added.items() if getattr(t, "special", False)}
    hidden = frozenset(i for i in special if i not in markers)
    return _Loaded(
        model=lm,
        tokenizer=tok,
        device=device,
        dtype=torch_dtype,
        accepts_thinking="enable_thinking" in template,
        close_ids=close_ids,
        open_ids=open_ids,
        eos_ids=sorted(set(eos)),
        hidden_ids=hidden,
        marker_ids=markers,
        stops={},
        comma_ids=_ids_with(tok, ">"),
    )


def _ids_with(tok: Any, char: str) -> list[int]:
    """Token ids whose raw piece contains ``char`` (an ASCII character: byte-level BPE, SentencePiece and
    their byte fallbacks like ``<0x3E>`` all keep it visible in the piece)."""
    pieces = tok.convert_ids_to_tokens(list(range(len(tok))))
    return [i for i, piece in enumerate(pieces) if piece is None or char in piece]


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def stop_strings(turn: Turn) -> tuple[str, ...]:
    """Generation stops when one of the modality's drafting tags closes."""
    return tuple(f"</{t}>" for t in turn.tags.draft)


def _system(turn: Turn) -> str:
    """The protocol prompt for the turn's modality (an empty one where the graph gave no guide)."""
    return build_system_prompt(turn.guide, turn.mode) if turn.guide is not None else ""
