"""A place word after "in the"/"among the"/... is where the scene is (a backdrop), not one more thing to draw.

Prompts come from a seeded generator over subjects, prepositions, place words and lead-ins, not a fixed list.
"""

from __future__ import annotations

import importlib.util
import random

import pytest

from mmthink.modalities.image import nlp
from mmthink.modalities.image.nlp import parse_image_request
from mmthink.modalities.image.objects import lookup
from mmthink.modalities.image.render import backdrops

HAS_SPACY = importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(nlp.SM_MODULE) is not None

SUBJECTS = ["cabin", "goat", "tent", "car", "dog", "horse", "castle", "bear", "bicycle", "house", "cow", "kite"]
LEADS = ["", "a photo of ", "a drawing of ", "please draw "]
PREPS = ["in the", "among the", "at the", "across the", "through the"]
COLOURS = ["", "red ", "blue ", "white ", "yellow "]
TIMES = ["", " at night", " at dusk", " in winter", ", in the morning"]


def _table_things_that_are_places() -> list[str]:
    """Place words the backdrop paints that the object table also knows as things ("mountains", "hills")."""
    return [w for w in backdrops.PLACE_KIND if lookup(w) is not None and not lookup(w).is_place]


def _setting_prompts(n: int, seed: int) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    places = _table_things_that_are_places()
    assert "mountains" in places and "hills" in places  # the words this reading is for
    out = []
    for _ in range(n):
        subject, place = rng.choice(SUBJECTS), rng.choice(places)
        colour = rng.choice(COLOURS)
        text = f"{rng.choice(LEADS)}a {colour}{subject} {rng.choice(PREPS)} {place}{rng.choice(TIMES)}"
        out.append((text, subject, colour.strip(), place))
    return out


def test_a_place_word_after_a_setting_preposition_is_the_setting(path):
    for text, subject, colour, place in _setting_prompts(60, 13):
        it = parse_image_request(text)
        names = [o.name for o in it.objects]
        assert subject in names, (text, names)
        assert place in it.setting, (text, it.setting, names)
        assert backdrops.places(it.setting).get(place) == backdrops.PLACE_KIND[place], (text, it.setting)
        thing = lookup(place)
        assert thing.name not in names, (text, names)  # not drawn as one more thing
        if colour:
            assert it.find(subject).color == colour, (text, it.find(subject).color)


def test_a_singular_landform_after_in_the_names_its_place(path):
    rng = random.Random(5)
    for _ in range(20):
        subject = rng.choice(SUBJECTS)
        word = rng.choice(["mountain", "hill"])
        it = parse_image_request(f"a {subject} {rng.choice(['in the', 'at the', 'among the'])} {word}")
        assert [o.name for o in it.objects] == [subject], it.objects
        assert backdrops.places(it.setting) == {f"{word}s": "mountains"}, it.setting


@pytest.mark.parametrize(
    "text,thing,count",
    [("two mountains", "mountain", 2), ("a red hill", "hill", 1), ("a castle on a hill", "hill", 1)],
)
def test_counted_coloured_or_supporting_landforms_stay_things(path, text, thing, count):
    it = parse_image_request(text)
    assert it.find(thing) is not None and it.find(thing).count == count, (text, it.objects)


@pytest.mark.parametrize("relation", ["to the right of a", "to the left of a", "under a", "above a", "below a"])
def test_a_place_word_in_a_relation_between_things_stays_a_thing(path, relation):
    """ "a pickaxe to the right of a cave": the cave is a thing beside the pickaxe, drawn and measured as one."""
    rng = random.Random(len(relation))
    for place in rng.sample(_table_things_that_are_places(), 3):
        subject = rng.choice(SUBJECTS)
        it = parse_image_request(f"a {subject} {relation} {lookup(place).name}")
        assert it.find(lookup(place).name) is not None, (relation, place, it.objects, it.setting)
        assert not backdrops.places(it.setting), it.setting
