"""Fault injection through the public API: every failure kind leaves an error step with its cause,
is retried where that can help, and otherwise ends the run ``failed`` with a readable reason and a
bundle that still verifies. Plus the guard, validation and decision helpers on their own.
"""

from __future__ import annotations

import errno
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import faults  # noqa: E402

from mmthink.core.checkpoints import truncate_steps  # noqa: E402
from mmthink.core.faults import (  # noqa: E402
    CallPolicy,
    CallTimeout,
    DiskFull,
    Fault,
    FaultPolicy,
    InvalidOutput,
    check_output,
    guarded_call,
    stall_guard,
)
from mmthink.core.review import parse_decision  # noqa: E402
from mmthink.errors import InputError  # noqa: E402
from mmthink.modalities.base import Artifact, ImageArtifact  # noqa: E402
from mmthink.modalities.image.checks import check_image  # noqa: E402
from mmthink.modalities.speech.checks import check_audio  # noqa: E402
from mmthink.modalities.video.checks import check_video  # noqa: E402

_CHECKS = {"image": check_image, "audio": check_audio, "video": check_video}


def check_artifact(art, limits=None) -> None:
    """The checks a draft or final goes through: some bytes, then its modality's own check."""
    check_output(art, "draft", lambda a: _CHECKS[a.kind](a, limits, "draft"))


from mmthink.reasoners.base import Delta  # noqa: E402
from mmthink.reasoners.scripted import ScriptedReasoner  # noqa: E402
from mmthink.trace.reader import load_trace  # noqa: E402

QUICK = FaultPolicy.quick(timeout_s=1.0, attempts=2, backoff_s=0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    res = faults.toy_agent(tmp_path_factory.mktemp("ref")).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.ok
    return res.trace


@pytest.fixture
def hung() -> Iterator[list[faults.Faulty]]:
    """Faulty backends whose hanging calls are released when the test ends."""
    made: list[faults.Faulty] = []
    yield made
    for f in made:
        f.release.set()


def _errors(run_dir: Path) -> list[Any]:
    return load_trace(run_dir, verify=False).by_kind("error")


def _intact(run_dir: Path) -> None:
    trace = load_trace(run_dir)  # raises on any problem: hashes, indices, step count
    assert trace.verify() == []
    assert trace.steps[0].node == "route"


def _image_run(tmp_path: Path, backend: Any, policy: FaultPolicy = QUICK, **kw: Any):
    return faults.toy_agent(tmp_path, backend=backend, policy=policy, **kw).run(faults.IMAGE_REQUEST, seed=faults.SEED)


# ------------------------------------------------------------------ render faults
def test_transient_exception_is_retried_and_recorded(tmp_path: Path, reference: Path) -> None:
    backend = faults.Faulty(faults.image_backend(), {1: "raise"})
    res = _image_run(tmp_path, backend)
    assert res.ok
    [err] = _errors(res.trace)
    assert err.node == "act" and err.ref == "s1" and err.metrics["attempt"] == 1
    assert "RuntimeError: injected backend failure (call 1)" in err.parts[0].text
    assert load_trace(res.trace).final_path.read_bytes() == load_trace(reference).final_path.read_bytes()
    _intact(res.trace)


def test_persistent_exception_fails_the_run_with_its_cause(tmp_path: Path) -> None:
    backend = faults.Faulty(faults.image_backend(), always="raise")
    res = _image_run(tmp_path, backend)
    assert res.status == "failed" and res.final is None
    assert res.reason == (
        "render of <sketch id=s1> failed after 2 attempts: RuntimeError: injected backend failure (call 2)"
    )
    assert backend.calls == 2
    errs = _errors(res.trace)
    assert [e.title for e in errs] == ["render of <sketch id=s1> failed, retrying", "exception: run stopped"]
    trace = load_trace(res.trace)
    assert trace.status == "failed" and trace.manifest["reason"] == res.reason
    assert [s.kind for s in trace.steps[:2]] == ["decision", "thought"]  # what came before is all there
    _intact(res.trace)


def test_hang_times_out_and_is_retried(tmp_path: Path, hung: list) -> None:
    backend = faults.Faulty(faults.image_backend(), {1: "hang"}, hang_s=30)
    hung.append(backend)
    res = _image_run(tmp_path, backend)
    assert res.ok
    [err] = _errors(res.trace)
    assert err.metrics["fault"] == "timeout" and "no result within 1 s" in err.parts[0].text


def test_hang_every_time_fails_readably(tmp_path: Path, hung: list) -> None:
    backend = faults.Faulty(faults.image_backend(), always="hang", hang_s=30)
    hung.append(backend)
    res = _image_run(tmp_path, backend)
    assert res.status == "failed"
    assert res.reason == "render of <sketch id=s1> failed after 2 attempts: no result within 1 s (the call hangs)"
    _intact(res.trace)


@pytest.mark.parametrize(
    "action, cause", [("empty", "the backend returned no data (empty file)"), ("zero", "the image has zero size (0x0)")]
)
def test_invalid_images_are_faults(tmp_path: Path, action: str, cause: str) -> None:
    backend = faults.Faulty(faults.image_backend(), always=action)
    res = _image_run(tmp_path, backend)
    assert res.status == "failed" and res.reason.endswith(cause)
    assert not load_trace(res.trace).drafts()  # never shown to the critic or the reasoner as a draft
    _intact(res.trace)


@pytest.mark.parametrize("action, cause", [("nan", "NaN or infinite values"), ("silent", "the audio is silent")])
def test_invalid_audio_is_a_fault(tmp_path: Path, action: str, cause: str) -> None:
    voice = faults.Faulty(faults.ToneVoice(), always=action)
    agent = faults.toy_agent(tmp_path, voice=voice, script=faults.SPEECH_SCRIPT, policy=QUICK)
    res = agent.run(faults.SPEECH_SCRIPT.request, modality="speech", seed=3)
    assert res.status == "failed" and cause in res.reason and "draft_audio id=a1" in res.reason
    assert voice.calls == 2
    _intact(res.trace)


def test_good_audio_passes(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path, script=faults.SPEECH_SCRIPT, policy=QUICK)
    res = agent.run(faults.SPEECH_SCRIPT.request, modality="speech", seed=3)
    assert res.ok, res.reason
    import soundfile as sf

    samples, rate = sf.read(res.final)
    assert rate == 16000 and len(samples) == len("We still have time to heal our planet.".split()) * int(0.16 * rate)


def test_deterministic_render_error_goes_back_to_the_reasoner(tmp_path: Path) -> None:
    class Picky:
        name = "picky"
        thread_safe = True

        def __init__(self) -> None:
            self.inner = faults.image_backend()
            self.calls = 0

        def render(self, scene, **kw):
            self.calls += 1
            if self.calls == 1:
                raise ValueError("this scene cannot be laid out")
            return self.inner.render(scene, **kw)

    backend = Picky()
    res = _image_run(tmp_path, backend)
    assert res.ok and backend.calls == 3  # s1 failed once (not retried), s2, final
    [err] = _errors(res.trace)
    assert err.title == "sketch s1 failed" and "ValueError: this scene cannot be laid out" in err.parts[0].text


def test_disk_full_while_writing_an_asset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mmthink.trace.writer as tw

    real = tw.atomic_write

    def full(path: Path, data: bytes, **kw: bool) -> None:
        if Path(path).parent.name == tw.ASSETS:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, **kw)

    monkeypatch.setattr(tw, "atomic_write", full)
    res = faults.toy_agent(tmp_path, policy=QUICK).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.status == "failed"
    assert res.reason == "disk full while saving draft s1 (No space left on device)"
    assert _errors(res.trace)[-1].metrics["fault"] == "disk_full"
    assert list((res.trace / "assets").iterdir()) == []  # no half-written file carries a valid name
    _intact(res.trace)


def test_critic_failure_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    agent = faults.toy_agent(tmp_path, policy=QUICK)
    sketch = agent.modalities["image"].handlers["sketch"]

    class Broken:
        """Crashes on the first sketch's two attempts, then measures for real."""

        def __init__(self, real: Any) -> None:
            self.real, self.calls = real, 0

        def critique(self, *a: Any, **k: Any):
            self.calls += 1
            if self.calls <= 2:
                raise RuntimeError("critic model crashed")
            return self.real.critique(*a, **k)

    sketch.critic = Broken(sketch.critic)
    res = agent.run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.ok, res.reason
    errs = _errors(res.trace)
    assert [e.title for e in errs] == ["critique of s1 failed, retrying", "critic failed on s1"]
    assert "RuntimeError: critic model crashed" in errs[1].parts[0].text
    obs = [s for s in load_trace(res.trace).observations() if s.ref == "s1"]
    assert obs == []  # s1 has no verdict; the reasoner was told to judge it itself
    _intact(res.trace)


def test_reasoner_hang_and_connection_errors_are_retried(tmp_path: Path) -> None:
    class Flaky:
        name = "flaky"

        def __init__(self) -> None:
            self.inner = ScriptedReasoner("image")
            self.calls = 0
            self.release = threading.Event()

        def stream(self, turn):
            self.calls += 1
            if self.calls == 1:
                self.release.wait(30)  # hangs before the first token
            if self.calls == 2:
                raise ConnectionError("server closed the connection")
            return self.inner.stream(turn)

    reasoner = Flaky()
    policy = FaultPolicy(reason=CallPolicy(timeout_s=1.0, attempts=3, backoff_s=0.01))
    try:
        res = faults.toy_agent(tmp_path, reasoner=reasoner, policy=policy).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    finally:
        reasoner.release.set()
    assert res.ok
    errs = _errors(res.trace)
    assert [e.metrics["fault"] for e in errs] == ["timeout", "ConnectionError"]
    assert "nothing streamed for 1 s" in errs[0].parts[0].text


def test_a_reasoner_that_cannot_start_is_the_reason_the_run_gives(tmp_path: Path) -> None:
    """A model missing from the cache failed the run with "compose failed: ... no usable sketch": the effect,
    not the cause. The reason now leads with the reasoner's own error."""
    from mmthink.errors import BackendError

    class Missing:
        name = "missing"

        def stream(self, turn):
            raise BackendError("'some/model' is not in the local cache: download it first", retryable=False)

    res = faults.toy_agent(tmp_path, reasoner=Missing()).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert res.status == "failed"
    assert res.reason.startswith("reasoner failed: 'some/model' is not in the local cache"), res.reason
    _intact(res.trace)


def test_compose_failure_ends_failed(tmp_path: Path) -> None:
    backend = faults.Faulty(faults.image_backend(), {3: "raise", 4: "raise"})
    res = _image_run(tmp_path, backend)
    assert res.status == "failed" and res.reason.startswith("compose failed after 2 attempts: RuntimeError")
    assert len(load_trace(res.trace).drafts()) == 2
    _intact(res.trace)


# ------------------------------------------------------------------ the helpers
def test_guarded_call_retries_only_what_can_change() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("temporarily unavailable")
        return "ok"

    seen: list[tuple[int, str]] = []
    assert guarded_call(flaky, CallPolicy(5, 3, 0.0), "x", on_retry=lambda n, e, d: seen.append((n, str(e)))) == "ok"
    assert [n for n, _ in seen] == [1, 2]

    calls.clear()

    def bad() -> None:
        calls.append(1)
        raise ValueError("bad scene")

    with pytest.raises(Fault) as e:
        guarded_call(bad, CallPolicy(5, 3, 0.0), "render")
    assert len(calls) == 1 and not e.value.fatal and str(e.value) == "render failed: ValueError: bad scene"

    with pytest.raises(DiskFull):
        guarded_call(lambda: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")), CallPolicy(5, 3, 0.0), "save")

    release = threading.Event()
    with pytest.raises(CallTimeout) as t:
        guarded_call(lambda: release.wait(30), CallPolicy(0.2, 2, 0.0), "hang")
    release.set()
    assert t.value.attempts == 2 and t.value.fatal


def test_stall_guard_times_out_between_pieces_and_stops_the_worker() -> None:
    release = threading.Event()
    closed = threading.Event()

    def slow() -> Iterator[Delta]:
        try:
            yield Delta("a")
            release.wait(30)
            yield Delta("b")
            yield Delta("c")
        finally:
            closed.set()

    with pytest.raises(CallTimeout):
        list(stall_guard(slow, 0.2, "reasoner"))
    release.set()
    assert closed.wait(10)  # the abandoned stream was closed by its own thread

    got = []
    g = stall_guard(lambda: iter([Delta("x"), Delta("y"), Delta("z")]), 5, "r")
    for d in g:
        got.append(d.text)
        break
    g.close()
    assert got == ["x"]


def test_check_artifact(make_png, make_wav) -> None:
    from PIL import Image

    good = ImageArtifact("image", make_png(32, 24), "png", payload=Image.new("RGB", (32, 24)))
    check_artifact(good)
    check_artifact(Artifact("audio", make_wav(0.2), "wav"))
    bad = [
        (ImageArtifact("image", b"", "png"), "no data"),
        (ImageArtifact("image", b"not a png", "png"), "cannot be decoded"),
        (ImageArtifact("image", faults.zero_size_png(), "png"), "zero size"),
        (ImageArtifact("image", make_png(8, 8), "png", payload=Image.new("RGB", (0, 5))), "zero size"),
        (ImageArtifact("image", make_png(8, 8), "png", payload=np.full((4, 4, 3), np.nan)), "NaN"),
        (Artifact("audio", faults.wav_bytes(np.zeros(1600), 16000), "wav"), "silent"),
        (Artifact("audio", faults.wav_bytes(np.full(1600, np.nan), 16000, float_format=True), "wav"), "NaN"),
        (Artifact("audio", make_wav(0.2), "wav", payload=(np.array([0.1, np.inf]), 16000)), "NaN"),
        (Artifact("video", b"\x00\x00\x00\x18notanmp4", "mp4"), "not an MP4"),
    ]
    for art, why in bad:
        with pytest.raises(InvalidOutput) as e:
            check_artifact(art)
        assert why in str(e.value), (why, str(e.value))

    class Caps:
        max_audio_seconds = 0.1
        max_video_seconds = 1.0

    with pytest.raises(InvalidOutput, match="over the 0.1 s limit"):
        check_artifact(Artifact("audio", make_wav(0.5), "wav"), Caps())


def test_check_artifact_accepts_a_real_mp4(mp4_bytes: bytes) -> None:
    check_artifact(Artifact("video", mp4_bytes, "mp4", {"seconds": 1.0}))


def test_parse_decision() -> None:
    assert parse_decision("approve").action == "approve"
    assert parse_decision("ok").action == "approve"
    assert parse_decision("revise: more stars").to_dict() == {"action": "revise", "note": "more stars"}
    assert parse_decision({"action": "abort", "reason": "no"}).to_dict() == {"action": "abort", "note": "no"}
    for bad in ("revise", "revise:   ", "later", "", None, {"note": "x"}):
        with pytest.raises(InputError):
            parse_decision(bad)


def test_truncate_steps_keeps_whole_lines(tmp_path: Path) -> None:
    lines = [json.dumps({"i": i}) + "\n" for i in range(4)]
    path = tmp_path / "steps.jsonl"
    path.write_text("".join(lines) + '{"torn": ')
    assert truncate_steps(tmp_path, 2) == 2
    assert path.read_text() == "".join(lines[:2])
    assert truncate_steps(tmp_path, 5) == 0 and path.read_text() == "".join(lines[:2])


@pytest.mark.slow
def test_fault_matrix_tool(tmp_path: Path) -> None:
    """tools/faults.py runs every drill and reports no loss and no bad bundle (the demo drills, 80 s more, are
    covered here by the speech demo test's check that its final is made from the bundle's own bytes)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "faults.py"), "--json", "--quick"],
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout.decode()[-3000:] + proc.stderr.decode()[-3000:]
    res = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert res["runs"] >= 20 and res["correct"] == res["runs"]
    assert res["steps_lost"] == 0 and res["steps_duplicated"] == 0 and res["bundles_failing_verification"] == 0
    assert {r["drill"] for r in res["rows"]} >= {
        "kill at compose #1",
        "disk full writing an asset",
        "2 runs in processes",
        "tampered bundle",
        "backend: NaN audio",
        "disk full at the SQLite checkpoint",
        "killed run moved to another folder, resumed there",
    }


def test_a_model_that_cannot_stall_is_called_in_the_callers_thread() -> None:
    """The embedded renderer and the heuristic reasoner wait on nothing: no watchdog thread for them (the
    hand-overs cost more than their calls); any other model keeps its watchdog and its timeout."""
    from mmthink.core.faults import call_with_timeout

    class Quick:
        cannot_stall = True
        thread_safe = True

    class Plain:
        thread_safe = True

    here = threading.get_ident()
    assert call_with_timeout(threading.get_ident, 5.0, "quick", Quick()) == here
    assert call_with_timeout(threading.get_ident, 5.0, "plain", Plain()) != here
    assert list(stall_guard(lambda: iter([threading.get_ident()]), None, "quick", Quick())) == [here]
    with pytest.raises(CallTimeout):  # the watchdog still catches a hang of any other model
        call_with_timeout(lambda: threading.Event().wait(3), 0.2, "plain", Plain())
