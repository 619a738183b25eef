"""The compiled graphs a LangGraph server runs (``langgraph.json`` -> graphs/*.py): one per process.

The server brings its own checkpointer. Bundles go to ``$MMTHINK_OUT_DIR`` (default ``runs``) and
clients cannot pick another folder; the profile is ``$MMTHINK_PROFILE`` (default embedded). The
graph carries the server's own context, since a client sends none.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

_served: dict[str, Any] = {}
_lock = threading.Lock()


def served_graph(profile: str | None = None) -> Any:
    from mmthink.agent import Agent
    from mmthink.core.graph import build_graph

    profile = profile or os.environ.get("MMTHINK_PROFILE", "embedded")
    with _lock:
        if profile not in _served:
            out_dir = Path(os.environ.get("MMTHINK_OUT_DIR", "runs")).resolve()
            agent = Agent.from_profile(profile, durable=False, out_dir=str(out_dir))
            comp = agent.components()
            comp.fixed_out_dir = True
            _served[profile] = build_graph(served=comp).compile()
        return _served[profile]
