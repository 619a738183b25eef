"""Property tests: arbitrary text, including malformed and adversarial step tags and scene lines,
goes through the protocol parser, the heuristic reasoner and the whole graph (as the request, and
as what a reasoner says) without an exception escaping and without a file landing outside the
run folder (ids and attributes such as ``../../x`` included).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import faults  # noqa: E402

from mmthink.agent import Agent  # noqa: E402
from mmthink.config import make_config  # noqa: E402
from mmthink.core.faults import FaultPolicy  # noqa: E402
from mmthink.core.tags import StreamParser, parse_steps, strip_tags
from mmthink.errors import InputError  # noqa: E402
from mmthink.modalities.image.scene import parse_scene
from mmthink.modalities.registry import planners, tagset
from mmthink.reasoners.base import DraftRecord, Turn  # noqa: E402
from mmthink.reasoners.heuristic import HeuristicReasoner  # noqa: E402
from mmthink.reasoners.scripted import DemoScript, ScriptedReasoner  # noqa: E402
from mmthink.request import Request  # noqa: E402
from mmthink.trace.reader import load_trace  # noqa: E402

FRAGMENTS = [
    '<sketch id="s1">',
    "</sketch>",
    '<sketch id="../../x">',
    '<sketch id="/etc/passwd">',
    "<sketch>",
    "</sketch",
    '<sketch id="a" id="b">',
    "<sketch id=unquoted>",
    '<sketch id="s1" revise="auto" of="../s0">',
    '<final_image ref="../../../escape"/>',
    "<final_image/>",
    '<final_image ref="s1">',
    "</final_image>",
    '<draft_audio id="..\\..\\x" emotion="../x">hi</draft_audio>',
    '<draft_audio id="a1" emotion="hope">',
    "</draft_audio>",
    '<frame id="f1" scene="-1" seconds="1e9">',
    '<music id="m/1" seconds="nan"></music>',
    '<observation ref="s1" score="nan">fine</observation>',
    "<think>",
    "</think>",
    "<<sketch>>",
    "<",
    ">",
    "/>",
    '<unknown_tag x="1">',
    "</final_speech>",
    "<final_video/>",
    "&lt;sketch&gt;",
    '"',
    "'",
    "planet x99999999: huge",
    "a x-3: between b and",
    "ship: left of ship",
    ": : :",
    "x0: red",
    "star x1000000000000: tiny",
    "laser beam x3: red, between starfighter and battlecruiser",
    "setting: space, stars",
    "style: " + "epic " * 20,
    "- * • :",
    "nebula: purple glow, background",
    "\x00",
    "\u202e",
    "ü",
    "\r\n",
    "\n",
    "  ",
    "\t",
    "🚀",
    "three red apples",
    'say "hello there" calmly',
]
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=30).map("".join)
GRAPH = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(TEXT, st.integers(min_value=1, max_value=9))
@settings(max_examples=300, deadline=None)
def test_protocol_parser_never_raises(text: str, chunk: int) -> None:
    tags, problems = parse_steps(text, tagset())
    assert all(isinstance(p, str) for p in problems)
    parse_scene(text)
    for tag in tags:
        parse_scene(tag.body)
    strip_tags(text, tagset())
    parser = StreamParser(tagset())
    events = []
    for i in range(0, len(text), chunk):
        events += parser.feed(text[i : i + chunk])
    events += parser.finish()


@given(TEXT, TEXT, st.sampled_from(["image", "speech"]), st.sampled_from(["on", "off"]))
@settings(max_examples=150, deadline=None)
def test_heuristic_reasoner_never_raises(prompt: str, transcript: str, modality: str, mode: str) -> None:
    drafts = [
        DraftRecord(t.id or "s1", t.name, dict(t.attrs), t.body, 0.3, False, ["too small"], {}, None)
        for t in parse_steps(transcript, tagset())[0]
        if t.is_draft
    ]
    turn = Turn(
        request=Request(text=prompt or "x", modality=modality),
        modality=modality,
        mode=mode,
        transcript=transcript,
        drafts=drafts,
        tokens_left=500,
        drafts_left=3,
    )
    out = "".join(d.text for d in HeuristicReasoner(planners()).stream(turn))
    parse_steps(out, tagset())
    forced = Turn(
        request=turn.request,
        modality=modality,
        mode=mode,
        transcript=transcript,
        drafts=drafts,
        force_close="draft budget spent (3/3)",
    )
    "".join(d.text for d in HeuristicReasoner(planners()).stream(forced))


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _run_sandboxed(make_agent, text: str, modality: str = "image") -> None:
    """Run in an empty folder made the working directory: every new file must be inside the run folder."""
    box = Path(tempfile.mkdtemp(prefix="mmthink-fuzz-"))
    here = os.getcwd()
    os.chdir(box)
    try:
        res = make_agent(box / "runs").run(text, modality=modality, seed=1, max_drafts=3)
        assert res.status in ("succeeded", "unmet", "refused", "failed", "stopped")
        run_dir = (box / "runs" / res.run_id).resolve()
        assert res.trace.resolve() == run_dir
        outside = [p for p in _files(box) if run_dir not in p.resolve().parents]
        assert outside == [], outside
        load_trace(run_dir)  # verifies every asset and step
    finally:
        os.chdir(here)
        import shutil

        shutil.rmtree(box, ignore_errors=True)


def _heuristic(out: Path) -> Agent:
    backend = faults.BoxBackend()
    return Agent(
        HeuristicReasoner(),
        config=make_config("embedded", out_dir=str(out)),
        modalities=faults.toy_modalities(backend),
        image_backend=backend,
        policy=FaultPolicy.quick(timeout_s=20.0),
    )


@given(TEXT)
@GRAPH
def test_graph_with_arbitrary_request_text(text: str) -> None:
    assume(text.strip())
    if "\x00" in text:  # a NUL cannot go into a manifest or a model: refused up front, nothing written
        with pytest.raises(InputError, match="^prompt: holds a NUL"):
            _heuristic(Path(tempfile.gettempdir()) / "never-made").stream(text)
        return
    _run_sandboxed(_heuristic, text)


@given(TEXT, TEXT, st.sampled_from(["image", "speech"]))
@GRAPH
def test_graph_with_arbitrary_reasoner_output(thinking: str, answer: str, modality: str) -> None:
    script = DemoScript("fuzz", "make something", modality, thinking, answer)

    def make(out: Path) -> Agent:
        backend = faults.BoxBackend()
        return Agent(
            ScriptedReasoner(script),
            config=make_config("embedded", out_dir=str(out)),
            modalities=faults.toy_modalities(backend),
            image_backend=backend,
            policy=FaultPolicy.quick(timeout_s=20.0),
        )

    _run_sandboxed(make, "make something", modality)


@pytest.mark.parametrize(
    "evil",
    [
        '<sketch id="../../x">\nplanet: red\n</sketch>\n<final_image ref="../../x"/>',
        '<sketch id="/tmp/abs">\nship: blue\n</sketch>',
        '<draft_audio id="../../x" emotion="../../y">hello</draft_audio>',
    ],
)
def test_path_like_ids_stay_inside_the_run(evil: str) -> None:
    test_graph_with_arbitrary_reasoner_output.hypothesis.inner_test(
        evil, "<final_image/>", "speech" if "audio" in evil else "image"
    )
