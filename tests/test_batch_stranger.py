"""``mmthink batch`` used the way a newcomer uses it: hand-written request files, mistakes in them, and a
batch killed and run again. Each case is a few tiny image requests with the embedded profile."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mmthink
from mmthink.batch.requests import read_requests
from mmthink.cli import main
from mmthink.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
TINY = {"width": 256, "height": 192}
THINGS = ["a red ball on a table", "a blue cup on a table", "a green tree in a field", "a yellow kite in the sky"]


def _records(out: Path) -> dict[int, dict]:
    return {r["line"]: r for r in (json.loads(x) for x in (out / "batch.jsonl").read_text().splitlines())}


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p} - found
        found |= kids
        todo.extend(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _pool_batch(tmp_path: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    """A 2-worker batch of ten tiny requests per thing as a command line, and the environment it runs in."""
    req = tmp_path / "r.jsonl"
    lines = [{"prompt": p, "seed": s, **TINY} for s in range(10) for p in THINGS]
    req.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    cmd = [sys.executable, "-m", "mmthink.cli", "batch", str(req), "--out", str(out), "--workers", "2", "-q"]
    return cmd, {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_workers_exit_when_the_batch_driver_is_killed_and_the_rerun_loses_nothing(tmp_path: Path) -> None:
    """A driver killed with SIGKILL (or by the OOM killer) cannot tell its workers; they must not live on."""
    out = tmp_path / "out"
    cmd, env = _pool_batch(tmp_path, out)
    log = open(tmp_path / "stderr.txt", "w")
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=log, env=env)
    below: set[int] = set()
    try:
        deadline = time.time() + 120
        index = out / "batch.jsonl"
        while not (index.exists() and len(index.read_text().splitlines()) >= 2) and time.time() < deadline:
            time.sleep(0.02)
        below = _descendants(proc.pid)
        assert below, "the batch started no worker processes"
        proc.kill()  # the driver alone, as the OOM killer would
        proc.wait(10)
        deadline = time.time() + 20
        while any(_alive(p) for p in below) and time.time() < deadline:
            time.sleep(0.1)
        left = [p for p in below if _alive(p)]
        assert not left, f"processes of the killed batch still running: {left}"
    finally:
        for p in below:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        log.close()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode in (0, 1), rerun.stderr[-2000:]
    recs = _records(out)
    assert sorted(recs) == list(range(1, 10 * len(THINGS) + 1))
    assert {r["status"] for r in recs.values()} <= {"succeeded", "unmet"}
    actions = {r["action"] for r in recs.values()}
    assert "skipped" in actions and actions <= {"skipped", "ran", "resumed"}
    for r in recs.values():
        assert mmthink.load_trace(out / r["run_id"]).status == r["status"]


def test_a_value_the_agent_refuses_is_named_as_written_in_the_line(tmp_path: Path) -> None:
    """Run settings are checked by the agent with the command line's spelling (``--max-drafts``); a requests file
    says ``max_drafts``, and the index must name what the user wrote, and no run folder that was never made."""
    res = mmthink.batch(
        [
            {"prompt": THINGS[0], "max_drafts": 0, **TINY},
            {"prompt": THINGS[1], "min_tokens": 99999, **TINY},
            {"prompt": THINGS[2], "best_of": 0, **TINY},
            {"prompt": THINGS[3], **TINY},
        ],
        tmp_path / "out",
        workers=1,
    )
    drafts, tokens, best, ok = res.records
    assert ok["status"] in ("succeeded", "unmet") and (res.out / ok["final"]).is_file()  # the batch went on
    for rec, name in ((drafts, "max_drafts"), (tokens, "min_tokens"), (best, "best_of")):
        assert rec["status"] == "invalid" and rec["field"] == name, rec
        assert rec["reason"].startswith(f"line {rec['line']}: {name}: "), rec
        assert "--" not in rec["reason"] and name.replace("_", "-") not in rec["reason"], rec
        assert "run_id" not in rec or (res.out / rec["run_id"]).is_dir(), rec
    assert "budget_tokens" in tokens["reason"]


def test_type_mistakes_in_a_line_get_a_fitting_example(tmp_path: Path) -> None:
    req = tmp_path / "r.jsonl"
    req.write_text(
        '{"prompt": "a red ball", "width": 256.0}\n'
        '{"prompt": "a red ball", "fps": "24"}\n'
        '{"prompt": "a red ball", "id": true}\n'
        '{"prompt": "a red ball", "seed": false}\n',
        encoding="utf-8",
    )
    width, fps, label, seed = read_requests(req)
    assert (width.field, fps.field, label.field, seed.field) == ("width", "fps", "id", "seed")
    assert width.message() == 'line 1: width: must be an integer, got 256.0 (e.g. "width": 512)'
    assert fps.message() == 'line 2: fps: must be an integer, got "24" (e.g. "fps": 24)'
    assert label.message().startswith("line 3: id: must be a string or an integer, got true")
    assert seed.message() == 'line 4: seed: must be an integer, got false (e.g. "seed": 7)'


def test_an_output_folder_that_cannot_be_made_is_exit_2_with_its_name(tmp_path: Path, capsys) -> None:
    req = tmp_path / "r.txt"
    req.write_text(THINGS[0] + "\n", encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["batch", str(req), "--out", str(blocker / "runs"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mmthink: error: out: ") and str(blocker / "runs") in err and "Traceback" not in err


def test_a_file_that_is_not_utf8_says_on_which_line(tmp_path: Path, capsys) -> None:
    req = tmp_path / "r.txt"
    req.write_bytes(b"a red ball on a table\na blue cup on a table\n\x93a green tree\x94 in a field\n")
    out = tmp_path / "out"
    assert main(["batch", str(req), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "requests:" in err and "line 3" in err and "UTF-8" in err
    assert not out.exists()


def test_only_newlines_end_a_line(tmp_path: Path) -> None:
    """JSON allows U+2028, U+2029 and NEL inside strings (``json.dumps(..., ensure_ascii=False)`` writes them
    as they are, and scraped text is full of them); they must not split a request in two, and the line
    numbers must be the ones an editor shows. CRLF endings and a last line without a newline still work."""
    rows = [
        json.dumps({"prompt": "a red ball on a table\u2028beside a blue cup", "id": "sep"}, ensure_ascii=False),
        json.dumps({"prompt": "a green tree\x85in a field"}, ensure_ascii=False),
        "a yellow kite\x0cin the sky",
        "",
        "a white house by a lake",
    ]
    req = tmp_path / "r.jsonl"
    req.write_bytes("\r\n".join(rows).encode("utf-8"))
    got = read_requests(req)
    assert [g.line for g in got] == [1, 2, 3, 5]
    assert all(not hasattr(g, "field") for g in got), got
    assert [g.request["text"] for g in got] == [
        "a red ball on a table\u2028beside a blue cup",
        "a green tree\x85in a field",
        "a yellow kite\x0cin the sky",
        "a white house by a lake",
    ]
    assert got[0].label == "sep"


def _interrupt(proc: subprocess.Popen, group: bool) -> None:
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_ctrl_c_once_or_twice_prints_one_line_and_leaves_no_workers(tmp_path: Path) -> None:
    """Ctrl-C stops the batch with 130 and a line (and one more for a second Ctrl-C), whether it reaches the driver alone (``kill -INT``) or the
    whole process group (a terminal), once or twice in quick succession, and the workers go too. Each is
    tried twice, since what it guards against depends on timing: Python 3.11's pool raising from its thread on
    futures cancelled at Ctrl-C, and a second Ctrl-C interrupting the exit while it joins that thread."""
    out = tmp_path / "out"
    cmd, env = _pool_batch(tmp_path, out)
    for attempt, (group, second) in enumerate([(False, None), (True, 0.01), (False, None), (True, 0.02)]):
        err_path = tmp_path / f"stderr{attempt}.txt"
        with open(err_path, "w") as log:
            proc = subprocess.Popen(cmd, start_new_session=True, stderr=log, env=env)
            index = out / "batch.jsonl"
            seen = len(index.read_text().splitlines()) if index.exists() else 0
            deadline = time.time() + 120
            while time.time() < deadline and not (index.exists() and len(index.read_text().splitlines()) >= seen + 2):
                time.sleep(0.02)
            below = _descendants(proc.pid)
            _interrupt(proc, group)
            if second is not None:
                time.sleep(second)
                if proc.poll() is None:
                    _interrupt(proc, group)
            code = proc.wait(60)
        err = err_path.read_text().splitlines()
        # 130, or (a second Ctrl-C landing while the interpreter is already shutting down, after Python has put
        # the default handler back) death by SIGINT, which a shell reports as the same 130
        assert code in (130, -signal.SIGINT) and "mmthink: interrupted" in err, (group, second, code, err[-30:])
        assert set(err) <= {"mmthink: interrupted", "mmthink: still stopping (Ctrl-C again to quit at once)"}, err[-30:]
        deadline = time.time() + 20
        while any(_alive(p) for p in below) and time.time() < deadline:
            time.sleep(0.1)
        assert not [p for p in below if _alive(p)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    recs = _records(out)
    assert sorted(recs) == list(range(1, 10 * len(THINGS) + 1))
    assert {r["status"] for r in recs.values()} <= {"succeeded", "unmet"}


def test_a_requests_path_with_a_tilde_is_read_like_the_output_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "prompts.txt").write_text(THINGS[0] + "\n", encoding="utf-8")
    res = mmthink.batch("~/prompts.txt", out="~/runs", workers=1)
    assert res.out == tmp_path / "runs" and len(res.records) == 1 and res.records[0]["status"] != "invalid"
    with pytest.raises(InputError) as e:  # a prompt given where a file is expected says how to give prompts
        mmthink.batch(THINGS[1], out=tmp_path / "x")
    assert e.value.field == "requests" and "mmthink.batch([" in str(e.value) and not (tmp_path / "x").exists()


def test_misspelt_fields_and_plain_lines_that_look_like_json_say_what_to_write(tmp_path: Path) -> None:
    req = tmp_path / "r.txt"
    req.write_text(
        '{"prompt": "a red ball", "widht": 256, "colour": "red"}\n'
        '"Good night," she whispered to the sleeping cat\n'
        "[draft] a blue cup on a table\n",
        encoding="utf-8",
    )
    typo, quoted, bracket = read_requests(req)
    assert typo.field == "widht" and "colour" in typo.problem and typo.fix.startswith("did you mean width?")
    for bad in (quoted, bracket):
        assert bad.field == "json" and "read as JSON" in bad.fix and "one JSON string" in bad.fix


def test_an_agent_function_the_workers_cannot_import_is_bad_input(tmp_path: Path) -> None:
    """Pool workers import ``agent=`` by name: a lambda or a nested function cannot reach them. That is said
    before anything is written, naming the field; one process (``workers=1``) takes it as it is."""

    def nested() -> mmthink.Agent:
        return mmthink.Agent.from_profile("embedded")

    for fn in (lambda: mmthink.Agent.from_profile("embedded"), nested):
        with pytest.raises(InputError) as e:
            mmthink.batch([THINGS[0], THINGS[1]], tmp_path / "pool", workers=2, agent=fn)
        assert e.value.field == "agent" and "module" in e.value.fix
        assert not (tmp_path / "pool").exists()
    res = mmthink.batch([{"prompt": THINGS[0], **TINY}], tmp_path / "one", workers=1, agent=nested)
    assert res.records[0]["status"] in ("succeeded", "unmet")
