"""LangGraph entry point for image requests (``langgraph.json`` lists it as "image").

Every modality runs the same embedded agent graph (modality is data), compiled without a
checkpointer: the LangGraph server supplies its own (Python services that share runs through
Postgres use ``mmthink.serve.served_graph()`` instead, see mmthink/serve.py). Input is the graph state:
``{"request": {"text": "...", "modality": "image"}}``, plus ``"review": true`` to pause before the
final (resume with ``Command(resume={"action": "approve"})``). Stream mode "custom" carries each
trace step; the final state's ``final.path`` is the artifact. See mmthink/core/state.py.
"""

from mmthink.serve import served_graph

graph = served_graph(checkpointer="server")
