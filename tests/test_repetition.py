"""The repetition guard the graph runs over each streamed turn (mmthink.core.repetition)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mmthink.core.repetition import RepetitionGuard, find_repetition

LOOP = "I need to draw a red ball on the table."


def test_one_sentence_three_times_in_a_row():
    text = "Let me plan the picture.\n" + (LOOP + " ") * 5
    rep = find_repetition(text)
    assert rep is not None and rep.shape == "consecutive" and rep.unit == LOOP and rep.count == 5
    assert text[: rep.keep].rstrip() == "Let me plan the picture.\n" + LOOP, "the loop is kept once"
    assert LOOP in rep.finding and "5 times" in rep.finding


def test_case_and_spacing_do_not_hide_a_loop():
    text = f"{LOOP}\n{LOOP.upper()}\n  {LOOP}   \n"
    rep = find_repetition(text)
    assert rep is not None and rep.count == 3


def test_lines_that_alternate():
    a, b = "The ball should be red and round.", "The table should be brown and wide."
    text = "Plan.\n" + "\n".join([a, b] * 4) + "\n"
    rep = find_repetition(text)
    assert rep is not None and rep.shape == "scattered" and rep.unit == a and rep.count == 4
    assert text[: rep.keep] == f"Plan.\n{a}\n{b}\n"


def test_a_loop_without_any_boundary():
    text = "So: " + "a red ball and " * 12
    rep = find_repetition(text)
    assert rep is not None and rep.shape == "periodic" and rep.count >= 4
    assert len(text[: rep.keep]) < len("So: ") + 2 * len("a red ball and ")


def test_ordinary_thinking_is_not_a_loop():
    text = (
        'The user wants a red ball on a table. Let me sketch it.\n<sketch id="s1">\ntable: large, brown, '
        "bottom\nball: small, red, on table\n</sketch>\nThe ball is red. The table is brown. Both are there.\n"
        "</sketch>\n</sketch>\n"
    )
    assert find_repetition(text) is None, "short lines (closing tags) may recur; distinct sentences are fine"
    assert find_repetition("Wait. Wait. Wait. Wait.") is None, "too short to be a loop"
    assert find_repetition((LOOP + " ") * 2) is None, "twice is not yet a loop"


def test_the_guard_reports_while_streaming_and_not_before():
    guard = RepetitionGuard()
    stream = "Thinking about it.\n" + (LOOP + "\n") * 6
    hits = []
    for i in range(0, len(stream), 7):
        rep = guard.feed(stream[i : i + 7])
        if rep is not None:
            hits.append((i, rep))
            break
    assert hits, "the guard fires during the stream"
    i, rep = hits[0]
    assert rep.count == 3 and i < len("Thinking about it.\n") + 4 * (len(LOOP) + 1), "as soon as the third copy ends"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["The sky is blue today.", "A boat sails on the sea.", "Two birds fly high.", "The sun is low and orange."]
        ),
        min_size=0,
        max_size=3,
        unique=True,
    )
)
def test_distinct_sentences_never_trigger(sentences):
    assert find_repetition(" ".join(sentences)) is None
