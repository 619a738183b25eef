"""The compliance verifiers on hand-made completions whose right scores are known."""

from __future__ import annotations

import pytest

from mmthink.errors import InputError
from mmthink.rewards import (
    REWARDS,
    auto_calibration_reward,
    budget_reward,
    mode_compliance_reward,
    parse_completion,
    protocol_reward,
    spearman,
)
from mmthink.trace.schema import Part, Step

WORDS = " ".join(f"w{i}" for i in range(40))  # 40 tokens by count_tokens
GOOD = (
    '<think>\nLet me sketch.\n<sketch id="s1">\nball: small, red, center\n</sketch>\n'
    '<observation ref="s1" score="0.90">passed</observation>\nGood.\n</think>\n\n'
    'A red ball. <final_image ref="s1"/>'
)


class FakeTrace:
    """Duck-typed like mmthink.trace.reader.Trace: ``.steps`` and ``.manifest``."""

    def __init__(
        self,
        thinking: str,
        tokens: int,
        mode: str,
        answer: str,
        budget: int | None = None,
        difficulty: float | None = None,
    ) -> None:
        self.manifest = {"status": "succeeded", "answer": answer, "budget": {"tokens": tokens, "max_tokens": budget}}
        self.steps = [
            Step(
                "decision", "route", "thinking", [Part("text", "...")], metrics={"mode": mode, "difficulty": difficulty}
            )
        ]
        if thinking:
            self.steps.append(
                Step("thought", "think", "thinking", [Part("reasoning", thinking)], metrics={"tokens": tokens})
            )
        self.steps.append(Step("final", "compose", "final image", [Part("text", answer)]))


# ---------------------------------------------------------------------- parsing


def test_parse_strings_messages_and_traces():
    p = parse_completion("<think>\nhmm\n</think>\n\nYes.")
    assert (p.thinking, p.answer, p.closed, p.leaked) == ("hmm", "Yes.", True, False)
    p = parse_completion("hmm, still going</think>Yes.")  # template opened the block
    assert (p.thinking, p.answer) == ("hmm, still going", "Yes.")
    p = parse_completion("<think>\ncut off mid")
    assert p.thinking == "cut off mid" and not p.closed and p.answer == ""
    p = parse_completion([{"role": "assistant", "reasoning_content": "why", "content": "Yes."}])
    assert (p.thinking, p.answer) == ("why", "Yes.")
    p = parse_completion([{"role": "assistant", "content": [{"type": "text", "text": "<think>a</think>b"}]}])
    assert (p.thinking, p.answer) == ("a", "b")
    p = parse_completion(FakeTrace("deep thought", 12, "on", "Done."))
    assert (p.thinking, p.answer, p.thinking_tokens, p.mode) == ("deep thought", "Done.", 12, "on")
    with pytest.raises(InputError):
        parse_completion(42)


# -------------------------------------------------------------- mode compliance


def test_mode_compliance_known_scores():
    completions = [
        "A red ball.",  # off, clean                    -> 1.0
        "<think>\nI should plan.\n</think>\nA red ball.",  # off, but thought              -> 0.0
        "Sure. <think>\n\n</think> A red ball.",  # off, empty block leaks         -> 0.5
        f"<think>\n{WORDS}\n</think>\nA red ball.",  # on, 40 tokens >= 32           -> 1.0
        "<think>\nw0 w1 w2 w3 w4 w5 w6 w7\n</think>\nok",  # on, 8 of 32 tokens           -> 0.25
        "A red ball.",  # on, no thinking               -> 0.0
        f"<think>\n{WORDS}",  # on, never closed              -> 0.5
    ]
    modes = ["off", "off", "off", "on", "on", "on", "on"]
    assert mode_compliance_reward(completions, mode=modes) == [1.0, 0.0, 0.5, 1.0, 0.25, 0.0, 0.5]


def test_mode_compliance_auto_uses_difficulty():
    thought, direct = f"<think>\n{WORDS}\n</think>\nx", "x"
    got = mode_compliance_reward(
        [thought, direct, thought, direct], mode="auto", difficulty=["hard", "easy", "easy", "hard"]
    )
    assert got == [1.0, 1.0, 0.0, 0.0]
    assert mode_compliance_reward([thought, f"<think>\n{WORDS}"], mode="auto") == [1.0, 0.0]


def test_mode_compliance_reads_traces_and_a_tokenizer():
    traces = [FakeTrace("", 0, "off", "Done."), FakeTrace("deep", 40, "on", "Done."), FakeTrace("x", 3, "off", "D")]
    assert mode_compliance_reward(traces) == [1.0, 1.0, 0.0]
    # A tokenizer-like object changes the count: 8 characters -> 8 tokens.
    chars = type("Chars", (), {"encode": staticmethod(lambda text, add_special_tokens=False: list(text))})()
    assert mode_compliance_reward(["<think>abcdefgh</think>x"], mode="on", tokenizer=chars, min_thinking_tokens=16) == [
        0.5
    ]


def test_mode_compliance_needs_a_mode():
    with pytest.raises(InputError) as e:
        mode_compliance_reward(["x"])
    assert e.value.field == "mode"
    with pytest.raises(InputError):
        mode_compliance_reward(["x", "y"], mode=["on"])


# ----------------------------------------------------------------------- budget


def test_budget_reward_known_scores():
    completions = [
        f"<think>\n{WORDS}\n</think>\nok",  # 40 tokens, budget 40 -> 1.0
        f"<think>\n{WORDS}\n</think>\nok",  # 40 tokens, budget 20 -> over by 20 -> 0.0
        f"<think>\n{WORDS}\n</think>\nok",  # 40 tokens, budget 32 -> over by 8  -> 0.75
        f"<think>\n{WORDS}",  # within 100 but never closed -> 0.5
        "ok",  # no budget given -> None
    ]
    assert budget_reward(completions, budget_tokens=[40, 20, 32, 100, None]) == [1.0, 0.0, 0.75, 0.5, None]


def test_budget_reward_from_trace():
    assert budget_reward([FakeTrace("t", 50, "on", "x", budget=64), FakeTrace("t", 96, "on", "x", budget=64)]) == [
        1.0,
        0.5,
    ]


# ------------------------------------------------------------------ calibration


def think(n: int) -> str:
    return "<think>\n" + " ".join(f"w{i}" for i in range(n)) + "\n</think>\nok"


def test_auto_calibration_perfect_inverted_and_flat():
    diffs = [0.1, 0.4, 0.7, 0.9]
    assert auto_calibration_reward([think(n) for n in (0, 10, 30, 80)], difficulty=diffs) == [1.0] * 4
    assert auto_calibration_reward([think(n) for n in (80, 30, 10, 0)], difficulty=diffs) == [0.0] * 4
    assert auto_calibration_reward([think(5)] * 4, difficulty=diffs) == [0.5] * 4


def test_auto_calibration_per_item_blame():
    # Easy items think 0 and 5, hard items 40 and 2: the hard item that barely thought is to blame.
    got = auto_calibration_reward(
        [think(0), think(5), think(40), think(2)], difficulty=["easy", "easy", "hard", "hard"]
    )
    assert got == [1.0, 0.5, 1.0, 0.5]


def test_auto_calibration_only_scores_auto_items():
    got = auto_calibration_reward(
        [think(0), think(50), think(50)], difficulty=[0.1, 0.9, 0.9], mode=["auto", "auto", "on"]
    )
    assert got == [1.0, 1.0, None]


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


# --------------------------------------------------------------------- protocol


def test_protocol_reward_known_scores():
    unclosed = '<think>\n<sketch id="s1">\nball: red\n<sketch id="s2">\nball: blue\n</sketch>\n</think>\nok'
    completions = [
        GOOD,  # 1.0
        GOOD.replace('<final_image ref="s1"/>', ""),  # no final: 0.6
        GOOD.replace('ref="s1"/>', 'ref="s9"/>'),  # final names a missing draft: 0.8
        GOOD.replace('<sketch id="s1">', "<sketch>"),  # no draft id: final 0.2 + 0.3 + 0
        unclosed,  # unclosed tag, no final
        "Here. <final_image>\nball: small, red\n</final_image>",  # off-style answer: 1.0
    ]
    got = protocol_reward(completions)
    assert got[0] == 1.0 and got[1] == pytest.approx(0.6) and got[2] == pytest.approx(0.8)
    assert got[3] == pytest.approx(0.4 * 0.5 + 0.3 + 0.0)
    assert got[4] < 0.5 and got[5] == 1.0


def test_rewards_registry_has_trainer_signatures():
    for fn in REWARDS.values():
        out = fn(
            [GOOD, "x"],
            mode=["on", "off"],
            difficulty=[0.9, 0.1],
            budget_tokens=[100, 100],
            prompts=["a", "b"],
            completion_ids=[[1], [2]],
        )
        assert len(out) == 2 and all(v is None or 0.0 <= v <= 1.0 for v in out)
