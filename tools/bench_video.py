"""Video benchmark: encoding speed of the composer and the music synthesiser's real-time factor.

    python tools/bench_video.py                      # 30 s at 640x360, 24 fps, 5 scenes
    python tools/bench_video.py --seconds 60 --size 1280x720
    python tools/bench_video.py --json               # one JSON line (what tools/bench.py reads)

Frames come from the storyboard frame tool with the embedded image renderer and narration from
the speech tool when those are installed; otherwise from PIL drawings and voice-like tone
bursts (the output says which), so the encoder is measured either way.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmthink.modalities.base import Artifact  # noqa: E402
from mmthink.modalities.video.compositor import Cut, compose_video  # noqa: E402
from mmthink.modalities.video.music import MOODS, MusicTool, wav_bytes  # noqa: E402

SCENES = [
    (
        "setting: launch pad, dawn\nrocket: large, white, center\nsun: small, orange, left, top",
        "At dawn, the rocket waits on the pad, ready to leave the Earth behind.",
    ),
    (
        "setting: space, stars\nearth: huge, blue, left, bottom\nspaceship: medium, silver, right, top",
        "In orbit, our blue world turns slowly beneath the ship.",
    ),
    (
        "setting: moon surface, stars\nastronaut: medium, white, center\nflag: small, red, right",
        "On the quiet Moon, a flag is planted in the grey dust.",
    ),
    (
        "setting: space, nebula\nspaceship: small, silver, center\nnebula: huge, purple, background",
        "Beyond, the deep sky opens, wider than any map.",
    ),
    (
        "setting: ocean, dusk\ncapsule: small, white, center\nparachute x3: medium, orange, above capsule",
        "And at last, the crew comes home to the sea.",
    ),
]


def _frames(n: int, size: tuple[int, int]) -> tuple[list, str]:
    from mmthink.modalities.image.scene import parse_scene
    from mmthink.modalities.video.frames import FrameTool, storyboard_style

    try:
        tool = FrameTool()
        style = storyboard_style("a short movie about space exploration", seed=1)
        return [
            tool.render(
                parse_scene(SCENES[i % len(SCENES)][0])[0], style=style, quality="final", size=size, scene_no=i + 1
            )
            for i in range(n)
        ], "frame tool (embedded renderer)"
    except ImportError:
        from PIL import Image, ImageDraw

        out = []
        for i in range(n):
            img = Image.new("RGB", size, (20 + 30 * i, 30, 80))
            d = ImageDraw.Draw(img)
            w, h = size
            d.ellipse((w * 0.3, h * 0.2, w * 0.6, h * 0.8), fill=(200, 160, 60))
            d.rectangle((0, int(h * 0.8), w, h), fill=(40, 90, 40))
            out.append(img)
        return out, "PIL drawings (image renderer not installed)"


def _narration(texts: list[str]) -> tuple[list[Artifact], str]:
    try:
        from mmthink.modalities.speech.tts import SpeechTool

        tool = SpeechTool()
        return [tool.render(t, emotion="neutral", seed=i) for i, t in enumerate(texts)], "speech tool"
    except ImportError:
        sr, out = 22050, []
        for t in texts:
            parts = []
            for w in t.split():
                n = int(0.06 * sr * max(2, len(w)))
                ph = 2 * np.pi * 150 * np.arange(n) / sr
                parts += [0.3 * np.sin(ph) * np.sin(np.pi * np.arange(n) / n) ** 2, np.zeros(int(0.08 * sr))]
            x = np.concatenate(parts).astype(np.float32)
            out.append(Artifact("audio", wav_bytes(x, sr), "wav", {"text": t}, (x, sr)))
        return out, "tone bursts (speech tool not installed)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--scenes", type=int, default=5)
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))

    # Music: synthesis real-time factor over every mood.
    tool = MusicTool()
    tool.render(mood="calm", seconds=1.0)  # imports and caches out of the timing
    rtfs = []
    for mood in MOODS:
        t = time.perf_counter()
        tool.render(mood=mood, seconds=args.seconds, seed=1)
        rtfs.append((time.perf_counter() - t) / args.seconds)

    frames, frame_src = _frames(args.scenes, (w, h))
    texts = [SCENES[i % len(SCENES)][1] for i in range(args.scenes)]
    narration, narr_src = _narration(texts)
    per = args.seconds / args.scenes
    cuts = [Cut(frame=f, seconds=per, narration=n, subtitle=t) for f, n, t in zip(frames, narration, texts)]
    music = tool.render(mood="wonder", seconds=args.seconds, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        art = compose_video(
            cuts,
            Path(tmp) / "bench.mp4",
            size=(w, h),
            fps=args.fps,
            music=music,
            progress=not args.json,
            preset=args.preset,
        )
        wall = time.perf_counter() - t
    dur = art.meta["duration"]
    res = {
        "section": "video",
        "video_seconds": dur,
        "size": f"{art.meta['size'][0]}x{art.meta['size'][1]}",
        "fps": args.fps,
        "scenes": args.scenes,
        "preset": args.preset,
        "encode_seconds": art.meta["encode_seconds"],
        "encode_seconds_per_video_second": round(art.meta["encode_seconds"] / dur, 4),
        "encode_x_realtime": round(dur / art.meta["encode_seconds"], 2),
        "compose_wall_seconds": round(wall, 3),
        "compose_x_realtime": round(dur / wall, 2),
        "mp4_kb": round(len(art.data) / 1024, 1),
        "music_rtf_mean": round(float(np.mean(rtfs)), 4),
        "music_rtf_max": round(float(np.max(rtfs)), 4),
        "level_diff_db": art.meta["audio"].get("level_diff_db"),
        "frames_from": frame_src,
        "narration_from": narr_src,
    }
    if args.json:
        print(json.dumps(res))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="video")
        table.add_column("metric")
        table.add_column("value")
        for k, v in res.items():
            if k != "section":
                table.add_row(k, str(v))
        Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
