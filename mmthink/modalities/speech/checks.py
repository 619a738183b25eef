"""Checks on rendered audio before any critic sees it: decodable, finite, not silent, not too long."""

from __future__ import annotations

import io
from typing import Any

from mmthink.core.faults import InvalidOutput

SILENCE_PEAK = 1e-4
"""Peak amplitude (full scale 1.0) below which a clip counts as silent: about -80 dBFS."""


def check_audio(art: Any, limits: Any = None, what: str = "draft") -> None:
    import numpy as np

    payload = getattr(art, "payload", None)
    samples, rate = None, None
    if isinstance(payload, tuple) and len(payload) == 2 and _is_array(payload[0]):
        samples, rate = np.asarray(payload[0], dtype=np.float64), payload[1]
    elif _is_array(payload):
        samples = np.asarray(payload, dtype=np.float64)
    decoded, drate = _decode_audio(bytes(art.data), what)
    rate = rate or drate
    for name, arr in (("samples", samples), ("file", decoded)):
        if arr is None:
            continue
        if arr.size == 0:
            raise InvalidOutput(what, f"the audio {name} hold no samples")
        if not np.isfinite(arr).all():
            raise InvalidOutput(what, f"the audio {name} hold NaN or infinite values")
        peak = float(np.max(np.abs(arr)))
        if peak < SILENCE_PEAK:
            raise InvalidOutput(what, f"the audio is silent (peak {peak:.1e}, below -80 dBFS)")
    cap = getattr(limits, "max_audio_seconds", None)
    if cap and rate and decoded is not None:
        secs = decoded.shape[0] / float(rate)
        if secs > cap:
            raise InvalidOutput(what, f"the audio is {secs:.1f} s long, over the {cap:g} s limit")


def _decode_audio(data: bytes, what: str) -> tuple[Any, int | None]:
    """Samples scaled to [-1, 1] (float files keep NaNs as they are); None when no decoder knows it."""
    import numpy as np

    try:
        import soundfile as sf

        arr, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=False)
        return np.asarray(arr), int(rate)
    except ImportError:
        pass
    except Exception as e:  # soundfile.LibsndfileError and friends
        raise InvalidOutput(what, f"the audio file cannot be decoded ({e})") from None
    import wave

    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            width, rate, frames = w.getsampwidth(), w.getframerate(), w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise InvalidOutput(what, f"the audio file cannot be decoded ({e})") from None
    if width != 2:
        return None, rate
    return np.frombuffer(frames, "<i2").astype(np.float64) / 32768.0, rate


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")
