"""compose: build the final artifact from the accepted drafts with the modality's composer."""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

from mmthink.core.context import clear_work
from mmthink.core.faults import DiskFull, Fault, guarded_call, guarded_write, is_disk_full, no_space_detail
from mmthink.core.nodes.common import brief, clean_answer, components, output_check, run_context, warm_cache
from mmthink.core.runs import RUNS, emit, finish, json_safe, retry_reporter
from mmthink.core.state import RunState
from mmthink.core.status import REFUSED, judge_final
from mmthink.core.tags import Tag
from mmthink.thinking import Budget
from mmthink.trace.schema import Part, Step


def compose(state: RunState, runtime: Any) -> dict[str, Any]:
    """The last node: the final goes into the bundle with its own check, and the bundle is closed."""
    comp = components(runtime)
    writer = RUNS.writer(state["run_dir"])
    if state.get("refused"):
        return _refuse(state, writer)
    modality = comp.modalities[state["modality"]]
    ft = state.get("final_tag")
    final = Tag(ft["name"], dict(ft.get("attrs") or {}), ft.get("body", ""), role="final") if ft else None
    ctx = run_context(state, comp)
    budget = Budget.from_dict(state["budget"])
    started = time.time()
    try:
        # 1. the composer builds the final from the accepted drafts
        warm_cache(ctx, modality)
        check_art = output_check(comp, "compose")
        check = (lambda r: check_art(r[0])) if check_art else None
        art, facts = guarded_call(
            lambda: modality.composer.compose(final, ctx),
            comp.policy.compose,
            "compose",
            model=modality.composer,
            check=check,
            on_retry=retry_reporter(writer, "compose", "compose"),
        )
        # 2. save it, record the final step, and close the bundle with the status the final earned
        return _deliver(state, writer, budget, art, facts, started)
    except Exception as e:
        return _fail(writer, budget, e, started, state.get("force_close"))
    finally:
        RUNS.close(state["run_dir"])
        clear_work(state["run_dir"])


def _deliver(
    state: RunState, writer: Any, budget: Budget, art: Any, facts: dict[str, Any], started: float
) -> dict[str, Any]:
    rel = guarded_write(lambda: writer.put_asset(art.data, art.ext), "saving the final")
    answer = clean_answer(state.get("answer", ""))
    parts = [Part("text", answer)] if answer else []
    parts.append(Part(art.kind, asset=rel))
    if facts.get("table"):
        parts.append(Part("table", rows=facts.pop("table")))
    verdict = judge_final(facts, list(state.get("drafts") or []), state.get("mode") or "on", state.get("force_close"))
    metrics = {**brief(art.meta), **facts, "status": verdict.status, "status_findings": verdict.findings}
    emit(
        writer,
        Step(
            "final",
            "compose",
            f"final {art.kind}",
            parts,
            ref=facts.get("ref"),
            started=started,
            score=facts.get("score"),
            passed=facts.get("passed"),
            metrics=json_safe(metrics),
        ),
    )
    final_info = {"asset": rel, "kind": art.kind, "ext": art.ext, "ref": facts.get("ref")}
    reason = "; ".join(verdict.findings) or None
    finish(
        writer,
        verdict.status,
        final=final_info,
        budget=budget.to_dict(),
        reason=reason,
        answer=answer,
        findings=verdict.findings,
    )
    path = str((Path(state["run_dir"]) / rel).resolve())
    return {"final": {**final_info, "path": path}, "status": verdict.status, "reason": reason}


def _fail(writer: Any, budget: Budget, e: Exception, started: float, closed: str | None = None) -> dict[str, Any]:
    """The composer could not deliver: the run is failed with the cause, everything written is kept.

    Where thinking was closed because the reasoner itself failed (a model not in the cache, a server that
    does not answer), that is the cause the run's reason leads with; the composer's "nothing to compose" is
    only its consequence, and a batch of a thousand lines that all say so would hide what to fix."""
    if not isinstance(e, Fault) and is_disk_full(e):
        f: Fault = DiskFull("composing the final", no_space_detail(e))
    else:
        f = e if isinstance(e, Fault) else Fault("compose", f"{type(e).__name__}: {e}")
    reason = str(f) if isinstance(f, DiskFull) or str(f).startswith("compose") else f"compose failed: {f.cause}"
    if closed and closed.startswith("reasoner failed") and not isinstance(f, DiskFull):
        reason = f"{closed} (so there was nothing to compose)"
    emit(
        writer,
        Step(
            "error",
            "compose",
            "compose failed",
            [Part("text", reason), Part("text", traceback.format_exc(limit=4))],
            started=started,
            metrics={"fault": f.kind, "attempts": f.attempts},
        ),
    )
    finish(writer, "failed", reason=reason, budget=budget.to_dict())
    return {"status": "failed", "reason": reason}


def _refuse(state: RunState, writer: Any) -> dict[str, Any]:
    """The reasoner said it cannot make this: no final, and the reason says what can."""
    reason = str(state.get("refused"))
    emit(writer, Step("decision", "compose", "refused", [Part("text", reason)], metrics={"status": REFUSED}))
    finish(writer, REFUSED, reason=reason, budget=state.get("budget"))
    return {"status": REFUSED, "reason": reason}
