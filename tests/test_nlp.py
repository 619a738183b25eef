"""Request understanding (mmthink.modalities.image.nlp): on spaCy where installed, on the rules path always."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmthink.modalities.image import nlp, pipelines
from mmthink.modalities.image.nlp import ImageIntent, Wanted, check_meta, parse_image_request

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from gen_image_prompts import constraint_failures, generate, score  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl"
if not DEV.exists():
    DEV = ROOT / "tests" / "data" / "image_prompts_dev.jsonl"

HAS_SPACY = importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(nlp.SM_MODULE) is not None


def test_path_is_reported(path):
    it = parse_image_request("a cat")
    assert it.parser.startswith(path)
    assert nlp.parser_name() == it.parser


def test_rules_path_names_the_install_when_spacy_is_absent(monkeypatch):
    monkeypatch.delenv("MMTHINK_NLP", raising=False)
    monkeypatch.setattr(pipelines, "_STATE", {})
    real = importlib.util.find_spec
    monkeypatch.setattr(pipelines.importlib.util, "find_spec", lambda n, *a: None if n == "spacy" else real(n, *a))
    it = parse_image_request("two red apples on a table")
    assert it.parser.startswith("rules") and nlp.INSTALL_HINT in it.parser
    assert it.find("apple").count == 2 and it.find("apple").color == "red"


def test_meta_check_refuses_what_is_not_the_english_38_pipeline():
    good = {"lang": "en", "version": "3.8.0", "license": "MIT", "name": "core_web_sm"}
    comps = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]
    assert check_meta(good, comps).version == "3.8.0"
    for bad, word in (
        ({"lang": "de"}, "language"),
        ({"version": "3.7.1"}, "version"),
        ({"license": "CC BY-SA 4.0"}, "licence"),
    ):
        with pytest.raises(nlp.PipelineRejected, match=word):
            check_meta({**good, **bad}, comps)
    with pytest.raises(nlp.PipelineRejected, match="components"):
        check_meta(good, ["tok2vec", "ner"])
    with pytest.raises(nlp.PipelineRejected, match="vectors"):
        check_meta(good, comps, want_vectors=True)


@pytest.mark.skipif(not HAS_SPACY, reason=f"needs {nlp.INSTALL_HINT}")
def test_a_rejected_pipeline_falls_back_to_rules(monkeypatch):
    monkeypatch.delenv("MMTHINK_NLP", raising=False)
    monkeypatch.setattr(pipelines, "_STATE", {})

    def reject(meta, components, want_vectors=False):
        raise nlp.PipelineRejected("licence 'unknown' is not MIT")

    monkeypatch.setattr(pipelines, "check_meta", reject)
    it = parse_image_request("a red cat")
    assert it.parser == f"rules ({nlp.SM_DIST} rejected: licence 'unknown' is not MIT)"
    assert it.find("cat").color == "red"


@pytest.mark.skipif(not HAS_SPACY, reason=f"needs {nlp.INSTALL_HINT}")
def test_installed_pipeline_meta(monkeypatch):
    monkeypatch.delenv("MMTHINK_NLP", raising=False)
    info = nlp.pipeline_info()
    assert info is not None and info.lang == "en" and info.version == "3.8.0" and info.license == "MIT"
    assert {"tagger", "parser"} <= set(info.components)


def test_superset_of_the_earlier_parser():
    old = None
    for name in ("mmthink.modalities.image.understanding", "mmthink.modalities.image.understand"):
        try:
            old = importlib.import_module(name)
            break
        except ImportError:
            continue
    if old is None:
        pytest.skip("earlier parser not importable")
    for old_cls, new_cls in ((old.Wanted, Wanted), (old.ImageIntent, ImageIntent)):
        new_fields = {f.name: f for f in dataclasses.fields(new_cls)}
        for f in dataclasses.fields(old_cls):
            assert f.name in new_fields, f.name
            nf = new_fields[f.name]
            assert (nf.default, nf.default_factory) == (f.default, f.default_factory), f.name
        for f in new_fields.values():
            assert (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING or f.name == "name"
            ), f"new field {f.name} needs a default"
    assert (
        inspect.signature(old.parse_image_request).parameters.keys()
        == inspect.signature(parse_image_request).parameters.keys()
    )


@pytest.mark.skipif(not DEV.exists(), reason="dev set not present")
def test_dev_set(path):
    items = [json.loads(x) for x in DEV.read_text().splitlines() if x.strip()]
    for item in items:
        assert not constraint_failures(parse_image_request(item["prompt"]), item), item["prompt"]


def test_generated_prompts(path):
    """Prompts built from the whole object table: objects, counts, colours and positions recovered."""
    rep = score(generate(300, seed=20260), parse_image_request)
    assert rep["accuracy"] >= 0.97, rep["failures"][:10]


def test_generator_states_its_constraints():
    items = generate(12, seed=3)
    assert [it["tag"] for it in items[:6]] == ["single", "two", "count", "color", "color_attr", "position"]
    pos = items[5]
    rel, ref = pos["include"][1]["position"]
    assert rel in ("left of", "right of", "above", "below") and ref == 0
    assert generate(12, seed=3) == items and generate(12, seed=4) != items
    wrong = ImageIntent()
    assert constraint_failures(wrong, items[0])  # an empty reading fails


def test_compounds_and_colour_nouns(path):
    it = parse_image_request("a fire hydrant next to a cell phone")
    assert it.find("fire hydrant").relation == ("near", "cell phone") and it.find("cell phone")
    it = parse_image_request("an orange on a table")
    assert it.find("orange") and it.find("orange").color is None and it.find("table")
    it = parse_image_request("an orange cat sitting on a red chair")
    assert it.find("orange") is None and it.find("cat").color == "orange" and it.find("chair").color == "red"
    assert it.find("cat").relation == ("on", "chair")
    it = parse_image_request("a yellow school bus in front of a brick school")
    bus, school = it.find("school bus"), it.find("school")
    assert bus.color == "yellow" and bus.relation == ("in front of", "school") and school.materials == ["brick"]
    assert len(it.objects) == 2


def test_numbers_in_words_and_digits(path):
    it = parse_image_request("3 dogs, twelve eggs, a pair of shoes and a dozen roses")
    assert [(o.name, o.count) for o in it.objects] == [("dog", 3), ("egg", 12), ("shoe", 2), ("rose", 12)]
    it = parse_image_request("balloons in the sky")  # a plural without a number: some, drawn as three
    balloon = it.find("balloon")
    assert balloon.plural and balloon.count == 3 and not balloon.explicit_count


def test_modifiers(path):
    it = parse_image_request("a tiny wooden boat and a huge glass vase")
    boat, vase = it.find("boat"), it.find("vase")
    assert (boat.size, boat.materials) == ("tiny", ["wooden"]) and (vase.size, vase.materials) == ("huge", ["glass"])
    it = parse_image_request("a pixel art dragon in the style of Van Gogh")
    assert "pixel art" in it.style and any("van gogh" in s for s in it.style) and it.find("dragon")
    assert it.find("pixel") is None and it.find("art") is None
    it = parse_image_request("a watercolor painting of a sailboat")
    assert "watercolor painting" in it.style and [o.name for o in it.objects] == ["sailboat"]


def test_verbal_relations(path):
    it = parse_image_request("a giraffe wearing a scarf")
    assert it.find("scarf").relation == ("on", "giraffe") and it.find("scarf").verb == "worn by"
    assert any(r.kind == "wearing" and (r.subject, r.target) == ("giraffe", "scarf") for r in it.relations)
    it = parse_image_request("an astronaut riding a horse on the moon")
    assert it.find("astronaut").relation == ("on", "horse") and it.find("astronaut").verb == "riding"
    assert it.find("horse").relation == ("on", "moon")
    it = parse_image_request("a kid carrying a backpack")
    assert it.find("backpack").relation == ("near", "kid")
    assert [r.kind for r in it.relations] == ["carrying"]
    it = parse_image_request("a cat between a dog and a horse")
    cat = it.find("cat")
    assert cat.relation == ("between", "dog") and cat.relation2 == "horse"
    it = parse_image_request("a red kite flying over a tall tower")
    assert it.find("kite").relation == ("above", "tower")
    it = parse_image_request("a lamp to the left of a clock, a book under the lamp")
    assert it.find("lamp").relation == ("left of", "clock") and it.find("book").relation == ("below", "lamp")


def test_containers_parts_quantities_and_shared_verbs(path):
    it = parse_image_request("a cup of coffee on a wooden desk")
    assert it.find("cup").relation == ("on", "desk") and it.find("cup").modifiers == ["of coffee"]
    assert it.find("coffee") is None  # what the cup holds, not a second cup beside it
    it = parse_image_request("a dog with a frisbee in its mouth")
    assert it.find("frisbee").relation == ("near", "dog") and it.find("mouth") is None
    it = parse_image_request("a man and a woman holding hands on the beach")
    assert [o.name for o in it.objects] == ["man", "woman"] and not it.findings
    it = parse_image_request("a stack of books on a table")
    assert it.find("stack") is None and it.find("book").plural and it.find("book").relation == ("on", "table")
    it = parse_image_request("a snowman wearing a top hat and a scarf")
    assert it.find("top hat").relation == ("on", "snowman") == it.find("scarf").relation
    it = parse_image_request("a red car parked next to a blue truck")
    assert it.find("car").relation == ("near", "truck")
    it = parse_image_request("an old man reading a newspaper on a park bench")
    assert it.modality == "image" and it.find("newspaper") and not it.texts


def test_setting_time_season_weather(path):
    it = parse_image_request("a lighthouse on a beach at sunset in winter during a storm")
    assert it.time_of_day == ["sunset"] and it.season == ["winter"] and it.weather == ["storm"]
    assert "beach" in it.places and {"beach", "sunset", "winter", "storm"} <= set(it.setting)
    assert [o.name for o in it.objects] == ["lighthouse"]
    it = parse_image_request("a foggy morning in the fall with a snow globe")
    assert it.weather == ["fog"] and it.time_of_day == ["morning"] and it.season == ["autumn"]
    assert it.find("snow globe")


def test_text_to_show_and_durations(path):
    it = parse_image_request("a sign that says OPEN")
    assert it.texts == ["OPEN"] and it.find("sign") and it.find("open") is None
    it = parse_image_request("a logo for a coffee shop called Bean There")
    assert it.texts == ["Bean There"] and it.find("bean") is None
    it = parse_image_request('a banner reading "Happy Birthday, Sam!" above a cake')
    assert it.texts == ["Happy Birthday, Sam!"] and it.find("banner").relation == ("above", "cake")
    it = parse_image_request("a 30-second wedding toast")
    assert it.durations == [30.0] and it.find("second") is None
    assert parse_image_request("a two minute story").durations == [120.0]


@pytest.mark.parametrize(
    "text,modality",
    [
        ("read this calmly: the meeting moved to noon", "speech"),
        ('whisper "goodnight, little one"', "speech"),
        ('announce excitedly: "we won the cup"', "speech"),
        ("a 30-second wedding toast", "speech"),
        ("tell me a bedtime story about a brave little turtle", "speech"),
        ("a happy birthday message for my mom", "speech"),
        ("say hello to the team", "speech"),
        ("read the poem aloud", "speech"),
        ("a 20-second trailer for a space adventure", "video"),
        ("an animation of a bouncing ball", "video"),
        ("a short film about a lighthouse keeper", "video"),
        ("a shot list for a cooking video", "video"),
        ("a clip art of a cat", "image"),
        ("a movie theater with red seats", "image"),
        ("a sign that says OPEN", "image"),
        ("a photo of a dog telling a story", "image"),
        ("a cat on a mat", "image"),
        ("a toaster on a kitchen counter", "image"),
        ("toast on a plate", "image"),
        ("a toast for my sister's wedding", "speech"),
        ("a speech bubble above a cat", "image"),
        ("a trailer parked by a lake", "image"),
        ("a movie trailer", "video"),
        ("an old man reading a newspaper", "image"),
    ],
)
def test_routing(path, text, modality):
    it = parse_image_request(text)
    assert it.modality == modality, it.modality_reason
    assert it.modality_reason.startswith(modality + ":")


def test_bad_input_gives_findings_never_an_exception(path):
    long = " ".join(["a red cat on a wooden chair"] * 1430)  # 10,010 words
    it = parse_image_request(long)
    assert any("10010 words" in f and "first" in f for f in it.findings)
    assert it.find("cat").color == "red"
    it = parse_image_request("🐱🐶🎉")
    assert it.findings == ["no words to read: the request holds only symbols or emoji"] and not it.objects
    it = parse_image_request("un chat noir sur une table près de la fenêtre")
    assert any("English" in f for f in it.findings)
    it = parse_image_request("一只猫坐在桌子上")
    assert any("English" in f for f in it.findings)
    assert parse_image_request("").findings == ["the request is empty"]
    assert parse_image_request(None).findings  # type: ignore[arg-type]
    it = parse_image_request("a frobnicator next to a cat")
    assert any("frobnicator" in f for f in it.findings)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(max_size=200)
    | st.lists(
        st.sampled_from(
            [
                "a",
                "the",
                "two",
                "red",
                "cat",
                "on",
                "left",
                "of",
                "-",
                "between",
                "and",
                "it",
                "them",
                '"',
                "called",
                "30",
                "second",
                "in",
                "front",
                "wearing",
                ",",
                "orange",
                "fire",
                "hydrant",
                "say",
                "video",
                "😀",
                "\n",
            ]
        ),
        max_size=40,
    ).map(" ".join)
)
def test_any_text_reads_without_error(path, text):
    it = parse_image_request(text)
    assert isinstance(it, ImageIntent) and it.modality in ("image", "speech", "video")
    for o in it.objects:
        assert o.name and o.count >= 1


def _fresh_process(*lines: str) -> list[str]:
    """Run ``lines`` as a script in a new interpreter (what a first import does is per process); its output lines."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


@pytest.mark.skipif(not HAS_SPACY, reason=f"needs {nlp.INSTALL_HINT}")
def test_the_pipeline_loads_without_torch_and_torch_still_imports_after() -> None:
    """spaCy's start-up is mostly thinc importing torch, which the English pipelines never use: it is skipped,
    and only for thinc (torch imported afterwards, by diffusers or the hf reasoner, still works)."""
    lines = _fresh_process(
        "import sys",
        "from mmthink.modalities.image.pipelines import pipeline",
        "nlp = pipeline()",
        "assert nlp is not None",
        "print('torch' in sys.modules)",
        "print([t.dep_ for t in nlp('a cat under a table')])",
        "import torch",
        "print(torch.zeros(2).sum().item())",
    )
    assert lines[0] == "False"
    assert "prep" in lines[1] and "pobj" in lines[1]
    assert lines[2] == "0.0"


@pytest.mark.skipif(not HAS_SPACY, reason=f"needs {nlp.INSTALL_HINT}")
def test_spacy_cli_is_deferred_until_used_and_then_real() -> None:
    """spaCy's command line (typer, click, requests…) is not imported to parse; the first use gets the real one."""
    lines = _fresh_process(
        "import sys",
        "from mmthink.modalities.image.pipelines import pipeline, import_spacy",
        "assert pipeline() is not None",
        "spacy = import_spacy()",
        "print(sorted(m for m in ('typer', 'click', 'requests', 'spacy.cli') if m in sys.modules))",
        "print(type(spacy.cli.info).__name__, sorted(spacy.info())[:2])",
        "import spacy.cli",
        "from spacy.cli import download",
        "print(download.__module__, 'typer' in sys.modules)",
    )
    assert lines[0] == "[]"
    assert lines[1].startswith("function [")
    assert lines[2] == "spacy.cli.download True"


@pytest.mark.skipif(not HAS_SPACY, reason=f"needs {nlp.INSTALL_HINT}")
def test_the_bare_tokenizer_start_ends_in_the_packaged_tokenizer() -> None:
    """Loading starts from an empty tokenizer (skipping the default build); from_disk must make it the same."""
    texts = [json.loads(line)["prompt"] for line in DEV.read_text().splitlines() if line.strip()]
    texts += [
        "Dr. Smith's cat can't sit on the U.S. flag -- it's 3:30pm, e-mail me@x.org or see https://a.b/c?d=1!",
        "don't won't y'all gonna ;) :-( 10km 5'11\" $3.50 (a)[b]{c} 'quoted' \"double\"",
    ]
    ours = pipelines.pipeline()
    assert ours is not None
    stock = importlib.import_module(pipelines.SM_MODULE).load(exclude=["ner", "lemmatizer"])
    assert ours.config["nlp"]["tokenizer"]["@tokenizers"] == pipelines.BARE_TOKENIZER
    for a, b in zip(ours.pipe(texts), stock.pipe(texts), strict=True):
        assert [(t.text, t.whitespace_, t.tag_, t.dep_, t.head.i) for t in a] == [
            (t.text, t.whitespace_, t.tag_, t.dep_, t.head.i) for t in b
        ], a.text
    assert len(ours.tokenizer.rules) == len(stock.tokenizer.rules) > 1000
