"""The one WAV encoder: 16-bit PCM mono, what the trace stores and every browser plays."""

from __future__ import annotations

import io
import wave

import numpy as np

HEADROOM = 0.98
"""Peak level a take is scaled down to when it would go over: loud passages are never clipped."""


def wav_bytes(samples: np.ndarray, sr: int) -> bytes:
    """16-bit PCM with a checked scale: a peak above ``HEADROOM`` scales the whole clip down, never clips it."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim > 1:
        x = x.mean(axis=1)
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > HEADROOM:
        x = x * (HEADROOM / peak)
    pcm = np.round(x * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()
