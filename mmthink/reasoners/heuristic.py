"""The embedded default reasoner: a dispatcher to each modality's planner.

No language model is involved, so it is honest about its reach: each modality's planner lays out
what a request names and fixes what the critic measures, but none can invent a story or write a
speech, and the chain of thought says so. Planners come from the modality registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mmthink.reasoners.base import Delta, Turn

Planner = Callable[[Turn], Iterator[Delta]]


class HeuristicReasoner:
    """See the module docstring. ``planners``: modality -> planner; an Agent fills in the registry's."""

    name = "heuristic"
    cannot_stall = True
    """Its stream is plain Python in this process that never waits on anything: no watchdog thread is needed to
    catch a hang (:func:`mmthink.core.faults.stall_guard` hands each piece across threads otherwise, two context
    switches a piece, ~150 a run)."""

    def __init__(self, planners: dict[str, Planner] | None = None) -> None:
        self.planners: dict[str, Planner] = dict(planners or {})

    def stream(self, turn: Turn) -> Iterator[Delta]:
        planner = self.planners.get(turn.modality)
        if planner is None:
            yield Delta(f"I have no embedded planner for {turn.modality} requests.\n")
            yield Delta(f"I cannot make {turn.modality} without a language model.", channel="answer")
            return
        yield from planner(turn)
