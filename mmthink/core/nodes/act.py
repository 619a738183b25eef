"""act: render the draft the last turn closed, with the modality's handler for that tag."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mmthink.core.faults import Fault, guarded_call, guarded_write
from mmthink.core.nodes.common import brief, components, note_asset, output_check, run_context, safe_draft_id
from mmthink.core.runs import RUNS, emit, end_failed, json_safe, retry_reporter
from mmthink.core.state import DraftRecord, RunState
from mmthink.core.tags import Tag, format_observation
from mmthink.thinking import Budget
from mmthink.trace.schema import Part, Step


def act(state: RunState, runtime: Any) -> dict[str, Any]:
    """Render, save and record one draft; a render that fails becomes an observation, never a crash."""
    comp = components(runtime)
    writer = RUNS.writer(state["run_dir"])
    # 1. the tag, with an id that is safe and new in this run
    pend = state["pending"] or {}
    tag = Tag(pend["name"], dict(pend.get("attrs") or {}), pend.get("body", ""), pend.get("raw", ""), "draft")
    modality = comp.modalities[state["modality"]]
    drafts = list(state.get("drafts") or [])
    draft_id = safe_draft_id(tag.id, tag.name, len(drafts) + 1)
    if any(d["id"] == draft_id for d in drafts):  # a reused id is a revision of that draft, under a new id
        tag.attrs.setdefault("of", draft_id)
        draft_id = f"{draft_id}.{len(drafts) + 1}"
    tag.attrs["id"] = draft_id
    record = DraftRecord(draft_id, tag.name, tag.attrs, tag.body)
    budget = Budget.from_dict(state["budget"])
    budget.drafts += 1
    handler = modality.handlers.get(tag.name)
    started = time.time()
    transcript = state.get("transcript", "")
    # 2. render and save it
    if handler is None:
        record.error = f"<{tag.name}> is not used for {modality.name}; use " + ", ".join(
            f"<{t}>" for t in modality.handlers
        )
    else:
        ctx = run_context({**state, "drafts": drafts + [record.to_dict()]}, comp)
        what = f"render of <{tag.name} id={draft_id}>"
        check = output_check(comp, what)
        try:
            art = guarded_call(
                lambda: handler.render(tag, ctx),
                comp.policy.render,
                what,
                model=handler,
                check=check,
                on_retry=retry_reporter(writer, "act", what, draft_id),
            )
            parts = _save(writer, art, tag, draft_id)
            record.asset, record.kind, record.meta = parts[1].asset, art.kind, json_safe(art.meta)
            ctx.cache[draft_id] = _as_saved(handler, record, art)
            emit(
                writer,
                Step(
                    "draft",
                    "act",
                    f"{tag.name} {draft_id}",
                    parts,
                    ref=draft_id,
                    started=started,
                    metrics={"tag": tag.name, "attrs": tag.attrs, **brief(art.meta)},
                ),
            )
        except Fault as f:
            if f.fatal:
                record.error, record.score, record.passed = str(f), 0.0, False
                return {
                    **end_failed({**state, "budget": budget.to_dict()}, writer, "act", f, draft_id, started),
                    "drafts": drafts + [record.to_dict()],
                    "pending": None,
                    "budget": budget.to_dict(),
                }
            record.error = f.cause
    # 3. a draft that could not be made is told to the reasoner
    if record.error:
        emit(
            writer,
            Step(
                "error",
                "act",
                f"{tag.name} {draft_id} failed",
                [Part("text", record.error)],
                ref=draft_id,
                started=started,
            ),
        )
        transcript += "\n" + format_observation(draft_id, 0.0, f"render failed: {record.error}") + "\n"
        record.score, record.passed = 0.0, False
    drafts.append(record.to_dict())
    return {"drafts": drafts, "pending": None, "budget": budget.to_dict(), "transcript": transcript}


def _as_saved(handler: Any, record: DraftRecord, art: Any) -> Any:
    """The draft as the bundle holds it (decoded from the saved bytes), not as the model returned it: a resumed
    run reads the same samples back, so critiques and the final are byte-identical whether or not it resumed."""
    return handler.restore(record.to_dict(), art.data)


def _save(writer: Any, art: Any, tag: Tag, draft_id: str) -> list[Part]:
    """The draft's file and best-of-N runners-up into the bundle; the parts of its trace step."""
    rel = guarded_write(_putter(writer, art), f"saving draft {draft_id}")
    parts = [Part("text", tag.body), Part(art.kind, asset=rel)]
    for alt in art.alternatives:  # best-of-N runners-up stay in the trace, after the winner
        alt_rel = guarded_write(_putter(writer, alt), f"saving draft {draft_id}")
        parts.append(Part(alt.kind, asset=alt_rel))
        note_asset(art.meta, alt.meta.get("seed"), alt_rel)
    note_asset(art.meta, art.meta.get("seed"), rel)
    return parts


def _putter(writer: Any, art: Any) -> Callable[[], str]:
    return lambda: writer.put_asset(art.data, art.ext)
