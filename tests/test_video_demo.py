"""The video demo, probed as a player would see it."""

import pytest

pytest.importorskip("moviepy")

from mmthink import Agent, load_trace  # noqa: E402
from mmthink.modalities.video.probe import probe  # noqa: E402


def test_video_demo_end_to_end(tmp_path):
    agent = Agent.demo("video")
    res = agent.run(agent.reasoner.script.request, out=tmp_path)
    assert res.ok, res.reason
    info = probe(res.final)
    kinds = {s["type"]: s for s in info["streams"]}
    assert kinds["video"]["codec"] == "h264" and kinds["video"]["pix_fmt"] == "yuv420p"
    assert kinds["audio"]["codec"] == "aac"
    assert kinds["video"]["width"] % 2 == 0 and kinds["video"]["height"] % 2 == 0
    trace = load_trace(res.trace)
    final = trace.steps[-1]
    table = next(p.rows for p in final.parts if p.type == "table")
    planned = table[-1]["end"]
    assert 30 <= planned <= 60 and abs(info["duration"] - planned) <= 0.5
    frames = [d for d in trace.drafts() if d.metrics.get("tag") == "frame"]
    scenes = {d.metrics["attrs"]["scene"] for d in frames}
    assert scenes == {str(i) for i in range(1, len(table) + 1)}
    narration = [d for d in trace.drafts() if d.metrics.get("tag") == "draft_audio"]
    assert len(narration) >= len(table) and all(r["subtitle"] for r in table)
    assert not [s for s in trace.steps if s.kind == "error"]


def test_heuristic_films_a_shot_list_and_will_not_invent_one(tmp_path):
    agent = Agent.from_profile("embedded")
    res = agent.run(
        'scene 1: a rocket on the launch pad at dawn "We have always looked up."; scene 2: a castle under the moon',
        modality="video",
        out=tmp_path,
    )
    assert res.ok, res.reason
    info = probe(res.final)
    assert {s["type"] for s in info["streams"]} == {"video", "audio"}
    trace = load_trace(res.trace)
    tags = [d.metrics["tag"] for d in trace.drafts()]
    assert tags.count("music") == 1 and "draft_audio" in tags
    assert {d.metrics["attrs"]["scene"] for d in trace.drafts() if d.metrics["tag"] == "frame"} == {"1", "2"}
    final = trace.steps[-1].metrics
    assert final["passed"] and final["plan"] == {"scenes": [1, 2], "narrated": [1], "music": True}
    assert res.findings == []
    res = agent.run("please give me a short movie about space exploration", out=tmp_path)
    assert res.status == "refused" and "model reasoner" in res.reason and res.final is None
    assert any("no script" in s.text for s in load_trace(res.trace).thoughts())
