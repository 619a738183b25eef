"""Prosody with Praat (through parselmouth, GPL-3.0, imported lazily): measure pitch, reshape it.

Shaping is PSOLA on the pitch tier: a level shift, a range scale around the utterance's median,
and a contour added on top (rising towards the end, falling, an arch, or flattened). Speaking
rate is set at synthesis (the voice's length scale), which sounds better than stretching.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PITCH_FLOOR, PITCH_CEILING = 50.0, 320.0
ANALYSIS_CEILING = 260.0  # a lower ceiling keeps the tracker off octave errors on this voice


def _sound(samples: np.ndarray, sr: int):
    import parselmouth

    return parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=float(sr))


def pitch_track(samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Times and F0 (Hz) of the voiced frames."""
    snd = _sound(samples, sr)
    pitch = snd.to_pitch_ac(time_step=0.01, pitch_floor=PITCH_FLOOR, pitch_ceiling=ANALYSIS_CEILING)
    f = pitch.selected_array["frequency"]
    t = pitch.xs()
    voiced = f > 0
    t, f = t[voiced], f[voiced]
    if len(f) >= 7:  # drop octave jumps: frames far from their neighbourhood's median
        st = 12 * np.log2(f / 100.0)
        pad = np.pad(st, 3, mode="edge")
        local = np.median(np.lib.stride_tricks.sliding_window_view(pad, 7), axis=1)
        keep = np.abs(st - local) < 4.0
        t, f = t[keep], f[keep]
    return t, f


def analyse(samples: np.ndarray, sr: int, words: int, syllables: int) -> dict[str, Any]:
    """Pitch level, range and end slope, speaking rate, loudness, clipping and pauses."""
    x = np.asarray(samples, dtype=np.float64)
    t, f = pitch_track(x, sr)
    out: dict[str, Any] = {"seconds": round(len(x) / sr, 3), "voiced_frames": int(len(f))}
    if len(f) >= 5:
        st = 12 * np.log2(f / 100.0)
        out["f0_median_hz"] = round(float(np.median(f)), 2)
        out["f0_range_st"] = round(float(np.percentile(st, 95) - np.percentile(st, 5)), 2)
        # slope of the final phrase: the last 40% of the voiced stretch carries the contour
        cut = t[0] + 0.6 * (t[-1] - t[0])
        tail = t >= cut
        if tail.sum() >= 4 and np.ptp(t[tail]) > 0.05:
            out["f0_slope_st_per_s"] = round(_robust_slope(t[tail], st[tail]), 2)
        else:
            out["f0_slope_st_per_s"] = 0.0
    frame = max(1, int(0.02 * sr))
    n = len(x) // frame
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12) if n else np.zeros(1)
    db = 20 * np.log10(rms + 1e-12)
    active = db > (db.max() - 35)
    speech_s = float(active.sum() * frame / sr) if n else 0.0
    if active.any():
        first, last = np.argmax(active), len(active) - np.argmax(active[::-1])
        span = (last - first) * frame / sr
        gaps, run = [], 0
        for a in active[first:last]:
            run = 0 if a else run + 1
            gaps.append(run)
        out["longest_silence_s"] = round(max(gaps or [0]) * frame / sr, 2)
    else:
        span = 0.0
        out["longest_silence_s"] = round(len(x) / sr, 2)
    out["speech_seconds"] = round(span, 3)
    out["rate_wps"] = round(words / span, 2) if span > 0 else 0.0
    out["rate_sps"] = round(syllables / span, 2) if span > 0 else 0.0
    out["loudness_dbfs"] = round(
        float(20 * np.log10(np.sqrt(np.mean(x[x != 0] ** 2)) + 1e-12)) if speech_s else -120.0, 2
    )
    out["clipped"] = int(np.sum(np.abs(x) >= 0.999))
    out["peak"] = round(float(np.max(np.abs(x))) if len(x) else 0.0, 4)
    return out


def _robust_slope(t: np.ndarray, y: np.ndarray) -> float:
    """Least squares, refitted without the points more than 2.5 st off the first fit."""
    k, b = np.polyfit(t, y, 1)
    keep = np.abs(y - (k * t + b)) < 2.5
    if keep.sum() >= 4:
        k, b = np.polyfit(t[keep], y[keep], 1)
    return float(k)


def shape_pitch(
    samples: np.ndarray,
    sr: int,
    *,
    shift_st: float = 0.0,
    range_scale: float = 1.0,
    contour: str = "keep",
    depth_st: float = 0.0,
) -> np.ndarray:
    """PSOLA resynthesis with a reshaped pitch tier; returns float samples at the same rate."""
    if (
        abs(shift_st) < 1e-3
        and abs(range_scale - 1) < 1e-3
        and (contour in ("keep", "flat") and depth_st == 0 or contour == "keep")
    ):
        if contour == "keep":
            return np.asarray(samples, dtype=np.float32)
    from parselmouth.praat import call

    snd = _sound(samples, sr)
    manip = call(snd, "To Manipulation", 0.01, PITCH_FLOOR, PITCH_CEILING)
    tier = call(manip, "Extract pitch tier")
    n = int(call(tier, "Get number of points"))
    if n < 2:
        return np.asarray(samples, dtype=np.float32)
    times = np.array([call(tier, "Get time from index", i + 1) for i in range(n)])
    freqs = np.array([call(tier, "Get value at index", i + 1) for i in range(n)])
    med = float(np.median(freqs))
    st = 12 * np.log2(freqs / med)
    if contour == "flat":
        range_scale = min(range_scale, 0.5)
    u = (times - times[0]) / max(1e-6, times[-1] - times[0])
    add = np.zeros_like(u)
    if contour == "rising":
        add = depth_st * np.clip((u - 0.45) / 0.55, 0, 1) ** 1.5
    elif contour == "falling":
        add = -depth_st * np.clip((u - 0.35) / 0.65, 0, 1)
    elif contour == "arch":
        add = depth_st * np.sin(math.pi * u)
    new = med * 2 ** ((st * range_scale + shift_st + add) / 12.0)
    new = np.clip(new, PITCH_FLOOR * 0.9, PITCH_CEILING * 1.2)
    call(tier, "Remove points between", times[0] - 1, times[-1] + 1)
    for tt, ff in zip(times, new):
        call(tier, "Add point", float(tt), float(ff))
    call([tier, manip], "Replace pitch tier")
    out = call(manip, "Get resynthesis (overlap-add)")
    y = np.asarray(out.values[0], dtype=np.float32)
    return y[: len(samples)] if len(y) >= len(samples) else np.pad(y, (0, len(samples) - len(y)))


def syllables(text: str) -> int:
    """Vowel groups per word: enough to compare speaking rates between texts."""
    import re

    total = 0
    for w in re.findall(r"[a-zA-Z']+", text.lower()):
        groups = re.findall(r"[aeiouy]+", w)
        n = len(groups) - (1 if w.endswith("e") and len(groups) > 1 and not w.endswith("le") else 0)
        total += max(1, n)
    return total
