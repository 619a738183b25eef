"""The final speech: accepted takes joined with natural pauses, loudness-normalised, never clipped."""

from __future__ import annotations

from typing import Any

import numpy as np

from mmthink.core.tags import Tag
from mmthink.dsp.resample import resample
from mmthink.errors import InputError
from mmthink.modalities.base import Artifact, RunContext
from mmthink.modalities.speech.handler import SpeechHandler, accepted_takes
from mmthink.modalities.speech.tts import set_level, wav_bytes

_resample = resample


def compose_speech(
    segments: list[Artifact], *, pause_s: float = 0.45, target_dbfs: float = -20.0
) -> tuple[Artifact, list[dict]]:
    """Join takes in order; returns the WAV artifact and a per-segment timing table."""
    if not segments:
        raise InputError("segments", "there is nothing to compose", "draft at least one passage")
    if pause_s < 0 or pause_s > 10:
        raise InputError("pause_s", f"{pause_s} is outside 0..10 seconds")
    sr = max(int(s.payload[1]) for s in segments)
    pieces: list[np.ndarray] = []
    rows: list[dict] = []
    t = 0.0
    fade = int(0.01 * sr)
    for i, seg in enumerate(segments):
        x, rate = seg.payload
        x = _resample(np.asarray(x, np.float32), int(rate), sr).copy()
        if len(x) > 2 * fade:  # tiny fades: no clicks at the joins
            ramp = np.linspace(0, 1, fade, dtype=np.float32)
            x[:fade] *= ramp
            x[-fade:] *= ramp[::-1]
        if i:
            scale = float((seg.meta.get("shaping") or {}).get("pause_scale", 1.0))
            gap = np.zeros(int(pause_s * scale * sr), np.float32)
            pieces.append(gap)
            t += len(gap) / sr
        start = t
        pieces.append(x)
        t += len(x) / sr
        rows.append(
            {
                "segment": i + 1,
                "ref": seg.meta.get("ref"),
                "emotion": seg.meta.get("emotion"),
                "start_s": round(start, 3),
                "end_s": round(t, 3),
                "text": seg.meta.get("text", ""),
            }
        )
    y = np.concatenate(pieces)
    # keep the takes' relative levels (an urgent passage stays louder), then bring the whole to target
    rms = float(np.sqrt(np.mean(np.square(y)))) if y.size else 0.0
    if rms > 0:
        y = y * (10 ** (target_dbfs / 20) / rms)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0.98:
        y = y * (0.98 / peak)
    art = Artifact(
        "audio",
        wav_bytes(y, sr),
        "wav",
        {
            "sample_rate": sr,
            "seconds": round(len(y) / sr, 3),
            "segments": len(segments),
            "peak": round(float(np.max(np.abs(y))), 4),
        },
        (y.astype(np.float32), sr),
    )
    return art, rows


__all__ = ["compose_speech", "set_level"]


class SpeechComposer:
    def __init__(self, handler: SpeechHandler) -> None:
        self.handler = handler

    def compose(self, final: Tag | None, ctx: RunContext) -> tuple[Artifact, dict[str, Any]]:
        takes = accepted_takes(ctx.drafts)
        # With several passages, a lone trial snippet (no passage attribute) is not part of the speech.
        if any((t.get("attrs") or {}).get("passage") for t in takes):
            takes = [t for t in takes if (t.get("attrs") or {}).get("passage")]
        segments = []
        for t in takes:
            art = ctx.cache.get(t["id"]) or self.handler.restore(t, ctx.read_asset(t["asset"]))
            art.meta.setdefault("ref", t["id"])
            art.meta.setdefault("text", t.get("body", ""))
            art.meta.setdefault("emotion", (t.get("attrs") or {}).get("emotion", "neutral"))
            segments.append(art)
        if not segments and final is not None and final.body.strip():
            tag = Tag("draft_audio", {"id": "final", "emotion": final.attrs.get("emotion", "neutral")}, final.body)
            segments.append(self.handler.render(tag, ctx))
        if not segments:
            raise ValueError("there is no accepted speech draft to compose: draft at least one <draft_audio>")
        art, rows = compose_speech(segments)
        return art, {
            "ref": ",".join(t["id"] for t in takes) or None,
            "segments": len(segments),
            "table": rows,
            "takes": [t["id"] for t in takes],
        }
