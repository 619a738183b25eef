"""Time request understanding: pipeline load once, then milliseconds per request.

The budget is 20 ms per request after the pipeline is loaded (once per process, lazily).
Prompts: the generated set (tools/gen_image_prompts.py) plus free-form requests of the kinds users
write; each is parsed ``--repeat`` times and the median and 95th percentile are reported.

    python tools/bench_nlp.py [--n 300] [--repeat 3] [--rules] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FREE = [
    "a diagram of the water cycle",
    "a logo for a coffee shop called Bean There",
    "read this calmly: the train to Leeds is delayed by twenty minutes",
    "a happy birthday message for my mom",
    "a giraffe wearing a scarf",
    "an astronaut riding a horse on the moon",
    "a yellow school bus in front of a brick school",
    "a pixel art dragon",
    "a watercolor painting of a sailboat",
    "a rainy day in Paris",
    "a sign that says OPEN",
    'whisper "goodnight, little one"',
    'announce excitedly: "we won the cup!"',
    "a 30-second wedding toast",
    "tell me a bedtime story about a brave little turtle",
    "a clip art of a cat",
    "a movie theater with red seats",
    "a cozy kitchen at sunset with two orange cats sleeping on a wooden table next to a blue teapot",
    "a 20-second trailer for a space adventure with a red rocket leaving a green planet",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="generated prompts to time")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rules", action="store_true", help="time the rules path (MMTHINK_NLP=rules)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.rules:
        os.environ["MMTHINK_NLP"] = "rules"

    t0 = time.perf_counter()
    from mmthink.modalities.image import nlp

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    nlp.pipeline()
    from mmthink.modalities.image.objects import load_table

    load_table()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    nlp.parse_image_request("a red cat on a mat")  # first parse warms caches
    t_first = time.perf_counter() - t0

    sys.path.insert(0, str(ROOT / "tools"))
    from gen_image_prompts import generate

    prompts = [it["prompt"] for it in generate(args.n, 123)] + FREE
    times = []
    for p in prompts:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            nlp.parse_image_request(p)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    long_prompt = " ".join(["a red cat sitting on a wooden chair next to a tall lamp"] * 1000)  # 12,000 words
    t0 = time.perf_counter()
    nlp.parse_image_request(long_prompt)
    t_long = (time.perf_counter() - t0) * 1000
    report = {
        "parser": nlp.parser_name(),
        "import_s": round(t_import, 3),
        "pipeline_and_table_load_s": round(t_load, 3),
        "first_parse_ms": round(t_first * 1000, 2),
        "requests": len(prompts),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "max_ms": round(times[-1], 2),
        "12000_word_prompt_ms": round(t_long, 2),
        "budget_ms": 20,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:28s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
