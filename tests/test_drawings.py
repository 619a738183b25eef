"""The drawings: every drawable the object table names has one, in the entry's colour, and names vary it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mmthink.modalities.image.critic import color_matches, measure_color
from mmthink.modalities.image.objects import load_table
from mmthink.modalities.image.render.drawables import KINDS, PAINTERS, VARIANTS, drawing_for
from mmthink.modalities.image.render.drawings.pen import Pen, choose
from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
from mmthink.modalities.image.scene import normalize_name, parse_scene
from mmthink.modalities.image.vocab import COLORS

ROOT = Path(__file__).resolve().parents[1]


def _representatives() -> list[tuple[str, str, str]]:
    """(drawing, variant, table name) for one entry per shape of every drawing the table uses."""
    seen: dict[tuple[str, str], str] = {}
    for e in load_table().entries:
        if e.is_place:
            continue
        variant = choose(VARIANTS[e.drawable], e.name).name if e.drawable in VARIANTS else "-"
        seen.setdefault((e.drawable, variant), e.name)
    return [(k, v, n) for (k, v), n in sorted(seen.items())]


REPS = _representatives()
NEW = [r for r in REPS if r[0] in VARIANTS or r[0] == "clock"]
"""The category drawings (the older, single-thing drawings keep their own two-tone looks: a penguin's belly)."""


def test_every_table_drawable_has_a_drawing():
    """Fails when the table gains a drawable (or a category drawing) that nothing paints."""
    t = load_table()
    used = {e.drawable for e in t.entries if not e.is_place}
    used |= {c["drawable"] for name, c in t.categories.items() if name != "place"}
    assert used - set(PAINTERS) == set()
    assert set(PAINTERS) == set(KINDS)
    for e in t.entries:
        if not e.is_place:
            assert drawing_for(e.name).kind == e.drawable, e.name
    assert all(v in VARIANTS for v in ("quadruped", "insect", "reptile", "tool", "food", "garment", "sign"))


def _layer(kind: str, name: str, rgb, size=(180, 140)) -> np.ndarray:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    PAINTERS[kind](Pen(ImageDraw.Draw(layer), size[0], size[1], rgb, False, name=name))
    return np.asarray(layer)


@pytest.mark.parametrize("kind,variant,name", NEW, ids=[f"{k}-{v}-{n}" for k, v, n in NEW])
def test_each_drawing_fills_its_box_in_the_entrys_colour(kind, variant, name):
    e = load_table().get(name)
    art = EmbeddedImageBackend().render(
        parse_scene(f"{name}: large, {e.color}")[0], quality="final", size=(512, 384), seed=0
    )
    p = next(p for p in art.placed if p.name == normalize_name(name))
    x0, y0, x1, y1 = p.box
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 384
    assert p.area >= 0.12 * (x1 - x0) * (y1 - y0), "the drawing leaves most of its box empty"
    img = np.asarray(art.payload.convert("RGB"), np.float32)
    got = measure_color(img, p, art.background_rgb)
    assert got is not None and color_matches(e.color, got), f"{name} reads as {got}, not {e.color}"


@pytest.mark.parametrize("colour", ["red", "blue", "green"])
def test_category_drawings_take_the_asked_colour(colour):
    """A category drawing in another colour than the table's still reads as that colour."""
    wrong = []
    for _kind, _variant, name in NEW:
        art = EmbeddedImageBackend().render(
            parse_scene(f"{name}: large, {colour}")[0], quality="final", size=(384, 288), seed=0
        )
        p = next(p for p in art.placed if p.name == normalize_name(name))
        got = measure_color(np.asarray(art.payload.convert("RGB"), np.float32), p, art.background_rgb)
        if not (got and color_matches(colour, got)):
            wrong.append(f"{name}: {got}")
    assert not wrong, wrong


def test_different_names_give_different_pictures():
    """Two things drawn with one category drawing, in one colour, are never the same picture."""
    t = load_table()
    by_kind: dict[str, list[str]] = {}
    for e in t.entries:
        if not e.is_place and e.drawable in VARIANTS:
            by_kind.setdefault(e.drawable, []).append(e.name)
    for kind, names in by_kind.items():
        layers = [_layer(kind, n, COLORS["red"]).tobytes() for n in names[:12]]
        assert len(set(layers)) == len(layers), kind


def test_the_trace_says_what_stood_in_for_what():
    assert "mammal" in (drawing_for("kangaroo").explain() or "")
    r = drawing_for("police dog")
    assert r.kind == "dog" and "head word" in (r.explain() or "") or r.resolved.how != "head word"
    ph = drawing_for("flux capacitor")
    assert ph.placeholder and "placeholder" in (ph.explain() or "")
    assert drawing_for("bagpipe").kind == "instrument"  # said in the plural only, read back in the singular


def test_generated_prompts_succeed():
    """A small generated set (fast): the planned final meets every constraint and earns succeeded."""
    sys.path.insert(0, str(ROOT / "tools"))
    import tempfile

    from eval_image_plans import evaluate
    from gen_image_prompts import generate

    with tempfile.TemporaryDirectory() as out:
        rep = evaluate(None, Path(out), seed=7, items=generate(60, 7))
    assert rep["final_succeeded"] >= 0.9, rep
    assert rep["lowered"] == 0, [r["prompt"] for r in rep["rows"] if r["first"] and not r["final"]]


def test_a_closed_compound_is_drawn_as_its_head():
    """ "firetruck" is not in the table but its head is: a truck stands in, and the trace says so."""
    d = drawing_for("firetruck")
    assert d.kind == "truck" and "'truck'" in (d.explain() or "")
    assert drawing_for("blorp").placeholder
