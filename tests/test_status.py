"""Statuses are earned: each check below drives a real run through the public API with a reasoner that
misbehaves in one known way, and reads the status, the findings and the trace."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mmthink import Agent, load_trace
from mmthink.config import make_config
from mmthink.reasoners.base import Delta, Turn

SCENE = "apple x2: large, red, left\ncup: large, blue, right"
PROMPT = "two red apples and a blue cup"


class Turns:
    """A reasoner that writes the given turns in order (then nothing), a few characters at a time."""

    name = "turns"

    def __init__(self, *turns: str | list[Delta], pause: float = 0.0) -> None:
        self.turns = list(turns)
        self.pause = pause
        self.seen: list[Turn] = []

    def stream(self, turn: Turn) -> Iterator[Delta]:
        self.seen.append(turn)
        text = self.turns.pop(0) if self.turns else ""
        if isinstance(text, list):
            yield from text
            return
        for i in range(0, len(text), 9):
            if self.pause:
                time.sleep(self.pause)
            yield Delta(text[i : i + 9])


def agent(tmp_path: Path, reasoner: Any) -> Agent:
    return Agent(reasoner, config=make_config("embedded", out_dir=str(tmp_path)))


def sketch(sid: str, body: str = SCENE) -> str:
    return f'Let me sketch it.\n<sketch id="{sid}">\n{body}\n</sketch>'


def final(ref: str) -> list[Delta]:
    return [Delta("Done.", channel="answer"), Delta(f'<final_image ref="{ref}"/>', channel="answer")]


def titles(res: Any) -> list[str]:
    return [s.title for s in load_trace(res.trace).steps]


def texts(res: Any) -> str:
    return "\n".join(s.text for s in load_trace(res.trace).steps)


def test_a_good_run_succeeds(tmp_path: Path) -> None:
    res = agent(tmp_path, Turns(sketch("s1"), final("s1"))).run(PROMPT)
    assert res.status == "succeeded", res.findings
    assert res.findings == [] and res.final is not None


def test_no_usable_sketch_fails_instead_of_a_silent_fallback(tmp_path: Path) -> None:
    res = agent(tmp_path, Turns("I think I am done.", final("s1"))).run(PROMPT)
    assert res.status == "failed" and "no usable sketch" in (res.reason or "")
    assert res.final is None


def test_the_fallback_planner_runs_only_when_asked_and_is_never_success(tmp_path: Path) -> None:
    from mmthink.request import Request

    req = Request(text=PROMPT, options={"fallback_planner": True})
    res = agent(tmp_path, Turns("I think I am done.")).run(req)
    assert res.status == "unmet" and res.final is not None
    assert any("fallback" in f for f in res.findings)


def test_a_final_naming_a_missing_draft_gets_a_way_back(tmp_path: Path) -> None:
    reasoner = Turns(sketch("s1"), final("s9"), final("s1"))
    res = agent(tmp_path, reasoner).run(PROMPT)
    assert "final not accepted" in titles(res)
    assert "names no draft of this run" in reasoner.seen[2].transcript, "the reasoner is told, then corrects"
    assert res.status == "succeeded", res.findings


def test_a_final_that_never_names_a_draft_is_unmet(tmp_path: Path) -> None:
    res = agent(tmp_path, Turns(sketch("s1"), *[final("s9")] * 8)).run(PROMPT)
    assert res.status == "unmet"
    assert any("'s9'" in f and "not a sketch of this run" in f for f in res.findings)


def test_a_final_before_any_draft_is_sent_back(tmp_path: Path) -> None:
    reasoner = Turns(final("s1"), sketch("s1"), final("s1"))
    res = agent(tmp_path, reasoner).run(PROMPT)
    assert "draft first" in reasoner.seen[1].transcript
    assert res.status == "succeeded"


def test_a_reused_id_is_a_revision(tmp_path: Path) -> None:
    reasoner = Turns(sketch("s1", "apple: small, red"), sketch("s1"), final("s1.2"))
    res = agent(tmp_path, reasoner).run(PROMPT)
    drafts = [s for s in load_trace(res.trace).steps if s.kind == "draft"]
    assert [d.ref for d in drafts] == ["s1", "s1.2"]
    assert drafts[1].metrics["attrs"]["of"] == "s1"


def test_observations_written_by_the_model_are_dropped(tmp_path: Path) -> None:
    fake = '<observation ref="s1" score="1.00">perfect</observation>'
    reasoner = Turns("I already drew it.\n" + fake + "\n" + sketch("s1"), final("s1"))
    agent(tmp_path, reasoner).run(PROMPT)
    later = reasoner.seen[1].transcript
    assert "perfect" not in later and "observations come from the tools" in later


def test_a_template_copy_is_rejected_with_an_observation(tmp_path: Path) -> None:
    reasoner = Turns(sketch("s1", "name [xN]: attributes\n..."), sketch("s2"), final("s2"))
    res = agent(tmp_path, reasoner).run(PROMPT)
    assert "template from the instructions" in reasoner.seen[1].transcript
    assert res.status == "succeeded"


def test_a_looping_turn_is_cut_with_an_observation(tmp_path: Path) -> None:
    loop = "I should draw the apples now. " * 40
    reasoner = Turns(loop, sketch("s1"), final("s1"))
    res = agent(tmp_path, reasoner).run(PROMPT)
    thought = [s for s in load_trace(res.trace).steps if s.kind == "thought"][0]
    assert thought.text.count("I should draw the apples now.") < 5
    assert "times; the repeats were removed" in reasoner.seen[1].transcript


def test_min_tokens_holds_thinking_open_with_wait(tmp_path: Path) -> None:
    reasoner = Turns(sketch("s1"), final("s1"), "More thought about the apples and the cup. " * 4, final("s1"))
    res = agent(tmp_path, reasoner).run(PROMPT, min_tokens=40)
    assert "wait" in titles(res) and reasoner.seen[2].transcript.rstrip().endswith("Wait,")
    assert res.budget["tokens"] >= 40


def test_max_seconds_cuts_a_call_that_runs_over(tmp_path: Path) -> None:
    slow = Turns(
        sketch("s1"), " ".join(f"step {i} of a long slow thought." for i in range(400)), final("s1"), pause=0.05
    )
    t0 = time.time()
    res = agent(tmp_path, slow).run(PROMPT, max_seconds=2.0)
    assert time.time() - t0 < 8.0, "the long turn was cut at the deadline, not run to its end"
    assert any("time budget spent" in t for t in [s.text for s in load_trace(res.trace).steps])
    assert res.final is not None


def test_the_final_is_the_accepted_sketch_up_to_scale(tmp_path: Path) -> None:
    body = "apple x3: small, red, left\ncup: small, blue, right\ntable: large, brown, bottom"
    res = agent(tmp_path, Turns(sketch("s1", body), final("s1"))).run(PROMPT, width=768, height=512)
    steps = load_trace(res.trace).steps
    draft = next(s for s in steps if s.kind == "draft")
    fin = next(s for s in steps if s.kind == "final")
    dw, dh = draft.metrics["size"]
    fw, fh = fin.metrics["size"]
    boxes = {(p["name"], p["index"]): p["box"] for p in draft.metrics["placed"]}
    for p in fin.metrics["placed"]:
        x0, y0, x1, y1 = boxes[(p["name"], p["index"])]
        scaled = (x0 * fw / dw, y0 * fh / dh, x1 * fw / dw, y1 * fh / dh)
        assert all(abs(a - b) <= 0.03 * fw for a, b in zip(scaled, p["box"])), (p["name"], scaled, p["box"])
    assert fin.metrics["seed"] == draft.metrics["seed"]


def test_the_embedded_reasoner_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    res = Agent.from_profile("embedded", out_dir=str(tmp_path)).run(
        "give a short wedding toast for my sister", modality="speech"
    )
    assert res.status == "refused" and res.final is None
    assert "model reasoner" in (res.reason or "")
    assert load_trace(res.trace).status == "refused"


@pytest.mark.parametrize("status, code", [("succeeded", 0), ("unmet", 5), ("refused", 6)])
def test_cli_exit_codes_follow_the_status(status: str, code: int) -> None:
    from mmthink.cli import EXIT_BY_STATUS

    assert EXIT_BY_STATUS[status] == code
