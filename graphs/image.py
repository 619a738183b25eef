"""LangGraph entry point for image requests (``langgraph.json`` points here).

Compiled without a checkpointer: the LangGraph CLI / server supplies its own. Input is the
graph state: ``{"request": {"text": "...", "modality": "image"}}`` (see mmthink/state.py).
"""

from mmthink.agent import Agent

graph = Agent.from_profile("embedded").graph
