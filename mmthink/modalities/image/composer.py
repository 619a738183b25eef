"""The final image: the accepted sketch's scene, rendered at full quality and size.

The composer renders exactly the scene the critic accepted (or the one the final tag carries,
when thinking was off), so what the reasoner approved is what the user gets. The final is
checked once more by the same critic, and that verdict goes into the trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mmthink.core.tags import Tag
from mmthink.modalities.base import Artifact, RunContext
from mmthink.modalities.image.handler import SketchHandler, intent_for
from mmthink.modalities.image.render.drawables import drawing_for
from mmthink.modalities.image.scene import Scene, parse_scene

FALLBACK_OPTION = "fallback_planner"
"""``Request.options[FALLBACK_OPTION] = True`` (CLI ``--fallback-planner``): when the reasoner leaves no usable
sketch, plan the picture from the request instead of failing. Such a run is never ``succeeded``."""


@dataclass
class Choice:
    """The scene the final is drawn from, and why."""

    scene: Scene
    ref: str | None = None
    seed: int | None = None
    init: Any = None
    why: str = ""
    stand_ins: list[str] = field(default_factory=list)
    fallback: str | None = None


class ImageComposer:
    def __init__(self, handler: SketchHandler, quality: str = "final") -> None:
        self.handler = handler
        self.quality = quality

    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Artifact, dict[str, Any]]:
        """Draw the accepted sketch again at full size, with the seed it was drawn with (same layout)."""
        choice = self._choose(final, ctx)
        seed = ctx.seed if choice.seed is None else choice.seed
        art = self.handler.backend.render(
            choice.scene,
            quality=self.quality,
            size=(ctx.request.width, ctx.request.height),
            seed=seed,
            init=choice.init,
        )
        art.meta["placed"] = [p.__dict__ for p in art.placed]
        stand_ins, drawn_as = list(choice.stand_ins), []
        for name, kind in sorted({(p.name, p.kind) for p in art.placed}):
            drawing = drawing_for(name)
            if kind == "generic":  # no entry, no category: a placeholder is a shortfall
                stand_ins.append(drawing.explain() or f"{name!r} has no drawing: a labelled placeholder stands in")
            elif kind == drawing.kind and drawing.explain():  # a category's drawing is the thing; the trace says so
                drawn_as.append(str(drawing.explain()))
        facts: dict[str, Any] = {
            "ref": choice.ref,
            "why": choice.why,
            "scene": choice.scene.format(),
            "seed": seed,
            "stand_ins": stand_ins,
            "drawn_as": drawn_as,
            "fallback": choice.fallback,
            "looks": art.meta.get("looks", []),  # styles and conditions the final was treated with
            "lettered": art.meta.get("lettered", []),  # words drawn on things
            "backdrop": art.meta.get("backdrop"),  # the named places' backdrop kind and where its props are
        }
        try:  # the final is checked once more; a broken critic must not cost the user the image
            check = self.handler.critic.critique(art, choice.scene, intent_for(ctx), prompt=ctx.request.text)
            facts.update({"score": check.score, "passed": check.passed, "findings": check.findings})
        except Exception as e:
            facts["check_error"] = f"{type(e).__name__}: {e}"
        return art, facts

    def _choose(self, final: Tag | None, ctx: RunContext) -> Choice:
        drafts = [d for d in ctx.drafts if d.get("tag") == "sketch" and not d.get("error")]
        if final is not None and final.body.strip():
            scene = parse_scene(final.body)[0]
            if scene.elements:
                return Choice(scene, why="the final tag carries the scene")
        ref = final.attrs.get("ref") if final is not None else None
        chosen = next((d for d in drafts if d["id"] == ref), None)
        choice = Choice(Scene(), why=f"the final names {ref}")
        if chosen is None and drafts:
            chosen = max(reversed(drafts), key=lambda d: d.get("score") or 0.0)
            choice.why = f"best draft by score is {chosen['id']} ({chosen.get('score') or 0:.2f})"
            choice.stand_ins.append(
                f"the final named {ref!r}, which is not a sketch of this run; {chosen['id']} was used instead"
                if ref
                else f"the final named no sketch; {chosen['id']} was used"
            )
        if chosen is not None:
            choice.scene, choice.ref = parse_scene(chosen["body"])[0], chosen["id"]
            choice.init, choice.seed = ctx.cache.get(chosen["id"]), (chosen.get("meta") or {}).get("seed")
            return choice
        if not (ctx.request.options or {}).get(FALLBACK_OPTION):
            raise ValueError(
                "the reasoner wrote no usable sketch, so there is nothing to compose; let it draft "
                "(thinking on, a larger budget), or allow the fallback planner "
                f'(options {{"{FALLBACK_OPTION}": true}}, --fallback-planner)'
            )
        from mmthink.modalities.image.planner import plan_scene

        choice.scene = plan_scene(intent_for(ctx), ctx.request.text)
        choice.fallback = "the reasoner wrote no usable sketch; the scene was planned straight from the request"
        choice.why = choice.fallback
        return choice
