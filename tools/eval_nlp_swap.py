"""End-to-end image plans with mmthink.modalities.image.nlp's reading swapped in for the earlier parser's.

Why: ``mmthink.modalities.image.nlp.parse_image_request`` is meant to replace ``mmthink.modalities.image.understanding``'s by a swap.
This runs ``tools/eval_image_plans.py``'s judge (drawn boxes and pixels, never the critic's verdict)
on the dev set or on generated prompts, with the earlier parser (``--parser before``) or with the
new one patched into every module that imported the earlier one (``--parser nlp``).

    python tools/eval_nlp_swap.py --parser nlp --generated 1000 --seed 2026
    python tools/eval_nlp_swap.py --parser before            # the dev set
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

USERS = (
    "mmthink.modalities.image.understanding",
    "mmthink.reasoners.heuristic",
    "mmthink.reasoners.heuristic_video",
    "mmthink.reasoners.review_notes",
    "mmthink.steps.image",
)
"""Modules that hold a reference to the earlier parse_image_request (as laid out when this was written)."""

DEV = ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl"
if not DEV.exists():
    DEV = ROOT / "tests" / "data" / "image_prompts_dev.jsonl"


def swap_in() -> list[str]:
    """Point every user of the earlier parser at mmthink.modalities.image.nlp's; returns the modules patched."""
    from mmthink.modalities.image import nlp

    patched = []
    for name in USERS:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "parse_image_request"):
            mod.parse_image_request = nlp.parse_image_request  # type: ignore[attr-defined]
            patched.append(name)
    return patched


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parser", choices=("nlp", "before"), default="nlp")
    ap.add_argument("--generated", type=int, default=0, help="this many generated prompts instead of the dev set")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--dev", default=str(DEV))
    ap.add_argument("--show", type=int, default=8, help="failures to print")
    args = ap.parse_args()
    patched = swap_in() if args.parser == "nlp" else []
    import eval_image_plans
    from gen_image_prompts import generate

    tmp = Path(tempfile.mkdtemp(prefix="mmthink-swap-"))
    if args.generated:
        path = tmp / "generated.jsonl"
        path.write_text("\n".join(json.dumps(it) for it in generate(args.generated, args.seed)) + "\n")
    else:
        path = Path(args.dev)
    rep = eval_image_plans.evaluate(path, tmp / "runs")
    fails = [r for r in rep["rows"] if not r["final"]]
    for r in fails[: args.show]:
        print(f"    {r['prompt']!r}: {'; '.join(r['final_fails'][:3])}")
    what = f"generated n={args.generated} seed={args.seed}" if args.generated else Path(args.dev).name
    print(f"{what} parser={args.parser} (patched: {', '.join(patched) or 'none'})")
    print(
        f"first sketch {rep['first_sketch']:.3f}  final {rep['final']:.3f}  prompts {rep['prompts']}  "
        f"failures {len(fails)}  {rep['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
