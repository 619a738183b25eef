"""Batch throughput: N generated image prompts on a pool of worker processes against one process.

    python tools/bench_batch.py                 # 500 prompts, 2 workers vs 1 process
    python tools/bench_batch.py -n 100 --workers 4

Each side runs in a fresh interpreter (``mmthink.batch`` with the embedded profile, checkpoints on,
bundles written to a temporary folder), so imports, worker start-up and bundle writing are all in
the wall time. Peak memory is the largest total resident memory of that interpreter and its worker
processes together, sampled every 50 ms (psutil), next to the largest single process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OBJECTS = [
    "apple",
    "cup",
    "ball",
    "kite",
    "house",
    "tree",
    "boat",
    "star",
    "moon",
    "car",
    "cat",
    "lamp",
    "chair",
    "flower",
    "rock",
    "bird",
]
COLOURS = ["red", "blue", "green", "yellow", "white", "grey", "orange", "purple", "brown", "black"]
POSITIONS = ["to the left of", "to the right of", "above", "below", "next to", "in front of"]
COUNTS = ["a", "two", "three"]
TEMPLATES = [
    "{n} {c1} {o1}",
    "{n} {c1} {o1} {p} a {c2} {o2}",
    "a {c1} {o1} {p} {n} {c2} {o2}, at dusk",
    "{n} {c1} {o1} on a table, a {c2} {o2} {p} them",
]


def prompts(n: int, seed: int = 0) -> list[dict]:
    """``n`` image requests from the templates (deterministic for a seed), small images so rendering is quick."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        o1, o2 = rng.sample(OBJECTS, 2)
        c1, c2 = rng.sample(COLOURS, 2)
        n_word = rng.choice(COUNTS)
        o1s = o1 + ("s" if n_word != "a" and not o1.endswith("s") else "")
        text = rng.choice(TEMPLATES).format(n=n_word, c1=c1, o1=o1s, c2=c2, o2=o2, p=rng.choice(POSITIONS))
        out.append({"prompt": text, "seed": i, "width": 256, "height": 192})
    return out


def _child(requests: Path, out: Path, workers: int) -> None:
    """One side of the comparison (runs in its own interpreter)."""
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    import mmthink

    res = mmthink.batch(requests, out, workers=workers)
    import resource

    cpu = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )  # the workers have been joined, so they are counted
    print(
        json.dumps(
            {"seconds": time.perf_counter() - started, "cpu_seconds": cpu, "counts": res.counts, "workers": res.workers}
        )
    )


def _tree_rss(pid: int) -> tuple[int, int]:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0, 0
    total = biggest = 0
    for p in procs:
        try:
            rss = p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
        total += rss
        biggest = max(biggest, rss)
    return total, biggest


def measure(requests: Path, workers: int, where: str | None = None) -> dict:
    out = Path(tempfile.mkdtemp(prefix="mmthink-bench-batch-", dir=where))
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(requests), str(out), str(workers)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        peak = {"total": 0, "biggest": 0}

        def sample() -> None:
            while proc.poll() is None:
                total, biggest = _tree_rss(proc.pid)
                peak["total"] = max(peak["total"], total)
                peak["biggest"] = max(peak["biggest"], biggest)
                time.sleep(0.05)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        stdout, stderr = proc.communicate()
        t.join()
        if proc.returncode != 0:
            raise SystemExit(f"batch with {workers} worker(s) failed:\n{stderr[-3000:]}")
        res = json.loads(stdout.strip().splitlines()[-1])
        n = sum(res["counts"].values())
        return {
            "workers": workers,
            "requests": n,
            "seconds": round(res["seconds"], 2),
            "rate": round(n / res["seconds"], 2),
            "counts": res["counts"],
            "cpu_ms_per_request": round(1000 * res["cpu_seconds"] / n, 1),
            "peak_mb_total": round(peak["total"] / 2**20),
            "peak_mb_one_process": round(peak["biggest"] / 2**20),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=500, help="prompts (default 500)")
    ap.add_argument("--workers", type=int, default=2, help="pool size to compare with one process (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--dir",
        default=None,
        help="where the bundles are written (default: the temp folder); /dev/shm takes the disk's fsync cost out",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "requests.jsonl"
        requests.write_text("".join(json.dumps(p) + "\n" for p in prompts(args.n, args.seed)))
        load = os.getloadavg()[0]
        one = measure(requests, 1, args.dir)
        pool = measure(requests, args.workers, args.dir)
        load = max(load, os.getloadavg()[0])
    print(
        f"{args.n} prompts, {os.cpu_count()} cores visible, {len(os.sched_getaffinity(0))} usable, "
        f"bundles in {args.dir or tempfile.gettempdir()}, load average before/after {load:.1f} "
        "(other work on the machine slows both sides)"
    )
    print(
        f"{'':>10} {'seconds':>8} {'req/s':>7} {'CPU ms/req':>11} {'peak MB (all)':>14} {'peak MB (largest)':>18}"
        "  statuses"
    )
    for name, r in (("1 process", one), (f"{args.workers} workers", pool)):
        print(
            f"{name:>10} {r['seconds']:>8} {r['rate']:>7} {r['cpu_ms_per_request']:>11} {r['peak_mb_total']:>14} "
            f"{r['peak_mb_one_process']:>18}  {r['counts']}"
        )
    print(f"rate ratio: {pool['rate'] / one['rate']:.2f}x")
    print(
        json.dumps(
            {
                "n": args.n,
                "dir": args.dir,
                "load": round(load, 2),
                "one": one,
                "pool": pool,
                "ratio": round(pool["rate"] / one["rate"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
