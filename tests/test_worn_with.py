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


@pytest.mark.parametrize(
    ("text", "held", "holder"),
    [("a farmer with a pitchfork", "pitchfork", "farmer"), ("a girl with a balloon", "balloon", "girl")],
)
def test_a_small_thing_someone_is_with_is_held(path: str, text: str, held: str, holder: str) -> None:
    relation, verb, _ = _read(text)[held]
    assert relation == ("near", holder) and verb == "held by"


def test_a_thing_placed_by_pronoun_is_not_held(path: str) -> None:
    assert _read("an astronaut with a flag to his right")["flag"][0] == ("right of", "astronaut")


def test_a_place_after_things_joined_by_and_is_theirs_together(path: str) -> None:
    read = _read("a teapot and two cups on a tray")
    assert read["teapot"][0] == ("on", "tray") == read["cup"][0]
    read = _read("a cat next to a dog and a bird on a branch")  # the dog is where the cat is placed by
    assert read["dog"][0] is None and read["bird"][0] == ("on", "branch") and read["cat"][0] == ("near", "dog")


def test_an_ing_word_after_a_thing_is_its_verb_not_its_name(path: str) -> None:
    read = _read("a ship sailing between two icebergs")
    assert read["ship"][0] == ("between", "iceberg") and "sailing" not in read


def test_a_crop_names_the_field_it_fills(path: str) -> None:
    it = parse_image_request("a sunflower field under a blue sky")
    assert it.find("sunflower").count == 3 and "field" in it.setting


@pytest.mark.parametrize("text", ["a cat and a dog under a tree", "a cat and a dog under a table"])
def test_two_things_under_one_stand_side_by_side_and_both_show(text: str, tmp_path) -> None:
    res = Agent.from_profile("embedded").run(text, out=tmp_path, width=384, height=256)
    assert res.status == "succeeded", res.findings
    final = [s for s in load_trace(res.trace).steps if s.kind == "final"][-1]
    boxes = {p["name"]: p for p in final.metrics["placed"]}
    cat, dog = boxes["cat"], boxes["dog"]
    assert cat["visible"] > 0.8 and dog["visible"] > 0.8
    assert cat["box"][2] <= dog["box"][0] + 2 or dog["box"][2] <= cat["box"][0] + 2  # not on one spot
