"""The final speech: accepted takes joined with natural pauses, loudness-normalised, never clipped."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..media.base import Artifact
from ..media.speech import set_level, wav_bytes


def _resample(x: np.ndarray, sr: int, to: int) -> np.ndarray:
    if sr == to:
        return x
    from scipy.signal import resample_poly

    g = np.gcd(int(sr), int(to))
    return resample_poly(x, int(to) // g, int(sr) // g).astype(np.float32)


def compose_speech(segments: list[Artifact], *, pause_s: float = 0.45,
                   target_dbfs: float = -20.0) -> tuple[Artifact, list[dict]]:
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
        rows.append({"segment": i + 1, "ref": seg.meta.get("ref"), "emotion": seg.meta.get("emotion"),
                     "start_s": round(start, 3), "end_s": round(t, 3), "text": seg.meta.get("text", "")})
    y = np.concatenate(pieces)
    # keep the takes' relative levels (an urgent passage stays louder), then bring the whole to target
    rms = float(np.sqrt(np.mean(np.square(y)))) if y.size else 0.0
    if rms > 0:
        y = y * (10 ** (target_dbfs / 20) / rms)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0.98:
        y = y * (0.98 / peak)
    art = Artifact("audio", wav_bytes(y, sr), "wav",
                   {"sample_rate": sr, "seconds": round(len(y) / sr, 3), "segments": len(segments),
                    "peak": round(float(np.max(np.abs(y))), 4)}, (y.astype(np.float32), sr))
    return art, rows


__all__ = ["compose_speech", "set_level"]
