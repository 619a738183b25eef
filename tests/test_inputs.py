"""Bad input, from the command line and the Python API, ends in one InputError naming the field (CLI: exit 2),
before any folder is made. The hypothesis tests throw values of every type at each public argument."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mmthink
from mmthink import cli
from mmthink.agent import Agent
from mmthink.errors import InputError, MMThinkError

HUGE = str(10**29)
PROMPT = "three red apples on a table"


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = cli.main(list(argv))
    return rc, capsys.readouterr().err


def _nothing_in(folder: Path) -> None:
    assert not folder.exists() or not any(folder.rglob("*")), sorted(folder.rglob("*"))


# ----------------------------------------------------------------------------- the command line
@pytest.mark.parametrize(
    "flag, field",
    [
        ("--budget-tokens", "budget-tokens"),
        ("--best-of", "best-of"),
        ("--max-drafts", "max-drafts"),
        ("--seed", "seed"),
        ("--width", "width"),
        ("--min-tokens", "min-tokens"),
        ("--height", "height"),
    ],
)
def test_cli_huge_numbers_are_refused_naming_the_field(tmp_path: Path, capsys: Any, flag: str, field: str) -> None:
    rc, err = _cli(capsys, "run", PROMPT, flag, HUGE, "--out", str(tmp_path / "o"), "-q")
    assert rc == cli.EXIT_INPUT
    assert err.startswith(f"mmthink: error: {field}: ") and "Traceback" not in err and err.count("\n") == 1
    _nothing_in(tmp_path / "o")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309", "0", "-3"])
def test_cli_max_seconds_must_be_positive_and_finite(tmp_path: Path, capsys: Any, value: str) -> None:
    rc, err = _cli(capsys, "run", PROMPT, f"--max-seconds={value}", "--out", str(tmp_path / "o"), "-q")
    assert rc == cli.EXIT_INPUT and err.startswith("mmthink: error: max-seconds: "), err
    _nothing_in(tmp_path / "o")


def test_cli_prompt_with_an_invalid_utf8_byte(tmp_path: Path, capsys: Any) -> None:
    prompt = os.fsdecode(b"three red \xff apples")  # what Python makes of such an argv entry
    assert "\udcff" in prompt
    rc, err = _cli(capsys, "run", prompt, "--out", str(tmp_path / "o"), "-q")
    assert rc == cli.EXIT_INPUT
    assert err == "mmthink: error: prompt: holds the byte 0xff, which is not valid UTF-8 (pass the text as UTF-8)\n"
    assert not (tmp_path / "o").exists()


def test_cli_out_as_a_file_under_a_file_too_long_or_empty(tmp_path: Path, capsys: Any) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    cases = {
        str(f): "is a file",
        str(f / "runs"): "which is a file",
        "a" * 5000: "5000 characters",
        str(tmp_path / ("n" * 300)): "300 bytes",
        "": "is empty",
    }
    for out, words in cases.items():
        rc, err = _cli(capsys, "run", PROMPT, "--out", out, "-q")
        assert rc == cli.EXIT_INPUT and err.startswith("mmthink: error: out: ") and words in err, (out[:40], err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
    assert not Path("a" * 200).exists()


def test_cli_out_read_only(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root writes anywhere: make the permission check see what a user would
            real = os.access
            monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == ro else real(p, mode, **kw))
        rc, err = _cli(capsys, "run", PROMPT, "--out", str(ro / "runs"), "-q")
    finally:
        ro.chmod(0o755)
    assert rc == cli.EXIT_INPUT and err.startswith("mmthink: error: out: ") and "not writable" in err
    assert list(ro.iterdir()) == []


def test_cli_unknown_device_lists_the_choices(tmp_path: Path, capsys: Any) -> None:
    rc, err = _cli(capsys, "run", PROMPT, "--device", "tpu", "--out", str(tmp_path / "o"), "-q")
    assert rc == cli.EXIT_INPUT and err.startswith("mmthink: error: device: unknown device 'tpu'")
    assert "cpu" in err and "cuda" in err and "mps" in err
    _nothing_in(tmp_path / "o")


def test_cli_demo_with_unclosed_front_matter(tmp_path: Path, capsys: Any) -> None:
    script = tmp_path / "broken.md"
    script.write_text('---\nrequest: a red apple\nmodality: image\n\nthinking <sketch id="s1">apple</sketch>\n')
    rc, err = _cli(capsys, "demo", str(script), "--out", str(tmp_path / "o"), "-q")
    assert rc == cli.EXIT_INPUT and err.startswith("mmthink: error: demo: broken.md opens its front matter")
    _nothing_in(tmp_path / "o")


# ----------------------------------------------------------------------------- the API, one case each
@pytest.fixture()
def agent(tmp_path: Path) -> Agent:
    return Agent.from_profile("embedded", out_dir=str(tmp_path / "runs"))


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda a, o: a.stream(PROMPT, out=123), "out"),
        (lambda a, o: a.stream(PROMPT, out=o, run_id=5), "run_id"),
        (lambda a, o: a.stream("three red\x00 apples", out=o), "prompt"),
        (lambda a, o: a.stream(PROMPT, out=o, max_seconds=float("nan")), "max-seconds"),
        (lambda a, o: a.stream(PROMPT, out=o, max_seconds=math.inf), "max-seconds"),
        (lambda a, o: a.stream(PROMPT, out=o, budget_tokens=10**29), "budget-tokens"),
        (lambda a, o: a.stream(PROMPT, out=o, best_of=10**29), "best-of"),
        (lambda a, o: a.stream(PROMPT, out=o, on_token="x"), "on_token"),
        (lambda a, o: a.run(PROMPT, out=o, on_token="x"), "on_token"),
        (lambda a, o: a.stream(PROMPT, out=o, review="yes"), "review"),
        (lambda a, o: a.stream(PROMPT, out=o, trace_sync="never"), "trace_sync"),
        (lambda a, o: a.stream(PROMPT, out=""), "out"),
        (lambda a, o: a.resume(123), "run"),
        (lambda a, o: Agent.resume(123), "run"),
        (lambda a, o: a.resume(o, on_token=5), "on_token"),
        (lambda a, o: mmthink.load_trace(None), "bundle"),
        (lambda a, o: Agent.from_profile(thinking=5), "thinking"),
        (lambda a, o: Agent.from_profile(reasoner_options=5), "reasoner_options"),
        (lambda a, o: Agent.from_profile(limits={"max_drafts": float("nan")}), "limits.max_drafts"),
        (lambda a, o: Agent.from_profile(device="tpu"), "device"),
        (lambda a, o: Agent.from_profile(max_seconds=float("nan")), "max-seconds"),
        (lambda a, o: Agent.from_profile(policy=5), "policy"),
        (lambda a, o: Agent.from_profile(durable="no"), "durable"),
        (lambda a, o: Agent.from_profile(5), "profile"),
        (lambda a, o: Agent.from_profile(out_dir=None), "out_dir"),
        (lambda a, o: Agent(config=5), "config"),
    ],
)
def test_api_wrong_types_raise_input_error_before_any_folder(
    agent: Agent, tmp_path: Path, call: Any, field: str
) -> None:
    with pytest.raises(InputError) as e:
        call(agent, tmp_path / "out")
    assert e.value.field == field, str(e.value)
    _nothing_in(tmp_path / "out")
    _nothing_in(tmp_path / "runs")


def test_thinking_as_a_mode_name_or_a_dict(tmp_path: Path) -> None:
    assert Agent.from_profile(thinking="auto").config.thinking.mode == "auto"
    assert Agent.from_profile(thinking={"max_drafts": 3}).config.thinking.max_drafts == 3
    with pytest.raises(InputError, match="thinking.drafts"):
        Agent.from_profile(thinking={"drafts": 3})


# ----------------------------------------------------------------------------- the API, fuzzed
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from([object(), Path("."), lambda *a: None, "\x00", "\udcff", "a" * 5000, "b" * 300, 1e309, -0.0]),
)

# parameter -> the types its documentation allows (a value of any other type must be an InputError)
STREAM_TYPES: dict[str, tuple[type, ...]] = {
    "modality": (str,),
    "thinking": (str,),
    "budget_tokens": (int, str),
    "max_drafts": (int, str),
    "min_tokens": (int, str),
    "max_seconds": (int, float),
    "best_of": (int, str),
    "seed": (int, str),
    "width": (int, str),
    "height": (int, str),
    "out": (str, Path),
    "run_id": (str,),
    "on_token": (),
    "review": (bool,),
    "trace_sync": (str,),
}
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "reasoner": (str,),
    "reasoner_model": (str, Path),
    "reasoner_options": (dict,),
    "script": (str, Path),
    "image_backend": (str,),
    "image_model": (str, Path),
    "image_options": (dict,),
    "clip_model": (str, Path),
    "speech_backend": (str,),
    "speech_model": (str, Path),
    "music_backend": (str,),
    "music_model": (str, Path),
    "device": (str,),
    "out_dir": (str, Path),
    "mode": (str,),
    "budget_tokens": (int,),
    "min_tokens": (int,),
    "max_drafts": (int,),
    "max_seconds": (int, float),
    "best_of": (int,),
    "max_prompt_chars": (int, float),
    "max_image_side": (int, float),
    "max_audio_seconds": (int, float),
    "max_drafts_limit": (int, float),
    "thinking": (str, dict),
    "limits": (dict,),
    "durable": (bool,),
    "policy": (),
}


def _allowed(value: Any, types: tuple[type, ...], name: str) -> bool:
    if value is None:
        return True  # every one of these parameters documents None as "the default"
    if callable(value) and not isinstance(value, (str, type)) and name in ("on_token", "review"):
        return True
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(STREAM_TYPES)), value=ANY)
def test_fuzz_stream_arguments(tmp_path_factory: pytest.TempPathFactory, name: str, value: Any) -> None:
    """Agent.stream/run validate every keyword before the run starts: an InputError, never a raw error."""
    out = tmp_path_factory.mktemp("fuzz")
    agent = _fuzz_agent(out)
    kwargs = {"out": out / "runs", name: value} if name != "out" else {name: value}
    try:
        agent.stream(PROMPT, **kwargs)
    except InputError as e:
        assert e.field and str(e)
    else:
        assert _allowed(value, STREAM_TYPES[name], name), f"{name}={value!r} was accepted"
    _nothing_in(out / "runs")
    _nothing_in(out / "default")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(CONFIG_TYPES)), value=ANY)
def test_fuzz_from_profile_arguments(name: str, value: Any) -> None:
    """Agent.from_profile checks each setting's type and range: an InputError naming it, or an agent."""
    kw = {"limits": {"max_drafts": value}} if name == "max_drafts_limit" else {name: value}
    try:
        Agent.from_profile("embedded", **kw)
    except InputError as e:
        assert e.field and str(e)
    else:
        assert _allowed(value, CONFIG_TYPES[name], name), f"{name}={value!r} was accepted"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(run=ANY, decision=ANY, use_class=st.booleans())
def test_fuzz_resume_and_load_trace(
    tmp_path_factory: pytest.TempPathFactory, run: Any, decision: Any, use_class: bool
) -> None:
    """resume and load_trace on anything that is not a run: a clear mmthink error, never a raw one."""
    out = tmp_path_factory.mktemp("fuzz")
    try:
        if use_class:
            Agent.resume(run, decision=decision)
        else:
            _fuzz_agent(out).resume(run, decision=decision)
    except MMThinkError:
        pass
    try:
        mmthink.load_trace(run)
    except MMThinkError:
        pass
    _nothing_in(out / "default")


_AGENTS: dict[str, Agent] = {}


def _fuzz_agent(out: Path) -> Agent:
    """One agent for the whole fuzz run (building one per example is the slow part); its own default folder."""
    agent = _AGENTS.get("a")
    if agent is None:
        agent = _AGENTS["a"] = Agent.from_profile("embedded")
    agent.config.out_dir = str(out / "default")
    return agent


@pytest.mark.parametrize(
    "policy, field",
    [
        (dict(render=5), "policy.render"),
        (dict(render="CallPolicy"), "policy.render"),
    ],
)
def test_fault_policy_parts_must_be_call_policies(policy: dict[str, Any], field: str) -> None:
    from mmthink.core.faults import FaultPolicy

    with pytest.raises(InputError) as e:
        Agent.from_profile(policy=FaultPolicy(**policy))
    assert e.value.field == field


@pytest.mark.parametrize("value", [float("nan"), math.inf, -1.0, True, "3"])
@pytest.mark.parametrize("key", ["timeout_s", "backoff_s", "backoff_factor"])
def test_call_policy_numbers_are_finite(key: str, value: Any) -> None:
    from mmthink.core.faults import CallPolicy, FaultPolicy

    with pytest.raises(InputError) as e:
        Agent.from_profile(policy=FaultPolicy(compose=CallPolicy(**{key: value})))
    assert e.value.field == f"policy.compose.{key}"


REQUEST_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "modality": (str,),
    "width": (int,),
    "height": (int,),
    "seed": (int,),
    "voice": (str,),
    "fps": (int,),
    "options": (dict,),
}


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(REQUEST_TYPES)), value=ANY)
def test_fuzz_request_fields(tmp_path_factory: pytest.TempPathFactory, name: str, value: Any) -> None:
    """A Request object handed to stream is checked field by field like keyword arguments are."""
    from mmthink.request import Request

    out = tmp_path_factory.mktemp("fuzz")
    req = Request(text=PROMPT)
    setattr(req, name, value)
    try:
        _fuzz_agent(out).stream(req, out=out / "runs")
    except InputError as e:
        assert e.field and str(e)
    else:
        allowed = REQUEST_TYPES[name]
        assert (value is None and name == "voice") or (isinstance(value, allowed) and not isinstance(value, bool)), (
            f"Request.{name}={value!r} was accepted"
        )
    _nothing_in(out / "runs")


AGENT_ARGS = ("policy", "modalities", "system_prompt", "durable", "keep_checkpoints", "config", "reasoner")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(AGENT_ARGS), value=ANY)
def test_fuzz_agent_constructor(name: str, value: Any) -> None:
    """Agent(...) refuses arguments of the wrong type with an InputError naming them."""
    try:
        Agent(**{name: value})
    except InputError as e:
        assert e.field == name, str(e)
    else:
        if name in ("durable", "keep_checkpoints"):
            assert isinstance(value, bool)
        elif name == "system_prompt":
            assert value is None or callable(value)
        else:
            assert value is None, f"{name}={value!r} was accepted"


LOAD_TYPES: dict[str, tuple[type, ...]] = {
    "verify": (bool,),
    "dest": (str, Path),
    "max_entries": (int,),
    "max_bytes": (int,),
}


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(LOAD_TYPES)), value=ANY)
def test_fuzz_load_trace_options(tmp_path_factory: pytest.TempPathFactory, name: str, value: Any) -> None:
    """load_trace's options are checked before the bundle is opened; None is only the default of dest."""
    box = tmp_path_factory.mktemp("load")
    (box / "run").mkdir()
    try:
        mmthink.load_trace(box / "run", **{name: value})
    except InputError as e:
        assert e.field == name or e.field == "run_dir", str(e)
        if e.field == "run_dir":  # the options were fine; the (empty) folder is what was refused
            assert isinstance(value, LOAD_TYPES[name]) or (value is None and name == "dest")
    except MMThinkError:
        assert isinstance(value, LOAD_TYPES[name]) or (value is None and name == "dest")
    else:
        raise AssertionError("an empty folder is not a bundle")


def test_a_voice_that_cannot_be_honoured_is_refused_not_ignored() -> None:
    """ "voice": "nobody" used to give a `succeeded` speech run in the one voice there is."""
    from mmthink.request import Request

    with pytest.raises(InputError) as e:
        Request(text="say hello", voice="nobody").validate()
    assert e.value.field == "voice" and "joe" in str(e.value)
    Request(text="say hello", voice="Joe").validate()
    Request(text="say hello").validate()
