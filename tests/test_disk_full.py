"""A full disk anywhere ends the run `failed` with one reason, "disk full while ...", the same in the
RunResult, the manifest and the CLI; it is never retried, and what was written stays a valid bundle.

ENOSPC is simulated by replacing the one write that fails (an asset, a step line, the SQLite
checkpoint, the encoder) with one that raises what the OS or the library raises on a full disk.
"""

from __future__ import annotations

import errno
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import faults  # noqa: E402

from mmthink import cli  # noqa: E402
from mmthink.core.faults import BackendError, CallPolicy, DiskFull, guarded_call, is_disk_full, retryable  # noqa: E402
from mmthink.errors import MMThinkError  # noqa: E402
from mmthink.trace.reader import load_trace  # noqa: E402

ENOSPC = "No space left on device"


def _manifest(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def _one_reason(res: Any, want: str) -> None:
    """The RunResult and the manifest say the same thing, the bundle verifies, and the error step says it too."""
    assert res.status == "failed" and res.reason == want, res.reason
    m = _manifest(res.trace)
    assert m["status"] == "failed" and m["reason"] == want
    trace = load_trace(res.trace)
    assert trace.verify() == []
    assert want in [p.text for s in trace.by_kind("error") for p in s.parts if p.type == "text"]


def _toy(tmp_path: Path) -> Any:
    return faults.toy_agent(tmp_path, policy=faults.FaultPolicy.quick(timeout_s=3.0, attempts=3, backoff_s=0.0))


# ----------------------------------------------------------------------------- where the disk fills up
def test_disk_full_at_the_sqlite_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver

    real, calls = SqliteSaver.put, {"n": 0}

    def put(self: Any, *a: Any, **k: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:  # a few supersteps in: the bundle exists, the checkpoint cannot grow
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, *a, **k)

    monkeypatch.setattr(SqliteSaver, "put", put)
    res = _toy(tmp_path).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    _one_reason(res, "disk full while saving the checkpoint (Database or disk is full)")
    assert calls["n"] == 4  # nothing tried again after it


def test_disk_full_writing_a_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmthink.trace.writer import TraceWriter

    real, seen = TraceWriter.append, {"n": 0}

    def append(self: TraceWriter, step: Any) -> Any:
        seen["n"] += 1
        if seen["n"] == 3:
            raise OSError(errno.ENOSPC, ENOSPC, str(self.root / "steps.jsonl"))
        return real(self, step)

    monkeypatch.setattr(TraceWriter, "append", append)
    res = _toy(tmp_path).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    _one_reason(res, f"disk full while writing steps.jsonl ({ENOSPC})")


def test_disk_full_saving_an_asset_is_one_reason_in_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import mmthink.trace.writer as tw

    real, tries = tw.atomic_write, {"n": 0}

    def full(path: Path, data: bytes, **kw: Any) -> None:
        if Path(path).parent.name == tw.ASSETS:
            tries["n"] += 1
            raise OSError(errno.ENOSPC, ENOSPC, str(path))
        real(path, data, **kw)

    monkeypatch.setattr(tw, "atomic_write", full)
    rc = cli.main(["run", "three red apples on a table", "--out", str(tmp_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    want = f"disk full while saving draft s1 ({ENOSPC})"
    assert rc == cli.EXIT_FAILED and out["status"] == "failed" and out["reason"] == want
    assert _manifest(Path(out["trace"]))["reason"] == want and tries["n"] == 1  # never retried
    assert load_trace(out["trace"]).verify() == []


def test_disk_full_before_the_bundle_exists_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mmthink.trace.writer import TraceWriter

    def no_room(self: Any, *a: Any, **k: Any) -> None:
        raise OSError(errno.ENOSPC, ENOSPC, "manifest.json")

    monkeypatch.setattr(TraceWriter, "__init__", no_room)
    with pytest.raises(DiskFull, match=r"^disk full while"):
        _toy(tmp_path).run(faults.IMAGE_REQUEST, seed=faults.SEED)
    assert list(tmp_path.iterdir()) == []
    rc = cli.main(["run", "three red apples on a table", "--out", str(tmp_path / "cli"), "-q"])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_FAILED and err.startswith("mmthink: disk full while") and err.count("\n") == 1
    assert not (tmp_path / "cli").exists() or list((tmp_path / "cli").iterdir()) == []


def test_disk_full_while_encoding_a_video_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """moviepy reports ffmpeg's ENOSPC as a broken pipe with ffmpeg's log: that is still a full disk."""
    moviepy = pytest.importorskip("moviepy")
    from mmthink import Agent

    calls: list[int] = []

    def write_videofile(self: Any, path: str, *a: Any, **k: Any) -> None:
        calls.append(1)
        raise OSError(
            errno.EPIPE,
            "[Errno 32] Broken pipe\n\nMoviePy error: FFMPEG encountered the following "
            f"error while writing file {path}:\n\n b'av_interleaved_write_frame(): {ENOSPC}'",
        )

    monkeypatch.setattr(moviepy.VideoClip, "write_videofile", write_videofile)
    agent = Agent.demo("video")
    res = agent.run(agent.reasoner.script.request, out=tmp_path)
    _one_reason(res, f"disk full while composing the final ({ENOSPC})")
    assert calls == [1]  # the compose policy allows 2 attempts; a full disk gets one
    assert not list(res.trace.glob(".work*")) or not any((res.trace / ".work").iterdir())


# ----------------------------------------------------------------------------- how it is recognised
@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, ENOSPC),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        sqlite3.OperationalError("database or disk is full"),
        BackendError("encoding the movie failed: [Errno 32] Broken pipe ... No space left on device"),
    ],
)
def test_full_disk_is_recognised_and_never_retried(exc: BaseException) -> None:
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = exc
    for e in (exc, wrapped):
        assert is_disk_full(e) and not retryable(e)
    n = {"calls": 0}

    def fails() -> None:
        n["calls"] += 1
        raise exc

    with pytest.raises(DiskFull) as info:
        guarded_call(fails, CallPolicy(5, 3, 0.0), "compose")
    assert n["calls"] == 1 and str(info.value).startswith("disk full while composing the final (")
    assert isinstance(info.value, MMThinkError)


def test_other_errors_are_not_taken_for_a_full_disk() -> None:
    assert not is_disk_full(OSError(errno.EPIPE, "Broken pipe"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
