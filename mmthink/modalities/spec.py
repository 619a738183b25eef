"""What the rest of mmthink may know about a modality without importing it: a :class:`ModalitySpec`.

A spec is cheap to import (no model stacks, no numpy): names, tags, defaults, how to recognise a
request for it, its extra input checks, and functions that import the heavy parts when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mmthink.modalities.base import Modality
    from mmthink.reasoners.base import Delta, Turn
    from mmthink.request import Limits, Request


@dataclass(frozen=True)
class ModalitySpec:
    """One modality's facts. Every callable imports what it needs inside, so a spec stays light."""

    name: str
    draft_tags: tuple[str, ...]
    """Tags whose closing makes the graph render a draft (the first is the modality's own)."""
    final_tag: str
    default_drafts: int
    """The draft budget when the caller sets none (a film needs a frame, a take and music per scene)."""
    requires: tuple[str, ...]
    """Top-level modules of the optional extra this modality needs (checked with find_spec)."""
    extra: str
    """The pip extra that installs them (for the message when they are missing)."""
    build: Callable[[Any, Any, dict[str, Modality]], Modality]
    """(agent config, image backend, modalities built so far) -> the modality's handlers and composer."""
    planner: Callable[[Turn], Iterator[Delta]]
    """The embedded reasoner's planner for this modality."""
    timed: bool = False
    """The result unfolds over time, which makes a request harder (the ``auto`` thinking mode reads it)."""
    detect: Callable[[str], str | None] = field(default=lambda text: None)
    """The reason a request is for this modality, or None; tried in registry order after explicit choices."""
    validate: Callable[[Request, Limits], None] = field(default=lambda req, limits: None)
    """Input checks that depend on the modality (how long the speech or video would be)."""
    checks: Callable[[], dict[str, Callable[[Any, Any, str], None]]] = field(default=lambda: {})
    """artifact kind -> a check of (artifact, limits, what) that raises InvalidOutput for output no critic
    should see: undecodable files, zero-size pictures, NaN or silent audio. Applied to every handler's output."""
    guide: Callable[[], Any] = field(default=lambda: None)
    """() -> mmthink.core.turn.Guide: how a language model should write this modality's tags."""
    services: Callable[[], dict[str, Any]] = field(default=lambda: {})
    """Functions another modality may use through the registry (video draws frames in the scene language)."""
