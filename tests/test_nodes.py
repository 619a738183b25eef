"""Each graph node on its own: a plain function of the state and a runtime with a fake context.

No agent, no graph, no real modality: the fakes below are the whole world the nodes see, which is
what lets the core stay modality-free.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mmthink.core.context import Components, RunContext
from mmthink.core.faults import FaultPolicy, InvalidOutput
from mmthink.core.nodes.act import act
from mmthink.core.nodes.compose import compose
from mmthink.core.nodes.critique import critique
from mmthink.core.nodes.review import review
from mmthink.core.nodes.route import route
from mmthink.core.nodes.think import think
from mmthink.core.runs import RUNS
from mmthink.core.tags import Tag, TagSet
from mmthink.core.turn import Delta, Turn
from mmthink.trace.reader import load_trace

TAGS = TagSet(draft=("doodle",), final=("final_doodle",))


@dataclass
class Art:
    """An artifact as the core sees one: bytes, an extension, a kind and facts."""

    data: bytes
    ext: str = "wav"
    kind: str = "audio"
    meta: dict[str, Any] = field(default_factory=dict)
    alternatives: list[Any] = field(default_factory=list)


def tone(n: int = 800) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(bytes((i * 7) % 256 for i in range(2 * n)))
    return buf.getvalue()


@dataclass
class Verdict:
    score: float
    passed: bool
    findings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        return "; ".join(self.findings) or "looks right"


class Doodler:
    """A handler: renders a doodle's body length into a tone; passes bodies of 5+ characters."""

    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render(self, tag: Tag, ctx: RunContext) -> Art:
        self.rendered.append(tag.body)
        return Art(tone(100 + len(tag.body)), meta={"seed": ctx.draft_seed(tag.id or "")})

    def critique(self, tag: Tag, art: Art, ctx: RunContext) -> Verdict:
        ok = len(tag.body) >= 5
        return Verdict(1.0 if ok else 0.3, ok, [] if ok else ["too short: write at least five letters"])

    def restore(self, record: dict[str, Any], data: bytes) -> Art:
        return Art(data)


class Composer:
    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Art, dict[str, Any]]:
        accepted = [d for d in ctx.drafts if d.get("passed")]
        if not accepted:
            raise ValueError("nothing accepted")
        return Art(tone(999)), {"ref": accepted[-1]["id"], "score": 1.0, "passed": True}


@dataclass
class Mod:
    name: str
    handlers: dict[str, Any]
    composer: Any
    final_tag: str


class Reasoner:
    name = "fake"

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.turns: list[Turn] = []

    def stream(self, turn: Turn) -> Iterator[Delta]:
        self.turns.append(turn)
        text = self.texts.pop(0) if self.texts else ""
        for i in range(0, len(text), 7):
            yield Delta(text[i : i + 7])


@dataclass
class Runtime:
    context: Components


def world(tmp_path: Path, *texts: str, **kw: Any) -> tuple[Runtime, Doodler, Reasoner]:
    doodler, reasoner = Doodler(), Reasoner(*texts)
    comp = Components(
        reasoner=reasoner,
        modalities={"doodle": Mod("doodle", {"doodle": doodler}, Composer(), "final_doodle")},
        tags={"doodle": TAGS},
        out_dir=tmp_path,
        policy=FaultPolicy.quick(timeout_s=3.0),
        **kw,
    )
    return Runtime(comp), doodler, reasoner


def routed(tmp_path: Path, rt: Runtime, **state: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"request": {"text": "a doodle", "modality": "doodle"}, "run_id": "r1", **state}
    s.update(route(s, rt))
    return s


def steps(s: dict[str, Any]) -> list[Any]:
    return RUNS.writer(s["run_dir"]).steps


def test_route_opens_the_bundle_and_resolves_the_modality(tmp_path: Path) -> None:
    rt, _, _ = world(tmp_path, detect=lambda text: ("doodle", "it says doodle"))
    s = routed(tmp_path, rt, request={"text": "a doodle of a cat", "modality": "auto"})
    assert s["modality"] == "doodle" and s["mode"] in ("on", "off") and s["drafts"] == []
    assert (tmp_path / "r1" / "manifest.json").is_file()
    first = steps(s)[0]
    assert first.node == "route" and "it says doodle" in first.text
    assert route(s, rt) == {}, "a resumed run is not routed again"


def test_route_refuses_a_modality_the_agent_lacks_before_writing_anything(tmp_path: Path) -> None:
    from mmthink.errors import InputError

    rt, _, _ = world(tmp_path)
    with pytest.raises(InputError) as e:
        route({"request": {"text": "x", "modality": "smell"}, "run_id": "r2"}, rt)
    assert e.value.field == "modality" and not (tmp_path / "r2").exists()


def test_think_stops_at_the_closing_tag_and_hands_on_the_draft(tmp_path: Path) -> None:
    rt, _, reasoner = world(tmp_path, 'Let me try. <doodle id="d1">hello</doodle> and more text that is never read')
    s = routed(tmp_path, rt)
    update = think(s, rt)
    assert update["pending"]["name"] == "doodle" and update["pending"]["body"] == "hello"
    assert update["transcript"].endswith("</doodle>"), "the thought is cut at the tag"
    assert reasoner.turns[0].tags == TAGS, "the reasoner is told the modality's tags"
    assert steps(s)[-1].kind == "thought"


def test_think_turns_protocol_mistakes_into_an_observation(tmp_path: Path) -> None:
    rt, _, _ = world(tmp_path, '<doodles id="x">oops</doodles> I am done.')
    s = routed(tmp_path, rt)
    update = think(s, rt)
    assert "observation" in update["transcript"] and "unknown tag ‹doodles›" in update["transcript"]
    assert update.get("pending") is None


def test_act_renders_saves_and_records_a_draft(tmp_path: Path) -> None:
    rt, doodler, _ = world(tmp_path)
    s = routed(tmp_path, rt, pending={"name": "doodle", "attrs": {"id": "d1"}, "body": "hello"})
    s["pending"] = {"name": "doodle", "attrs": {"id": "d1"}, "body": "hello"}
    update = act(s, rt)
    [d] = update["drafts"]
    assert d["id"] == "d1" and d["asset"].startswith("assets/") and doodler.rendered == ["hello"]
    assert (tmp_path / "r1" / d["asset"]).is_file() and update["pending"] is None
    assert update["budget"]["drafts"] == 1


def test_act_fails_the_run_on_output_no_critic_should_see(tmp_path: Path) -> None:
    def never(art: Any, limits: Any, what: str) -> None:
        raise InvalidOutput(what, "the audio is silent")

    rt, _, _ = world(tmp_path, checks={"audio": never})
    s = routed(tmp_path, rt)
    s["pending"] = {"name": "doodle", "attrs": {"id": "d1"}, "body": "hello"}
    update = act(s, rt)
    assert update["status"] == "failed" and "silent" in update["reason"] and update["drafts"][0]["error"]
    trace = load_trace(tmp_path / "r1")
    assert trace.status == "failed" and trace.steps[-1].kind == "error", "the bundle is closed, readable"


def test_critique_writes_the_verdict_back(tmp_path: Path) -> None:
    rt, _, _ = world(tmp_path)
    s = routed(tmp_path, rt)
    s["pending"] = {"name": "doodle", "attrs": {"id": "d1"}, "body": "hi"}
    s.update(act(s, rt))
    update = critique(s, rt)
    d = update["drafts"][-1]
    assert d["passed"] is False and d["score"] == pytest.approx(0.3)
    assert 'ref="d1"' in update["transcript"] and "too short" in update["transcript"]


def test_review_returns_only_the_keys_a_revision_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import langgraph.types

    rt, _, _ = world(tmp_path)
    s = routed(tmp_path, rt)
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(langgraph.types, "interrupt", lambda payload: seen.append(payload) or "revise: bigger")
    update = review(s, rt)
    assert seen[0]["type"] == "review" and seen[0]["options"] == ["approve", "revise", "abort"]
    assert set(update) == {"reviews", "transcript", "closed", "final_tag", "force_close", "answer", "pending"}
    assert "bigger" in update["transcript"] and update["closed"] is False


def test_compose_builds_the_final_and_closes_the_bundle(tmp_path: Path) -> None:
    rt, _, _ = world(tmp_path)
    s = routed(tmp_path, rt)
    s["pending"] = {"name": "doodle", "attrs": {"id": "d1"}, "body": "hello"}
    s.update(act(s, rt))
    s.update(critique(s, rt))
    s["final_tag"] = {"name": "final_doodle", "attrs": {"ref": "d1"}, "body": ""}
    update = compose(s, rt)
    assert update["status"] == "succeeded" and update["final"]["ref"] == "d1"
    trace = load_trace(tmp_path / "r1")
    assert trace.status == "succeeded" and trace.final_path is not None and trace.steps[-1].kind == "final"


def test_compose_failure_keeps_the_bundle(tmp_path: Path) -> None:
    rt, _, _ = world(tmp_path)
    s = routed(tmp_path, rt)
    update = compose(s, rt)
    assert update["status"] == "failed" and "nothing accepted" in update["reason"]
    assert load_trace(tmp_path / "r1").status == "failed"


def test_a_served_graph_keeps_clients_in_their_lane(tmp_path: Path) -> None:
    """A client sets the request, thinking and review only: run ids, folders and limits are the server's."""
    from mmthink.agent import Agent
    from mmthink.core.graph import build_graph
    from mmthink.errors import InputError

    comp = Agent.from_profile("embedded", durable=False, out_dir=str(tmp_path / "served")).components()
    comp.fixed_out_dir = True
    graph = build_graph(served=comp).compile()
    evil = tmp_path / "elsewhere"
    out = graph.invoke(
        {
            "request": {"text": "a red kite", "modality": "image"},
            "run_id": "../../x",
            "run_dir": str(evil),
            "out_dir": str(evil),
        }
    )
    assert out["status"] in ("succeeded", "unmet") and not evil.exists()
    assert Path(out["run_dir"]).parent == tmp_path / "served" and out["run_id"] != "../../x"
    with pytest.raises(InputError, match="max_drafts"):
        graph.invoke({"request": {"text": "a red kite", "modality": "image"}, "thinking": {"max_drafts": 1000}})
    speech = graph.invoke({"request": {"text": 'say "we did it" joyfully', "modality": "speech"}})
    assert speech["thinking"]["max_drafts"] == 16, "a served speech run gets the speech draft budget"


def test_the_answer_a_person_reads_has_no_step_tags() -> None:
    from mmthink.core.nodes.common import clean_answer

    assert clean_answer('Here is the image.\n<final_image ref="s2"/>') == "Here is the image."
    assert clean_answer("<think>\n</think>Done. <final_speech/>") == "Done."
