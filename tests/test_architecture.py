"""The import rules of DESIGN.md hold, and the contracts that encode them do fail on a violation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (the dev extra)")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold() -> None:
    res = lint(ROOT)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "broken" not in res.stdout.split("Contracts:")[-1].lower().replace("0 broken", "")


@pytest.mark.parametrize(
    "where, line, contract",
    [
        ("mmthink/core/nodes/act.py", "from mmthink.modalities.image import scene  # noqa", "The core never imports"),
        (
            "mmthink/modalities/video/handler.py",
            "from mmthink.modalities.speech import handler  # noqa",
            "Modalities are independent",
        ),
        ("mmthink/trace/reader.py", "from mmthink.core import runs  # noqa", "trace and dsp are leaves"),
    ],
)
def test_a_violation_breaks_its_contract(tmp_path: Path, where: str, line: str, contract: str) -> None:
    shutil.copytree(ROOT / "mmthink", tmp_path / "mmthink", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / where
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    res = lint(tmp_path)
    assert res.returncode != 0
    broken = res.stdout.split("Broken contracts")[-1]
    assert contract in broken, res.stdout[-3000:]


def test_no_modality_is_named_in_the_core() -> None:
    words = re.compile(
        r"\b(image|images|speech|video|sketch|draft_audio|frame|music|final_image|final_speech|"
        r"final_video)\b",
        re.I,
    )
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in sorted((ROOT / "mmthink" / "core").rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if words.search(line)
    ]
    assert hits == []


def test_core_functions_stay_short() -> None:
    import ast

    long = []
    for p in sorted((ROOT / "mmthink" / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > 80:
                    long.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert long == []
