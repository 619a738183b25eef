"""The one resampler: band-limited (scipy's polyphase filter), linear interpolation where scipy is absent."""

from __future__ import annotations

import math

import numpy as np


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """``x`` (samples along axis 0) from ``sr_from`` to ``sr_to`` Hz, as float32."""
    if sr_from == sr_to or len(x) == 0:
        return np.asarray(x, np.float32)
    try:
        from scipy.signal import resample_poly

        g = math.gcd(int(sr_from), int(sr_to))
        return resample_poly(np.asarray(x, np.float64), int(sr_to) // g, int(sr_from) // g, axis=0).astype(np.float32)
    except ImportError:  # pragma: no cover - scipy ships with the embedded stack
        n_out = int(round(len(x) * sr_to / sr_from))
        t = np.arange(n_out) * (sr_from / sr_to)
        return np.interp(t, np.arange(len(x)), np.asarray(x, np.float64)).astype(np.float32)
