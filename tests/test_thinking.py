"""Thinking modes, soft switches, the auto decision and the budget ledger."""

import pytest

from mmthink.errors import InputError
from mmthink.thinking import Budget, ThinkingConfig, count_tokens, resolve_mode, soft_switch, strip_soft_switches


def test_resolution_order():
    assert resolve_mode("off", "draw a cat /think", "on", "image").mode == "off"
    d = resolve_mode(None, "draw a cat /no_think", "on", "image")
    assert d.mode == "off" and d.source == "soft switch"
    d = resolve_mode(None, "draw a cat /no_think then /think", "off", "image")
    assert d.mode == "on"
    assert resolve_mode(None, "draw a cat", "off", "image").source == "default"
    assert soft_switch("path/to/think") is None
    assert strip_soft_switches("a cat /no_think") == "a cat"


def test_auto_thinks_more_on_hard_requests():
    easy = resolve_mode("auto", "a lighthouse at dusk", "on", "image")
    hard = resolve_mode(
        "auto", "three red apples on a table, a blue cup to the left of them and a lamp above", "on", "image"
    )
    assert easy.mode == "off" and hard.mode == "on"
    assert hard.difficulty > easy.difficulty
    assert "difficulty" in hard.reason


def test_config_validation_names_the_field():
    with pytest.raises(InputError, match="budget-tokens"):
        ThinkingConfig(budget_tokens=-1).validate()
    with pytest.raises(InputError, match="thinking"):
        ThinkingConfig(mode="maybe").validate()
    with pytest.raises(InputError, match="max-drafts"):
        ThinkingConfig(max_drafts=0).validate()
    with pytest.raises(InputError, match="min-tokens"):
        ThinkingConfig(budget_tokens=10, min_tokens=20).validate()


def test_budget_ledger_round_trip():
    b = Budget(max_tokens=10, max_drafts=2)
    assert b.spent() is None
    b.tokens = 10
    assert "token" in b.spent()
    b2 = Budget.from_dict(b.to_dict())
    assert b2.tokens == 10 and b2.tokens_left() == 0
    b3 = Budget(max_drafts=1, drafts=1)
    assert "draft" in b3.spent()
    assert count_tokens("Hello, world!") == 4
