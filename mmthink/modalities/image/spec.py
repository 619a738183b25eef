"""The image modality's facts for the registry: sketches drafted in the scene language, one final image."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mmthink.modalities.spec import ModalitySpec


def _build(cfg: Any, image_backend: Any, mods: dict[str, Any]) -> Any:
    from mmthink.modalities.base import Modality
    from mmthink.modalities.image.composer import ImageComposer
    from mmthink.modalities.image.critic import ImageCritic
    from mmthink.modalities.image.handler import SketchHandler

    clip = None
    if cfg.clip_model:
        from mmthink.modalities.image.clip import clip_hook

        clip = clip_hook(cfg.clip_model, device=cfg.device)
    sketch = SketchHandler(image_backend, ImageCritic(clip=clip))
    return Modality("image", {"sketch": sketch}, ImageComposer(sketch), "final_image")


def _planner(turn: Any) -> Iterator[Any]:
    from mmthink.modalities.image.planner import image_turn

    return image_turn(turn)


def _services() -> dict[str, Any]:
    """What storyboards borrow: the scene language, the planner, the sketch handler, the critic."""
    from mmthink.modalities.image import planner, scene, understanding, vocab
    from mmthink.modalities.image.critic import ImageCritic
    from mmthink.modalities.image.handler import SketchHandler, restore_image

    return {
        "restore_image": restore_image,
        "route": _route,
        "guide_rules": lambda: _guide().rules,
        "parse_scene": scene.parse_scene,
        "Scene": scene.Scene,
        "COLORS": vocab.COLORS,
        "plan_scene": planner.plan_scene,
        "revise_scene": planner.revise_scene,
        "parse_request": understanding.parse_image_request,
        "SketchHandler": SketchHandler,
        "ImageCritic": ImageCritic,
        "embedded_backend": _embedded_backend,
    }


def _route(text: str) -> tuple[str, str]:
    """Which modality the request asks for, from the one understanding of it."""
    from mmthink.modalities.image.understanding import parse_image_request

    intent = parse_image_request(text)
    return intent.modality or "image", intent.modality_reason or "the request describes a picture"


def _embedded_backend() -> Any:
    from mmthink.modalities.image.render.embedded import EmbeddedImageBackend

    return EmbeddedImageBackend()


def _checks() -> dict[str, Any]:
    from mmthink.modalities.image.checks import check_image

    return {"image": check_image}


def _guide() -> Any:
    from mmthink.core.turn import Guide
    from mmthink.modalities.image.vocab import COLORS, DEPTHS, HORIZONTAL, RELATIONS, SIZES, VERTICAL

    return Guide(
        modality="image",
        noun="images",
        tags=(
            '<sketch id="s1"> opens a draft picture: one scene line per element on its own line, then </sketch>\n'
            '<final_image ref="s1"/>  (in the answer) renders the accepted sketch at full quality; ref is its id'
        ),
        off="put the scene lines inside the final tag itself, between <final_image> and </final_image>",
        rules=(scene_rule(), attribute_rule(COLORS, SIZES, HORIZONTAL + VERTICAL + DEPTHS, RELATIONS)),
        grammar=sketch_grammar(COLORS, SIZES, HORIZONTAL + VERTICAL + DEPTHS, RELATIONS),
    )


MAX_GRAMMAR_LINES = 8
"""Scene lines a constrained sketch may hold: enough for any dev prompt, and a small model cannot loop."""


def sketch_grammar(colors: Any, sizes: Any, positions: Any, relations: Any) -> str:
    """The scene language as a Lark grammar (the ``sketch`` rule is a sketch's body up to ``</sketch>``).

    Names are free lower-case words (none starts with "x", which begins a count); attributes
    are the vocabulary's words and relations to a named element, so every line parses and renders.
    """

    def alts(words: Any) -> str:  # a phrase is its words with the space between them as separate lexemes
        return " | ".join(' " " '.join(f'"{p}"' for p in w.split()) for w in sorted(set(words)))

    plain = [r for r in relations if r != "between"]
    return (
        "\n".join(
            [
                f'sketch: "\\n" line{{1,{MAX_GRAMMAR_LINES}}} "</sketch>"',
                'line: (element | setting) "\\n"',
                'element: name (" " COUNT)? ": " attr (", " attr){0,5}',
                'setting: ("setting" | "style") ": " WORD ((", " | " ") WORD){0,7}',
                'name: WORD (" " WORD){0,2}',
                f"attr: {alts(list(sizes) + list(colors) + list(positions))} | relation | says",
                'says: "says \\"" TEXT "\\""',
                "TEXT: /[A-Za-z0-9][A-Za-z0-9 .,!?&'-]{0,39}/",
                f'relation: ({alts(plain)}) " " name | "between" " " name " and " name',
                "WORD: /[a-wyz][a-z-]{0,15}/",
                "COUNT: /x([1-9]|1[0-9]|20)/",
            ]
        )
        + "\n"
    )


def scene_rule() -> str:
    return (
        "- A scene line is the element's name, a count like x3 when there is more than one, a colon, then "
        "attributes separated by commas, e.g. `cup x3: small, white, on table`."
    )


def attribute_rule(colors: Any, sizes: Any, positions: Any, relations: Any) -> str:
    return (
        f"- Attributes: sizes ({', '.join(sizes)}); colours (e.g. {', '.join(list(colors)[:12])}); positions "
        f"({', '.join(positions)}); relations ({', '.join(relations)}), "
        "e.g. `left of X`, `between X and Y`, `worn by X`, `held by X`, `riding X`; words to show on a thing: "
        '`says "OPEN"`. `setting:` and `style:` lines describe the backdrop and look.'
    )


IMAGE = ModalitySpec(
    name="image",
    draft_tags=("sketch",),
    final_tag="final_image",
    default_drafts=6,
    requires=("PIL",),
    extra="(core install)",
    build=_build,
    planner=_planner,
    guide=_guide,
    checks=_checks,
    services=_services,
)
