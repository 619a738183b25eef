"""Trace bundles: writing as a run goes, crash recovery, safe loading of folders and zips, the page."""

from __future__ import annotations

import json
import os
import re
import threading
import wave
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mmthink.errors import BundleError, InputError
from mmthink.trace.reader import export_bundle, load_trace
from mmthink.trace.schema import SCHEMA, Part, Step
from mmthink.trace.viewer import render_html
from mmthink.trace.writer import TraceWriter, new_run_id


def _manifest(**extra: Any) -> dict[str, Any]:
    return {
        "request": {"text": "a red kite over a green hill", "modality": "image"},
        "modality": "image",
        "thinking": {"mode": "on", "resolved": "on", "reason": "asked for"},
        "reasoner": {"name": "scripted"},
        "seed": 3,
        **extra,
    }


def _lines(root: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (root / "steps.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def _small_run(root: Path, make_png: Any, status: str | None = "succeeded") -> TraceWriter:
    w = TraceWriter(root, _manifest())
    w.append(Step("thought", "think", "thinking", [Part("reasoning", '<sketch id="s1">\nkite: red\n</sketch>')]))
    rel = w.put_asset(make_png(), "png")
    w.append(Step("draft", "act", "sketch s1", [Part("text", "kite: red"), Part("image", asset=rel)], ref="s1"))
    w.append(
        Step(
            "observation", "critique", "critique of s1", [Part("text", "kite found")], ref="s1", score=0.8, passed=True
        )
    )
    if status:
        w.finish(status, final={"asset": rel, "kind": "image", "ext": "png", "ref": "s1"})
    return w


# --------------------------------------------------------------------------- run ids
def test_run_ids_sort_by_time_and_never_collide() -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def make() -> None:
        got = [new_run_id() for _ in range(300)]
        with lock:
            ids.extend(got)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1200
    assert all(re.fullmatch(r"\d{8}-\d{6}-\d{6}-[0-9a-f]{6}", i) for i in ids)
    one = [new_run_id() for _ in range(50)]
    assert one == sorted(one)
    assert new_run_id("demo").startswith("demo-2")
    with pytest.raises(InputError, match="prefix"):
        new_run_id("../x")


# --------------------------------------------------------------------------- round trip
def test_round_trip_with_real_media(tmp_path: Path, make_png: Any, make_wav: Any, mp4_bytes: bytes) -> None:
    root = tmp_path / "run"
    w = TraceWriter(root, _manifest(budget={"max_tokens": 100, "tokens": 0}))
    assert (root / "assets").is_dir() and json.loads((root / "manifest.json").read_text())["status"] == "running"
    png, wav = make_png(80, 60), make_wav(0.4, rate=16000)
    rel_png, rel_wav, rel_mp4 = w.put_asset(png, "png"), w.put_asset(wav, ".WAV"), w.put_asset(mp4_bytes, "mp4")
    assert rel_png == w.put_asset(png, "png")  # idempotent: same bytes, same name, one file
    assert len(list((root / "assets").iterdir())) == 3
    assert rel_wav.endswith(".wav")
    (root / rel_png).write_bytes(png[:-4] + b"XXXX")  # damaged on disk: storing the bytes again repairs it
    assert w.put_asset(png, "png") == rel_png and (root / rel_png).read_bytes() == png
    steps = [
        Step("decision", "route", "thinking on", [Part("text", "on because asked")], metrics={"mode": "on"}),
        Step(
            "thought",
            "think",
            "thinking",
            [Part("reasoning", 'plan\n<sketch id="s1">\nkite: red\n</sketch>')],
            metrics={"tokens": 12},
        ),
        Step("draft", "act", "sketch s1", [Part("text", "kite: red"), Part("image", asset=rel_png)], ref="s1"),
        Step(
            "observation",
            "critique",
            "critique of s1",
            [Part("text", "ok")],
            ref="s1",
            score=0.75,
            passed=True,
            metrics={"ratio": float("nan"), "n": 3},
        ),
        Step("draft", "act", "draft_audio a1", [Part("text", "hello"), Part("audio", asset=rel_wav)], ref="a1"),
        Step(
            "final",
            "compose",
            "final video",
            [Part("video", asset=rel_mp4), Part("table", rows=[{"word": "hello", "start": 0.0, "end": 0.4}])],
        ),
    ]
    for s in steps:
        w.append(s)
    assert [s.index for s in w.steps] == list(range(6))
    w.update(budget={"max_tokens": 100, "tokens": 12})
    w.finish("succeeded", final={"asset": rel_mp4, "kind": "video", "ext": "mp4"})

    t = load_trace(root)
    assert t.manifest["schema"] == SCHEMA and t.manifest["status"] == "succeeded" and t.manifest["steps"] == 6
    assert t.manifest["budget"]["tokens"] == 12 and t.manifest["run_id"] == "run"
    assert t.manifest["timings"]["seconds"] >= 0 and t.manifest["timings"]["ended"] >= t.manifest["timings"]["started"]
    assert [(s.index, s.kind, s.title, s.ref) for s in t.steps] == [(s.index, s.kind, s.title, s.ref) for s in steps]
    assert t.steps[3].score == 0.75 and t.steps[3].passed is True
    assert t.steps[3].metrics == {"ratio": None, "n": 3}  # NaN is not JSON; it is written as null
    assert t.steps[5].parts[1].rows == [{"word": "hello", "start": 0.0, "end": 0.4}]
    assert all(s.ended is not None and s.ended >= s.started for s in t.steps)
    assert [s.ref for s in t.drafts()] == ["s1", "a1"] and len(t.observations()) == 1 and len(t.thoughts()) == 1
    assert t.verify() == []

    img = Image.open(t.asset_path(t.drafts()[0].parts[1].asset))
    assert img.size == (80, 60)
    with wave.open(str(t.asset_path(rel_wav))) as wf:
        assert wf.getframerate() == 16000 and wf.getnframes() == 6400
    assert t.final_path is not None and t.final_path.read_bytes() == mp4_bytes and mp4_bytes[4:8] == b"ftyp"
    assert t.steps[2].parts[1].mime == "image/png"

    page = (root / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r'class="step step-(\w+)" id="step-\d+" data-index="(\d+)"', page)) == 6
    assert f'<video controls preload="metadata" playsinline src="{rel_mp4}">' in page
    assert f'<audio controls preload="metadata" src="{rel_wav}">' in page


def test_steps_are_on_disk_as_soon_as_appended(tmp_path: Path) -> None:
    w = TraceWriter(tmp_path / "live", _manifest())
    for i in range(3):
        w.append(Step("thought", "think", f"t{i}", [Part("reasoning", f"thinking {i}")]))
        with open(tmp_path / "live" / "steps.jsonl", encoding="utf-8") as f:  # a second reader, writer still open
            assert [d["title"] for d in map(json.loads, f)] == [f"t{j}" for j in range(i + 1)]
    live = load_trace(tmp_path / "live")
    assert live.manifest["status"] == "running" and len(live.steps) == 3 and live.verify() == []
    assert not (tmp_path / "live" / "index.html").exists()
    assert w.write_viewer().is_file()


def test_trace_sync_end_fsyncs_once_when_the_status_changes(tmp_path: Path, make_png: Any, monkeypatch) -> None:
    """Batches write bundles with ``trace_sync: end``: nothing is fsynced while the run goes, then every step and
    asset is, before the manifest that says the run paused or ended (so it never names data not on disk)."""
    synced: list[str] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    w = TraceWriter(tmp_path / "b", {**_manifest(), "trace_sync": "end"})
    assert not w.sync_each
    png = w.put_asset(make_png(), "png")
    for i in range(3):
        w.append(Step("thought", "think", f"t{i}", [Part("reasoning", f"thinking {i}")]))
    w.append(Step("draft", "act", "s1", [Part("image", asset=png)]))
    with open(tmp_path / "b" / "steps.jsonl", encoding="utf-8") as f:  # written, only not fsynced
        assert len(f.readlines()) == 4
    assert synced == []
    w.update(status="awaiting_review")
    assert synced[:2] == [png.split("/")[1], "steps.jsonl"] and synced[2].startswith(".manifest.json")
    synced.clear()
    w.update(status="running")
    w.append(Step("thought", "think", "t4", [Part("reasoning", "more")]))
    assert synced == []
    w.finish("succeeded")
    assert synced[0] == "steps.jsonl" and synced[1].startswith(".manifest.json") and len(synced) == 2
    t = load_trace(tmp_path / "b")
    assert t.manifest["trace_sync"] == "end" and t.verify() == [] and len(t.steps) == 5

    synced.clear()  # the default: every step and asset as written
    w2 = TraceWriter(tmp_path / "c", _manifest())
    w2.put_asset(make_png(), "png")
    w2.append(Step("thought", "think", "t", [Part("reasoning", "x")]))
    assert len(synced) == 3  # the manifest at creation, the asset, the step
    with pytest.raises(InputError) as e:
        TraceWriter(tmp_path / "d", {**_manifest(), "trace_sync": "never"})
    assert e.value.field == "trace_sync" and not (tmp_path / "d").exists()


def test_threads_appending_at_once_get_unique_indices(tmp_path: Path) -> None:
    w = TraceWriter(tmp_path / "par", _manifest())

    def work(n: int) -> None:
        for i in range(20):
            w.append(Step("thought", f"worker{n}", f"{n}-{i}", [Part("text", "x" * 500)]))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = _lines(tmp_path / "par")
    assert [d["index"] for d in lines] == list(range(80))
    assert sorted(d["title"] for d in lines) == sorted(f"{n}-{i}" for n in range(4) for i in range(20))


def test_bad_arguments_name_the_field(tmp_path: Path, make_png: Any) -> None:
    w = TraceWriter(tmp_path / "r", _manifest())
    with pytest.raises(InputError, match="ext"):
        w.put_asset(make_png(), "p/ng")
    with pytest.raises(InputError, match="data"):
        w.put_asset("not bytes", "png")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="step.kind"):
        w.append(Step("musing", "think"))
    with pytest.raises(InputError, match="status"):
        w.finish("done")
    with pytest.raises(InputError, match="status"):
        w.update(status="weird")
    with pytest.raises(InputError, match="resume"):
        TraceWriter(tmp_path / "r", _manifest())
    assert (
        _lines(tmp_path / "r") == []
        and json.loads((tmp_path / "r" / "manifest.json").read_text())["status"] == "running"
    )


# --------------------------------------------------------------------------- crashes
def test_resume_drops_a_torn_last_line(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "crash"
    _small_run(root, make_png, status=None)
    good = (root / "steps.jsonl").read_bytes()
    with open(root / "steps.jsonl", "ab") as f:  # the process died half way through a line
        f.write(b'{"index": 3, "kind": "thought", "node": "think", "parts": [{"type": "reas')

    t = load_trace(root, verify=False)  # a running bundle: the partial line is simply not there yet
    assert len(t.steps) == 3 and t.verify() == []

    w = TraceWriter.resume(root)
    assert (root / "steps.jsonl").read_bytes() == good
    assert len(w.steps) == 3 and "torn" in w.manifest["repairs"][0]
    w.append(Step("thought", "think", "after the crash", [Part("reasoning", "again")]))
    w.finish("succeeded")
    t = load_trace(root)
    assert [s.index for s in t.steps] == [0, 1, 2, 3] and t.steps[3].title == "after the crash"


def test_resume_keeps_a_whole_line_that_lost_its_newline(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "nl"
    _small_run(root, make_png, status=None)
    data = (root / "steps.jsonl").read_bytes()
    (root / "steps.jsonl").write_bytes(data[:-1])
    w = TraceWriter.resume(root)
    assert len(w.steps) == 3 and (root / "steps.jsonl").read_bytes() == data and "repairs" not in w.manifest
    assert w.append(Step("decision", "think", "go on")).index == 3


def test_resume_refuses_damage_in_the_middle(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "mid"
    _small_run(root, make_png, status=None)
    lines = (root / "steps.jsonl").read_bytes().split(b"\n")
    lines[1] = b"{not json"
    (root / "steps.jsonl").write_bytes(b"\n".join(lines))
    with pytest.raises(BundleError, match="line 2"):
        TraceWriter.resume(root)
    with pytest.raises(BundleError, match="no manifest"):
        TraceWriter.resume(tmp_path / "nothing")


def test_finished_bundle_with_torn_line_is_reported(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "torn"
    _small_run(root, make_png)
    with open(root / "steps.jsonl", "ab") as f:
        f.write(b'{"index": 3, "ki')
    with pytest.raises(BundleError, match="torn last line"):
        load_trace(root)


# --------------------------------------------------------------------------- verification
def test_tampered_asset_is_a_hash_mismatch(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "tamper"
    _small_run(root, make_png)
    assert load_trace(root).verify() == []
    asset = next((root / "assets").iterdir())
    data = bytearray(asset.read_bytes())
    data[-20] ^= 0xFF
    asset.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=f"{asset.name}: hash mismatch"):
        load_trace(root)
    asset.unlink()
    problems = load_trace(root, verify=False).verify()
    assert any(f"missing asset assets/{asset.name}" in p and "step 1" in p and "manifest final" in p for p in problems)


def test_unknown_kind_and_schema_are_problems(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "odd"
    _small_run(root, make_png)
    with open(root / "steps.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"index": 3, "kind": "daydream", "node": "think", "parts": []}) + "\n")
        f.write("[1, 2]\n")
    t = load_trace(root, verify=False)
    problems = t.verify()
    assert any("line 4" in p and "daydream" in p for p in problems)
    assert any("line 5" in p for p in problems)
    assert len(t.steps) == 3
    with pytest.raises(BundleError, match="daydream"):
        load_trace(root)
    m = json.loads((root / "manifest.json").read_text())
    m["schema"] = "other.trace/9"
    (root / "manifest.json").write_text(json.dumps(m))
    assert any("unknown schema 'other.trace/9'" in p for p in load_trace(root, verify=False).verify())


def test_asset_paths_cannot_leave_the_bundle(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "paths"
    _small_run(root, make_png)
    t = load_trace(root)
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "assets" / "link.png")
    for bad in (
        "../manifest.json",
        "/etc/passwd",
        "assets/../../secret.txt",
        "assets/sub/x.png",
        "assets\\x.png",
        "manifest.json",
        "assets/link.png",
        "",
    ):
        with pytest.raises(BundleError):
            t.asset_path(bad)
    assert any("link.png is a symlink" in p for p in t.verify())
    t.steps[1].parts[1].asset = "../secret.txt"
    assert any("unsafe asset path" in p for p in t.verify())


# --------------------------------------------------------------------------- zips
def test_export_and_load_zip(tmp_path: Path, make_png: Any) -> None:
    root = tmp_path / "runs" / "20260101-000000-000000-abcdef"
    _small_run(root, make_png)
    (root / "assets" / ".tmp-leftover").write_bytes(b"interrupted write")
    z = export_bundle(root)
    assert z == root.with_name(root.name + ".mmtrace") and zipfile.is_zipfile(z)
    names = zipfile.ZipFile(z).namelist()
    assert all(n.startswith(root.name + "/") for n in names) and not any(".tmp" in n for n in names)
    assert {f"{root.name}/manifest.json", f"{root.name}/steps.jsonl", f"{root.name}/index.html"} <= set(names)

    dest = tmp_path / "unpacked"
    t = load_trace(z, dest=dest)
    assert t.root == dest / root.name and [s.title for s in t.steps] == [s.title for s in load_trace(root).steps]
    assert t.final_path is not None and t.final_path.read_bytes() == make_png()
    t2 = load_trace(z)  # into a fresh temporary folder
    assert t2.verify() == [] and t2.root.parent != dest
    with pytest.raises(InputError, match="dest"):
        load_trace(z, dest=dest)  # not empty any more
    assert export_bundle(root, tmp_path / "out").name == root.name + ".mmtrace"
    with pytest.raises(BundleError, match="entries"):
        load_trace(z, dest=tmp_path / "few", max_entries=2)


def _craft(path: Path, entries: list[tuple[str, bytes]], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("evil", ["../evil", "run/../../evil", "/tmp/mmthink-abs-evil", "C:/evil", "run/./x"])
def test_zip_escapes_are_refused_before_writing(tmp_path: Path, evil: str) -> None:
    manifest = json.dumps({"schema": SCHEMA, "status": "succeeded", "steps": 0}).encode()
    z = _craft(tmp_path / "bad.mmtrace", [("run/manifest.json", manifest), ("run/steps.jsonl", b""), (evil, b"owned")])
    dest = tmp_path / "box" / "dest"
    with pytest.raises(BundleError) as e:
        load_trace(z, dest=dest)
    assert repr(evil) in str(e.value)
    assert not (tmp_path / "box" / "evil").exists() and not (tmp_path / "evil").exists()
    assert not Path("/tmp/mmthink-abs-evil").exists()
    assert not dest.exists()  # refused before anything was written, the folder included


def test_zip_symlinks_bombs_and_duplicates_are_refused(tmp_path: Path) -> None:
    manifest = json.dumps({"schema": SCHEMA, "status": "succeeded", "steps": 0}).encode()
    base = [("run/manifest.json", manifest), ("run/steps.jsonl", b"")]
    with pytest.raises(BundleError, match="symbolic link"):
        load_trace(_craft(tmp_path / "link.zip", base, symlink="run/assets/a.png"), dest=tmp_path / "d1")
    with pytest.raises(BundleError, match="zip bomb"):
        load_trace(
            _craft(tmp_path / "bomb.zip", base + [("run/assets/zeros.wav", bytes(20 * 1024**2))]), dest=tmp_path / "d2"
        )
    with pytest.raises(BundleError, match="past"):
        load_trace(
            _craft(tmp_path / "big.zip", base + [("run/assets/x.json", b"x" * 5000)]),
            dest=tmp_path / "d3",
            max_bytes=4096,
        )
    with pytest.warns(UserWarning, match="Duplicate"):
        dup = _craft(tmp_path / "dup.zip", base + [("run/manifest.json", b"{}")])
    with pytest.raises(BundleError, match="twice"):
        load_trace(dup, dest=tmp_path / "d4")
    (tmp_path / "plain.mmtrace").write_bytes(b"not a zip at all")
    with pytest.raises(BundleError, match="neither"):
        load_trace(tmp_path / "plain.mmtrace")
    for d in ("d1", "d2", "d3", "d4"):
        assert not (tmp_path / d).exists() or list((tmp_path / d).iterdir()) == []


def test_zip_that_is_not_a_bundle(tmp_path: Path) -> None:
    z = _craft(tmp_path / "x.zip", [("readme.txt", b"hi")])
    with pytest.raises(BundleError, match="manifest.json"):
        load_trace(z, dest=tmp_path / "d")


# --------------------------------------------------------------------------- page
def test_page_escapes_everything_and_loads_nothing_external(tmp_path: Path, make_png: Any) -> None:
    evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    w = TraceWriter(tmp_path / "x", _manifest(request={"text": f"draw {evil}", "modality": "image"}))
    w.append(
        Step(
            "thought", "think", evil, [Part("reasoning", f'<sketch id="s1">\n{evil}\n</sketch>')], metrics={evil: evil}
        )
    )
    w.append(Step("error", "act", "boom", [Part("text", evil)], ref=evil))
    w.append(Step("draft", "act", "sketch", [Part("image", asset="javascript:alert(3)")]))
    html = render_html(w.manifest, w.steps)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script type="application/json" id="trace-data">', "<script>"]
    assert "<img src=x" not in html and not re.search(r'(?:src|href)="javascript', html)
    assert not re.search(r'(?:src|href)="(?:https?:|//)', html)
    data = html.split('<script type="application/json" id="trace-data">')[1].split("</script>")[0]
    assert json.loads(data)["steps"][0]["title"] == evil  # the embedded JSON round-trips
    assert 'class="step step-thought" id="step-0" data-index="0"' in html
    assert "unsafe or missing image asset" in html
    assert '<span class="tag tag-sketch">&lt;sketch id=&quot;s1&quot;&gt;</span>' in html
