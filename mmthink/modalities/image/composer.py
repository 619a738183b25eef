"""The final image: the accepted sketch's scene, rendered at full quality and size.

The composer renders exactly the scene the critic accepted (or the one the final tag carries,
when thinking was off), so what the reasoner approved is what the user gets. The final is
checked once more by the same critic, and that verdict goes into the trace.
"""

from __future__ import annotations

from typing import Any

from mmthink.core.tags import Tag
from mmthink.modalities.base import Artifact, RunContext
from mmthink.modalities.image.handler import SketchHandler, intent_for
from mmthink.modalities.image.scene import Scene, parse_scene


class ImageComposer:
    def __init__(self, handler: SketchHandler, quality: str = "final") -> None:
        self.handler = handler
        self.quality = quality

    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Artifact, dict[str, Any]]:
        scene, ref, init, why = self._choose(final, ctx)
        if not scene.elements:
            from mmthink.modalities.image.planner import plan_scene

            scene = plan_scene(intent_for(ctx), ctx.request.text)
            why = "no usable sketch: the scene was planned straight from the request"
        art = self.handler.backend.render(scene, quality=self.quality, size=(ctx.request.width, ctx.request.height),
                                          seed=ctx.seed, init=init)
        art.meta["placed"] = [p.__dict__ for p in art.placed]
        facts: dict[str, Any] = {"ref": ref, "why": why, "scene": scene.format()}
        try:  # the final is checked once more; a broken critic must not cost the user the image
            check = self.handler.critic.critique(art, scene, intent_for(ctx), prompt=ctx.request.text)
            facts.update({"score": check.score, "passed": check.passed, "findings": check.findings})
        except Exception as e:
            facts["check_error"] = f"{type(e).__name__}: {e}"
        return art, facts

    def _choose(self, final: Tag | None, ctx: RunContext) -> tuple[Scene, str | None, Any, str]:
        drafts = [d for d in ctx.drafts if d.get("tag") == "sketch" and not d.get("error")]
        if final is not None and final.body.strip():
            return parse_scene(final.body)[0], None, None, "the final tag carries the scene"
        ref = final.attrs.get("ref") if final is not None else None
        chosen = next((d for d in drafts if d["id"] == ref), None)
        why = f"the final names {ref}"
        if chosen is None and drafts:
            chosen = max(reversed(drafts), key=lambda d: (d.get("score") or 0.0))
            why = (f"{ref!r} is not a sketch of this run; " if ref else "") + \
                f"best draft by score is {chosen['id']} ({chosen.get('score') or 0:.2f})"
        if chosen is None:
            return Scene(), None, None, "no drafts"
        init = ctx.cache.get(chosen["id"])
        return parse_scene(chosen["body"])[0], chosen["id"], init, why
