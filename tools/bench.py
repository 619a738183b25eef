"""Benchmarks reported in the README. Each section runs in a fresh subprocess so its wall time and
peak memory are its own.

    python tools/bench.py                 # every section
    python tools/bench.py --only image cli
    python tools/bench.py --json          # one JSON object per section

Sections: cli (`mmthink --help` start-up), image (the scripted demo and a batch of free prompts:
wall time, peak RSS, framework overhead = share of wall time outside rendering and critique),
speech and video (the scripted demos: wall time, synthesis real-time factor, encoding speed from
tools/bench_video.py), reasoner (tools/bench_reasoner.py: streaming/stop/budget overhead vs generate),
diffusion (tools/bench_diffusion.py: sketch vs final step, best-of-4 batched vs sequential, tiny pipeline),
smollm2 (tools/bench_smollm2.py: a real 135M model through hf: constrained vs free sketches, warm cache),
batch (tools/bench_batch.py -n 500 --repeat 3: 500 generated image prompts on 2 workers against one process,
the median speed-up of 3 alternating pairs and peak memory; about 6 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FREE_PROMPTS = [
    "three red apples on a table, a blue cup to the left of them",
    "a lighthouse at dusk",
    "a castle under the moon",
    "an orange fox between two trees",
    "five balloons floating in the sky",
    "a ship sailing above a blue whale",
    "a cat below a chair",
    "a robot watering a plant",
    "four yellow lanterns hanging in a row",
    "a silver spaceship between two planets",
]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from mmthink import Agent, load_trace
kind, out = sys.argv[1], sys.argv[2]
prompts = json.loads(sys.argv[3])
agent = Agent.demo("image") if kind == "demo" else Agent.from_profile("embedded", durable=kind != "nodurable")
t_ready = time.perf_counter()
t = time.perf_counter()
agent.run("a small red ball", out=out)  # first run in a process: loads the graph and compiles it
cold = time.perf_counter() - t
runs = []
for p in prompts:
    t, t_epoch = time.perf_counter(), time.time()
    res = agent.run(p, out=out) if kind != "demo" else agent.run(agent.reasoner.script.request, out=out)
    wall = time.perf_counter() - t
    tr = load_trace(res.trace)
    took = lambda kinds: sum((s.ended or s.started) - s.started for s in tr.steps if s.kind in kinds)
    runs.append({"status": res.status, "wall": wall, "media": took(("draft", "observation", "final")),
                 "thought": took(("thought",)), "before": tr.steps[0].started - t_epoch,
                 "after": t_epoch + wall - (tr.steps[-1].ended or tr.steps[-1].started),
                 "drafts": sum(s.kind == "draft" for s in tr.steps)})
print(json.dumps({"import_and_build": t_ready - t0, "cold_first_run": cold, "runs": runs}))
"""


def _child(args: list[str]) -> tuple[dict, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    out = subprocess.run([PY, "-c", CHILD, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(out.stdout.strip().splitlines()[-1]), wall, max(peak, before) / 1024.0


def bench_cli() -> dict:
    exe = str(Path(PY).with_name("mmthink"))
    cmd = [exe, "--help"] if os.path.exists(exe) else [PY, "-m", "mmthink.cli", "--help"]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return {"section": "cli", "help_seconds_median": sorted(times)[2], "command": " ".join(Path(c).name for c in cmd)}


def _demo_cli_seconds(runs: int = 7) -> tuple[float, list[float]]:
    """``mmthink demo image`` as a new user runs it: the whole process, median of ``runs``."""
    exe = str(Path(PY).with_name("mmthink"))
    cmd = [exe] if os.path.exists(exe) else [PY, "-m", "mmthink.cli"]
    times = []
    for _ in range(runs):
        out = tempfile.mkdtemp(prefix="mmthink-bench-")
        t = time.perf_counter()
        subprocess.run([*cmd, "demo", "image", "--out", out, "-q"], capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return sorted(times)[runs // 2], sorted(times)


def bench_image() -> dict:
    out = tempfile.mkdtemp(prefix="mmthink-bench-")
    cli_median, cli_all = _demo_cli_seconds()
    demo, demo_wall, demo_peak = _child(["demo", out, json.dumps(["demo"])])
    batch, batch_wall, batch_peak = _child(["free", out, json.dumps(FREE_PROMPTS)])
    runs = batch["runs"]
    wall = sum(r["wall"] for r in runs)
    media = sum(r["media"] for r in runs)
    plain, _, _ = _child(["nodurable", out, json.dumps(FREE_PROMPTS)])
    p_wall, p_media = sum(r["wall"] for r in plain["runs"]), sum(r["media"] for r in plain["runs"])
    per = {
        k: round(sum(r[k] for r in runs) / len(runs) * 1000, 1) for k in ("wall", "media", "thought", "before", "after")
    }
    per["between_steps"] = round(per["wall"] - per["media"] - per["thought"] - per["before"] - per["after"], 1)
    d = demo["runs"][0]
    return {
        "section": "image",
        "first_run_in_process_seconds": round(demo["cold_first_run"], 3),
        "demo_run_seconds": round(d["wall"], 3),
        "demo_cli_process_seconds_median": round(cli_median, 3),  # `mmthink demo image --out D -q`, 7 runs
        "demo_cli_process_seconds_all": [round(t, 2) for t in cli_all],
        "demo_process_seconds": round(demo_wall, 3),
        "demo_peak_rss_mb": round(demo_peak, 1),
        "demo_overhead_share": round(max(0.0, d["wall"] - d["media"]) / d["wall"], 4),
        "batch_prompts": len(runs),
        "batch_seconds": round(wall, 3),
        "batch_seconds_per_prompt": round(wall / len(runs), 3),
        "batch_mean_drafts": round(sum(r["drafts"] for r in runs) / len(runs), 2),
        "batch_peak_rss_mb": round(batch_peak, 1),
        "batch_overhead_share": round(max(0.0, wall - media) / wall, 4),
        "batch_overhead_share_without_checkpoints": round(max(0.0, p_wall - p_media) / p_wall, 4),
        "batch_ms_per_run": per,  # where a run's wall time goes: media (render+critique), the rest is framework
        "batch_succeeded": sum(r["status"] == "succeeded" for r in runs),
    }


DEMO_CHILD = r"""
import json, sys, time
from mmthink import Agent, load_trace
agent = Agent.demo(sys.argv[1])
t = time.perf_counter()
res = agent.run(agent.reasoner.script.request, out=sys.argv[2])
wall = time.perf_counter() - t
tr = load_trace(res.trace)
rtf = [s.metrics.get("rtf") for s in tr.steps if s.kind == "draft" and s.metrics.get("rtf") is not None]
secs = [s.metrics.get("seconds") or s.metrics.get("duration") for s in tr.steps if s.kind == "final"]
print(json.dumps({"status": res.status, "wall": wall, "drafts": len(tr.drafts()), "rtf": rtf,
                  "final_seconds": secs[0] if secs else None}))
"""


def _demo(name: str) -> dict:
    out = tempfile.mkdtemp(prefix="mmthink-bench-")
    t = time.perf_counter()
    proc = subprocess.run([PY, "-c", DEMO_CHILD, name, out], capture_output=True, text=True, cwd=ROOT, check=True)
    process = time.perf_counter() - t
    d = json.loads(proc.stdout.strip().splitlines()[-1])
    res = {
        "section": f"{name} demo",
        "status": d["status"],
        "demo_run_seconds": round(d["wall"], 2),
        "demo_process_seconds": round(process, 2),
        "drafts": d["drafts"],
        "final_media_seconds": d["final_seconds"],
    }
    if d["rtf"]:
        res["draft_synthesis_rtf_mean"] = round(sum(d["rtf"]) / len(d["rtf"]), 4)
        res["draft_synthesis_rtf_max"] = round(max(d["rtf"]), 4)
    return res


def bench_speech() -> dict:
    return _demo("speech")


def bench_video() -> dict:
    res = _demo("video")
    enc = _script("bench_video.py", "--json")
    res.update({k: v for k, v in enc.items() if k != "section"})
    return res


def _script(name: str, *extra: str) -> dict:
    path = ROOT / "tools" / name
    if not path.exists():
        return {"section": name, "skipped": f"{name} not present"}
    out = subprocess.run([PY, str(path), *extra], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        return {"section": name, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


SECTIONS = {
    "cli": bench_cli,
    "image": bench_image,
    "speech": bench_speech,
    "video": bench_video,
    "reasoner": lambda: _script("bench_reasoner.py"),
    "diffusion": lambda: _script("bench_diffusion.py"),
    "smollm2": lambda: _script("bench_smollm2.py"),
    "batch": lambda: _script("bench_batch.py", "-n", "500", "--repeat", "3"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", choices=list(SECTIONS), help="sections to run (default: all)")
    ap.add_argument("--json", action="store_true", help="print JSON lines only")
    args = ap.parse_args()
    results = []
    for name in args.only or list(SECTIONS):
        res = SECTIONS[name]()
        res.setdefault("section", name)
        results.append(res)
        if args.json:
            print(json.dumps(res))
    if not args.json:
        from rich.console import Console
        from rich.table import Table

        for res in results:
            t = Table(title=res["section"])
            t.add_column("metric")
            t.add_column("value")
            for k, v in res.items():
                if k != "section":
                    t.add_row(k, str(v))
            Console().print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
