""".mmtrace zips from strangers: bombs refused before a byte is written, the entry count read from
the end record before the directory is parsed, odd entries a bundle error (exit 3), no temp copies."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mmthink.trace.bundle as bundle
from mmthink.cli import main
from mmthink.errors import BundleError, InputError
from mmthink.trace.reader import export_bundle, load_trace, verify_bundle
from mmthink.trace.schema import Part, Step
from mmthink.trace.writer import TraceWriter


def _bundle(root: Path, make_png: Any) -> Path:
    w = TraceWriter(root, {"request": {"text": "a red kite"}})
    rel = w.put_asset(make_png(), "png")
    w.append(Step("draft", "act", "sketch s1", [Part("image", asset=rel)], ref="s1"))
    w.finish("succeeded", final={"asset": rel, "kind": "image"})
    return root


@pytest.fixture
def good_zip(tmp_path: Path, make_png: Any) -> Path:
    return export_bundle(_bundle(tmp_path / "run", make_png), tmp_path / "good.mmtrace")


def _with(z: Path, out: Path, extra: list[tuple[str, bytes]], compress: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(z) as src, zipfile.ZipFile(out, "w", compress) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for name, data in extra:
            dst.writestr(zipfile.ZipInfo(name), data, compress_type=compress)
    return out


@pytest.fixture
def tmpdir_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp folder every tempfile call uses in this test; it must stay empty."""
    t = tmp_path / "tmp"
    t.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(t))
    monkeypatch.setenv("MMTHINK_VIEW_DIR", str(tmp_path / "views"))
    return t


# --------------------------------------------------------------------------- bombs
def test_many_small_bombs_are_refused_before_anything_is_written(
    tmp_path: Path, good_zip: Path, tmpdir_watch: Path
) -> None:
    # each entry stays under the one-entry floor; together they expand about 500 times
    zeros = [(f"run/assets/{i:064x}.wav", bytes(900 * 1024)) for i in range(40)]
    z = _with(good_zip, tmp_path / "bomb.mmtrace", zeros)
    assert z.stat().st_size < 100_000
    for call in (lambda: verify_bundle(z), lambda: load_trace(z), lambda: load_trace(z, dest=tmp_path / "d")):
        with pytest.raises(BundleError, match="zip bomb"):
            call()
    assert not (tmp_path / "d").exists() and list(tmpdir_watch.iterdir()) == []


def test_one_big_bomb_and_the_byte_cap(tmp_path: Path, good_zip: Path) -> None:
    z = _with(good_zip, tmp_path / "one.mmtrace", [("run/assets/" + "a" * 64 + ".wav", bytes(3 * 1024**2))])
    with pytest.raises(BundleError, match="a zip bomb"):
        verify_bundle(z)
    with pytest.raises(BundleError, match="past 2000 bytes"):
        verify_bundle(good_zip, max_bytes=2000)


def _counted_zip(entries: int, zip64: bool) -> bytes:
    """A tiny real zip whose end record claims ``entries`` entries (zip64 records when asked)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("run/manifest.json", b"{}")
    data = buf.getvalue()
    at = data.rfind(b"PK\x05\x06")
    sig, disk, cd_disk, n_disk, n_total, cd_size, cd_off, clen = struct.unpack("<4s4H2LH", data[at : at + 22])
    if not zip64:
        return data[:at] + struct.pack("<4s4H2LH", sig, disk, cd_disk, entries, entries, cd_size, cd_off, 0)
    rec_at = at
    rec = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size, cd_off)
    loc = struct.pack("<4sLQL", b"PK\x06\x07", 0, rec_at, 1)
    end = struct.pack("<4s4H2LH", sig, 0, 0, 0xFFFF, 0xFFFF, cd_size, cd_off, 0)
    return data[:at] + rec + loc + end


@pytest.mark.parametrize("zip64", [False, True])
def test_entry_count_is_read_before_the_directory_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64: bool
) -> None:
    z = tmp_path / "many.mmtrace"
    z.write_bytes(_counted_zip(60_000 if not zip64 else 400_000, zip64))

    def never(*a: Any, **k: Any) -> Any:
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(bundle.zipfile, "ZipFile", never)
    with pytest.raises(BundleError, match=f"{60_000 if not zip64 else 400_000} entries, more than the 10000"):
        verify_bundle(z)
    with pytest.raises(BundleError, match="entries"):
        load_trace(z)


def test_a_real_zip_with_too_many_entries(tmp_path: Path, good_zip: Path) -> None:
    with pytest.raises(BundleError, match="more than the 3 a bundle may hold"):
        verify_bundle(good_zip, max_entries=3)


# --------------------------------------------------------------------------- odd entries
@pytest.mark.parametrize(
    "extra, why",
    [
        ([("run/assets", b"a file where the folder is")], "both a file and a folder"),
        ([("run/" + "a" * 300, b"x")], "longer than 255"),
        ([("run/manifest.json/x", b"x")], "both a file and a folder"),
    ],
)
def test_odd_entries_are_a_bundle_error_not_a_traceback(
    tmp_path: Path, good_zip: Path, extra: Any, why: str, tmpdir_watch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    z = _with(good_zip, tmp_path / "odd.mmtrace", extra)
    for cmd in ("verify", "view"):
        assert main([cmd, str(z)]) == 3
        _, err = capsys.readouterr()
        assert why in err and err.count("\n") == 1
    with pytest.raises(BundleError, match=why):
        load_trace(z)
    assert list(tmpdir_watch.iterdir()) == []


def test_cli_gives_exit_3_and_no_traceback(tmp_path: Path, good_zip: Path) -> None:
    z = _with(good_zip, tmp_path / "ff.mmtrace", [("run/assets", b"x")])
    out = subprocess.run([sys.executable, "-m", "mmthink.cli", "verify", str(z)], capture_output=True, text=True)
    assert out.returncode == 3 and "Traceback" not in out.stderr and "both a file and a folder" in out.stderr


def test_unknown_entries_are_reported(tmp_path: Path, good_zip: Path) -> None:
    z = _with(
        good_zip,
        tmp_path / "extra.mmtrace",
        [("run/page.html", b"<script>x</script>"), ("elsewhere.txt", b"hi"), ("run/.private", b"writer's")],
    )
    report = verify_bundle(z)
    assert report.count == 2
    assert any("unknown file 'page.html'" in p for p in report.problems)
    assert any("unknown file 'elsewhere.txt' outside the bundle folder" in p for p in report.problems)


# --------------------------------------------------------------------------- temp copies
def test_no_temp_copies_on_any_path(
    tmp_path: Path, good_zip: Path, tmpdir_watch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = tmp_path / "tampered.mmtrace"
    with zipfile.ZipFile(good_zip) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:-2] + b"!!" if "/assets/" in info.filename else data)
    for z, want in ((good_zip, 0), (tampered, 3)):
        for cmd in ("verify", "view"):
            assert main([cmd, str(z)]) == want, capsys.readouterr()
    capsys.readouterr()
    assert list(tmpdir_watch.iterdir()) == []
    with pytest.raises(BundleError, match="hash mismatch"):
        load_trace(tampered)
    with load_trace(tampered, verify=False) as t:  # unpacked unchecked on request, removed when done
        assert any("hash mismatch" in p for p in t.verify())
    assert list(tmpdir_watch.iterdir()) == []


def test_loaded_zip_owns_its_temp_folder(tmp_path: Path, good_zip: Path, tmpdir_watch: Path) -> None:
    with load_trace(good_zip) as t:
        assert t.root.is_dir() and tmpdir_watch in t.root.parents and t.verify() == []
    assert list(tmpdir_watch.iterdir()) == []
    kept = load_trace(good_zip, dest=tmp_path / "kept")
    kept.close()  # a folder the caller named is the caller's
    assert (tmp_path / "kept" / "run" / "manifest.json").is_file()


# --------------------------------------------------------------------------- fuzzing
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_damaged_zips_give_a_bundle_error_or_load(tmp_path: Path, good_zip: Path, data: st.DataObject) -> None:
    raw = bytearray(good_zip.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    z = tmp_path / "fuzz.mmtrace"
    z.write_bytes(bytes(raw))
    try:
        verify_bundle(z)
    except (BundleError, InputError):
        pass
    try:
        load_trace(z, verify=False).close()
    except (BundleError, InputError):
        pass


_names = st.lists(
    st.text(alphabet="ab./\\:\x00-_", min_size=0, max_size=12).map(lambda s: "run/" + s), min_size=1, max_size=6
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=_names)
def test_any_entry_names_give_a_bundle_error_or_load(tmp_path: Path, good_zip: Path, names: list[str]) -> None:
    z = tmp_path / "names.mmtrace"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of the fuzz
        _with(good_zip, z, [(n, b"x") for n in names])
    try:
        report = verify_bundle(z)
        harmless = ("run/", "run/assets/")  # the bundle's own folders; dot names are a writer's private files
        stored = [zipfile.ZipInfo(n).filename for n in names]  # zipfile cuts a name at NUL
        assert report.count >= 1 or all(n.startswith("run/.") or n in harmless for n in stored), names
    except (BundleError, InputError):
        pass
