"""Evaluate image plans on a prompt set: constraint accuracy of the first sketch and of the final.

Each JSONL line holds a prompt and its annotated objects (class, count, optional colour and a
position relative to another object). A prompt counts as met when every constraint holds in the
drawn picture: presence (a clearly visible instance), count (visible instances), colour (measured
from the pixels) and relative position (from the drawn boxes' centres). The judge reads only the
bundle the run wrote, never the critic's verdict.

    python tools/eval_image_plans.py ../shared/data/image_prompts_dev.jsonl [--out runs/eval] [--json]
        [--reasoner heuristic|hf|openai_compat] [--model M] [--option key=value ...]
    python tools/eval_image_plans.py --generated 1000 --seed 2026 --json   # prompts built from the object table
    python tools/eval_image_plans.py --generated 500 --seed 0 --size 256x192 --json   # on a small canvas

``lowered`` counts the prompts whose first sketch met every constraint but whose final did not (the
critique loop made them worse; ``lowered_prompts`` names them). Evaluations count ``succeeded`` only: ``final_succeeded`` is the share of prompts whose final met every
constraint *and* whose run earned ``succeeded``; ``statuses`` counts each status, and ``own_plans`` how
many finals the reasoner planned itself (not a fallback planner).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmthink import Agent, load_trace  # noqa: E402
from mmthink.modalities.base import Placed  # noqa: E402
from mmthink.modalities.image.critic import color_matches, measure_color  # noqa: E402
from mmthink.modalities.image.scene import normalize_name  # noqa: E402


def judge(item: dict, placed: list[Placed], img: np.ndarray, bg) -> tuple[bool, list[str]]:
    """Every annotated constraint, judged from the drawn boxes and pixels."""
    fails: list[str] = []
    by: dict[str, list[Placed]] = {}
    for p in placed:
        by.setdefault(normalize_name(p.name), []).append(p)
    centres = {}
    for inc in item["include"]:
        cls = normalize_name(inc["class"])
        insts = by.get(cls, [])
        clear = [p for p in insts if p.visible >= 0.5]
        seen = [p for p in insts if p.visible >= 0.35]
        if not clear:
            fails.append(f"{cls}: absent")
            continue
        if len(seen) < inc["min_count"] if "min_count" in inc else len(seen) != inc["count"]:
            fails.append(f"{cls}: {len(seen)} seen, {inc.get('min_count', inc['count'])} wanted")
        if inc.get("color"):
            got = [measure_color(img, p, bg) for p in clear]
            if not all(g and color_matches(inc["color"], g) for g in got):
                fails.append(f"{cls}: colour {got} not {inc['color']}")
        centres[cls] = (float(np.mean([p.center[0] for p in clear])), float(np.mean([p.center[1] for p in clear])))
    for inc in item["include"]:
        if "position" not in inc:
            continue
        rel, ref = inc["position"]
        a, b = normalize_name(inc["class"]), normalize_name(item["include"][ref]["class"])
        if a not in centres or b not in centres:
            continue
        (ax, ay), (bx, by_) = centres[a], centres[b]
        if rel in ("in", "on"):  # each one inside the vessel's box, or over its width and not below it
            vessel = [p for p in by.get(b, []) if p.visible >= 0.5][0].box
            held = [p for p in by.get(a, []) if p.visible >= 0.5]
            inside = all(vessel[0] <= p.center[0] <= vessel[2] and p.center[1] <= vessel[3] for p in held)
            ok = inside and (rel == "on" or all(vessel[1] <= p.center[1] for p in held))
        else:
            ok = {"left of": ax < bx, "right of": ax > bx, "above": ay < by_, "below": ay > by_}.get(rel, True)
        if not ok:
            fails.append(f"{a} not {rel} {b}")
    return not fails, fails


def _placed(metrics: dict) -> list[Placed]:
    out = []
    for p in metrics.get("placed") or []:
        out.append(Placed(**{**p, "box": tuple(p["box"]), "rgb": tuple(p["rgb"]) if p.get("rgb") else None}))
    return out


def evaluate(
    path: Path | None,
    out: Path,
    seed: int = 0,
    max_drafts: int = 6,
    agent: Agent | None = None,
    items: list[dict] | None = None,
    size: tuple[int, int] | None = None,
) -> dict:
    if items is None:
        assert path is not None
        items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    agent = agent or Agent.from_profile("embedded")
    rows = []
    t0 = time.time()
    for item in items:
        canvas = {"width": size[0], "height": size[1]} if size else {}
        res = agent.run(
            item["prompt"], modality="image", thinking="on", seed=seed, out=out, max_drafts=max_drafts, **canvas
        )
        trace = load_trace(res.trace)
        drafts = [s for s in trace.steps if s.kind == "draft"]
        finals = [s for s in trace.steps if s.kind == "final"]
        row = {
            "prompt": item["prompt"],
            "tag": item.get("tag"),
            "drafts": len(drafts),
            "status": res.status,
            "own_plan": bool(finals) and not finals[0].metrics.get("fallback"),
        }
        for label, step in (("first", drafts[0] if drafts else None), ("final", finals[0] if finals else None)):
            if step is None:
                row[label], row[label + "_fails"] = False, ["no image"]
                continue
            asset = next(p.asset for p in step.parts if p.asset)
            img = np.asarray(
                Image.open(io.BytesIO(trace.asset_path(asset).read_bytes())).convert("RGB"), dtype=np.float32
            )
            bg = step.metrics.get("background_rgb")
            ok, fails = judge(item, _placed(step.metrics), img, tuple(bg) if bg else None)
            row[label], row[label + "_fails"] = ok, fails
        rows.append(row)
    n = len(rows) or 1
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {
        "prompts": len(rows),
        "first_sketch": sum(r["first"] for r in rows) / n,
        "final": sum(r["final"] for r in rows) / n,
        "final_succeeded": sum(r["final"] and r["status"] == "succeeded" for r in rows) / n,
        "final_own_plan": sum(r["final"] and r["own_plan"] for r in rows) / n,
        # the critique loop must never make a prompt worse: its first sketch met every constraint, its final not
        "lowered": sum(r["first"] and not r["final"] for r in rows),
        "lowered_prompts": [r["prompt"] for r in rows if r["first"] and not r["final"]],
        "own_plans": sum(r["own_plan"] for r in rows),
        "statuses": statuses,
        "mean_drafts": sum(r["drafts"] for r in rows) / n,
        "seconds": round(time.time() - t0, 2),
        "rows": rows,
    }


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise argparse.ArgumentTypeError(f"--size wants WIDTHxHEIGHT, e.g. 256x192, not {text!r}")
    return int(w), int(h)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prompts", nargs="?", default=str(ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl"))
    ap.add_argument("--out", default=None, help="where bundles go (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print only the JSON summary")
    ap.add_argument(
        "--generated",
        type=int,
        default=0,
        metavar="N",
        help="judge N prompts generated from the object table (tools/gen_image_prompts.py) instead",
    )
    ap.add_argument(
        "--tags",
        nargs="+",
        default=None,
        help="with --generated: the templates (tools/gen_image_prompts.py; e.g. plural contents)",
    )
    ap.add_argument(
        "--size",
        type=_size,
        default=None,
        metavar="WxH",
        help="the canvas, e.g. 256x192 (default: the agent's, 768x512)",
    )
    ap.add_argument("--reasoner", default="heuristic", help="heuristic (default), hf or openai_compat")
    ap.add_argument("--model", default=None, help="the reasoner's model (hub id, folder, GGUF, or server model)")
    ap.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reasoner option, e.g. base_url=http://127.0.0.1:8080/v1 or gguf_file=model.gguf",
    )
    args = ap.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mmthink-eval-"))
    options = dict(o.split("=", 1) for o in args.option)
    agent = (
        Agent.from_profile("embedded", reasoner=args.reasoner, reasoner_model=args.model, reasoner_options=options)
        if args.reasoner != "heuristic"
        else None
    )
    items = None
    if args.generated:
        sys.path.insert(0, str(ROOT / "tools"))
        from gen_image_prompts import generate

        items = generate(args.generated, args.seed, args.tags)
    report = evaluate(Path(args.prompts), out, seed=args.seed, agent=agent, items=items, size=args.size)
    if not args.json:
        from rich.console import Console
        from rich.table import Table

        name = f"{args.generated} generated prompts (seed {args.seed})" if args.generated else Path(args.prompts).name
        t = Table(title=f"image plans on {name}")
        for col in ("prompt", "drafts", "first sketch", "final", "status", "final failures"):
            t.add_column(col)
        for r in report["rows"]:
            t.add_row(
                r["prompt"],
                str(r["drafts"]),
                "✓" if r["first"] else "✗ " + "; ".join(r["first_fails"]),
                "✓" if r["final"] else "✗",
                r["status"] + ("" if r["own_plan"] else " (fallback)"),
                "; ".join(r["final_fails"]),
            )
        Console().print(t)
    summary = {k: v for k, v in report.items() if k != "rows"}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
