"""The video demo, probed as a player would see it."""

import pytest

pytest.importorskip("moviepy")

from mmthink import Agent, load_trace  # noqa: E402
from mmthink.media.ffprobe import probe  # noqa: E402


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
