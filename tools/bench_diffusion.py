"""Cost of the diffusers image ladder, measured with the tiny random pipeline the tests build (CPU).

    python tools/bench_diffusion.py            # prints one JSON line (what tools/bench.py reads)
    python tools/bench_diffusion.py --model DIR --sketch-size 512 --final-size 1024   # a real model

Reports the wall time of a sketch step (low resolution, the family's few steps, image-to-image
from the layout) and of a final step (full resolution, image-to-image from the sketch), and the
cost of best-of-4 as one batched call against four sequential calls. With the tiny model these
are the framework's and diffusers' overheads, not a model's speed: use --model for that.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SCENE = "apple x3: red, on table\ntable: brown, bottom\ncup: blue, left of apple\nsetting: kitchen"


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _graph_overhead(model: str, out: str, side: int, size: tuple[int, int]) -> tuple[float, float]:
    """One whole run through the graph with this model: the share of wall time outside render and critique."""
    from mmthink import Agent, load_trace

    agent = Agent.from_profile(
        "embedded", image_backend="diffusers", image_model=model, image_options={"sketch_side": side}
    )
    prompt = "three red apples on a table, a blue cup to the left of them"
    agent.run(prompt, out=out, max_drafts=1, width=size[0], height=size[1])  # the first run in a process imports
    t = time.perf_counter()
    res = agent.run(prompt, out=out, max_drafts=2, width=size[0], height=size[1])
    wall = time.perf_counter() - t
    tr = load_trace(res.trace)
    media = sum((s.ended or s.started) - s.started for s in tr.steps if s.kind in ("draft", "observation", "final"))
    return round(wall, 3), round(max(0.0, wall - media) / wall, 4)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a diffusers pipeline folder or cached hub id (default: a tiny random one)")
    ap.add_argument("--sketch-size", type=int, default=96, help="long side of the sketch (default 96)")
    ap.add_argument("--final-size", type=int, default=192, help="long side of the final (default 192)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args(argv)

    import torch

    from mmthink.modalities.image.render.diffusers import DiffusersImageBackend
    from mmthink.modalities.image.scene import parse_scene

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            from tiny_diffusion import build_tiny_sd

            model = str(build_tiny_sd(tmp))
        scene = parse_scene(SCENE)[0]
        b = DiffusersImageBackend(model, sketch_side=args.sketch_size)
        t = time.perf_counter()
        b.pipelines()
        load = time.perf_counter() - t
        sk = (args.sketch_size, args.sketch_size * 3 // 4)
        fi = (args.final_size, args.final_size * 3 // 4)
        sketch = b.render(scene, quality="sketch", size=sk, seed=1)  # warm-up
        t_sketch = _best(lambda: b.render(scene, quality="sketch", size=sk, seed=1), args.repeat)
        t_final = _best(lambda: b.render(scene, quality="final", size=fi, seed=1, init=sketch), args.repeat)
        seeds = [1, 2, 3, 4]
        t_batch = _best(lambda: b.render_batch(scene, quality="sketch", size=sk, seeds=seeds), args.repeat)
        t_seq = _best(lambda: [b.render(scene, quality="sketch", size=sk, seed=s) for s in seeds], args.repeat)
        overhead = _graph_overhead(model, tmp, args.sketch_size, sk)
    result = {
        "section": "diffusion",
        "model": args.model or "tiny random SD (tests/tiny_diffusion.py)",
        "device": b.pipelines()[0].device.type if args.model else "cpu",
        "load_seconds": round(load, 3),
        "sketch_step_seconds": round(t_sketch, 4),
        "sketch_steps": b.family.sketch_steps,
        "sketch_size": list(sk),
        "final_step_seconds": round(t_final, 4),
        "final_steps": b.family.final_steps,
        "final_size": list(fi),
        "final_over_sketch": round(t_final / t_sketch, 2),
        "best_of_4_batched_seconds": round(t_batch, 4),
        "best_of_4_sequential_seconds": round(t_seq, 4),
        "batched_over_sequential": round(t_batch / t_seq, 3),
        "graph_run_seconds": overhead[0],
        "graph_overhead_share": overhead[1],
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
