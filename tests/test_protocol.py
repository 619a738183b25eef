"""The step protocol: tags on a stream, scene lines, and malformed input as findings."""

from hypothesis import given, settings
from hypothesis import strategies as st

from mmthink.core.tags import (
    ProblemEvent,
    StreamParser,
    TagEvent,
    TextEvent,
    format_observation,
    format_tag,
    parse_steps,
    strip_tags,
)
from mmthink.modalities.image.scene import parse_scene
from mmthink.modalities.registry import tagset

DEMO = """I imagine the scene.
<sketch id="s1">
planet: large, blue-green, right, background
battlecruiser: huge, grey, left, foreground
starfighter x5: small, silver, center
laser beam x3: red, between starfighter and battlecruiser
nebula: purple glow, background
</sketch>
<observation ref="s1" score="0.58">planet is 60% hidden</observation>
<draft_audio id="a1" emotion="hope">We still have time to heal our planet.</draft_audio>
<frame id="f1" scene="1" seconds="4">rocket: tall, white, center</frame>
<music id="m1" mood="wonder" seconds="12"></music>
<final_image ref="s3"/>"""


def test_all_design_tags_parse():
    tags, problems = parse_steps(DEMO, tagset())
    assert problems == []
    assert [t.name for t in tags] == ["sketch", "observation", "draft_audio", "frame", "music", "final_image"]
    assert tags[1].attrs == {"ref": "s1", "score": "0.58"}
    assert tags[2].body == "We still have time to heal our planet."
    assert tags[-1].is_final and tags[-1].attrs["ref"] == "s3"


def test_stream_detects_close_as_it_arrives_char_by_char():
    p = StreamParser(tagset())
    seen_at = None
    for i, ch in enumerate(DEMO):
        if any(isinstance(e, TagEvent) and e.tag.name == "sketch" for e in p.feed(ch)):
            seen_at = i
            break
    assert seen_at == DEMO.index("</sketch>") + len("</sketch>") - 1


def test_scene_lines():
    tags, _ = parse_steps(DEMO, tagset())
    scene, findings = parse_scene(tags[0].body)
    assert findings == []
    names = [e.name for e in scene.elements]
    assert names == ["planet", "battlecruiser", "starfighter", "laser beam", "nebula"]
    sf = scene.find("starfighters")
    assert sf.count == 5 and sf.size == "small" and sf.colors == ["silver"] and sf.h == "center"
    laser = scene.find("laser beam")
    assert laser.relations[0].kind == "between" and laser.relations[0].target2 == "battlecruiser"
    assert scene.find("planet").depth == "background"
    again, _ = parse_scene(scene.format())
    assert again.format() == scene.format()


def test_relations_and_setting():
    scene, findings = parse_scene(
        "setting: dusk, sea\nstyle: cinematic\nlamp: above table\ntable: large\ncat: below chair, left of table"
    )
    assert scene.setting == ["dusk", "sea"] and scene.style == ["cinematic"]
    assert scene.find("lamp").relations[0].kind == "above"
    assert any("chair" in f for f in findings)  # relation names a missing element


def test_malformed_inputs_are_findings_not_exceptions():
    _, problems = parse_steps("<sketch id='s1'>cat: red", tagset())
    assert any("unclosed <sketch>" in p for p in problems)
    _, problems = parse_steps('<sketchy id="x">hi</sketchy>', tagset())
    assert any("unknown tag <sketchy>" in p for p in problems)
    _, problems = parse_steps('<sketch id="s1" =bad>cat</sketch>', tagset())
    assert any("bad attribute" in p for p in problems)
    _, problems = parse_steps("</sketch> stray", tagset())
    assert any("stray" in p for p in problems)


def test_ten_thousand_elements_are_capped_with_a_finding():
    body = "\n".join(f"thing{i}: red" for i in range(10_000))
    scene, findings = parse_scene(body)
    assert len(scene.elements) == 64
    assert any("10000 elements" in f for f in findings)


def test_bad_counts_are_clamped():
    scene, findings = parse_scene("cat x0: red\ndog x999: brown")
    assert scene.find("cat").count == 1 and scene.find("dog").count == 50
    assert len(findings) == 2


def test_format_round_trip_and_escaping():
    tag = format_tag("draft_audio", {"id": "a1", "emotion": 'ho"pe'}, "text")
    tags, problems = parse_steps(tag, tagset())
    assert problems == [] and tags[0].attrs["emotion"] == 'ho"pe'
    obs = format_observation("s1", 0.5, "a <b> c")
    tags, problems = parse_steps(obs, tagset())
    assert problems == [] and tags[0].attrs["score"] == "0.50"


def test_plain_angle_brackets_are_text():
    p = StreamParser(tagset())
    events = p.feed("a < b and c > d") + p.finish()
    assert all(isinstance(e, TextEvent) for e in events)
    assert strip_tags('x <sketch id="s">cat: red</sketch> y', tagset()) == "x  y"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("<>/=\"' abcdexyz_:0123456789\n,")
            + [
                "<sketch",
                "</sketch>",
                "<final_image",
                "/>",
                "<observation",
                "id=",
                "between ",
                " and ",
                "<draft_audio ",
                "</draft_audio>",
                "x5",
                "cat: red, left of dog",
            ]
        ),
        max_size=120,
    ).map("".join)
)
def test_fuzz_never_raises(text):
    p = StreamParser(tagset())
    events = []
    for i in range(0, len(text), 7):
        events += p.feed(text[i : i + 7])
    events += p.finish()
    for e in events:
        assert isinstance(e, (TextEvent, TagEvent, ProblemEvent))
        if isinstance(e, TagEvent):
            parse_scene(e.tag.body)
