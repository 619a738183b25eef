"""Statuses of generated image requests at one canvas size, and why the unmet ones fell short.

A run ends ``unmet`` when the final's own critique finds something asked for not visible. This tool
runs a prompt set with the embedded profile at a given size and counts the statuses, then sorts
every unmet run's final findings into kinds (colour, contrast, relation, count, hidden, missing,
empty, layout, place, look, other), split by whether the prompt names a condition such as "at dusk",
so a change can be judged by what it fixed and what it left, at small canvases and large ones.

    python tools/eval_canvas.py --size 256x192 -n 500 --seed 0            # tools/bench_batch.py's prompts
    python tools/eval_canvas.py --size 768x512 --generated 1000 --seed 2026
    python tools/eval_canvas.py --size 256x192 -n 60 --show 5             # and five unmet prompts per kind

Each request's seed is its index, as in ``mmthink.batch`` over ``tools/bench_batch.py``'s requests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

KINDS: list[tuple[str, str]] = [
    ("colour", r"reads as .*?, not "),
    ("contrast", r"blends into what is around it"),
    ("relation", r"is not drawn so|should be .* but there is no"),
    ("count", r"can be seen|mostly hidden"),
    ("hidden", r"% hidden"),
    ("missing", r"there is no|was not drawn"),
    ("empty", r"mostly empty"),
    ("layout", r"little room|moved inside|does not fit"),
    ("place", r"backdrop|the place|setting"),
    ("look", r"look|style|treatment"),
]
CONDITIONS = ("dusk", "night", "sunset", "rain", "snow", "fog", "dawn")


def kinds_of(findings: list[str]) -> list[str]:
    """The kinds of shortfall a final's findings name (each finding counted once, first matching kind)."""
    out = []
    for f in findings:
        for part in f.split("; "):
            hit = next((k for k, pat in KINDS if re.search(pat, part)), None)
            out.append(hit or "other")
    return sorted(set(out))


def size_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)[x×](\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"--size wants WIDTHxHEIGHT, e.g. 256x192, not {text!r}")
    return int(m.group(1)), int(m.group(2))


def requests(n: int, seed: int, generated: int) -> list[str]:
    if generated:
        from gen_image_prompts import generate

        return [item["prompt"] for item in generate(generated, seed)]
    from bench_batch import prompts

    return [p["prompt"] for p in prompts(n, seed)]


def evaluate(prompts: list[str], size: tuple[int, int], out: Path) -> dict:
    """Run every prompt at ``size`` and read each final's findings from its bundle."""
    from mmthink import Agent, load_trace

    agent = Agent.from_profile("embedded")
    rows = []
    t0 = time.time()
    for i, prompt in enumerate(prompts):
        res = agent.run(prompt, width=size[0], height=size[1], seed=i, out=out)
        finals = [s for s in load_trace(res.trace).steps if s.kind == "final"]
        findings = list(finals[0].metrics.get("findings") or []) if finals else ["no final"]
        rows.append({"prompt": prompt, "status": res.status, "findings": findings if res.status != "succeeded" else []})
    statuses = Counter(r["status"] for r in rows)
    kinds: Counter = Counter()
    for r in rows:
        if r["status"] != "succeeded":
            group = "condition" if any(c in r["prompt"] for c in CONDITIONS) else "plain"
            for k in kinds_of(r["findings"]):
                kinds[f"{group}/{k}"] += 1
    return {
        "size": f"{size[0]}x{size[1]}",
        "prompts": len(rows),
        "statuses": dict(statuses),
        "succeeded": statuses.get("succeeded", 0) / max(1, len(rows)),
        "unmet_kinds": dict(kinds.most_common()),
        "seconds": round(time.time() - t0, 1),
        "rows": rows,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=size_arg, default=(256, 192), help="WIDTHxHEIGHT (default 256x192)")
    ap.add_argument("-n", type=int, default=500, help="tools/bench_batch.py prompts (default 500)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--generated", type=int, default=0, metavar="N", help="N object-table prompts instead")
    ap.add_argument("--show", type=int, default=0, metavar="K", help="print K unmet prompts of each kind")
    ap.add_argument("--out", default=None, help="where bundles go (default: a temporary folder)")
    args = ap.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mmthink-canvas-"))
    report = evaluate(requests(args.n, args.seed, args.generated), args.size, out)
    if args.show:
        shown: Counter = Counter()
        for r in report["rows"]:
            for k in kinds_of(r["findings"]) if r["findings"] else []:
                if shown[k] < args.show:
                    shown[k] += 1
                    print(f"[{k}] {r['prompt']}: {'; '.join(r['findings'])}")
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
