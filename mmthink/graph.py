"""build_graph(): the one LangGraph state machine behind every run.

    route -> think -> act -> critique -> think ... -> compose

``think`` streams the reasoner until a drafting tag closes, the final tag arrives, or the
budget is spent; ``act`` renders the draft; ``critique`` measures it and writes the
observation back into the chain of thought. Every node appends its steps to the trace as it
goes, so a run that dies leaves a readable bundle. Modalities are data (:class:`Modality`).

Durability (see :mod:`mmthink.durable`): every node returns ``steps``, the trace length when
it finished, so a resume can cut off steps a killed node wrote after the last checkpoint.
Tool and critic calls are guarded (timeout, retries, output checks); a fault that cannot be
retried away ends the run ``failed`` with the cause. With ``review`` in the state the run
pauses before compose (LangGraph ``interrupt``) with the draft, its critique and the planned final.
"""

from __future__ import annotations

import os
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from langgraph.graph import END, START, StateGraph

from .critics.base import Critique
from .durable import (Fault, FaultPolicy, ReviewDecision, check_artifact, describe_error, guarded_call, guarded_write,
                      parse_decision, retryable, stall_guard)
from .errors import InputError, MMThinkError
from .modality import Modality, RunContext
from .protocol import (ProblemEvent, StreamParser, Tag, TagEvent, format_observation)
from .reasoners.base import DraftRecord, Reasoner, Turn
from .request import Limits, Request
from .state import RunState
from .thinking import Budget, DifficultyEstimator, ThinkingConfig, count_tokens, resolve_mode, strip_soft_switches
from .trace.schema import Part, Step
from .trace.writer import TraceWriter, new_run_id

MAX_IDLE_TURNS = 4
"""Turns in a row that produce neither a draft nor a final before thinking is closed."""


@dataclass
class Components:
    """Everything the nodes use that is not state: models, tools, settings."""

    reasoner: Reasoner
    modalities: dict[str, Modality]
    thinking: ThinkingConfig = field(default_factory=ThinkingConfig)
    limits: Limits = field(default_factory=Limits)
    estimator: DifficultyEstimator | None = None
    out_dir: Path = Path("runs")
    system_prompt: Callable[[str, str], str] | None = None
    describe: dict[str, Any] = field(default_factory=dict)  # manifest facts: reasoner, backends
    policy: FaultPolicy = field(default_factory=FaultPolicy)
    fixed_out_dir: bool = False  # served graphs: clients may not choose where files go


class _Runs:
    """Per-process handles for runs in flight: trace writers and in-memory artifacts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writers: dict[str, TraceWriter] = {}
        self._caches: dict[str, dict[str, Any]] = {}
        self._listeners: dict[str, Callable[[Step], None]] = {}

    def writer(self, run_dir: str) -> TraceWriter:
        with self._lock:
            w = self._writers.get(run_dir)
            if w is None:
                w = TraceWriter.resume(run_dir)
                self._writers[run_dir] = w
            return w

    def open(self, run_dir: str, manifest: dict[str, Any]) -> TraceWriter:
        with self._lock:
            w = self._writers.get(run_dir)
            if w is None:
                w = TraceWriter.resume(run_dir) if (Path(run_dir) / "manifest.json").exists() else TraceWriter(run_dir, manifest)
                self._writers[run_dir] = w
            return w

    def count(self, run_dir: str) -> int:
        """Steps the run's trace holds now (0 before route made the bundle)."""
        with self._lock:
            w = self._writers.get(run_dir)
        if w is not None:
            return len(w.steps)
        path = Path(run_dir) / "steps.jsonl"  # closed (the run ended): count whole lines on disk
        if not path.exists():
            return 0
        return sum(1 for line in path.read_bytes().split(b"\n")[:-1] if line.strip())

    def listen(self, run_dir: str, fn: Callable[[Step], None] | None) -> None:
        """Hand every step of this run to ``fn`` as it is written (None: stop)."""
        key = os.path.realpath(run_dir)
        with self._lock:
            if fn is None:
                self._listeners.pop(key, None)
            else:
                self._listeners[key] = fn

    def listener(self, run_dir: str) -> Callable[[Step], None] | None:
        if not self._listeners:
            return None
        key = os.path.realpath(run_dir)
        with self._lock:
            return self._listeners.get(key)

    def cache(self, run_dir: str) -> dict[str, Any]:
        with self._lock:
            return self._caches.setdefault(run_dir, {})

    def close(self, run_dir: str) -> None:
        with self._lock:
            self._writers.pop(run_dir, None)
            self._caches.pop(run_dir, None)


RUNS = _Runs()


def _emit(writer: TraceWriter, step: Step) -> Step:
    """Append to the trace first (durable), then tell whoever is streaming: the in-process agent
    through its listener (no LangGraph custom stream needed), a served graph's client through
    LangGraph's stream writer."""
    writer.append(step)
    listener = RUNS.listener(str(writer.root))
    if listener is not None:
        listener(step)
        return step
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()({"type": "step", "run_dir": str(writer.root), "step": step.to_dict()})
    except Exception:  # not inside a streaming run
        pass
    return step


def _emit_token(text: str, channel: str) -> None:
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()({"type": "token", "text": text, "channel": channel})
    except Exception:
        pass


def _ctx(state: RunState, comp: Components) -> RunContext:
    req = Request.from_dict(state["request"])
    return RunContext(req, state["modality"], req.seed, Path(state["run_dir"]), list(state.get("drafts") or []),
                      state.get("transcript", ""), RUNS.cache(state["run_dir"]),
                      int((state.get("thinking") or {}).get("best_of") or 1))


def _records(state: RunState) -> list[DraftRecord]:
    out = []
    for d in state.get("drafts") or []:
        out.append(DraftRecord(d["id"], d["tag"], dict(d.get("attrs") or {}), d.get("body", ""), d.get("score"),
                               d.get("passed"), list(d.get("findings") or []), dict(d.get("metrics") or {}),
                               d.get("error")))
    return out


def _retry_reporter(writer: TraceWriter, node: str, what: str, ref: str | None = None):
    """Write one ``error`` step per failed attempt that will be tried again."""

    def report(attempt: int, exc: BaseException, delay: float) -> None:
        _emit(writer, Step("error", node, f"{what} failed, retrying",
                           [Part("text", f"attempt {attempt}: {describe_error(exc)}; trying again in {delay:.2f} s")],
                           ref=ref, metrics={"attempt": attempt, "retry_in_s": round(delay, 3),
                                             "fault": getattr(exc, "kind", type(exc).__name__)}))

    return report


def _end_failed(state: RunState, writer: TraceWriter, node: str, fault: Fault, ref: str | None = None,
                started: float | None = None) -> dict[str, Any]:
    """A fault the run cannot get past: record it, close the bundle as ``failed``, keep everything written."""
    reason = str(fault)
    _emit(writer, Step("error", node, f"{fault.kind.replace('_', ' ')}: run stopped", [Part("text", reason)], ref=ref,
                       started=started or time.time(),
                       metrics={"fault": fault.kind, "attempts": fault.attempts, "fatal": True}))
    _finish(writer, "failed", reason=reason, budget=state.get("budget"))
    return {"status": "failed", "reason": reason, "closed": True}


def _finish(writer: TraceWriter, status: str, **fields: Any) -> None:
    """Close the bundle; if even the manifest cannot be written (disk full), the steps already are."""
    try:
        writer.finish(status, **{k: v for k, v in fields.items() if v is not None or k == "reason"})
    except OSError:
        pass
    finally:
        RUNS.close(str(writer.root))


def _with_step_count(fn: Callable[[RunState], dict[str, Any]]) -> Callable[[RunState], dict[str, Any]]:
    """Every node reports the trace length it leaves behind; the checkpoint keeps it for resumes."""

    def node(state: RunState) -> dict[str, Any]:
        update = fn(state)
        run_dir = update.get("run_dir") or state.get("run_dir")
        if run_dir:
            update["steps"] = RUNS.count(run_dir)
        return update

    node.__name__ = fn.__name__
    node.__doc__ = fn.__doc__
    return node


def build_graph(comp: Components) -> StateGraph:
    """The uncompiled graph; compile it with or without a checkpointer."""
    policy = comp.policy

    # ------------------------------------------------------------------ route
    def route(state: RunState) -> dict[str, Any]:
        if state.get("run_dir") and (Path(state["run_dir"]) / "manifest.json").exists() and state.get("budget"):
            return {}  # resumed: already routed
        req = Request.from_dict(state["request"]).validate(comp.limits)
        cfg = ThinkingConfig(**{**comp.thinking.to_dict(), **(state.get("thinking") or {})}).validate()
        modality = req.resolved_modality()
        if modality not in comp.modalities:
            raise InputError("modality", f"{modality!r} is not available in this agent",
                             f"available: {', '.join(comp.modalities)}")
        req.validate_for(modality, comp.limits)
        decision = resolve_mode(state.get("mode_arg"), req.text, cfg.mode, modality, comp.estimator)
        run_id = state.get("run_id") or new_run_id()
        if not _SAFE_ID.match(run_id):
            raise InputError("run_id", f"{run_id!r} is not safe as a folder name", "use letters, digits, '.', '_', '-'")
        out_dir = comp.out_dir if comp.fixed_out_dir else Path(state.get("out_dir") or comp.out_dir)
        run_dir = str(Path(out_dir) / run_id)
        budget = Budget.from_config(cfg)
        manifest = {
            "run_id": run_id,
            "request": req.to_dict(),
            "modality": modality,
            "thinking": {**cfg.to_dict(), "resolved": decision.mode, "source": decision.source,
                         "reason": decision.reason, "difficulty": decision.difficulty},
            "seed": req.seed,
            **comp.describe,
            "input": {"thinking": cfg.to_dict(), "mode_arg": state.get("mode_arg"),
                      "review": bool(state.get("review"))},
            "budget": budget.to_dict(),
        }
        writer = RUNS.open(run_dir, manifest)
        _emit(writer, Step("decision", "route", f"thinking {decision.mode}",
                           [Part("text", f"Modality: {modality}"
                                 + (" (decided from the request's words)" if req.modality == "auto" else "")
                                 + f". Thinking {decision.mode}: {decision.reason}.")],
                           metrics={"mode": decision.mode, "source": decision.source, "modality": modality,
                                    "difficulty": decision.difficulty}))
        return {"run_id": run_id, "run_dir": run_dir, "modality": modality, "mode": decision.mode,
                "decision": decision.__dict__, "budget": budget.to_dict(), "thinking": cfg.to_dict(),
                "transcript": "", "answer": "", "turns": 0, "force_close": None, "closed": False,
                "pending": None, "final_tag": None, "drafts": [], "status": "running", "reason": None,
                "final": None, "review": bool(state.get("review")), "reviews": []}

    # ------------------------------------------------------------------ think
    def think(state: RunState) -> dict[str, Any]:
        writer = RUNS.writer(state["run_dir"])
        budget = Budget.from_dict(state["budget"])
        cfg = ThinkingConfig(**state["thinking"])
        force = state.get("force_close")
        spent = budget.spent()
        if spent and not force and state["mode"] == "on":
            force = spent
            _emit(writer, Step("decision", "think", "budget spent", [Part("text", f"{spent}: thinking is closed "
                               "and the best draft so far will be composed.")], metrics=budget.to_dict()))
        req = Request.from_dict(state["request"])
        req.text = strip_soft_switches(req.text) or req.text
        turn = Turn(request=req, modality=state["modality"], mode=state["mode"], transcript=state.get("transcript", ""),
                    answer=state.get("answer", ""), drafts=_records(state), tokens_left=budget.tokens_left(),
                    drafts_left=budget.drafts_left(), min_tokens=cfg.min_tokens, tokens_used=budget.tokens,
                    force_close=force, seed=req.seed,
                    system=comp.system_prompt(state["modality"], state["mode"]) if comp.system_prompt else None)
        for attempt in range(1, policy.reason.attempts + 1):
            parsers = {"thinking": StreamParser(), "answer": StreamParser()}
            texts = {"thinking": "", "answer": ""}
            tokens = 0
            tag: Tag | None = None
            tag_channel = "thinking"
            problems: list[str] = []
            over_budget: str | None = None
            started = time.time()
            received = False
            stream = stall_guard(lambda: comp.reasoner.stream(turn), policy.reason.timeout_s, "reasoner",
                                 comp.reasoner)
            try:
                for delta in stream:
                    received = True
                    ch = delta.channel if delta.channel in texts else "thinking"
                    texts[ch] += delta.text
                    _emit_token(delta.text, ch)
                    if ch == "thinking":
                        n = delta.tokens if delta.tokens is not None else count_tokens(delta.text)
                        tokens += n
                        budget.tokens += n
                    for ev in parsers[ch].feed(delta.text):
                        if isinstance(ev, ProblemEvent):
                            problems.append(ev.finding)
                        elif isinstance(ev, TagEvent) and (ev.tag.is_draft or ev.tag.is_final) and tag is None:
                            tag, tag_channel = ev.tag, ch
                    if tag is not None and (tag.is_draft or ch == "thinking"):
                        break
                    if ch == "thinking" and not force and state["mode"] == "on" and \
                            budget.max_tokens is not None and budget.tokens >= budget.max_tokens:
                        over_budget = f"thinking-token budget spent ({budget.tokens}/{budget.max_tokens})"
                        break
                break
            except MMThinkError as e:
                if not received and attempt < policy.reason.attempts and retryable(e):
                    _retry_reporter(writer, "think", "reasoner")(attempt, e, policy.reason.delay(attempt))
                    time.sleep(policy.reason.delay(attempt))
                    continue
                return _fail_think(state, writer, budget, f"reasoner failed: {e}")
            except Exception as e:  # a model backend blew up: record it, compose what we have
                if not received and attempt < policy.reason.attempts and retryable(e):
                    _retry_reporter(writer, "think", "reasoner")(attempt, e, policy.reason.delay(attempt))
                    time.sleep(policy.reason.delay(attempt))
                    continue
                _emit(writer, Step("error", "think", "reasoner failed", [Part("text", f"{type(e).__name__}: {e}"),
                                   Part("text", traceback.format_exc(limit=4))]))
                return {"closed": True, "force_close": f"reasoner failed: {e}", "budget": budget.to_dict(),
                        "turns": state.get("turns", 0) + 1}
            finally:
                stream.close()
        if tag is None:
            for ch, p in parsers.items():
                for ev in p.finish():
                    if isinstance(ev, ProblemEvent):
                        problems.append(ev.finding)
                    elif isinstance(ev, TagEvent) and tag is None and (ev.tag.is_draft or ev.tag.is_final):
                        tag, tag_channel = ev.tag, ch
        thinking_text = texts["thinking"]
        if tag is not None and tag_channel == "thinking":
            cut = thinking_text.find(tag.raw) if tag.raw else -1
            if cut >= 0:
                thinking_text = thinking_text[:cut + len(tag.raw)]
        update: dict[str, Any] = {"turns": state.get("turns", 0) + 1}
        transcript = state.get("transcript", "") + thinking_text
        if thinking_text.strip():
            _emit(writer, Step("thought", "think", "thinking", [Part("reasoning", thinking_text)], started=started,
                               metrics={"tokens": tokens, "tokens_total": budget.tokens,
                                        "tokens_left": budget.tokens_left()}))
        answer = state.get("answer", "") + texts["answer"]
        if problems:
            note = "; ".join(problems[:5])
            transcript += "\n" + format_observation("protocol", None, note) + "\n"
            _emit(writer, Step("observation", "think", "protocol findings", [Part("text", note)], ref="protocol",
                               passed=False, metrics={"findings": problems}))
        update.update({"transcript": transcript, "answer": answer})
        if over_budget and (tag is None or tag.is_draft):
            _emit(writer, Step("decision", "think", "budget spent", [Part("text", f"{over_budget}: thinking is "
                               "closed now (budget forcing); the best draft so far will be composed.")],
                               metrics=budget.to_dict()))
            update.update({"force_close": over_budget, "budget": budget.to_dict()})
            if force:
                update["closed"] = True
            return update
        if tag is not None and tag.is_draft:
            if force or (budget.drafts_left() == 0):
                why = force or f"draft budget spent ({budget.drafts}/{budget.max_drafts})"
                _emit(writer, Step("decision", "think", "draft not rendered", [Part("text", f"{why}: <{tag.name} "
                                   f"id={tag.id}> is not rendered; composing the best draft so far.")]))
                update.update({"force_close": why, "closed": bool(force), "budget": budget.to_dict()})
                return update
            update.update({"pending": {"name": tag.name, "attrs": tag.attrs, "body": tag.body, "raw": tag.raw},
                           "budget": budget.to_dict()})
            return update
        if tag is not None and tag.is_final:
            update.update({"final_tag": {"name": tag.name, "attrs": tag.attrs, "body": tag.body, "raw": tag.raw},
                           "closed": True, "budget": budget.to_dict()})
            return update
        # no tag: the reasoner ended its turn
        idle = texts["answer"].strip() or not texts["thinking"].strip() or force \
            or update["turns"] >= MAX_IDLE_TURNS + len(state.get("drafts") or [])
        update.update({"closed": bool(idle), "budget": budget.to_dict()})
        return update

    def _fail_think(state, writer, budget, reason):
        _emit(writer, Step("error", "think", "reasoner failed", [Part("text", reason)]))
        return {"closed": True, "force_close": reason, "budget": budget.to_dict(), "turns": state.get("turns", 0) + 1}

    # -------------------------------------------------------------------- act
    def act(state: RunState) -> dict[str, Any]:
        writer = RUNS.writer(state["run_dir"])
        pend = state["pending"] or {}
        tag = Tag(pend["name"], dict(pend.get("attrs") or {}), pend.get("body", ""), pend.get("raw", ""))
        modality = comp.modalities[state["modality"]]
        drafts = list(state.get("drafts") or [])
        draft_id = _safe_draft_id(tag.id, tag.name, len(drafts) + 1)
        if any(d["id"] == draft_id for d in drafts):
            draft_id = f"{draft_id}.{len(drafts) + 1}"
        tag.attrs["id"] = draft_id
        record: dict[str, Any] = {"id": draft_id, "tag": tag.name, "attrs": tag.attrs, "body": tag.body,
                                  "asset": None, "kind": None, "meta": {}, "score": None, "passed": None,
                                  "findings": [], "metrics": {}, "error": None}
        budget = Budget.from_dict(state["budget"])
        budget.drafts += 1
        handler = modality.handlers.get(tag.name)
        started = time.time()
        transcript = state.get("transcript", "")
        if handler is None:
            msg = f"<{tag.name}> is not used for {modality.name}; use " + ", ".join(f"<{t}>" for t in modality.handlers)
            record["error"] = msg
        else:
            ctx = _ctx({**state, "drafts": drafts + [record]}, comp)
            what = f"render of <{tag.name} id={draft_id}>"
            check = (lambda a: check_artifact(a, comp.limits, what)) if policy.validate_output else None
            try:
                art = guarded_call(lambda: handler.render(tag, ctx), policy.render, what, model=handler,
                                   check=check, on_retry=_retry_reporter(writer, "act", what, draft_id))
                rel = guarded_write(lambda: writer.put_asset(art.data, art.ext), f"saving draft {draft_id}")
                parts = [Part("text", tag.body), Part(art.kind, asset=rel)]
                for alt in art.alternatives:  # best-of-N runners-up stay in the trace, after the winner
                    alt_rel = guarded_write(lambda: writer.put_asset(alt.data, alt.ext), f"saving draft {draft_id}")
                    parts.append(Part(alt.kind, asset=alt_rel))
                    _note_asset(art.meta, alt.meta.get("seed"), alt_rel)
                _note_asset(art.meta, art.meta.get("seed"), rel)
                ctx.cache[draft_id] = art
                record.update({"asset": rel, "kind": art.kind, "meta": _json_safe(art.meta)})
                _emit(writer, Step("draft", "act", f"{tag.name} {draft_id}", parts, ref=draft_id, started=started,
                                   metrics={"tag": tag.name, "attrs": tag.attrs, **_brief(art.meta)}))
            except Fault as f:
                if f.fatal:
                    return {**_end_failed({**state, "budget": budget.to_dict()}, writer, "act", f, draft_id, started),
                            "drafts": drafts + [{**record, "error": str(f), "score": 0.0, "passed": False}],
                            "pending": None, "budget": budget.to_dict()}
                record["error"] = f.cause
        if record["error"]:
            _emit(writer, Step("error", "act", f"{tag.name} {draft_id} failed", [Part("text", record["error"])],
                               ref=draft_id, started=started))
            transcript += "\n" + format_observation(draft_id, 0.0, f"render failed: {record['error']}") + "\n"
            record["score"], record["passed"] = 0.0, False
        drafts.append(record)
        return {"drafts": drafts, "pending": None, "budget": budget.to_dict(), "transcript": transcript}

    # --------------------------------------------------------------- critique
    def critique(state: RunState) -> dict[str, Any]:
        writer = RUNS.writer(state["run_dir"])
        drafts = list(state.get("drafts") or [])
        record = dict(drafts[-1])
        modality = comp.modalities[state["modality"]]
        handler = modality.handlers[record["tag"]]
        tag = Tag(record["tag"], dict(record["attrs"]), record["body"])
        ctx = _ctx(state, comp)
        started = time.time()
        transcript = state.get("transcript", "")
        what = f"critique of {record['id']}"

        def judge() -> Critique:
            art = ctx.cache.get(record["id"]) or handler.restore(record, ctx.read_asset(record["asset"]))
            return handler.critique(tag, art, ctx)

        try:
            crit: Critique = guarded_call(judge, policy.critique, what, model=handler,
                                          on_retry=_retry_reporter(writer, "critique", what, record["id"]))
            record.update({"score": crit.score, "passed": crit.passed, "findings": crit.findings,
                           "metrics": _json_safe(crit.metrics)})
            text = crit.summary()
            _emit(writer, Step("observation", "critique", f"critique of {record['id']}", [Part("text", text)],
                               ref=record["id"], score=crit.score, passed=crit.passed, started=started,
                               metrics=_json_safe(crit.metrics)))
            transcript += "\n" + format_observation(record["id"], crit.score, text) + "\n"
        except Fault as e:  # the critic is advisory: the run goes on unjudged and the reasoner is told
            record.update({"error": f"critic failed: {e.cause}"})
            _emit(writer, Step("error", "critique", f"critic failed on {record['id']}",
                               [Part("text", str(e))], ref=record["id"], started=started,
                               metrics={"fault": e.kind, "attempts": e.attempts}))
            transcript += "\n" + format_observation(record["id"], None, "the critic failed; judge it yourself") + "\n"
        drafts[-1] = record
        return {"drafts": drafts, "transcript": transcript}

    # ----------------------------------------------------------------- review
    def review(state: RunState) -> dict[str, Any]:
        from langgraph.types import interrupt

        writer = RUNS.writer(state["run_dir"])
        payload = review_payload(state)
        last = writer.steps[-1] if writer.steps else None
        if not (last and last.node == "review" and last.title == "awaiting review"):  # said once, even if re-run
            parts = [Part("text", "Paused before the final render: approve, revise with a note, or abort.")]
            if payload["draft"] and payload["draft"].get("asset"):
                parts.append(Part(payload["draft"]["kind"] or "image", asset=payload["draft"]["asset"]))
            _emit(writer, Step("decision", "review", "awaiting review", parts,
                               ref=(payload["draft"] or {}).get("id"), metrics={"final": payload["final"]}))
        raw = interrupt(payload)
        try:
            decision = parse_decision(raw)
        except InputError as e:
            decision = ReviewDecision.abort(f"the review answer could not be read ({e})")
        reviews = list(state.get("reviews") or []) + [decision.to_dict()]
        note = decision.note.strip()
        if decision.action == "approve":
            _emit(writer, Step("decision", "review", "review: approved", [Part("text", "The reviewer approved the "
                               "planned final.")], metrics=decision.to_dict()))
            return {"reviews": reviews}
        if decision.action == "revise":
            _emit(writer, Step("observation", "review", "review: revise", [Part("text", note)], ref="review",
                               passed=False, metrics=decision.to_dict()))
            transcript = state.get("transcript", "") + "\n" + format_observation("review", None, note) + "\n"
            return {"reviews": reviews, "transcript": transcript, "closed": False, "final_tag": None,
                    "force_close": None, "answer": "", "pending": None}
        reason = "stopped at review: " + (note or "the reviewer aborted the run")
        _emit(writer, Step("decision", "review", "review: aborted", [Part("text", reason)], metrics=decision.to_dict()))
        _finish(writer, "stopped", reason=reason, budget=state.get("budget"))
        return {"reviews": reviews, "status": "stopped", "reason": reason}

    # ---------------------------------------------------------------- compose
    def compose(state: RunState) -> dict[str, Any]:
        writer = RUNS.writer(state["run_dir"])
        modality = comp.modalities[state["modality"]]
        ft = state.get("final_tag")
        final = Tag(ft["name"], dict(ft.get("attrs") or {}), ft.get("body", "")) if ft else None
        ctx = _ctx(state, comp)
        budget = Budget.from_dict(state["budget"])
        started = time.time()
        try:
            _warm_cache(ctx, modality)
            check = (lambda r: check_artifact(r[0], comp.limits, "compose")) if policy.validate_output else None
            art, facts = guarded_call(lambda: modality.composer.compose(final, ctx), policy.compose, "compose",
                                      model=modality.composer, check=check,
                                      on_retry=_retry_reporter(writer, "compose", "compose"))
            rel = guarded_write(lambda: writer.put_asset(art.data, art.ext), "saving the final")
            parts = [Part("text", _clean_answer(state.get("answer", "")))] if state.get("answer", "").strip() else []
            parts.append(Part(art.kind, asset=rel))
            if facts.get("table"):
                parts.append(Part("table", rows=facts.pop("table")))
            _emit(writer, Step("final", "compose", f"final {art.kind}", parts, ref=facts.get("ref"), started=started,
                               score=facts.get("score"), passed=facts.get("passed"),
                               metrics=_json_safe({**_brief(art.meta), **facts})))
            final_info = {"asset": rel, "kind": art.kind, "ext": art.ext, "ref": facts.get("ref")}
            _finish(writer, "succeeded", final=final_info, budget=budget.to_dict(), reason=None,
                    answer=_clean_answer(state.get("answer", "")))
            return {"final": {**final_info, "path": str((Path(state["run_dir"]) / rel).resolve())},
                    "status": "succeeded", "reason": None}
        except Exception as e:
            f = e if isinstance(e, Fault) else Fault("compose", f"{type(e).__name__}: {e}")
            reason = f"compose failed: {f.cause}" if not str(f).startswith("compose") else str(f)
            _emit(writer, Step("error", "compose", "compose failed", [Part("text", reason),
                               Part("text", traceback.format_exc(limit=4))], started=started,
                               metrics={"fault": f.kind, "attempts": f.attempts}))
            _finish(writer, "failed", reason=reason, budget=budget.to_dict())
            return {"status": "failed", "reason": reason}
        finally:
            RUNS.close(state["run_dir"])

    # ----------------------------------------------------------------- wiring
    def after_think(state: RunState) -> str:
        if state.get("closed"):
            return "review" if state.get("review") else "compose"
        if state.get("pending"):
            return "act"
        return "think"

    def after_act(state: RunState) -> str:
        if state.get("status") == "failed":
            return END
        last = (state.get("drafts") or [{}])[-1]
        if last.get("error") or state.get("mode") == "off":
            return "think"
        return "critique"

    def after_review(state: RunState) -> str:
        if state.get("status") == "stopped":
            return END
        return "think" if not state.get("closed") else "compose"

    g = StateGraph(RunState)
    g.add_node("route", _with_step_count(route))
    g.add_node("think", _with_step_count(think))
    g.add_node("act", _with_step_count(act))
    g.add_node("critique", _with_step_count(critique))
    g.add_node("review", _with_step_count(review))
    g.add_node("compose", _with_step_count(compose))
    g.add_edge(START, "route")
    g.add_edge("route", "think")
    g.add_conditional_edges("think", after_think, ["act", "think", "review", "compose"])
    g.add_conditional_edges("act", after_act, ["critique", "think", END])
    g.add_edge("critique", "think")
    g.add_conditional_edges("review", after_review, ["think", "compose", END])
    g.add_edge("compose", END)
    return g


def review_payload(state: RunState) -> dict[str, Any]:
    """What a reviewer sees: the draft the final will come from, its critique, and the planned final."""
    drafts = [d for d in state.get("drafts") or [] if not d.get("error") and d.get("asset")]
    ft = state.get("final_tag") or {}
    ref = (ft.get("attrs") or {}).get("ref")
    chosen = next((d for d in drafts if d["id"] == ref), None)
    if chosen is None and drafts:
        chosen = max(reversed(drafts), key=lambda d: d.get("score") or 0.0)
    run_dir = Path(state["run_dir"])
    draft = None
    if chosen is not None:
        draft = {"id": chosen["id"], "tag": chosen["tag"], "body": chosen.get("body", ""), "kind": chosen.get("kind"),
                 "asset": chosen["asset"], "path": str((run_dir / chosen["asset"]).resolve())}
    return {
        "type": "review",
        "run_id": state.get("run_id"),
        "run_dir": str(run_dir),
        "modality": state.get("modality"),
        "draft": draft,
        "critique": None if chosen is None else {"score": chosen.get("score"), "passed": chosen.get("passed"),
                                                 "findings": list(chosen.get("findings") or [])},
        "final": {"tag": ft.get("name"), "attrs": dict(ft.get("attrs") or {}), "body": ft.get("body", ""),
                  "raw": ft.get("raw", ""), "answer": _clean_answer(state.get("answer", "")),
                  "why": state.get("force_close")},
        "drafts": len(state.get("drafts") or []),
        "reviews": list(state.get("reviews") or []),
        "options": ["approve", "revise", "abort"],
    }


def _warm_cache(ctx: RunContext, modality: Modality) -> None:
    """After a resume the in-memory drafts are gone: rebuild them from their assets, as a composer expects."""
    for d in ctx.drafts:
        if d.get("error") or not d.get("asset") or d["id"] in ctx.cache:
            continue
        handler = modality.handlers.get(d.get("tag", ""))
        if handler is None:
            continue
        try:
            ctx.cache[d["id"]] = handler.restore(d, ctx.read_asset(d["asset"]))
        except Exception:  # a composer that needs it will restore it itself, or say why not
            continue


_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _safe_draft_id(raw: str | None, tag_name: str, n: int) -> str:
    """Draft ids come from model text; keep them short and harmless wherever they end up."""
    if raw and _SAFE_ID.match(raw) and ".." not in raw:
        return raw
    if raw:
        cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-")[:32]
        if cleaned:
            return cleaned
    return f"{tag_name[:1] or 'd'}{n}"


_served: dict[str, Any] = {}
_served_lock = threading.Lock()


def served_graph(profile: str | None = None) -> Any:
    """The compiled graph the LangGraph server runs (graphs/*.py): one per process, no checkpointer.

    The server brings its own checkpointer. Bundles go to ``$MMTHINK_OUT_DIR`` (default ``runs``)
    and clients cannot pick another folder; the profile is ``$MMTHINK_PROFILE`` (default embedded).
    """
    import os

    from .agent import Agent

    profile = profile or os.environ.get("MMTHINK_PROFILE", "embedded")
    with _served_lock:
        if profile not in _served:
            out_dir = Path(os.environ.get("MMTHINK_OUT_DIR", "runs")).resolve()
            agent = Agent.from_profile(profile, durable=False, out_dir=str(out_dir))
            comp = agent.components()
            comp.fixed_out_dir = True
            _served[profile] = build_graph(comp).compile()
        return _served[profile]


def recursion_limit(cfg: ThinkingConfig, limits: Limits) -> int:
    """Supersteps a run may take: three per draft (think, act, critique) plus routing, idle turns, compose."""
    return min(limits.max_steps, 3 * (cfg.max_drafts + 2) + 2 * MAX_IDLE_TURNS + 12)


def _clean_answer(text: str) -> str:
    text = re.sub(r"<think>\s*</think>", "", text)
    return text.strip()


def _note_asset(meta: dict[str, Any], seed: Any, rel: str) -> None:
    """Tie a best-of-N candidate's file to its row in ``meta["best_of"]["candidates"]``."""
    for cand in (meta.get("best_of") or {}).get("candidates", []):
        if cand.get("seed") == seed and "asset" not in cand:
            cand["asset"] = rel
            return


def _brief(meta: dict[str, Any]) -> dict[str, Any]:
    keep = ("backend", "quality", "size", "seed", "seconds", "sample_rate", "emotion", "ms", "timings", "model",
            "placed", "background_rgb", "scene_no", "rtf", "best_of", "steps", "strength", "prompt", "init", "duration")
    return {k: meta[k] for k in keep if k in meta}


def _json_safe(obj: Any) -> Any:
    """Plain Python values only (numpy scalars and arrays included), so state and steps serialise anywhere."""
    if obj is None or type(obj) in (str, int, float, bool):
        return obj
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return _json_safe(obj.tolist())
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, float):  # subclasses such as numpy.float64
        return float(obj)
    if isinstance(obj, int):
        return int(obj)
    return str(obj)
