"""Batch runs through the public surfaces: ``mmthink batch`` and ``mmthink.batch``.

Every batch here is a handful of tiny image requests with the embedded profile (real reasoner,
renderer, critic and composer); bundles are checked with ``mmthink.load_trace``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import mmthink
from mmthink.batch.requests import read_requests
from mmthink.cli import main
from mmthink.errors import InputError

TINY = {"width": 128, "height": 96}
PROMPTS = [
    "three red apples on a table",
    "a blue cup to the left of a green ball",
    "a yellow kite above a small house",
    "two white clouds above a red house",
]


def _write(path: Path, lines: list[object]) -> Path:
    """Each item as a JSON line; ``"RAW:..."`` is written as it is (plain text, broken JSON, blank)."""
    out = []
    for x in lines:
        out.append(x[4:] if isinstance(x, str) and x.startswith("RAW:") else json.dumps(x))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _requests(tmp: Path, extra: list[object] = ()) -> Path:
    return _write(
        tmp / "requests.jsonl", [{"prompt": p, "seed": i, **TINY} for i, p in enumerate(PROMPTS)] + list(extra)
    )


def _records(out: Path) -> dict[int, dict]:
    return {r["line"]: r for r in (json.loads(x) for x in (out / "batch.jsonl").read_text().splitlines())}


def _check_bundle(out: Path, rec: dict) -> None:
    trace = mmthink.load_trace(out / rec["run_id"])  # verifies every hash
    assert trace.status == rec["status"]
    assert (out / rec["final"]).is_file() and trace.final_path.resolve() == (out / rec["final"]).resolve()


# ------------------------------------------------------------------ reading
def test_lines_are_prompts_or_requests_and_bad_lines_name_line_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.jsonl",
        [
            "a red apple",  # JSON string
            "RAW:a green pear on a plate",  # plain text
            {"prompt": "a kite", "seed": 4, "width": 256, "thinking": "on", "max_drafts": 2, "id": "k1"},
            "RAW:",  # blank: not a line of work
            'RAW:{"prompt": "broken',
            {"prompt": "x", "colour": "red"},
            {"prompt": "x", "seed": "seven"},
            {"text": ""},
            {"seed": 3},
            [1, 2],
            {"prompt": "x", "options": [1]},
        ],
    )
    items = read_requests(path)
    assert [type(i).__name__ for i in items] == ["BatchRequest"] * 3 + ["LineError"] * 7
    a, b, c = items[:3]
    assert (a.line, a.request) == (1, {"text": "a red apple"})
    assert b.request == {"text": "a green pear on a plate"}
    assert (c.line, c.label, c.settings) == (3, "k1", {"thinking": "on", "max_drafts": 2})
    assert c.request == {"text": "a kite", "seed": 4, "width": 256}
    errors = {e.line: e for e in items[3:]}
    assert [(n, e.field) for n, e in errors.items()] == [
        (5, "json"),
        (6, "colour"),
        (7, "seed"),
        (8, "prompt"),
        (9, "prompt"),
        (10, "line"),
        (11, "options"),
    ]
    assert "line 6: colour: is not a request field" in errors[6].message()
    # the same request on the same line always maps to the same run folder; a changed request to another
    assert c.folder_prefix() == read_requests(path)[2].folder_prefix() and c.folder_prefix() != a.folder_prefix()


@pytest.mark.parametrize("make", ["missing", "folder", "binary", "empty"])
def test_an_unreadable_requests_file_is_exit_2_and_writes_nothing(tmp_path: Path, make: str, capsys) -> None:
    path = tmp_path / "requests.jsonl"
    if make == "folder":
        path.mkdir()
    elif make == "binary":
        path.write_bytes(b"\xff\xfe\x00bad")
    elif make == "empty":
        path.write_text("\n\n")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "-q"]) == 2
    assert "requests:" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(InputError) as e:
        mmthink.batch(path, out)
    assert e.value.field == "requests"


def test_bad_options_fail_before_anything_runs(tmp_path: Path) -> None:
    req = _requests(tmp_path)
    for kwargs, field in (
        ({"engine": "spark"}, "engine"),
        ({"workers": 0}, "workers"),
        ({"address": "auto"}, "address"),
        ({"num_gpus": 0.5}, "num_gpus"),
        ({"reasoner": "oracle"}, "reasoner"),
        ({"sync": "never"}, "sync"),
    ):
        with pytest.raises(InputError) as e:
            mmthink.batch(req, tmp_path / "out", **kwargs)
        assert e.value.field == field
    assert not (tmp_path / "out").exists()


def test_mmthink_batch_is_callable_however_it_was_imported() -> None:
    import mmthink.batch as package

    assert callable(mmthink.batch) and callable(package)
    assert mmthink.batch.__name__ in ("batch", "mmthink.batch")


# ------------------------------------------------------------------ running
def test_cli_batch_on_two_workers_then_rerun_skips_resumes_and_retries(tmp_path: Path, capsys) -> None:
    req = _requests(tmp_path, extra=["RAW:{not json", {"prompt": "a lighthouse at dusk", "width": 10}])
    out = tmp_path / "out"
    # 1. a first pass on two worker processes: four bundles, two line errors, exit 1 (not every line succeeded)
    assert main(["batch", str(req), "--out", str(out), "--workers", "2"]) == 1
    captured = capsys.readouterr()
    text = captured.out
    assert "batch.jsonl" in text and "4 succeeded" in text and "2 invalid" in text
    assert "5/5" in captured.err and "req/s" in captured.err and "eta" in captured.err  # the progress bar
    recs = _records(out)
    assert sorted(recs) == [1, 2, 3, 4, 5, 6]
    for n in range(1, 5):
        assert recs[n]["status"] == "succeeded" and recs[n]["action"] == "ran", recs[n]
        assert isinstance(recs[n]["seconds"], float)
        _check_bundle(out, recs[n])
    assert (recs[5]["status"], recs[5]["field"]) == ("invalid", "json")
    assert (recs[6]["status"], recs[6]["field"]) == ("invalid", "width") and "line 6" in recs[6]["reason"]
    assert len([p for p in out.iterdir() if p.is_dir()]) == 4

    # 2. prepare a second pass: line 1 interrupted half way, line 2 failed, line 3 tampered with
    items = read_requests(req)
    (out / recs[1]["run_id"]).rename(tmp_path / "line1-first")
    agent = mmthink.Agent.from_profile("embedded")
    interrupted = f"{items[0].folder_prefix()}-again"
    stream = agent.stream(mmthink.Request.from_dict(items[0].request), out=out, run_id=interrupted)
    for i, _step in enumerate(stream):
        if i == 2:
            break
    stream.close()  # the caller walks away: the run stays resumable, its folder released
    assert json.loads((out / interrupted / "manifest.json").read_text())["status"] == "running"
    m2 = out / recs[2]["run_id"] / "manifest.json"
    m2.write_text(json.dumps({**json.loads(m2.read_text()), "status": "failed", "reason": "the disk was full"}))
    mmthink.load_trace(m2.parent)  # a failed bundle that verifies
    asset = out / recs[3]["final"]
    asset.write_bytes(asset.read_bytes()[:-10])

    assert main(["batch", str(req), "--out", str(out), "--workers", "2", "-q"]) == 1
    again = _records(out)
    assert (again[1]["action"], again[1]["status"], again[1]["run_id"]) == ("resumed", "succeeded", interrupted)
    resumes = mmthink.load_trace(out / again[1]["run_id"]).manifest["resumes"]
    assert len(resumes) == 1 and resumes[0]["from_step"] >= 1  # continued, not started over
    assert (again[2]["status"], again[2]["action"], again[2]["reason"]) == ("failed", "skipped", "the disk was full")
    assert again[3]["action"] == "ran" and again[3]["status"] == "succeeded" and "did not verify" in again[3]["note"]
    assert (out / f"{recs[3]['run_id']}.unverified-1").is_dir()  # the bad bundle is kept, not deleted
    _check_bundle(out, again[3])
    assert again[4]["action"] == "skipped" and again[4]["final"] == recs[4]["final"]

    # 3. --retry-failed runs line 2 again and keeps the failed bundle beside it
    assert main(["batch", str(req), "--out", str(out), "--retry-failed", "-q", "--workers", "1"]) == 1
    third = _records(out)
    assert third[2]["status"] == "succeeded" and third[2]["action"] == "ran"
    assert third[2]["run_id"] != recs[2]["run_id"]  # a new run id: a shared checkpoint database never mixes attempts
    assert (out / f"{recs[2]['run_id']}.failed-1" / "manifest.json").is_file()
    assert [third[n]["action"] for n in (1, 3, 4)] == ["skipped"] * 3


def test_ctrl_c_stops_the_batch_and_the_same_command_finishes_it(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    req = _write(tmp_path / "r.jsonl", [{"prompt": p, "seed": s, **TINY} for s in range(4) for p in PROMPTS])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "mmthink.cli", "batch", str(req), "--out", str(out), "--workers", "2", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    log = open(tmp_path / "stderr.txt", "w")  # a file, not a pipe: a full pipe would block the workers' tracebacks
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=log, env=env)
    index = out / "batch.jsonl"
    deadline = time.time() + 120
    while not (index.exists() and len(index.read_text().splitlines()) >= 2) and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the driver and its workers
    assert proc.wait(60) == 130, (tmp_path / "stderr.txt").read_text()[-3000:]
    time.sleep(0.5)
    assert len([p for p in out.iterdir() if p.is_dir()]) < 16  # it stopped, it did not run the rest
    assert subprocess.run(cmd, env=env, capture_output=True, text=True).returncode == 0
    recs = _records(out)
    assert sorted(recs) == list(range(1, 17)) and all(r["status"] == "succeeded" for r in recs.values())
    assert {r["action"] for r in recs.values()} >= {"skipped", "ran"}
    for r in recs.values():
        _check_bundle(out, r)


def test_python_api_with_a_list_and_one_process(tmp_path: Path) -> None:
    res = mmthink.batch(
        [PROMPTS[0], {"prompt": PROMPTS[1], "id": "cup", **TINY}, mmthink.Request(PROMPTS[2], seed=5, **TINY)],
        tmp_path / "out",
        workers=1,
    )
    assert res.ok and res.counts == {"succeeded": 3} and res.workers == 1
    assert res.records[1]["id"] == "cup" and res.index.is_file()
    for rec in res.records:
        _check_bundle(res.out, rec)
        # batches fsync each bundle when its run ends; the bundle says so
        assert json.loads((res.out / rec["run_id"] / "manifest.json").read_text())["trace_sync"] == "end"
    step = mmthink.batch([PROMPTS[0]], tmp_path / "step", workers=1, sync="step")
    assert step.ok and "trace_sync" not in json.loads(
        (step.out / step.records[0]["run_id"] / "manifest.json").read_text()
    )


def counting_agent() -> mmthink.Agent:
    """An embedded agent that leaves one file per build (the workers import this module to call it)."""
    (Path(os.environ["MMTHINK_TEST_BUILDS"]) / f"{os.getpid()}-{time.monotonic_ns()}").touch()
    return mmthink.Agent.from_profile("embedded")


def test_each_worker_builds_its_agent_once(tmp_path: Path, monkeypatch) -> None:
    builds = tmp_path / "builds"
    builds.mkdir()
    monkeypatch.setenv("MMTHINK_TEST_BUILDS", str(builds))
    requests = [{"prompt": p, "seed": s, **TINY} for s in (1, 2) for p in PROMPTS[:3]]
    res = mmthink.batch(requests, tmp_path / "out", workers=2, agent=counting_agent)
    assert res.ok and len(res.records) == 6
    pids = [int(p.name.split("-")[0]) for p in builds.iterdir()]
    assert 1 <= len(pids) <= 2 and len(set(pids)) == len(pids) and os.getpid() not in pids


def test_a_second_batch_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".batch.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(InputError) as e:
            mmthink.batch([PROMPTS[0]], out, workers=1)
    assert e.value.field == "out"


# ------------------------------------------------------------------ ray
@pytest.mark.slow
def test_ray_engine_runs_a_batch_on_actors(tmp_path: Path, local_ray, capsys) -> None:
    req = _requests(tmp_path, extra=[{"prompt": "x", "seed": "seven"}])
    out = tmp_path / "out"
    assert main(["batch", str(req), "--out", str(out), "--engine", "ray", "--workers", "2", "--num-cpus", "0.5"]) == 1
    assert "4 succeeded" in capsys.readouterr().out
    recs = _records(out)
    for n in range(1, 5):
        assert recs[n]["status"] == "succeeded"
        _check_bundle(out, recs[n])
    assert recs[5]["field"] == "seed"
    # the same command again: every bundle is found finished and verified
    assert main(["batch", str(req), "--out", str(out), "--engine", "ray", "-q"]) == 1
    assert [r["action"] for n, r in sorted(_records(out).items()) if n < 5] == ["skipped"] * 4


@pytest.mark.slow
def test_ray_actors_without_a_shared_path_send_bundles_back(tmp_path: Path, local_ray) -> None:
    res = mmthink.batch(PROMPTS[:2], tmp_path / "out", engine="ray", workers=2, bundles="ship", num_cpus=0.5)
    assert res.ok and res.engine == "ray"
    for rec in res.records:
        _check_bundle(res.out, rec)  # unpacked by the driver from the .mmtrace bytes, verified
    assert not list(res.out.glob("*.mmtrace*")) and not list(res.out.glob(".*unpack"))


@pytest.mark.slow
def test_ray_refuses_gpus_the_cluster_does_not_have(tmp_path: Path, local_ray) -> None:
    with pytest.raises(InputError) as e:
        mmthink.batch(PROMPTS[:1], tmp_path / "out", engine="ray", num_gpus=0.25)
    assert e.value.field == "num_gpus" and "0 GPUs" in str(e.value)
    with pytest.raises(InputError) as e:
        mmthink.batch(PROMPTS[:1], tmp_path / "out", engine="ray", num_cpus=-1)
    assert e.value.field == "num_cpus"


def agent_that_dies_once(folder: str | None = None) -> mmthink.Agent:
    """An embedded agent whose process is SIGKILLed half way through the first kite request it meets."""
    import signal

    agent = mmthink.Agent.from_profile("embedded")
    marker = Path(folder or os.environ["MMTHINK_TEST_BUILDS"]) / "killed"

    def run(request, **kw):
        stream = agent.stream(request, **kw)
        for step in stream:
            if "kite" in request.text and step.kind == "observation" and not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)
        return stream.result

    agent.run = run
    return agent


def test_a_killed_worker_is_replaced_and_its_run_resumed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MMTHINK_TEST_BUILDS", str(tmp_path))
    requests = [{"prompt": p, **TINY} for p in PROMPTS]
    res = mmthink.batch(requests, tmp_path / "out", workers=2, agent=agent_that_dies_once)
    assert (tmp_path / "killed").exists()  # a worker really died
    assert res.ok, res.records
    kite = res.records[2]
    assert "kite" in requests[2]["prompt"] and kite["action"] == "resumed"
    assert mmthink.load_trace(res.out / kite["run_id"]).manifest["resumes"][0]["from_step"] >= 1
    for rec in res.records:
        _check_bundle(res.out, rec)


@pytest.mark.slow
def test_a_ray_actor_that_dies_is_replaced_and_its_run_resumed(tmp_path: Path, local_ray) -> None:
    import functools
    import sys

    local_ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors need not import tests/
    requests = [{"prompt": p, **TINY} for p in PROMPTS]
    res = mmthink.batch(
        requests,
        tmp_path / "out",
        engine="ray",
        workers=2,
        num_cpus=0.5,
        agent=functools.partial(agent_that_dies_once, str(tmp_path)),
    )
    assert (tmp_path / "killed").exists()
    assert res.ok, res.records
    assert res.records[2]["action"] == "resumed"
    for rec in res.records:
        _check_bundle(res.out, rec)


def broken_agent() -> mmthink.Agent:
    return mmthink.Agent.from_profile("embedded", reasoner="oracle")


@pytest.mark.slow
def test_ray_workers_that_cannot_build_the_agent_stop_the_batch_readably(tmp_path: Path, local_ray, capsys) -> None:
    import sys

    local_ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with pytest.raises(mmthink.MMThinkError) as e:
        mmthink.batch(PROMPTS[:2], tmp_path / "out", engine="ray", workers=1, num_cpus=0.5, agent=broken_agent)
    assert "could not build its agent" in str(e.value) and "reasoner" in str(e.value)


def test_workers_that_cannot_build_the_agent_say_why(tmp_path: Path) -> None:
    res = mmthink.batch(PROMPTS[:3], tmp_path / "out", workers=2, agent=broken_agent)
    assert res.counts == {"failed": 3}
    assert all("could not build its agent" in r["reason"] and "reasoner" in r["reason"] for r in res.records)


def thread_reporting_agent() -> mmthink.Agent:
    """An embedded agent that writes down the math-thread setting its worker got."""
    (Path(os.environ["MMTHINK_TEST_BUILDS"]) / str(os.getpid())).write_text(os.environ.get("OPENBLAS_NUM_THREADS", "-"))
    return mmthink.Agent.from_profile("embedded")


def test_pool_workers_get_their_share_of_the_cores_for_math_threads(tmp_path: Path, monkeypatch) -> None:
    """Two workers on two cores must not each start a BLAS pool the size of the machine."""
    from mmthink.batch.local import default_workers

    builds = tmp_path / "builds"
    builds.mkdir()
    monkeypatch.setenv("MMTHINK_TEST_BUILDS", str(builds))
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    res = mmthink.batch(
        [{"prompt": p, **TINY} for p in PROMPTS[:2]], tmp_path / "out", workers=2, agent=thread_reporting_agent
    )
    assert res.ok
    assert {f.read_text() for f in builds.iterdir()} == {str(max(1, default_workers() // 2))}
    assert "OPENBLAS_NUM_THREADS" not in os.environ, "the driver's own environment is left as it was"
