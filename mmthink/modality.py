"""Modalities as data: which drafting tags a modality uses, who renders and judges them, who composes.

The graph has one code path; an image run and a speech run differ only in the
:class:`Modality` record the agent hands it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .critics.base import Critique
from .media.base import Artifact
from .protocol import Tag
from .request import Request


@dataclass
class RunContext:
    """What a handler may use while a run is in flight."""

    request: Request
    modality: str
    seed: int
    run_dir: Path
    drafts: list[dict[str, Any]]
    transcript: str = ""
    cache: dict[str, Any] = field(default_factory=dict)  # per-run, in-memory only
    best_of: int = 1  # seeds rendered per draft; the critic keeps the best

    def read_asset(self, rel: str) -> bytes:
        path = (self.run_dir / rel).resolve()
        if self.run_dir.resolve() not in path.parents:
            raise ValueError(f"asset path {rel!r} leaves the run folder")
        return path.read_bytes()

    def draft_seed(self, draft_id: str) -> int:
        """A seed per draft, stable across resumes: the run seed plus the draft's position."""
        ids = [d["id"] for d in self.drafts]
        pos = ids.index(draft_id) if draft_id in ids else len(ids)
        return (self.seed + 1009 * pos) % (2**32)


class DraftHandler(Protocol):
    """Renders one kind of drafting tag and judges the result."""

    def render(self, tag: Tag, ctx: RunContext) -> Artifact: ...

    def critique(self, tag: Tag, art: Artifact, ctx: RunContext) -> Critique: ...

    def restore(self, record: dict[str, Any], data: bytes) -> Artifact:
        """Rebuild an artifact from its asset bytes and record (after a resume)."""
        ...


class Composer(Protocol):
    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Artifact, dict[str, Any]]:
        """Build the final artifact; returns it and JSON-safe facts for the trace."""
        ...


@dataclass
class Modality:
    name: str
    handlers: dict[str, DraftHandler]
    composer: Composer
    final_tag: str
