"""mmthink: interleaved multimodal reasoning.

A text reasoner thinks in a chain of thought and, inside it, sketches images, speaks draft
audio and frames storyboards with real models, critiques each draft with real measurements,
revises, and composes the final artifact. Every run is saved as a replayable trace bundle.

``import mmthink`` stays light: the heavy model stacks load inside the backend that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "mmthink.agent",
    "RunResult": "mmthink.agent",
    "Request": "mmthink.request",
    "Limits": "mmthink.request",
    "ThinkingConfig": "mmthink.thinking",
    "Budget": "mmthink.thinking",
    "Critique": "mmthink.modalities.base",
    "Step": "mmthink.trace.schema",
    "load_trace": "mmthink.trace.reader",
    "batch": "mmthink.batch",
    "InputError": "mmthink.errors",
    "MMThinkError": "mmthink.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from mmthink.agent import Agent, RunResult
    from mmthink.errors import InputError, MMThinkError
    from mmthink.modalities.base import Critique
    from mmthink.request import Limits, Request
    from mmthink.thinking import Budget, ThinkingConfig
    from mmthink.trace.reader import load_trace
    from mmthink.trace.schema import Step


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mmthink' has no attribute {name!r}")
