"""What someone is "with" that they can wear is worn, glasses are eyewear when worn, and what follows a worn
thing is said of its wearer.

"a man with glasses" used to draw a drinking glass beside him, "a man wearing glasses" a tumbler on his
face, and "a girl wearing a hat holding a balloon" had the hat hold the balloon.
"""

from __future__ import annotations

import pytest

from mmthink import Agent, load_trace
from mmthink.modalities.image.understanding import parse_image_request


def _read(text: str) -> dict[str, tuple]:
    return {o.name: (o.relation, o.verb, o.category) for o in parse_image_request(text).objects}


@pytest.mark.parametrize(
    ("text", "worn", "wearer"),
    [
        ("a man with glasses", "eyeglass", "man"),
        ("a man wearing glasses", "eyeglass", "man"),
        ("a girl with a red hat", "hat", "girl"),
        ("a dog with a bow tie", "bow tie", "dog"),
        ("a cat wearing goggles", "goggle", "cat"),
    ],
)
def test_worn_things(path: str, text: str, worn: str, wearer: str) -> None:
    relation, verb, category = _read(text)[worn]
    assert relation == ("on", wearer) and verb == "worn by" and category == "garment"


def test_with_is_company_when_it_cannot_be_worn(path: str) -> None:
    assert _read("a man with a dog")["dog"][0] is None


@pytest.mark.parametrize(
    ("text", "thing", "relation"),
    [
        ("a girl wearing a hat holding a balloon", "balloon", ("near", "girl")),
        ("a robot with a helmet holding a flag", "flag", ("near", "robot")),
        ("a girl wearing a red hat on a bench", "girl", ("on", "bench")),
    ],
)
def test_what_follows_a_worn_thing_is_said_of_the_wearer(path: str, text: str, thing: str, relation) -> None:
    assert _read(text)[thing][0] == relation


def test_worn_glasses_are_drawn_on_the_face_and_the_run_succeeds(tmp_path) -> None:
    res = Agent.from_profile("embedded").run("a man wearing glasses", out=tmp_path, width=384, height=256)
    assert res.status == "succeeded", res.findings
    final = [s for s in load_trace(res.trace).steps if s.kind == "final"][-1]
    boxes = {p["name"]: p for p in final.metrics["placed"]}
    glasses, man = boxes["eyeglass"], boxes["man"]
    assert glasses["kind"] == "garment"
    assert man["box"][1] <= glasses["box"][1] < man["box"][1] + 0.3 * (man["box"][3] - man["box"][1])  # at the head
