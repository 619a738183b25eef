"""Batch throughput: N generated image prompts on a pool of worker processes against one process.

    python tools/bench_batch.py                 # 500 prompts, 2 workers vs 1 process
    python tools/bench_batch.py -n 100 --workers 4
    python tools/bench_batch.py -n 60 --engine ray
    python tools/bench_batch.py --repeat 3         # both sides three times, alternating: the median speed-up
    python tools/bench.py --only batch             # the same as --repeat 3, as a section of the benchmarks

Each side runs in a fresh interpreter (``mmthink.batch`` with the embedded profile, checkpoints on,
bundles written to a temporary folder), so imports, worker start-up and bundle writing are all in
the wall time. Reported per side: requests per second, the mean seconds of one request, ``busy``
(the share of the workers' wall time spent inside requests; the rest is start-up, the parent's
hand-offs and the tail), CPU per request in all and in the parent alone, peak resident memory
(sampled every 100 ms with psutil, PSS every 2 s: see :class:`Sampler`) of the parent, of the workers
together and in all (also as PSS, which counts the pages forked workers share with their fork server
once), and the
machine's 1-minute load average when the side started: a loaded machine slows both sides, so a
number for the README comes from an idle one. Then the speed-up of the pool over one process.
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


def _child(requests: Path, out: Path, workers: int, engine: str, sync: str = "end") -> None:
    """One side of the comparison (runs in its own interpreter)."""
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    import mmthink

    imported = time.perf_counter() - started
    res = mmthink.batch(requests, out, workers=workers, engine=engine, sync=sync)
    import resource

    def cpu(who: int) -> float:
        use = resource.getrusage(who)
        return use.ru_utime + use.ru_stime

    seconds = [float(r.get("seconds") or 0.0) for r in res.records]
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - started,
                "import_seconds": imported,
                "parent_cpu_seconds": cpu(resource.RUSAGE_SELF),
                "workers_cpu_seconds": cpu(resource.RUSAGE_CHILDREN),  # the pool has been joined, so it is counted
                "request_seconds": sum(seconds),
                "counts": res.counts,
                "workers": res.workers,
            }
        )
    )


class Sampler:
    """Every tick (:data:`TICK`): resident memory of the batch's process, of all its descendants (workers, a fork
    server, Ray's processes) and the largest of them; and the CPU seconds each process has used, kept per process,
    so the total counts workers that are not the batch's own children (a fork server's, Ray's) and ones that have
    exited.

    The sampler shares the machine with what it measures, and with one process the spare core absorbs it while
    with a pool it takes CPU from the workers: so it stays cheap. Listing descendants scans all of ``/proc``
    (~1.4 ms), so the list is refreshed every :data:`LIST_EVERY` ticks; PSS walks every page table of every
    process (~15 ms for a pool of 2, holding each one's memory lock meanwhile), so it is read every
    :data:`PSS_EVERY` ticks. Memory is flat once the workers run, so the peaks lose nothing. Sampling as
    the first version did (every 50 ms, PSS every 0.5 s) cost 7.6% of a core: 3.8% of a 2-worker pool."""

    TICK = 0.1
    LIST_EVERY = 5
    PSS_EVERY = 20

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak = {"parent": 0, "workers": 0, "total": 0, "largest_worker": 0, "total_pss": 0}
        self.cpu: dict[int, float] = {}
        self.switches: dict[int, int] = {}  # voluntary context switches: a thread that blocked (a hand-over, I/O)
        self.ticks = 0
        self.procs: list = []

    def sample(self) -> None:
        import psutil

        if self.ticks % self.LIST_EVERY == 0 or not self.procs:
            try:
                self.procs = [self.root] + self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
        procs = self.procs
        rss = []
        for p in procs:
            try:
                with p.oneshot():
                    rss.append(p.memory_info().rss)
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
                    self.switches[p.pid] = p.num_ctx_switches().voluntary
            except psutil.NoSuchProcess:
                rss.append(0)
        self.ticks += 1
        if self.ticks % self.PSS_EVERY == 1:  # proportional set size: pages shared by forked workers counted once
            pss = 0
            for p in procs:
                try:
                    pss += getattr(p.memory_full_info(), "pss", 0)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak["total_pss"] = max(self.peak["total_pss"], pss)
        parent, kids = rss[0], rss[1:]
        for k, v in (
            ("parent", parent),
            ("workers", sum(kids)),
            ("total", sum(rss)),
            ("largest_worker", max(kids, default=0)),
        ):
            self.peak[k] = max(self.peak[k], v)


def _cpu_states() -> list[int]:
    """The machine's CPU time by state (user, nice, system, idle, iowait, ...) from /proc/stat; [] elsewhere."""
    try:
        with open("/proc/stat") as f:
            return [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return []


def _idle_share(a: list[int], b: list[int]) -> float | None:
    """The share of all cores' time spent idle between two readings."""
    if not a or not b:
        return None
    d = [y - x for x, y in zip(a, b, strict=False)][:8]
    return round(d[3] / max(1, sum(d)), 3)


def measure(requests: Path, workers: int, engine: str = "local", where: str | None = None, sync: str = "end") -> dict:
    out = Path(tempfile.mkdtemp(prefix="mmthink-bench-batch-", dir=where))
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        load = os.getloadavg()[0]
        before = _cpu_states()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(requests), str(out), str(workers), engine, sync],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        sampler = Sampler(proc.pid)

        def sample() -> None:
            while proc.poll() is None:
                sampler.sample()
                time.sleep(sampler.TICK)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        stdout, stderr = proc.communicate()
        t.join()
        idle = _idle_share(before, _cpu_states())
        if proc.returncode != 0:
            raise SystemExit(f"batch with {workers} worker(s) failed:\n{stderr[-3000:]}")
        res = json.loads(stdout.strip().splitlines()[-1])
        n = sum(res["counts"].values())
        slots = max(1, res["workers"])
        return {
            "engine": engine,
            "workers": res["workers"],
            "requests": n,
            "load_at_start": round(load, 2),
            "seconds": round(res["seconds"], 2),
            "rate": round(n / res["seconds"], 2),
            "counts": res["counts"],
            "mean_request_s": round(res["request_seconds"] / n, 3),
            # the share of the workers' wall time spent inside requests: the rest is start-up (imports, models),
            # the parent's hand-offs and an uneven tail
            "busy": round(res["request_seconds"] / (slots * res["seconds"]), 3),
            "import_s": round(res["import_seconds"], 2),
            # the batch's own CPU and its joined children's (rusage), or what the sampler saw, whichever is more
            "cpu_ms_per_request": round(
                1000 * max(res["parent_cpu_seconds"] + res["workers_cpu_seconds"], sum(sampler.cpu.values())) / n, 1
            ),
            "parent_cpu_ms_per_request": round(1000 * res["parent_cpu_seconds"] / n, 2),
            # threads of ours that blocked, per request (seen by the sampler, so a lower bound), and the share of
            # the machine's cores that sat idle while the side ran: a pool should leave next to none
            "switches_per_request": round(sum(sampler.switches.values()) / n, 1),
            "idle_share": idle,
            "peak_mb_total": round(sampler.peak["total"] / 2**20),
            "peak_mb_total_pss": round(sampler.peak["total_pss"] / 2**20),
            "peak_mb_parent": round(sampler.peak["parent"] / 2**20),
            "peak_mb_workers": round(sampler.peak["workers"] / 2**20),
            "peak_mb_largest_worker": round(sampler.peak["largest_worker"] / 2**20),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def report(n: int, where: str | None, one: dict, pool: dict, sync: str = "end") -> dict:
    """The table on stdout, then one JSON line with everything."""
    ratio = pool["rate"] / one["rate"]
    print(
        f"{n} prompts, {os.cpu_count()} cores visible, {len(os.sched_getaffinity(0))} usable, bundles in "
        f"{where or tempfile.gettempdir()} (sync {sync}); 1-min load average at the start of each side: "
        f"{one['load_at_start']} / {pool['load_at_start']} (other work on the machine slows both sides)"
    )
    print(
        f"{'':>18} {'seconds':>8} {'req/s':>7} {'s/req':>6} {'busy':>5} {'CPU ms/req':>11} {'parent ms/req':>14} "
        f"{'peak MB all':>12} {'(PSS)':>6} {'parent':>7} {'workers':>8} {'sw/req':>7} {'idle':>5}  statuses"
    )
    for r in (one, pool):
        name = f"{r['engine']}, {r['workers']} worker{'s' if r['workers'] != 1 else ''}"
        print(
            f"{name:>18} {r['seconds']:>8} {r['rate']:>7} {r['mean_request_s']:>6} {r['busy']:>5} "
            f"{r['cpu_ms_per_request']:>11} {r['parent_cpu_ms_per_request']:>14} {r['peak_mb_total']:>12} "
            f"{r['peak_mb_total_pss']:>6} "
            f"{r['peak_mb_parent']:>7} {r['peak_mb_workers']:>8} {r['switches_per_request']:>7} "
            f"{r['idle_share'] if r['idle_share'] is not None else '-':>5}  {r['counts']}"
        )
    print(f"speed-up: {ratio:.2f}x ({pool['workers']} workers against one process)")
    summary = {"n": n, "dir": where, "sync": sync, "one": one, "pool": pool, "speedup": round(ratio, 3)}
    print(json.dumps(summary))
    return summary


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=500, help="prompts (default 500)")
    ap.add_argument("--workers", type=int, default=2, help="pool size to compare with one process (default 2)")
    ap.add_argument("--engine", choices=("local", "ray"), default="local", help="the pool's engine (default local)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--dir",
        default=None,
        help="where the bundles are written (default: the temp folder); /dev/shm takes the disk's fsync cost out",
    )
    ap.add_argument(
        "--sync",
        choices=("end", "step"),
        default="end",
        help="the batch's --sync: fsync each bundle when its run ends (default, as mmthink batch) or every step",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure both sides this many times, alternating, and give the median speed-up: on a shared machine "
        "one pair moves by 10-20%% with what else runs",
    )
    args = ap.parse_args()
    pairs = []
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "requests.jsonl"
        requests.write_text("".join(json.dumps(p) + "\n" for p in prompts(args.n, args.seed)))
        for _ in range(max(1, args.repeat)):
            one = measure(requests, 1, "local", args.dir, args.sync)
            pool = measure(requests, args.workers, args.engine, args.dir, args.sync)
            pairs.append(report(args.n, args.dir, one, pool, args.sync))
    print(json.dumps(overall(pairs)))


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else round((values[mid - 1] + values[mid]) / 2, 3)


def overall(pairs: list[dict]) -> dict:
    """The last line (what ``tools/bench.py --only batch`` reports): medians over the pairs, peaks over all."""
    ones, pools = [p["one"] for p in pairs], [p["pool"] for p in pairs]
    return {
        "section": "batch",
        "n": pairs[0]["n"],
        "engine": pools[0]["engine"],
        "workers": pools[0]["workers"],
        "pairs": len(pairs),
        "speedups": [p["speedup"] for p in pairs],
        "median_speedup": _median([p["speedup"] for p in pairs]),
        "one_rate_median": _median([r["rate"] for r in ones]),
        "pool_rate_median": _median([r["rate"] for r in pools]),
        "pool_busy_median": _median([r["busy"] for r in pools]),
        "pool_switches_per_request_median": _median([r["switches_per_request"] for r in pools]),
        "pool_idle_share_median": _median([r["idle_share"] or 0.0 for r in pools]),
        "one_peak_mb": max(r["peak_mb_total"] for r in ones),
        "pool_peak_mb": max(r["peak_mb_total"] for r in pools),
        "pool_peak_mb_pss": max(r["peak_mb_total_pss"] for r in pools),
        "statuses_one": ones[-1]["counts"],
        "statuses_pool": pools[-1]["counts"],
    }


if __name__ == "__main__":
    main()
