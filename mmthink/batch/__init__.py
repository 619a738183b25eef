"""Batch runs: many requests, one bundle each, on a local process pool or on Ray actors.

    import mmthink
    result = mmthink.batch("requests.jsonl", out="runs/batch1", workers=2)
    result.counts          # {"succeeded": 498, "failed": 2}

``mmthink batch REQUESTS.jsonl --out DIR`` is the same from the shell. Modules: ``requests`` (reading
and checking the lines), ``tasks`` (what a worker does), ``local`` and ``ray_engine`` (the engines),
``index`` (``batch.jsonl`` and the summary), ``run`` (planning, resuming, the entry point).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .run import BatchResult, batch

__all__ = ["BatchResult", "batch"]


class _CallableModule(types.ModuleType):
    """``mmthink.batch`` names both this package and the function: calling the package calls the function,
    whichever of the two an earlier import left on ``mmthink``."""

    def __call__(self, *args: Any, **kwargs: Any) -> BatchResult:
        return batch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
