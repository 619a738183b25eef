"""Evaluate the speech loop on a set of (text, emotion) items.

For each item: render with the emotion's default shaping (first draft), listen, revise, up to
``--rounds`` takes. Reports the fraction of items whose prosody targets were all met on the first
draft and after the loop, and the mean word error rate of unshaped speech vs the final shaped takes.

    python tools/eval_speech.py ../shared/data/speech_dev.jsonl [--rounds 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmthink.modalities.speech.critic import SpeechCritic, transcribe, wer  # noqa: E402
from mmthink.modalities.speech.tts import Shaping, SpeechTool, revise, shaping_for  # noqa: E402


def targets_met(c) -> bool:
    return all(t["ok"] for t in c.metrics["targets"].values())


def evaluate(path: Path, rounds: int = 4) -> dict:
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    tool, critic = SpeechTool(), SpeechCritic()
    rows, audio_s, synth_s = [], 0.0, 0.0
    t0 = time.time()
    for it in items:
        plain = tool.render(it["text"], emotion="neutral", shaping=Shaping())
        wer_plain = wer(it["text"], transcribe(*plain.payload))
        shaping = shaping_for(it["emotion"])
        first = None
        for r in range(rounds):  # noqa: B007 - r counts the takes, read after the loop
            t = time.perf_counter()
            art = tool.render(it["text"], emotion=it["emotion"], shaping=shaping)
            synth_s += time.perf_counter() - t
            audio_s += art.meta["seconds"]
            c = critic.critique(art, text=it["text"], emotion=it["emotion"])
            first = c if first is None else first
            if c.passed:
                break
            shaping = revise(shaping, c, it["emotion"])
        rows.append(
            {
                "emotion": it["emotion"],
                "text": it["text"],
                "first": targets_met(first),
                "after": targets_met(c),
                "passed": c.passed,
                "takes": r + 1,
                "wer_plain": wer_plain,
                "wer_shaped": c.metrics["wer"],
                "findings": c.findings,
            }
        )
    n = len(rows) or 1
    return {
        "items": len(rows),
        "targets_met_first": round(sum(r["first"] for r in rows) / n, 3),
        "targets_met_after": round(sum(r["after"] for r in rows) / n, 3),
        "passed_after": round(sum(r["passed"] for r in rows) / n, 3),
        "mean_takes": round(sum(r["takes"] for r in rows) / n, 2),
        "wer_unshaped": round(sum(r["wer_plain"] for r in rows) / n, 4),
        "wer_shaped": round(sum(r["wer_shaped"] for r in rows) / n, 4),
        "synthesis_rtf": round(synth_s / max(audio_s, 1e-6), 4),
        "seconds": round(time.time() - t0, 1),
        "rows": rows,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("items", nargs="?", default=str(ROOT.parent / "shared" / "data" / "speech_dev.jsonl"))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = evaluate(Path(args.items), args.rounds)
    if not args.json:
        from rich.console import Console
        from rich.table import Table

        t = Table(title="speech loop")
        for col in ("emotion", "takes", "first", "after", "WER plain", "WER shaped", "last findings"):
            t.add_column(col)
        for r in report["rows"]:
            t.add_row(
                r["emotion"],
                str(r["takes"]),
                "✓" if r["first"] else "✗",
                "✓" if r["after"] else "✗",
                f"{r['wer_plain']:.2f}",
                f"{r['wer_shaped']:.2f}",
                "; ".join(r["findings"][:2]),
            )
        Console().print(t)
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
