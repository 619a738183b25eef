"""What a drafting tool hands back: bytes for the trace, plus what a critic needs to judge them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    alternatives: list["Artifact"] = field(default_factory=list, kw_only=True)  # best-of-N runners-up, in the trace


@dataclass
class ImageArtifact(Artifact):
    placed: list[Placed] = field(default_factory=list)
    background_rgb: tuple[int, int, int] | None = None
