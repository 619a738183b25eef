"""Peak memory of ``mmthink verify`` on a large bundle: checks stream, so memory stays flat.

    python tools/bench_verify.py                   # 1,000,000 steps, good and all-bad, folder and zip
    python tools/bench_verify.py --lines 100000    # smaller

Writes a bundle with ``--lines`` steps (each pointing at one of a few real PNG assets), then runs
``python -m mmthink.cli verify`` on it in a child process and reads the child's peak resident
memory (``ru_maxrss``). Does the same for a bundle whose every line is bad (the problems printed
are capped) and for the good bundle zipped (read in place, nothing unpacked). Prints one line per
case: lines, bytes of steps.jsonl, exit code, seconds, peak MiB, stderr lines.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mmthink.trace.reader import export_bundle  # noqa: E402
from mmthink.trace.schema import Part, Step  # noqa: E402
from mmthink.trace.writer import TraceWriter  # noqa: E402


def make_bundle(root: Path, lines: int, bad: bool = False) -> Path:
    """A finished bundle with ``lines`` steps (or ``lines`` bad lines) written in bulk."""
    from PIL import Image

    w = TraceWriter(root, {"request": {"text": "a large trace"}})
    assets = []
    for i in range(4):
        buf = io.BytesIO()
        Image.new("RGB", (32, 32), (60 * i, 90, 200)).save(buf, "PNG")
        assets.append(w.put_asset(buf.getvalue(), "png"))
    with open(root / "steps.jsonl", "w", encoding="utf-8") as f:
        for i in range(lines):
            if bad:
                f.write(json.dumps({"index": i, "kind": "thought", "parts": ["hello"]}) + "\n")
                continue
            s = Step(
                "draft",
                "act",
                f"sketch s{i}",
                [Part("text", f"kite {i}: red, large, top left"), Part("image", asset=assets[i % 4], mime="image/png")],
                ref=f"s{i}",
                score=0.5,
                passed=True,
                metrics={"objects": 3, "ratio": 0.25},
                started=1.0,
                ended=2.0,
                index=i,
            )
            f.write(json.dumps(s.to_dict()) + "\n")
    m = json.loads((root / "manifest.json").read_text())
    m.update(status="succeeded", steps=0 if bad else lines)
    (root / "manifest.json").write_text(json.dumps(m))
    return root


def measure(bundle: Path) -> dict[str, object]:
    """Run ``mmthink verify`` in a child; its peak RSS is the largest of all children so far, so one per process."""
    code = (
        "import resource, subprocess, sys, time; t = time.time(); "
        "p = subprocess.run([sys.executable, '-m', 'mmthink.cli', 'verify', sys.argv[1]], capture_output=True, "
        "text=True); r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
        "print(p.returncode, round(time.time() - t, 1), r, len(p.stderr.splitlines()))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(bundle)], capture_output=True, text=True, env=env, check=True)
    rc, secs, kib, errs = out.stdout.split()
    return {"exit": int(rc), "seconds": float(secs), "peak_mib": round(int(kib) / 1024, 1), "stderr_lines": int(errs)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=1_000_000)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mmthink-bench-verify-"))
    try:
        good = make_bundle(work / "good", args.lines)
        bad = make_bundle(work / "bad", args.lines, bad=True)
        zipped = export_bundle(good, work / "good.mmtrace")
        base = measure(make_bundle(work / "tiny", 10))
        print(f"baseline (10 steps): exit {base['exit']}, peak {base['peak_mib']} MiB")
        for name, path, size in (
            ("folder", good, (good / "steps.jsonl").stat().st_size),
            ("all lines bad", bad, (bad / "steps.jsonl").stat().st_size),
            ("zip", zipped, zipped.stat().st_size),
        ):
            r = measure(path)
            print(
                f"{name}: {args.lines} lines, {size / 1e6:.0f} MB, exit {r['exit']}, {r['seconds']} s, "
                f"peak {r['peak_mib']} MiB, {r['stderr_lines']} stderr lines"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
