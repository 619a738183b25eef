"""critique: measure the last draft with the modality's critic and write the observation back."""

from __future__ import annotations

import time
from typing import Any

from mmthink.core.faults import Fault, guarded_call
from mmthink.core.nodes.common import components, run_context
from mmthink.core.nudge import revise_hint
from mmthink.core.runs import RUNS, emit, json_safe, retry_reporter
from mmthink.core.state import RunState
from mmthink.core.tags import Tag, format_observation
from mmthink.thinking import Budget
from mmthink.trace.schema import Part, Step


def critique(state: RunState, runtime: Any) -> dict[str, Any]:
    """The critic is advisory: when it fails the run goes on unjudged and the reasoner is told."""
    comp = components(runtime)
    writer = RUNS.writer(state["run_dir"])
    drafts = list(state.get("drafts") or [])
    record = dict(drafts[-1])
    handler = comp.modalities[state["modality"]].handlers[record["tag"]]
    tag = Tag(record["tag"], dict(record["attrs"]), record["body"], role="draft")
    ctx = run_context(state, comp)
    started = time.time()
    transcript = state.get("transcript", "")
    what = f"critique of {record['id']}"

    def judge() -> Any:
        art = ctx.cache.get(record["id"]) or handler.restore(record, ctx.read_asset(record["asset"]))
        return handler.critique(tag, art, ctx)

    try:
        crit = guarded_call(
            judge,
            comp.policy.critique,
            what,
            model=handler,
            on_retry=retry_reporter(writer, "critique", what, record["id"]),
        )
        record.update(
            {"score": crit.score, "passed": crit.passed, "findings": crit.findings, "metrics": json_safe(crit.metrics)}
        )
        text = crit.summary()
        if not crit.passed and state.get("mode") == "on" and Budget.from_dict(state["budget"]).drafts_left() != 0:
            text += revise_hint(record["tag"], transcript, comp.guides.get(state["modality"]))
        emit(
            writer,
            Step(
                "observation",
                "critique",
                what,
                [Part("text", text)],
                ref=record["id"],
                score=crit.score,
                passed=crit.passed,
                started=started,
                metrics=json_safe(crit.metrics),
            ),
        )
        transcript += "\n" + format_observation(record["id"], crit.score, text) + "\n"
    except Fault as e:
        record.update({"error": f"critic failed: {e.cause}"})
        emit(
            writer,
            Step(
                "error",
                "critique",
                f"critic failed on {record['id']}",
                [Part("text", str(e))],
                ref=record["id"],
                started=started,
                metrics={"fault": e.kind, "attempts": e.attempts},
            ),
        )
        transcript += "\n" + format_observation(record["id"], None, "the critic failed; judge it yourself") + "\n"
    drafts[-1] = record
    return {"drafts": drafts, "transcript": transcript}
