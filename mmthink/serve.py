"""The compiled graphs that serve runs: for a LangGraph server (``langgraph.json`` -> graphs/*.py) and for
Python services of your own that share runs between processes through a database.

    from mmthink.serve import served_graph
    graph = served_graph()     # MMTHINK_CHECKPOINT_URL=postgresql://... -> checkpoints in Postgres
    cfg = {"configurable": {"thread_id": "req-42"}}
    graph.invoke({"request": {"text": "...", "modality": "image"}, "review": True}, cfg)   # worker A: pauses
    graph.invoke(Command(resume={"action": "approve"}), cfg)     # worker B, any process: finishes the run
    graph.invoke(None, cfg)    # after a worker was killed: any process continues from the last checkpoint

Bundles go to ``$MMTHINK_OUT_DIR`` (default ``runs``) and clients cannot pick another folder; every
process serving the same runs needs the same folder (a shared path). The profile is
``$MMTHINK_PROFILE`` (default embedded). The graph carries the server's own context, since a
client sends none.

Checkpointer (``checkpointer=``):

- ``"env"`` (the default): the one ``MMTHINK_CHECKPOINT_URL`` names (``postgresql://…`` through
  langgraph-checkpoint-postgres, or one SQLite file), opened once per process; none when it is unset.
  The database is reached here, so an unreachable one fails at start, URL shown with its password masked.
- a URL: that one.
- ``"server"``: none. A LangGraph server (``langgraph dev``, LangGraph Platform) supplies its own
  persistence and refuses a graph that brings a checkpointer; graphs/*.py use this. On a LangGraph
  Platform deployment the platform's own Postgres is set with its ``POSTGRES_URI``, not with ours.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from mmthink.checkpoint_url import ENV, SERVED, WHERE

_served: dict[tuple[str, str | None], Any] = {}
_lock = threading.Lock()


def served_graph(profile: str | None = None, *, checkpointer: str = "env") -> Any:
    """The served graph for ``profile``, compiled once per process (per checkpointer)."""
    from mmthink.agent import Agent
    from mmthink.core.graph import build_graph
    from mmthink.errors import InputError

    profile = profile or os.environ.get("MMTHINK_PROFILE", "embedded")
    if not isinstance(checkpointer, str) or not checkpointer:
        raise InputError("checkpointer", f"must be 'env', 'server' or a URL, got {checkpointer!r}")
    if checkpointer == "env":
        url = os.environ.get(ENV) or None
    else:
        url = None if checkpointer == "server" else checkpointer
    saver = None
    if url is not None:  # reached now: a wrong host or password stops the service at start, not mid-run
        from mmthink.checkpoint_url import shared_checkpointer

        saver = shared_checkpointer(url)
    with _lock:
        key = (profile, url)
        if key not in _served:
            out_dir = Path(os.environ.get("MMTHINK_OUT_DIR", "runs")).resolve()
            agent = Agent.from_profile(profile, durable=False, out_dir=str(out_dir))
            comp = agent.components()
            comp.fixed_out_dir = True
            # its runs are kept under the caller's thread ids: a manifest that says so stops Agent.resume from
            # taking the missing checkpoint under the run id for "killed before the first one" and starting over
            where = "the LangGraph server" if saver is None else getattr(saver, WHERE, None) or "its checkpointer"
            comp.describe = {**comp.describe, "checkpoints": f"{SERVED}{where}"}
            _served[key] = build_graph(served=comp).compile(checkpointer=saver)
        return _served[key]
