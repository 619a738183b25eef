"""`mmthink view` and `verify` on hostile bundles: a fresh page from verified data, no links, no
unknown files, every string escaped in the page and made safe for the terminal."""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmthink.cli import main
from mmthink.trace.reader import export_bundle, load_trace, verify_bundle
from mmthink.trace.schema import Part, Step
from mmthink.trace.terminal import printable
from mmthink.trace.viewer import render
from mmthink.trace.writer import TraceWriter

SCRIPTED_PAGE = "<!doctype html><script>window.__owned = 1; alert('owned')</script>"


def _bundle(root: Path, make_png: Any, title: str = "sketch s1") -> Path:
    w = TraceWriter(root, {"request": {"text": "a red kite", "modality": "image"}, "modality": "image"})
    w.append(Step("thought", "think", "thinking", [Part("reasoning", '<sketch id="s1">kite: red</sketch>')]))
    rel = w.put_asset(make_png(), "png")
    w.append(Step("draft", "act", title, [Part("text", "kite: red"), Part("image", asset=rel)], ref="s1"))
    w.append(
        Step(
            "observation", "critique", "critique of s1", [Part("text", "kite found")], ref="s1", score=0.8, passed=True
        )
    )
    w.finish("succeeded", final={"asset": rel, "kind": "image", "ext": "png", "ref": "s1"})
    return root


@pytest.fixture
def views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "views"
    monkeypatch.setenv("MMTHINK_VIEW_DIR", str(home))
    return home


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if not (c.isprintable() or c == "\n")]  # C0, DEL, C1, bidi marks, surrogates


# --------------------------------------------------------------------------- view
def test_view_renders_a_fresh_page_never_the_bundles_own(
    tmp_path: Path, make_png: Any, views: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "stranger", make_png)
    (root / "index.html").write_text(SCRIPTED_PAGE, encoding="utf-8")
    code, out, err = _cli(capsys, "view", str(root))
    assert code == 0, err
    page = Path(out.strip())
    assert page.name == "index.html" and page.is_file()
    assert views.resolve() in page.resolve().parents and root.resolve() not in page.resolve().parents
    text = page.read_text(encoding="utf-8")
    assert "__owned" not in text and "alert(" not in text
    assert len(re.findall(r'class="step step-\w+" id="step-\d+"', text)) == 3
    assert (root / "index.html").read_text(encoding="utf-8") == SCRIPTED_PAGE  # the bundle is not touched
    # every asset the page points at sits next to it, byte for byte, under its hash
    for rel in set(re.findall(r'src="(assets/[0-9a-f]{64}\.png)"', text)):
        data = (page.parent / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == rel[7:71] and data == (root / rel).read_bytes()
    assert oct(views.stat().st_mode & 0o777) == "0o700"

    # again: the same place, a fresh page (the old one is replaced, nothing piles up)
    code, out2, _ = _cli(capsys, "view", str(root))
    assert code == 0 and out2 == out
    assert [p.name for p in views.iterdir()] == [page.parent.name]


def test_view_of_a_zip_reads_it_in_place_and_leaves_no_temp_copy(
    tmp_path: Path, make_png: Any, views: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "run", make_png)
    (root / "index.html").write_text(SCRIPTED_PAGE, encoding="utf-8")
    z = export_bundle(root, tmp_path / "run.mmtrace")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    code, out, err = _cli(capsys, "view", str(z))
    assert code == 0, err
    text = Path(out.strip()).read_text(encoding="utf-8")
    assert "__owned" not in text and "a red kite" in text
    assert list(tmp.iterdir()) == []


def test_view_refuses_a_bad_bundle_and_writes_nothing(
    tmp_path: Path, make_png: Any, views: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "bad", make_png)
    asset = next((root / "assets").iterdir())
    asset.write_bytes(asset.read_bytes()[:-3] + b"xyz")
    code, out, err = _cli(capsys, "view", str(root))
    assert code == 3 and out == "" and "hash mismatch" in err and err.count("\n") == 1
    assert not views.exists() or list(views.iterdir()) == []


def test_view_on_a_folder_it_cannot_write_is_a_clear_error(
    tmp_path: Path, make_png: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "run", make_png)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MMTHINK_VIEW_DIR", str(blocker / "views"))
    code, out, err = _cli(capsys, "view", str(root))
    assert code == 1 and "no folder to write the viewer page in" in err and "MMTHINK_VIEW_DIR" in err


# --------------------------------------------------------------------------- every file
@pytest.mark.parametrize("name", ["steps.jsonl", "manifest.json"])
def test_linked_steps_or_manifest_are_refused(
    tmp_path: Path, make_png: Any, name: str, views: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "run", make_png)
    outside = tmp_path / f"outside-{name}"
    shutil.move(str(root / name), outside)
    os.symlink(outside, root / name)
    for cmd in ("verify", "view"):
        code, out, err = _cli(capsys, cmd, str(root))
        assert code == 3 and f"{name} is a symlink" in err, (cmd, err)
    with pytest.raises(Exception, match="symlink"):
        load_trace(root)


def test_links_anywhere_and_unknown_files_are_reported(
    tmp_path: Path, make_png: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "run", make_png)
    (tmp_path / "secret").write_text("secret")
    os.symlink(tmp_path / "secret", root / ".hidden-link")
    os.symlink(tmp_path / "secret", root / "assets" / ("0" * 64 + ".png"))
    (root / "notes.txt").write_text("hello")
    (root / "extra").mkdir()
    (root / "assets" / "readme").write_text("x")
    (root / ".checkpoint.sqlite").write_bytes(b"private to the writer")  # dot files are not the bundle's
    report = verify_bundle(root)
    assert not report.ok and report.count == 5
    text = "\n".join(report.problems)
    for want in (
        ".hidden-link is a symlink",
        f"assets/{'0' * 64}.png is a symlink",
        "unknown file 'notes.txt'",
        "unknown folder 'extra'",
        "'assets/readme': name is not <sha256>.<ext>",
    ):
        assert want in text, text
    assert "checkpoint" not in text
    code, _, err = _cli(capsys, "verify", str(root))
    assert code == 3 and err.count("problem:") == 5


def test_assets_folder_as_a_link_is_refused(tmp_path: Path, make_png: Any) -> None:
    root = _bundle(tmp_path / "run", make_png)
    shutil.move(str(root / "assets"), tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", root / "assets")
    problems = verify_bundle(root).problems
    assert any("assets is a symlink" in p for p in problems)
    assert any("missing asset" in p for p in problems)


# --------------------------------------------------------------------------- escaping
class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "div",
    "span",
    "h1",
    "h2",
    "h3",
    "dl",
    "dt",
    "dd",
    "section",
    "nav",
    "button",
    "label",
    "input",
    "main",
    "footer",
    "code",
    "a",
    "img",
    "figure",
    "figcaption",
    "audio",
    "video",
    "p",
    "pre",
    "ul",
    "li",
    "details",
    "summary",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "script",
}


def _check_page(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    scripts = [a for t, a in parser.tags if t == "script"]
    assert scripts == [[("type", "application/json"), ("id", "trace-data")], []]
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        for k, v in attrs:
            assert not k.startswith("on"), (tag, k, v)
            if k in ("href", "src"):
                assert v is not None and re.fullmatch(r"#[\w\-&;#=]*|#step-.*|assets/[0-9a-f]{64}\.\w+", v), (k, v)
                assert not re.match(r"\s*(javascript|data|https?|file):", v, re.I)


def test_a_draft_index_in_an_href_is_escaped() -> None:
    evil = '1" onmouseover="alert(1)"><script>alert(2)</script>'
    steps = [
        {"index": evil, "kind": "draft", "ref": "s1", "parts": []},
        {"index": 1, "kind": "observation", "ref": "s1", "parts": [], "score": 0.5},
    ]
    page = render({"request": {"text": "x"}}, steps)
    assert 'href="#step-1&quot; onmouseover=&quot;alert(1)&quot;&gt;&lt;script&gt;' in page
    _check_page(page)


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    [
        '"><script>alert(1)</script>',
        "</script><script>x()</script>",
        "javascript:alert(1)",
        "' onerror='x",
        "\x1b[2J\x1b]0;owned\x07",
        "<!--",
        "]]>",
        "\u2028\u2029",
        "&amp;",
        "assets/../../etc/passwd",
    ]
)
_value = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | _text,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_text, c, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_text,
    ref=_text,
    text=_text,
    asset=_text,
    kind=_text,
    index=_value,
    metrics=_value,
    request=_text,
    status=_text,
    run_id=_text,
    rows=_value,
)
def test_every_string_is_escaped_in_the_page(
    title: str,
    ref: str,
    text: str,
    asset: str,
    kind: str,
    index: Any,
    metrics: Any,
    request: str,
    status: str,
    run_id: str,
    rows: Any,
) -> None:
    steps = [
        {
            "index": index,
            "kind": "draft",
            "title": title,
            "ref": ref,
            "metrics": {"m": metrics, title: text},
            "parts": [{"type": "image", "asset": asset}, {"type": "text", "text": text}, {"type": kind, "text": text}],
        },
        {"index": 1, "kind": kind, "title": text, "ref": ref, "parts": [{"type": "reasoning", "text": f"<{text}>"}]},
        {"index": 2, "kind": "observation", "ref": ref, "score": 0.5, "parts": [{"type": "text", "text": text}]},
        {"index": 3, "kind": "final", "parts": [{"type": "table", "rows": rows}]},
    ]
    manifest = {
        "request": {"text": request, "width": title, "height": text},
        "status": status,
        "run_id": run_id,
        "final": {"asset": asset, "kind": kind},
        "reason": text,
        "thinking": {"mode": kind},
        "reasoner": {"name": title, "model": text},
        "budget": {"tokens": 3, "max_tokens": metrics},
    }
    page = render(manifest, steps)
    _check_page(page)
    data = page.split('<script type="application/json" id="trace-data">')[1].split("</script>")[0]
    assert "<" not in data and json.loads(data)["manifest"]["run_id"] == run_id


# --------------------------------------------------------------------------- the terminal
@pytest.mark.parametrize("bad", ["\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07", "\u202eevil", "bell\x07", "cr\rhidden"])
def test_escape_sequences_in_names_never_reach_the_terminal(
    tmp_path: Path, make_png: Any, bad: str, views: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bundle(tmp_path / "run", make_png, title=bad)
    (root / "assets" / f"x{bad}.png").write_bytes(b"x")
    with open(root / "steps.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"index": 3, "kind": bad, "parts": [{"type": "image", "asset": f"assets/{bad}"}]}) + "\n")
    for cmd in ("verify", "view"):
        code, out, err = _cli(capsys, cmd, str(root))
        assert code == 3
        assert _raw_controls(out + err) == [], repr(err)
    z = export_bundle(root, tmp_path / f"z{len(bad)}.mmtrace")
    code, out, err = _cli(capsys, "verify", str(z))
    assert code == 3 and _raw_controls(out + err) == [], repr(err)


@given(st.text())
def test_printable_never_lets_a_control_through(text: str) -> None:
    shown = printable(text)
    assert all(c.isprintable() for c in shown)
    if text.isprintable() and len(text) < 1000:
        assert shown == text


def test_a_missing_path_with_escapes_is_exit_2_and_terminal_safe(
    tmp_path: Path, views: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for cmd in ("verify", "view"):
        code, out, err = _cli(capsys, cmd, str(tmp_path / "no\x1b[2Jsuch"))
        assert code == 2 and "does not exist" in err and _raw_controls(out + err) == [], repr(err)
