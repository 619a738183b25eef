"""Overhead of the hf reasoner's machinery against a plain ``model.generate``.

Both runs decode the same number of new tokens greedily on the same tiny random Qwen3 (built
on the spot, nothing downloaded), from the same prompt. The reasoner run includes everything a
graph turn pays for: chat template, the budget-forcing logits processor, stop strings, the
stop flag, the streaming thread and incremental detokenisation into deltas.

    python tools/bench_reasoner.py [--tokens 256] [--repeats 5] [--hidden 64] [--device cpu]

Prints one JSON line; ``ratio`` = reasoner seconds / plain seconds (target <= 1.10).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=256, help="new tokens per run")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--hidden", type=int, default=64, help="hidden size of the tiny model")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1 keeps timings steady on a busy machine; 0 = torch default)",
    )
    args = ap.parse_args(argv)

    import torch
    from tiny_models import Bias, ascii_ids, build_tiny_qwen3

    from mmthink.modalities import registry
    from mmthink.reasoners.base import Turn
    from mmthink.reasoners.hf import HFReasoner
    from mmthink.request import Request

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_tiny_qwen3(Path(tmp) / "m", hidden=args.hidden, layers=args.layers)
        probe = HFReasoner(str(folder), device=args.device)
        lm = probe.load()
        tok, model = lm.tokenizer, lm.model
        letters = Bias(ascii_ids(tok))  # plain text, never an end marker: both runs decode every token
        # Thinking is capped (not closed) at --tokens, so the reasoner decodes exactly that many tokens.
        reasoner = HFReasoner(
            str(folder),
            device=args.device,
            temperature=0,
            max_new_tokens=args.tokens,
            system_prompt="You draw.",
            logits_processors=[letters],
        )
        turn = Turn(
            request=Request("draw a red ball"),
            modality="image",
            mode="on",
            tokens_left=None,
            tags=registry.tagset("image"),
            guide=registry.guide("image"),
        )
        prompt, _, _ = reasoner.build_prompt(turn)
        enc = tok(prompt, add_special_tokens=False, return_tensors="pt").to(lm.device)

        def plain() -> int:
            out = model.generate(
                **enc,
                max_new_tokens=args.tokens,
                min_new_tokens=args.tokens,
                do_sample=False,
                logits_processor=[letters],
                pad_token_id=tok.pad_token_id,
            )
            return out.shape[1] - enc["input_ids"].shape[1]

        def ours() -> int:
            n = sum(d.tokens or 0 for d in reasoner.stream(turn))
            return n

        plain(), ours()  # warm up
        t_plain, t_ours, n_plain, n_ours = [], [], 0, 0
        for _ in range(args.repeats):  # interleaved, so load from elsewhere hits both alike
            t = time.perf_counter()
            n_plain = plain()
            t_plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            n_ours = ours()
            t_ours.append(time.perf_counter() - t)
        result = {
            "bench": "hf reasoner overhead",
            "device": args.device,
            "hidden": args.hidden,
            "layers": args.layers,
            "threads": args.threads,
            "prompt_tokens": int(enc["input_ids"].shape[1]),
            "new_tokens_plain": n_plain,
            "new_tokens_reasoner": n_ours,
            "plain_s": round(statistics.median(t_plain), 4),
            "reasoner_s": round(statistics.median(t_ours), 4),
            "ratio": round(statistics.median(t_ours) / statistics.median(t_plain), 3),
            "repeats": args.repeats,
        }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
