"""build_graph(): the one LangGraph state machine behind every run, wired from the nodes.

    route -> think -> act -> critique -> think ... -> [review] -> compose

Each node is a plain function in :mod:`mmthink.core.nodes`, of the state and a runtime carrying
:class:`~mmthink.core.context.Components` (LangGraph's ``context_schema``); it returns only the keys
it changes. Every node also reports the trace length it leaves behind (``steps``), so a resume can
cut off steps a killed node wrote after the last checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

from mmthink.core.context import Components
from mmthink.core.nodes.act import act
from mmthink.core.nodes.compose import compose
from mmthink.core.nodes.critique import critique
from mmthink.core.nodes.review import review
from mmthink.core.nodes.route import route
from mmthink.core.nodes.think import MAX_IDLE_TURNS, think
from mmthink.core.pickup import served_node
from mmthink.core.runs import RUNS
from mmthink.core.state import InputState, RunState, ServedInput
from mmthink.request import Limits
from mmthink.thinking import ThinkingConfig


def after_think(state: RunState) -> str:
    if state.get("refused"):
        return "compose"
    if state.get("closed"):
        return "review" if state.get("review") else "compose"
    return "act" if state.get("pending") else "think"


def after_act(state: RunState) -> str:
    if state.get("status") == "failed":
        return END
    last = (state.get("drafts") or [{}])[-1]
    return "think" if last.get("error") or state.get("mode") == "off" else "critique"


def after_review(state: RunState) -> str:
    if state.get("status") == "stopped":
        return END
    return "compose" if state.get("closed") else "think"


def build_graph(served: Components | None = None) -> StateGraph[Any, Any, Any, Any]:
    """The uncompiled graph. ``served``: the context for a LangGraph server, whose clients send none
    (a server would build the context schema from a client's input, so a served graph declares none)."""
    g: StateGraph[Any, Any, Any, Any]
    if served is not None:
        g = StateGraph(RunState, input_schema=ServedInput)
    else:
        g = StateGraph(RunState, context_schema=Components, input_schema=InputState)
    for name, fn in (
        ("route", route),
        ("think", think),
        ("act", act),
        ("critique", critique),
        ("review", review),
        ("compose", compose),
    ):
        g.add_node(name, _node(fn, served))
    g.add_edge(START, "route")
    g.add_edge("route", "think")
    g.add_conditional_edges("think", after_think, ["act", "think", "review", "compose"])
    g.add_conditional_edges("act", after_act, ["critique", "think", END])
    g.add_edge("critique", "think")
    g.add_conditional_edges("review", after_review, ["think", "compose", END])
    g.add_edge("compose", END)
    return g


def recursion_limit(cfg: ThinkingConfig, limits: Limits) -> int:
    """Supersteps a run may take: three per draft (think, act, critique) plus routing, idle turns, compose."""
    return min(limits.max_steps, 3 * (cfg.max_drafts + 2) + 2 * MAX_IDLE_TURNS + 12)


def _node(fn: Callable[[RunState, Any], dict[str, Any]], served: Components | None) -> Callable[..., dict[str, Any]]:
    """The node as LangGraph calls it: with the served context where a client sent none, and the step count."""

    def node(state: RunState, runtime: Any) -> dict[str, Any]:
        if served is not None and not isinstance(getattr(runtime, "context", None), Components):
            runtime = _Served(served)
        here = _moved_to(state) if served is None else None  # a server's clients never choose folders
        if here is not None:  # the run folder was moved or copied since the checkpoint: work where it lies now
            state = {**state, "run_dir": here, "out_dir": str(Path(here).parent)}
        if served is None:
            update = fn(state, runtime)
        else:  # any process may continue a served run: one writer at a time, picked up where the checkpoint is
            with served_node(state.get("run_dir"), state.get("steps")):
                update = fn(state, runtime)
        if here is not None:
            update = {"run_dir": here, "out_dir": str(Path(here).parent), **update}  # the next checkpoint says so
        run_dir = update.get("run_dir") or state.get("run_dir")
        if run_dir:
            update["steps"] = RUNS.count(run_dir)
        return update

    node.__name__ = fn.__name__
    node.__doc__ = fn.__doc__
    return node


def _moved_to(state: RunState) -> str | None:
    """The folder the run lies in now, when the agent says so (``configurable.mmthink_run_dir``) and it is not the
    one the checkpoint recorded; None otherwise. A run folder carries its checkpoint, so it resumes anywhere."""
    recorded = state.get("run_dir")
    if not recorded:
        return None
    try:
        from langgraph.config import get_config

        here = (get_config().get("configurable") or {}).get("mmthink_run_dir")
    except RuntimeError:  # not inside a run
        return None
    if not here or os.path.realpath(here) == os.path.realpath(recorded):
        return None
    return str(here)


class _Served:
    """A runtime stand-in that carries the server's own Components (clients cannot supply them)."""

    def __init__(self, context: Components) -> None:
        self.context = context
