"""A reviewer's note, followed by the embedded heuristic reasoner: parsed into scene edits, redrawn, shown again."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmthink import Agent
from mmthink.modalities.image.review_notes import apply_note, pending_note
from mmthink.modalities.image.scene import parse_scene
from mmthink.trace.reader import load_trace

SCENE = (
    "apple x3: red, on table\ntable: brown, bottom\ncup: blue, left of apple\nsun: yellow, top, right\nsetting: kitchen"
)


@pytest.mark.parametrize(
    "note, done, check",
    [
        ("make the cup bigger", ["make the cup large"], lambda s: s["cup"].size == "large"),
        ("make the sun twice as large", ["make the sun large"], lambda s: s["sun"].size == "large"),
        ("shrink the table", ["make the table small"], lambda s: s["table"].size == "small"),
        (
            "Move the sun to the left, and make the apples green.",
            ["move the sun to the left", "colour the apple green"],
            lambda s: s["sun"].h == "left" and s["apple"].colors == ["green"],
        ),
        (
            "remove the cup; add a red kite at the top",
            ["remove the cup", "add a red kite"],
            lambda s: "cup" not in s and s["kite"].colors == ["red"] and s["kite"].v == "top",
        ),
        ("no table please", ["remove the table"], lambda s: "table" not in s and not s["apple"].relations),
        ("make it at night", ["set the scene at night"], lambda s: True),
        (
            "the cup should be smaller and more to the right",
            ["make the cup small", "move the cup to the right"],
            lambda s: s["cup"].size == "small" and s["cup"].h == "right" and not s["cup"].relations,
        ),
    ],
)
def test_notes_become_scene_edits(note: str, done: list[str], check) -> None:
    edits = apply_note(parse_scene(SCENE)[0], note)
    assert edits.done == done and edits.ignored == []
    assert check({e.name: e for e in edits.scene.elements})
    assert parse_scene(SCENE)[0].format() != edits.scene.format()


def test_setting_keeps_the_place_and_changes_the_time() -> None:
    edits = apply_note(parse_scene(SCENE)[0], "make it at night")
    assert edits.scene.setting == ["kitchen", "night"]


def test_what_is_not_understood_is_reported_not_guessed() -> None:
    edits = apply_note(parse_scene(SCENE)[0], "I don't like it, make the cup green")
    assert edits.done == ["colour the cup green"] and edits.ignored == ["i don't like it"]
    assert not apply_note(parse_scene(SCENE)[0], "hmm").changed


def test_pending_note_is_the_last_one_without_a_sketch_after_it() -> None:
    t = '<sketch id="s1">a</sketch>\n<observation ref="review">make it red</observation>\n'
    assert pending_note(t) == "make it red"
    assert pending_note(t + '<sketch id="s2" for="review">b</sketch>') is None
    assert pending_note("no notes here") is None


def test_heuristic_follows_a_review_note_end_to_end(tmp_path: Path) -> None:
    answers = iter(["revise: make the cup bigger and move it to the right", "approve"])
    payloads: list[dict] = []
    res = Agent.from_profile("embedded").run(
        "three red apples on a table, a blue cup to the left of them",
        out=tmp_path,
        review=lambda p: payloads.append(p) or next(answers),
    )
    # the reviewer moved the cup right of the apples: approved, delivered, and honestly short of the request
    assert res.status == "unmet" and res.final is not None
    assert any("not left of the apple" in f for f in res.findings), res.findings
    tr = load_trace(res.trace)
    drafts = tr.drafts()
    redrawn = drafts[-1]
    assert redrawn.metrics["attrs"].get("for") == "review"
    steps = ["tiny", "small", "medium", "large", "huge"]
    cup = next(e for e in parse_scene(redrawn.parts[0].text)[0].elements if e.name == "cup")
    old = next(e for e in parse_scene(drafts[-2].parts[0].text)[0].elements if e.name == "cup")
    assert steps.index(cup.size) == steps.index(old.size or "medium") + 1 and cup.h == "right"
    placed = {p["name"]: p for p in redrawn.metrics["placed"]}
    before = {p["name"]: p for p in drafts[-2].metrics["placed"]}
    area = lambda p: (p["box"][2] - p["box"][0]) * (p["box"][3] - p["box"][1])  # noqa: E731
    assert area(placed["cup"]) > area(before["cup"])  # measured in the drawing, not just in the text
    thoughts = " ".join(s.text for s in tr.steps if s.kind == "thought")
    assert "make the cup bigger" in thoughts and f"make the cup {cup.size}" in thoughts
    assert "move the cup to the right" in thoughts
    assert placed["cup"]["box"][0] > before["cup"]["box"][0]  # it moved right
    assert len(payloads) == 2 and payloads[1]["draft"]["id"] == redrawn.ref  # the reviewer sees the change
    assert tr.steps[-1].kind == "final" and tr.steps[-1].ref == redrawn.ref


def test_heuristic_says_plainly_when_a_note_means_nothing_to_it(tmp_path: Path) -> None:
    answers = iter(["revise: it lacks soul", "approve"])
    res = Agent.from_profile("embedded").run(
        "a red ball under a green tree", out=tmp_path, review=lambda p: next(answers)
    )
    assert res.ok
    tr = load_trace(res.trace)
    assert not any(d.metrics["attrs"].get("for") == "review" for d in tr.drafts())
    assert "cannot turn that into a change" in " ".join(s.text for s in tr.steps if s.kind == "thought")


def test_any_note_is_read_without_an_exception() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(
        [
            "make",
            "the",
            "cup",
            "apple",
            "bigger",
            "smaller",
            "left",
            "right",
            "of",
            "add",
            "remove",
            "no",
            "it",
            "red",
            "x3",
            "night",
            "and",
            ",",
            ";",
            ".",
            "<sketch>",
            "top",
            "between",
        ]
    )

    @settings(max_examples=200, deadline=None)
    @given(st.one_of(st.text(max_size=200), st.lists(words, max_size=30).map(" ".join)))
    def check(note: str) -> None:
        edits = apply_note(parse_scene(SCENE)[0], note)
        assert isinstance(edits.scene.format(), str)
        assert all(isinstance(d, str) for d in edits.done + edits.ignored)

    check()
