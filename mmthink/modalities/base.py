"""What every modality is made of: the critique a critic returns, the artifact a tool renders, the
handler and composer interfaces, and the built :class:`Modality` record the graph is handed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mmthink.core.context import RunContext
from mmthink.core.tags import Tag

__all__ = ["Artifact", "Composer", "Critique", "DraftHandler", "ImageArtifact", "Modality", "Placed", "RunContext"]


@dataclass
class Critique:
    score: float
    passed: bool
    findings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.score = float(min(1.0, max(0.0, self.score)))

    def summary(self, limit: int = 6) -> str:
        """The observation text written back into the chain of thought."""
        if not self.findings:
            return "looks right: every check passed" if self.passed else "no specific findings"
        shown = self.findings[:limit]
        more = len(self.findings) - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


@dataclass
class Placed:
    """One drawn instance of a scene element, in pixel coordinates of the rendered image."""

    name: str  # normalised element name (protocol.normalize_name)
    index: int  # 0..count-1 within its element
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)
    kind: str  # the drawable the renderer used ("planet", "tree", ... or "generic")
    color: str | None = None  # colour word the element was drawn in
    rgb: tuple[int, int, int] | None = None
    z: int = 0  # paint order: higher is drawn later (nearer)
    visible: float = 1.0  # fraction of the element's own pixels still visible in the final picture
    area: int = 0  # pixels the element painted before anything covered it

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0


@dataclass
class Artifact:
    """A rendered draft or final: the encoded file and what was measured while making it."""

    kind: str  # "image" | "audio" | "video"
    data: bytes
    ext: str  # "png" | "wav" | "mp4"
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-safe facts: seed, size, backend, timings
    payload: Any = None  # in-memory object (PIL.Image, numpy array); never serialised
    alternatives: list[Artifact] = field(default_factory=list, kw_only=True)  # best-of-N runners-up, in the trace


@dataclass
class ImageArtifact(Artifact):
    placed: list[Placed] = field(default_factory=list)
    background_rgb: tuple[int, int, int] | None = None


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
    """A built modality: the handler of each drafting tag, the composer, and the final tag's name.

    The graph has one code path; an image run and a speech run differ only in this record.
    """

    name: str
    handlers: dict[str, DraftHandler]
    composer: Composer
    final_tag: str
