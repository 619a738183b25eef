"""``<sketch>`` steps: parse the scene, draw it quickly, judge it against the request."""

from __future__ import annotations

import io
import re
import time
from typing import Any

from mmthink.core.tags import Tag
from mmthink.modalities.base import Critique, ImageArtifact, Placed, RunContext
from mmthink.modalities.image.critic import ImageCritic
from mmthink.modalities.image.scene import parse_scene
from mmthink.modalities.image.understanding import ImageIntent, parse_image_request

SKETCH_LONG_SIDE = 512

_TEMPLATE = re.compile(r"^\s*(name\s*(\[xN\])?\s*:\s*attributes|\.\.\.|…)\s*$", re.I | re.M)
"""Lines copied from the protocol's tag reference instead of written for the request."""


def sketch_size(width: int, height: int, long_side: int = SKETCH_LONG_SIDE) -> tuple[int, int]:
    """Sketches are drawn smaller than the final, keeping the aspect ratio."""
    scale = min(1.0, long_side / max(width, height))
    return max(64, int(round(width * scale))), max(64, int(round(height * scale)))


def intent_for(ctx: RunContext) -> ImageIntent:
    if "intent" not in ctx.cache:
        ctx.cache["intent"] = parse_image_request(ctx.request.text)
    return ctx.cache["intent"]


class SketchHandler:
    """Renders ``<sketch>`` (and storyboard-less image drafts) with an image backend."""

    def __init__(self, backend: Any, critic: ImageCritic | None = None, quality: str = "sketch") -> None:
        self.backend = backend
        self.critic = critic or ImageCritic()
        self.quality = quality

    def render(self, tag: Tag, ctx: RunContext) -> ImageArtifact:
        if _TEMPLATE.search(tag.body):
            raise ValueError(
                "this is the template from the instructions, not a scene: write the request's own "
                "things, one per line, e.g. 'cat: small, orange, left'"
            )
        scene, findings = parse_scene(tag.body)
        if not scene.elements:
            raise ValueError("the sketch has no element lines: write one element per line as 'name [xN]: attributes'")
        ctx.cache[f"{tag.id}:scene_findings"] = findings
        size = sketch_size(ctx.request.width, ctx.request.height)
        seed = ctx.draft_seed(tag.id or "")
        if ctx.best_of > 1:
            art = self._best_of(tag, scene, findings, size, seed, ctx)
        else:
            art = self.backend.render(scene, quality=self.quality, size=size, seed=seed)
        art.meta.setdefault("scene_findings", findings)
        art.meta["placed"] = [p.__dict__ for p in art.placed]
        return art

    def critique(self, tag: Tag, art: ImageArtifact, ctx: RunContext) -> Critique:
        done = ctx.cache.pop(f"{tag.id}:critique", None)
        if done is not None and done[0] is art:  # best-of-N already judged the winner
            return done[1]
        scene, findings = parse_scene(tag.body)
        return self.critic.critique(art, scene, intent_for(ctx), prompt=ctx.request.text, scene_findings=findings)

    def _best_of(
        self, tag: Tag, scene: Any, findings: list[str], size: tuple[int, int], seed: int, ctx: RunContext
    ) -> ImageArtifact:
        """N seeds of the sketch (one batched call when the backend can), ranked by the critic."""
        n = ctx.best_of
        seeds = [(seed + 7919 * k) % (2**32) for k in range(n)]  # the first is the seed a single draft gets
        t0 = time.perf_counter()
        batch = getattr(self.backend, "render_batch", None)
        if callable(batch):
            arts = list(batch(scene, quality=self.quality, size=size, seeds=seeds))
        else:
            arts = [self.backend.render(scene, quality=self.quality, size=size, seed=s) for s in seeds]
        t_render = time.perf_counter()
        crits = [
            self.critic.critique(a, scene, intent_for(ctx), prompt=ctx.request.text, scene_findings=findings)
            for a in arts
        ]
        best = max(range(n), key=lambda i: (crits[i].passed, crits[i].score, -i))
        ranked = [
            {
                "seed": int(seeds[i]),
                "score": round(crits[i].score, 4),
                "passed": crits[i].passed,
                "findings": crits[i].findings[:3],
                "chosen": i == best,
            }
            for i in range(n)
        ]
        art = arts[best]
        art.alternatives = [a for i, a in enumerate(arts) if i != best]
        art.meta["best_of"] = {
            "n": n,
            "chosen_seed": int(seeds[best]),
            "batched": callable(batch),
            "render_ms": round((t_render - t0) * 1000, 1),
            "critique_ms": round((time.perf_counter() - t_render) * 1000, 1),
            "candidates": ranked,
        }
        ctx.cache[f"{tag.id}:critique"] = (art, crits[best])
        return art

    def restore(self, record: dict[str, Any], data: bytes) -> ImageArtifact:
        return restore_image(record, data)


def restore_image(record: dict[str, Any], data: bytes) -> ImageArtifact:
    """Rebuild a drawn picture from its PNG and its record's placements (after a resume)."""
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    placed = [
        Placed(**{**p, "box": tuple(p["box"]), "rgb": tuple(p["rgb"]) if p.get("rgb") else None})
        for p in record.get("meta", {}).get("placed", [])
    ]
    bg = record.get("meta", {}).get("background_rgb")
    return ImageArtifact("image", data, "png", dict(record.get("meta", {})), img, placed, tuple(bg) if bg else None)
