"""The loader and the JSON I/O: hostile steps and manifests are a bundle error (exit 3), never a
traceback; NaN is never written and never read; problems are capped and memory stays flat."""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmthink.cli import main
from mmthink.errors import BundleError
from mmthink.trace import jsonio
from mmthink.trace.reader import load_trace, verify_bundle
from mmthink.trace.schema import Part, Step
from mmthink.trace.writer import TraceWriter

TRACE_DIR = Path(__file__).resolve().parents[1] / "mmthink" / "trace"


def _bundle(root: Path, make_png: Any) -> Path:
    w = TraceWriter(root, {"request": {"text": "a red kite"}})
    rel = w.put_asset(make_png(), "png")
    w.append(Step("draft", "act", "sketch s1", [Part("image", asset=rel)], ref="s1"))
    w.finish("succeeded", final={"asset": rel, "kind": "image"})
    return root


def _add_line(root: Path, line: str | bytes, count: bool = True) -> None:
    with open(root / "steps.jsonl", "ab") as f:
        f.write((line.encode() if isinstance(line, str) else line) + b"\n")
    if count:
        m = json.loads((root / "manifest.json").read_text())
        m["steps"] += 1
        (root / "manifest.json").write_text(json.dumps(m))


def _refused(root: Path, capsys: pytest.CaptureFixture[str], want: str) -> None:
    with pytest.raises(BundleError, match=re.escape(want)):
        load_trace(root)
    assert main(["verify", str(root)]) == 3
    _, err = capsys.readouterr()
    assert want in err and len(err) < 2000


# --------------------------------------------------------------------------- hostile steps
@pytest.mark.parametrize(
    "line, want",
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 64 deep"),
        ('{"index": 1, "kind": "thought", "parts": [' + "[" * 100_000 + "]" * 100_000 + "]}", "nested more than 64"),
        ('{"index": 1, "kind": "thought", "parts": ["hello"]}', "parts[0] must be an object, got a string"),
        (
            '{"index": 1, "kind": "draft", "parts": [{"type": "image", "asset": {"a": 1}}]}',
            "parts[0].asset must be a string, got an object",
        ),
        ('{"index": 1, "kind": "thought", "parts": "hello"}', "parts must be a list"),
        ('{"index": 1, "kind": "thought", "parts": [], "metrics": [1]}', "metrics must be an object"),
        ('{"index": "1", "kind": "thought", "parts": []}', "index must be an integer"),
        ('{"index": 1, "kind": "thought", "parts": [], "score": "high"}', "score must be a number"),
        ('{"index": 1, "kind": "thought", "parts": [], "passed": "yes"}', "passed must be true, false or null"),
        ('{"index": 1, "kind": "thought", "parts": [], "title": ["x"]}', "title must be a string"),
        ('{"index": 1, "kind": "thought", "parts": [], "score": NaN}', "NaN is not JSON"),
        ('{"index": 1, "kind": "thought", "parts": [], "started": Infinity}', "Infinity is not JSON"),
        ('{"index": 1, "kind": "thought", "parts": [], "metrics": {"x": -Infinity}}', "-Infinity is not JSON"),
        (b'{"index": 1, "kind": "thought", "parts": [], "title": "\xff"}', "not UTF-8"),
    ],
)
def test_hostile_step_lines_are_a_bundle_error(
    tmp_path: Path, make_png: Any, capsys: pytest.CaptureFixture[str], line: str | bytes, want: str
) -> None:
    root = _bundle(tmp_path / "run", make_png)
    _add_line(root, line)
    _refused(root, capsys, want)


@pytest.mark.parametrize(
    "manifest, want",
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 64 deep"),
        ('{"schema": "mmthink.trace/1", "status": "succeeded", "steps": NaN}', "NaN is not JSON"),
        ('{"schema": "mmthink.trace/1", "status": "succeeded", "x": Infinity}', "Infinity is not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"schema": "mmthink.trace/1", "status": "succeeded", "steps": 1, "final": "x"}', "final must be an object"),
    ],
)
def test_hostile_manifests_are_a_bundle_error(
    tmp_path: Path, make_png: Any, capsys: pytest.CaptureFixture[str], manifest: str, want: str
) -> None:
    root = _bundle(tmp_path / "run", make_png)
    (root / "manifest.json").write_text(manifest)
    _refused(root, capsys, want)


def test_the_resuming_writer_refuses_them_too(tmp_path: Path, make_png: Any) -> None:
    root = _bundle(tmp_path / "run", make_png)
    _add_line(root, '{"index": 1, "kind": "thought", "parts": [], "score": NaN}')
    _add_line(root, '{"index": 2, "kind": "thought", "parts": []}')
    with pytest.raises(BundleError, match="line 2.*NaN"):
        TraceWriter.resume(root)


def test_cli_on_deep_nesting_exits_3_without_a_traceback(tmp_path: Path, make_png: Any) -> None:
    root = _bundle(tmp_path / "run", make_png)
    _add_line(root, "[" * 100_000 + "]" * 100_000)
    for cmd in ("verify", "view"):
        out = subprocess.run(
            [sys.executable, "-m", "mmthink.cli", cmd, str(root)],
            capture_output=True,
            text=True,
            env={
                "MMTHINK_VIEW_DIR": str(tmp_path / "views"),
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            },
        )
        assert out.returncode == 3 and "Traceback" not in out.stderr and "nested more than 64" in out.stderr


# --------------------------------------------------------------------------- capped and streamed
def test_problems_are_capped_and_counted(tmp_path: Path, make_png: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = _bundle(tmp_path / "run", make_png)
    with open(root / "steps.jsonl", "a", encoding="utf-8") as f:
        for i in range(5000):
            f.write(json.dumps({"index": i + 1, "kind": "thought", "parts": ["hello"]}) + "\n")
    report = verify_bundle(root)
    assert report.count == 5000 and len(report.problems) == 21
    assert report.problems[-1] == "... and 4980 more problem(s) not listed"
    assert main(["verify", str(root)]) == 3
    _, err = capsys.readouterr()
    assert err.count("\n") == 21
    with pytest.raises(BundleError) as e:
        load_trace(root)
    assert "5000 problem(s)" in str(e.value) and len(str(e.value)) < 5000


def _big(root: Path, make_png: Any, lines: int) -> Path:
    _bundle(root, make_png)
    rel = json.loads((root / "manifest.json").read_text())["final"]["asset"]
    step = {
        "kind": "draft",
        "node": "act",
        "title": "sketch",
        "parts": [{"type": "image", "asset": rel}],
        "metrics": {"words": "kite " * 40},
    }
    with open(root / "steps.jsonl", "a", encoding="utf-8") as f:
        for i in range(1, lines):
            f.write(json.dumps({"index": i, **step}) + "\n")
    m = json.loads((root / "manifest.json").read_text())
    m["steps"] = lines
    (root / "manifest.json").write_text(json.dumps(m))
    return root


def test_verify_memory_does_not_grow_with_the_steps(tmp_path: Path, make_png: Any) -> None:
    peaks = []
    for n in (2_000, 40_000):  # about 0.7 MB and 14 MB of steps.jsonl
        root = _big(tmp_path / f"n{n}", make_png, n)
        tracemalloc.start()
        report = verify_bundle(root)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert report.ok and report.steps == n
    assert peaks[1] < 2 * peaks[0] + 1024**2, peaks  # twenty times the steps, about the same memory


# --------------------------------------------------------------------------- fuzzing the loader
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "index",
                    "kind",
                    "parts",
                    "type",
                    "asset",
                    "text",
                    "rows",
                    "ref",
                    "score",
                    "passed",
                    "metrics",
                    "started",
                    "ended",
                    "title",
                    "node",
                    "nulled",
                    "mime",
                ]
            )
            | st.text(max_size=4),
            c,
            max_size=6,
        )
    ),
    max_leaves=20,
)
_step_like = st.fixed_dictionaries(
    {"index": st.just(1), "kind": st.sampled_from(["thought", "draft", "x"])},
    optional={
        "parts": _json,
        "metrics": _json,
        "ref": _json,
        "score": _json,
        "passed": _json,
        "title": _json,
        "started": _json,
        "nulled": _json,
    },
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(value=_json | _step_like)
def test_any_json_step_loads_or_is_a_bundle_error(tmp_path: Path, make_png: Any, value: Any) -> None:
    root = tmp_path / "fuzz"
    if not root.exists():
        _bundle(root, make_png)
        (root / ".good").write_bytes((root / "steps.jsonl").read_bytes())  # a dot name: not part of the bundle
    (root / "steps.jsonl").write_bytes((root / ".good").read_bytes() + json.dumps(value).encode() + b"\n")
    try:
        t = load_trace(root, verify=False)
        t.verify()
        verify_bundle(root)
    except BundleError:
        pass


# --------------------------------------------------------------------------- writing: never NaN
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.floats(), y=st.lists(st.floats(), max_size=3))
def test_the_writer_never_writes_nan_and_says_what_it_nulled(
    tmp_path_factory: pytest.TempPathFactory, x: float, y: list[float]
) -> None:
    root = tmp_path_factory.mktemp("nan") / "run"
    w = TraceWriter(root, {"request": {"text": "t"}, "probe": x})
    with np.errstate(over="ignore"):
        x32 = np.float32(x)
    w.append(Step("observation", "critique", "c", score=x, metrics={"x": x, "y": y, "np": x32}))
    w.finish("succeeded")
    line = (root / "steps.jsonl").read_text().splitlines()[0]
    d = jsonio.loads(line)  # strict: would refuse NaN/Infinity
    bad = not math.isfinite(x)
    assert (d["metrics"]["x"] is None) == bad and (d.get("score") is None) == bad
    if not bad:
        assert d["score"] == x and d["metrics"]["x"] == x
    want = ({"score", "metrics.x", "metrics.np"} if bad else set()) | {
        f"metrics.y[{i}]" for i, v in enumerate(y) if not math.isfinite(v)
    }
    if not bad and not math.isfinite(float(x32)):
        want.add("metrics.np")  # finite as a double, infinite as a float32
    assert set(d.get("nulled", [])) == want
    m = jsonio.loads((root / "manifest.json").read_text())
    assert ("probe" in m.get("nulled", [])) == bad
    t = load_trace(root)
    assert t.steps[0].nulled == sorted(want) and t.verify() == []


def test_jsonio_sanitises_numpy_depth_and_cycles() -> None:
    loop: list[Any] = []
    loop.append(loop)
    nulled: list[str] = []
    out = jsonio.jsonable(
        {
            "a": np.array([1.5, np.nan]),
            "b": np.bool_(True),
            "c": np.int64(3),
            "loop": loop,
            "p": Path("/x"),
            "raw": b"abc",
        },
        nulled,
    )
    assert out["a"] == [1.5, None] and out["b"] is True and out["c"] == 3 and out["p"] == "/x"
    assert out["raw"] == "<3 bytes>" and "a[1]" in nulled
    depth, v = 0, out["loop"]
    while isinstance(v, list):
        depth, v = depth + 1, v[0]
    assert v == "<nested too deeply>" and depth < jsonio.MAX_DEPTH + 1
    assert any(p.startswith("loop") for p in nulled)
    json.loads(jsonio.dumps(out))
    for bad in ("NaN", "[Infinity]", '{"a": -Infinity}', "[" * 65 + "]" * 65, b"\xff", "{"):
        with pytest.raises(ValueError):
            jsonio.loads(bad)
    assert jsonio.loads("[" * 64 + "]" * 64) is not None


# --------------------------------------------------------------------------- the import cycle
def _imports(module: str) -> set[str]:
    tree = ast.parse((TRACE_DIR / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(node.module or "")
    return found


def test_viewer_is_pure_and_the_cycle_is_gone() -> None:
    assert _imports("viewer") <= {"jsonio", "schema"}
    assert "viewer" not in _imports("jsonio") | _imports("schema") | _imports("bundle")
    assert "writer" not in _imports("viewer") | _imports("bundle") | _imports("jsonio")
    code = (
        "import sys, mmthink.trace.viewer as v; page = v.render({}, []); "
        "print('mmthink.trace.writer' in sys.modules, page.startswith('<!doctype html>'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(TRACE_DIR.parents[1]), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.split() == ["False", "True"]
