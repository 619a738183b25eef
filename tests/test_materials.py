"""A thing made of a named material, with no colour said, is drawn in the material's colour."""

from __future__ import annotations

import pytest

from mmthink.modalities.image.materials import TONES, material_color
from mmthink.modalities.image.planner import plan_scene
from mmthink.modalities.image.understanding import parse_image_request
from mmthink.modalities.image.vocab import COLORS


def _colours(text: str) -> dict[str, list[str]]:
    return {e.name: e.colors for e in plan_scene(parse_image_request(text), text).elements}


@pytest.mark.parametrize(
    ("text", "name", "colour"),
    [
        ("a bicycle leaning against a brick wall", "wall", "brown"),
        ("a wooden chair", "chair", "brown"),
        ("a marble statue", "statue", "white"),
        ("a stone bridge", "bridge", "grey"),
        ("a steel robot", "robot", "silver"),
    ],
)
def test_the_material_gives_the_colour(path: str, text: str, name: str, colour: str) -> None:
    assert _colours(text)[name] == [colour]


def test_a_colour_said_wins_and_a_material_without_one_changes_nothing(path: str) -> None:
    assert _colours("a red brick house")["house"] == ["red"]
    assert _colours("a plastic chair")["chair"] == []


def test_every_material_tone_maps_to_a_palette_colour() -> None:
    for material in TONES:
        assert material_color(material) in COLORS
    assert material_color("velvet") is None
