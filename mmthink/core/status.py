"""What a run's status means, decided in one place.

| status | meaning |
| --- | --- |
| succeeded | the final was built from drafts the reasoner itself produced and accepted, and it passed its critique |
| unmet | a final was delivered but falls short: its critique failed, the budget ran out before any draft passed, a
  fallback planned it, something was dropped or stood in — the findings say what |
| refused | the configured reasoner cannot do this kind of request; the reason says what can |
| failed | an error ended the run; the bundle holds what was made |
| stopped | the user or a limit stopped it |
| awaiting_review | paused before the final, for a person's decision |

Evaluations count ``succeeded`` only. A fallback never runs silently and never yields ``succeeded``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUCCEEDED, UNMET, REFUSED, FAILED, STOPPED, AWAITING_REVIEW = (
    "succeeded",
    "unmet",
    "refused",
    "failed",
    "stopped",
    "awaiting_review",
)
FINISHED = (SUCCEEDED, UNMET, REFUSED, FAILED, STOPPED)
"""Statuses after which nothing is left to resume."""
DELIVERED = (SUCCEEDED, UNMET)
"""Statuses that come with a final artifact."""


@dataclass
class Verdict:
    status: str
    findings: list[str] = field(default_factory=list)
    """What falls short, in words a user can act on (empty when succeeded)."""


def judge_final(facts: dict[str, Any], drafts: list[dict[str, Any]], mode: str, force_close: str | None) -> Verdict:
    """The status of a run whose composer delivered a final, from the composer's facts and the drafts.

    Where the composer measured the final again (``passed``), that measurement decides; where it did not,
    every draft the final was built from must have passed its own critique.

    ``facts``: ``ref`` (the draft ids the final was built from, comma-separated), ``passed`` and ``findings``
    (the final's own critique), ``fallback`` (why a fallback planned it, if one did), ``dropped`` and
    ``stand_ins`` (what could not be drawn or said as asked).
    """
    findings: list[str] = []
    if facts.get("fallback"):
        findings.append(f"planned by a fallback, not by the reasoner: {facts['fallback']}")
    refs = [r for r in str(facts.get("ref") or "").replace("+", ",").split(",") if r]
    if mode != "off" and not facts.get("fallback") and not refs:
        findings.append("thinking was on, but the final names no draft of this run")
    if facts.get("passed") is False:  # the final itself was measured: that decides
        shown = "; ".join(str(f) for f in (facts.get("findings") or [])[:4])
        findings.append("the final failed its own critique" + (f": {shown}" if shown else ""))
    elif facts.get("passed") is None:  # not measured again: the drafts it was built from must have passed
        by_id = {d.get("id"): d for d in drafts}
        unaccepted = [r for r in refs if not (by_id.get(r) or {}).get("passed")]
        if unaccepted:
            findings.append(
                f"built from draft(s) that did not pass their critique: {', '.join(unaccepted)}"
                + (f" ({force_close})" if force_close else "")
            )
        if facts.get("check_error"):
            findings.append(f"the final could not be checked: {facts['check_error']}")
    for what in ("dropped", "stand_ins"):
        for item in facts.get(what) or []:
            findings.append(("dropped: " if what == "dropped" else "stood in: ") + str(item))
    return Verdict(UNMET if findings else SUCCEEDED, findings)
