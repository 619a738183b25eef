"""A film is held against its plan: failed frames are redrawn, and a film that lacks a planned scene,
narration line or music cue, or stands in a frame that never passed, is ``unmet`` with findings that say
what to draw. Everything runs through the public API with the embedded reasoner."""

import pytest

pytest.importorskip("moviepy")

from mmthink import Agent, load_trace  # noqa: E402
from mmthink.modalities.video.plan import film_plan  # noqa: E402
from mmthink.modalities.video.probe import probe  # noqa: E402


@pytest.fixture(scope="module")
def agent():
    return Agent.from_profile("embedded")


def _frames(trace):
    return [d for d in trace.drafts() if d.metrics.get("tag") == "frame"]


def test_a_frame_that_never_passes_is_redrawn_then_named(agent, tmp_path):
    # Scene 1 cannot pass: a huge spacecraft "in front of" two small moons stands between them and hides
    # both, whatever is moved (in front of one small thing it stands to its side, and that passes).
    # Scene 2's first frame is nearly empty; its redraw passes and is the one cut into the film.
    res = agent.run(
        'scene 1: a huge spacecraft in front of two small moons "We left home."; '
        "scene 2: a white snowman in a snowy field",
        modality="video",
        out=tmp_path,
    )
    assert res.status == "unmet", res.findings
    assert res.final is not None and probe(res.final)["duration"] > 0
    trace = load_trace(res.trace)
    frames = _frames(trace)
    scene1 = [d for d in frames if d.metrics["attrs"]["scene"] == "1"]
    assert len(scene1) >= 2, "the failed frame was not redrawn"
    assert all(d.metrics["attrs"].get("of") == "f1" for d in scene1[1:])
    bodies = [d.parts[0].text for d in scene1]
    assert len(set(bodies)) == len(bodies), "a redraw repeated a frame already drawn"
    verdicts = {o.ref: o for o in trace.observations()}
    assert not any(verdicts[d.ref].passed for d in scene1)
    scene2 = [d.ref for d in frames if d.metrics["attrs"]["scene"] == "2"]
    assert scene2 == ["f2", "f2b"] and not verdicts["f2"].passed and verdicts["f2b"].passed
    final = trace.steps[-1].metrics
    used = final["ref"].split(",")
    assert used[0].split("+")[0] == scene1[-1].ref and used[1] == "f2b"
    stood = [f for f in res.findings if f.startswith("stood in:")]
    assert len(stood) == 1 and f"scene 1 uses frame {scene1[-1].ref}, which did not pass" in stood[0]
    assert "hidden" in stood[0]
    assert final["score"] <= 0.5 * final["file_score"]  # one of two scenes stands in: the film does not score 1.0
    # The redraws happened while the budget allowed; the rest of the film was still made.
    tags = [d.metrics["tag"] for d in trace.drafts()]
    assert "music" in tags and "draft_audio" in tags


def test_a_one_frame_silent_film_of_a_multi_scene_request_is_unmet(agent, tmp_path):
    # One draft of budget: the first frame is drawn, then the film is cut from what there is.
    res = agent.run(
        'scene 1: a rocket on the launch pad at dawn "We have always looked up."; '
        "scene 2: a castle under the moon; scene 3: a whale in the sea, with calm music",
        modality="video",
        out=tmp_path,
        max_drafts=1,
    )
    assert res.status == "unmet"
    info = probe(res.final)
    assert info["duration"] < 8.0  # one scene, no narration: the short silent film the plan does not allow
    trace = load_trace(res.trace)
    assert [d.ref for d in trace.drafts()] == ["f1"]
    final = trace.steps[-1].metrics
    assert final["passed"] is False
    assert final["plan"] == {"scenes": [1, 2, 3], "narrated": [1], "music": True}
    found = final["findings"]
    assert any('scenes 2, 3 have no frame: draw <frame scene="2">' in f for f in found), found
    assert any(
        "no narration in scene 1" in f and '<draft_audio scene="1">We have always looked up.</draft_audio>' in f
        for f in found
    ), found
    assert any(
        "the film has no music" in f and "the request asks for it ('music')" in f and "<music " in f for f in found
    ), found
    text = " ".join(res.findings)
    assert "failed its own critique" in text and "have no frame" in text


def test_planned_narration_missing_is_flagged_and_budget_kept_for_the_rest(agent, tmp_path):
    # Three drafts. Scene 1's first frame fails, but the budget left (2) is what the rest of the film needs
    # (scene 2's frame, the music, the narration), so it is not redrawn; the budget then ends before the
    # narration the shot list gives is said. Both are findings.
    res = agent.run(
        'scene 1: a white snowman in a snowy field "Then winter came."; scene 2: a rocket on the launch pad at dawn',
        modality="video",
        out=tmp_path,
        max_drafts=3,
    )
    assert res.status == "unmet"
    trace = load_trace(res.trace)
    assert [d.ref for d in trace.drafts()] == ["f1", "f2", "m1"]
    assert any("the draft budget left (2) is needed for the rest of the film" in s.text for s in trace.thoughts())
    final = trace.steps[-1].metrics
    assert final["plan"] == {"scenes": [1, 2], "narrated": [1], "music": True}
    assert any('no narration in scene 1 ("Then winter came.")' in f for f in final["findings"]), final["findings"]
    assert not any("music" in f for f in final["findings"])  # the cue was written and is heard
    assert any(f.startswith("stood in: scene 1 uses frame f1,") for f in res.findings), res.findings


def test_film_plan_reads_the_request_and_the_drafts():
    drafts = [
        {"id": "f1", "tag": "frame", "attrs": {"scene": "1"}},
        {"id": "f4", "tag": "frame", "attrs": {}},  # no scene: the composer cuts it as scene 1
        {"id": "n3", "tag": "draft_audio", "attrs": {"scene": "3"}, "body": "  And  home. "},
        {"id": "a1", "tag": "draft_audio", "attrs": {}, "body": "no scene: placed nowhere"},
        {"id": "m1", "tag": "music", "attrs": {"mood": "calm", "seconds": "9"}, "error": "synth failed"},
    ]
    plan = film_plan('scene 1: a boat "Off we go."; scene 2: a storm', drafts)
    assert plan.scenes == [1, 2, 3]
    assert plan.narration == {1: "Off we go.", 3: "And home."}
    assert plan.music and "m1 was written" in plan.music_why and plan.music_hint == {"mood": "calm", "seconds": "9"}
    quiet = film_plan("a film about the sea", [{"id": "f1", "tag": "frame", "attrs": {"scene": "2"}}])
    assert quiet.scenes == [2] and quiet.narration == {} and not quiet.music
    assert film_plan("a short film with a soundtrack", []).music
