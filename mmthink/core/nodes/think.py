"""think: let the reasoner continue the chain of thought until a step tag closes, the final tag
arrives, the turn ends, or the budget is spent (then thinking is closed: s1 budget forcing)."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Any

from mmthink.core.context import Components
from mmthink.core.faults import retryable, stall_guard
from mmthink.core.nodes.common import components, records
from mmthink.core.nudge import critic_lines, nudge, repeated, revision_due
from mmthink.core.repetition import Repetition, RepetitionGuard
from mmthink.core.runs import RUNS, emit, emit_token, retry_reporter
from mmthink.core.state import RunState
from mmthink.core.tags import ProblemEvent, StreamParser, Tag, TagEvent, format_observation
from mmthink.core.turn import Turn
from mmthink.errors import DeadlineReached, MMThinkError
from mmthink.request import Request
from mmthink.thinking import Budget, ThinkingConfig, count_tokens, strip_soft_switches
from mmthink.trace.schema import Part, Step
from mmthink.trace.writer import TraceWriter

MAX_IDLE_TURNS = 4
"""Turns in a row that produce neither a draft nor a final before thinking is closed."""


@dataclass
class TurnOutput:
    """What one streamed turn produced: text per channel, the first step tag, findings, why it stopped."""

    texts: dict[str, str] = field(default_factory=lambda: {"thinking": "", "answer": ""})
    tokens: int = 0
    tag: Tag | None = None
    tag_channel: str = "thinking"
    problems: list[str] = field(default_factory=list)
    over_budget: str | None = None
    refusal: str = ""
    repetition: Repetition | None = None
    written_observations: list[str] = field(default_factory=list)
    """Observation tags the reasoner wrote itself: they are dropped (only the tools write observations)."""
    started: float = field(default_factory=time.time)
    reasoner: dict[str, Any] = field(default_factory=dict)
    """What the reasoner recorded about the turn (its ``turn_facts()``: stop, continuation, constraint)."""


def think(state: RunState, runtime: Any) -> dict[str, Any]:
    """One reasoner turn, recorded as a thought step, with the tag it closed handed on."""
    comp = components(runtime)
    writer = RUNS.writer(state["run_dir"])
    budget = Budget.from_dict(state["budget"])
    # 1. close thinking when the budget is already spent
    force = state.get("force_close")
    spent = budget.spent()
    if spent and not force and state["mode"] == "on":
        force = spent
        emit(
            writer,
            Step(
                "decision",
                "think",
                "budget spent",
                [Part("text", f"{spent}: thinking is closed and the best draft so far will be composed.")],
                metrics=budget.to_dict(),
            ),
        )
    # 2. stream one turn (retried only when nothing was received)
    turn = _turn(state, comp, budget, force)
    out = _stream_with_retries(state, comp, writer, budget, turn, force)
    if isinstance(out, dict):  # the reasoner failed: the update that closes thinking
        return out
    # 3. record what was thought, and hand on the tag it closed (or say why not)
    update = _record(state, writer, budget, out)
    nxt = _next(state, writer, budget, out, force, update["turns"])
    nxt.update(_nudge_after(state, writer, replace(turn, transcript=update["transcript"]), out, nxt, force))
    held = _hold_open(state, writer, budget, update, nxt, force)
    return {**update, **nxt, **held}


def _turn(state: RunState, comp: Components, budget: Budget, force: str | None) -> Turn:
    cfg = ThinkingConfig(**state["thinking"])
    req = Request.from_dict(state["request"])
    req.text = strip_soft_switches(req.text) or req.text
    deadline = budget.started + budget.max_seconds if budget.max_seconds is not None else None
    tags = comp.tagset(state["modality"])
    revise: str | None = None
    required: tuple[str, ...] = ()
    if state["mode"] == "on" and not force and budget.drafts_left() != 0:
        drafts = list(state.get("drafts") or [])
        revise = revision_due(state.get("transcript", ""), drafts, tags.draft)
        if revise and repeated(drafts):  # the model rewrote a rejected draft unchanged: the critic's lines bind
            required = critic_lines(state.get("transcript", ""))
    return Turn(
        deadline=deadline,
        request=req,
        modality=state["modality"],
        mode=state["mode"],
        transcript=state.get("transcript", ""),
        answer=state.get("answer", ""),
        drafts=records(state),
        tokens_left=budget.tokens_left(),
        drafts_left=budget.drafts_left(),
        min_tokens=cfg.min_tokens,
        tokens_used=budget.tokens,
        force_close=force,
        seed=req.seed,
        tags=tags,
        guide=comp.guides.get(state["modality"]),
        revise=revise,
        required=required,
        system=comp.system_prompt(state["modality"], state["mode"]) if comp.system_prompt else None,
    )


def _stream_with_retries(
    state: RunState, comp: Components, writer: TraceWriter, budget: Budget, turn: Turn, force: str | None
) -> TurnOutput | dict[str, Any]:
    policy = comp.policy.reason
    tokens_before = budget.tokens
    for attempt in range(1, policy.attempts + 1):
        out = TurnOutput()
        received = [False]
        budget.tokens = tokens_before
        try:
            _stream(state, comp, budget, turn, force, out, received)
            return out
        except DeadlineReached:  # the call was cut at max_seconds: keep what came, close thinking
            out.over_budget = "time budget spent (max_seconds reached during the call)"
            return out
        except Exception as e:
            if attempt < policy.attempts and retryable(e):  # the turn is thrown away and asked again
                retry_reporter(writer, "think", "reasoner")(attempt, e, policy.delay(attempt))
                time.sleep(policy.delay(attempt))
                continue
            if isinstance(e, MMThinkError):
                return _fail(state, writer, budget, f"reasoner failed: {e}")
            emit(
                writer,
                Step(
                    "error",
                    "think",
                    "reasoner failed",
                    [Part("text", f"{type(e).__name__}: {e}"), Part("text", traceback.format_exc(limit=4))],
                ),
            )
            return {
                "closed": True,
                "force_close": f"reasoner failed: {e}",
                "budget": budget.to_dict(),
                "turns": state.get("turns", 0) + 1,
            }
    raise AssertionError("unreachable: the last attempt returns")


def _stream(
    state: RunState,
    comp: Components,
    budget: Budget,
    turn: Turn,
    force: str | None,
    out: TurnOutput,
    received: list[bool],
) -> None:
    """Feed the reasoner's deltas through one parser per channel; stop at the first closed step tag."""
    parsers = {"thinking": StreamParser(turn.tags), "answer": StreamParser(turn.tags)}
    guard = RepetitionGuard()
    stall = None if getattr(comp.reasoner, "cannot_stall", False) else comp.policy.reason.timeout_s
    stream = stall_guard(lambda: comp.reasoner.stream(turn), stall, "reasoner", comp.reasoner)
    try:
        for delta in stream:
            received[0] = True
            ch: str = delta.channel if delta.channel in out.texts else "thinking"
            if force and ch == "thinking" and state["mode"] == "on":
                continue  # thinking is closed (budget forcing): nothing more is thought, only the answer
            out.texts[ch] += delta.text
            if delta.refusal:
                out.refusal += delta.text
            emit_token(delta.text, ch)
            if ch == "thinking":
                n = delta.tokens if delta.tokens is not None else count_tokens(delta.text)
                out.tokens += n
                budget.tokens += n
            _take(parsers[ch].feed(delta.text), ch, out)
            if out.tag is not None and (out.tag.is_draft or ch == "thinking"):
                break
            if ch == "thinking" and (rep := guard.feed(delta.text)) is not None:
                out.repetition = rep  # a looping turn ends here; the loop is kept once
                out.texts["thinking"] = guard.text[: rep.keep]
                break
            if turn.deadline is not None and time.time() >= turn.deadline:
                out.over_budget = "time budget spent (max_seconds)"
                break
            if (
                ch == "thinking"
                and not force
                and state["mode"] == "on"
                and budget.max_tokens is not None
                and budget.tokens >= budget.max_tokens
            ):
                out.over_budget = f"thinking-token budget spent ({budget.tokens}/{budget.max_tokens})"
                break
    finally:
        stream.close()
        facts = getattr(comp.reasoner, "turn_facts", None)
        out.reasoner = facts() if callable(facts) else {}
    if out.tag is None:
        for ch, p in parsers.items():
            _take(p.finish(), ch, out)


def _take(events: list[Any], channel: str, out: TurnOutput) -> None:
    for ev in events:
        if isinstance(ev, ProblemEvent):
            out.problems.append(ev.finding)
        elif isinstance(ev, TagEvent) and ev.tag.role == "observation":
            out.written_observations.append(ev.tag.raw)
        elif isinstance(ev, TagEvent) and (ev.tag.is_draft or ev.tag.is_final) and out.tag is None:
            out.tag, out.tag_channel = ev.tag, channel


def _record(state: RunState, writer: TraceWriter, budget: Budget, out: TurnOutput) -> dict[str, Any]:
    """The thought step (cut at the tag that ended the turn) and protocol findings, into the chain."""
    thinking_text = out.texts["thinking"]
    tag = out.tag
    if tag is not None and out.tag_channel == "thinking":
        cut = thinking_text.find(tag.raw) if tag.raw else -1
        if cut >= 0:
            thinking_text = thinking_text[: cut + len(tag.raw)]
    for raw in out.written_observations:
        thinking_text = thinking_text.replace(raw, "")
    if out.written_observations:
        out.problems.append(
            "observations come from the tools: the one you wrote was removed; stop after a closing "
            "tag and wait for the real one"
        )
    if out.repetition is not None:
        out.problems.append(out.repetition.finding)
    transcript = state.get("transcript", "") + thinking_text
    if thinking_text.strip():
        emit(
            writer,
            Step(
                "thought",
                "think",
                "thinking",
                [Part("reasoning", thinking_text)],
                started=out.started,
                metrics={
                    "tokens": out.tokens,
                    "tokens_total": budget.tokens,
                    "tokens_left": budget.tokens_left(),
                    **({"reasoner": out.reasoner} if out.reasoner else {}),
                },
            ),
        )
    if out.problems:
        note = "; ".join(out.problems[:5])
        transcript += "\n" + format_observation("protocol", None, note) + "\n"
        emit(
            writer,
            Step(
                "observation",
                "think",
                "protocol findings",
                [Part("text", note)],
                ref="protocol",
                passed=False,
                metrics={"findings": out.problems},
            ),
        )
    return {
        "turns": state.get("turns", 0) + 1,
        "transcript": transcript,
        "answer": state.get("answer", "") + out.texts["answer"],
    }


def _next(
    state: RunState, writer: TraceWriter, budget: Budget, out: TurnOutput, force: str | None, turns: int
) -> dict[str, Any]:
    """Where the turn leaves the run: a draft to render, a final, closed thinking, or another turn."""
    tag = out.tag
    if out.refusal.strip():
        emit(writer, Step("decision", "think", "refused", [Part("text", out.refusal.strip())]))
        return {"refused": out.refusal.strip(), "closed": True, "budget": budget.to_dict()}
    if out.over_budget and (tag is None or tag.is_draft):
        emit(
            writer,
            Step(
                "decision",
                "think",
                "budget spent",
                [
                    Part(
                        "text",
                        f"{out.over_budget}: thinking is "
                        "closed now (budget forcing); the best draft so far will be composed.",
                    )
                ],
                metrics=budget.to_dict(),
            ),
        )
        return {"force_close": out.over_budget, "budget": budget.to_dict(), **({"closed": True} if force else {})}
    if tag is not None and tag.is_draft:
        if force or budget.drafts_left() == 0:
            why = force or f"draft budget spent ({budget.drafts}/{budget.max_drafts})"
            emit(
                writer,
                Step(
                    "decision",
                    "think",
                    "draft not rendered",
                    [
                        Part(
                            "text", f"{why}: <{tag.name} id={tag.id}> is not rendered; composing the best draft so far."
                        )
                    ],
                ),
            )
            return {"force_close": why, "closed": bool(force), "budget": budget.to_dict()}
        return {
            "pending": {"name": tag.name, "attrs": tag.attrs, "body": tag.body, "raw": tag.raw},
            "budget": budget.to_dict(),
        }
    if tag is not None and tag.is_final:
        if force and state["mode"] == "on":
            tag = _best_when_closed(writer, tag, state, force)
        problem = None if force or state["mode"] != "on" else _final_problem(tag, state)
        if problem and turns < MAX_IDLE_TURNS + len(state.get("drafts") or []):
            emit(
                writer,
                Step(
                    "observation", "think", "final not accepted", [Part("text", problem)], ref="protocol", passed=False
                ),
            )
            return {
                "transcript_add": "\n" + format_observation("protocol", None, problem) + "\n",
                "budget": budget.to_dict(),
            }
        return {
            "final_tag": {"name": tag.name, "attrs": tag.attrs, "body": tag.body, "raw": tag.raw},
            "closed": True,
            "budget": budget.to_dict(),
        }
    # no tag: the reasoner ended its turn
    idle = (
        out.texts["answer"].strip()
        or not out.texts["thinking"].strip()
        or force
        or turns >= MAX_IDLE_TURNS + len(state.get("drafts") or [])
    )
    return {"closed": bool(idle), "budget": budget.to_dict()}


def _nudge_after(
    state: RunState, writer: TraceWriter, turn: Turn, out: TurnOutput, nxt: dict[str, Any], force: str | None
) -> dict[str, Any]:
    """After a turn that thought but drafted nothing (and goes on), an observation saying what to write next."""
    quiet = out.tag is not None or force or out.refusal.strip() or out.over_budget or out.texts["answer"].strip()
    if quiet or nxt.get("closed") or state["mode"] != "on":
        return {}
    text = nudge(turn)
    if text is None:
        return {}
    emit(writer, Step("observation", "think", "nudge", [Part("text", text)], ref="protocol", passed=False))
    return {"transcript_add": nxt.get("transcript_add", "") + "\n" + format_observation("protocol", None, text) + "\n"}


def _best_when_closed(writer: TraceWriter, tag: Tag, state: RunState, why: str) -> Tag:
    """Thinking was closed (budget forcing) with "the best draft so far will be composed": a final that names a
    draft the critic rejected, while another passed, gets the best passing one, and the trace says so."""
    ref = tag.attrs.get("ref")
    usable = [d for d in state.get("drafts") or [] if not d.get("error") and d.get("asset")]
    named = next((d for d in usable if d["id"] == ref), None)
    passed = [d for d in usable if d.get("passed")]
    if named is None or named.get("passed") or not passed:
        return tag
    best = max(reversed(passed), key=lambda d: d.get("score") or 0.0)
    text = (
        f"the final named {ref}, which did not pass; thinking was closed ({why}), so the best draft that passed, "
        f"{best['id']}, is composed"
    )
    emit(writer, Step("decision", "think", "best draft composed", [Part("text", text)], ref=best["id"]))
    return Tag(tag.name, {**tag.attrs, "ref": best["id"]}, tag.body, role=tag.role, raw=tag.raw)


def _final_problem(tag: Tag, state: RunState) -> str | None:
    """A final tag must rest on this run's drafts when thinking is on: say what is wrong, or None."""
    usable = [d for d in state.get("drafts") or [] if not d.get("error") and d.get("asset")]
    ids = ", ".join(f"{d['id']} ({'passed' if d.get('passed') else 'did not pass'})" for d in usable[-6:])
    ref = tag.attrs.get("ref")
    if not usable and not tag.body.strip():
        return (
            f"<{tag.name}> came before any draft: thinking is on, so draft first and read the observation, "
            "then name the draft you accept"
        )
    if ref and ref not in {d["id"] for d in usable}:
        return f'<{tag.name} ref="{ref}"> names no draft of this run; the drafts are: {ids or "none"}'
    return None


def _hold_open(
    state: RunState, writer: TraceWriter, budget: Budget, update: dict[str, Any], nxt: dict[str, Any], force: str | None
) -> dict[str, Any]:
    """s1 budget forcing's other half: thinking that ends before ``min_tokens`` gets "Wait" and goes on.
    Also folds an observation the turn produced into the chain of thought."""
    extra: dict[str, Any] = {}
    transcript = update["transcript"] + nxt.pop("transcript_add", "")
    min_tokens = int((state.get("thinking") or {}).get("min_tokens") or 0)
    closing = nxt.get("closed") or nxt.get("final_tag")
    patience = update["turns"] < MAX_IDLE_TURNS + len(state.get("drafts") or [])
    if (
        closing
        and patience
        and not force
        and not nxt.get("refused")
        and state["mode"] == "on"
        and budget.tokens < min_tokens
        and not budget.spent()
    ):
        emit(
            writer,
            Step(
                "decision",
                "think",
                "wait",
                [
                    Part(
                        "text",
                        f"thinking ended at {budget.tokens} tokens, "
                        f'before the minimum of {min_tokens}: "Wait" is appended and thinking goes on',
                    )
                ],
                metrics=budget.to_dict(),
            ),
        )
        transcript += "\nWait,"
        extra = {"closed": False, "final_tag": None}
    extra["transcript"] = transcript
    return extra


def _fail(state: RunState, writer: TraceWriter, budget: Budget, reason: str) -> dict[str, Any]:
    emit(writer, Step("error", "think", "reasoner failed", [Part("text", reason)]))
    return {"closed": True, "force_close": reason, "budget": budget.to_dict(), "turns": state.get("turns", 0) + 1}
