"""Background music for a storyboard: a mood in, an exact-length track out.

The embedded backend composes from data: each mood names a key and mode, a tempo, chord
progressions (scale degrees, one chord per bar) and how loud the pad, bass and bell-like
arpeggio play. Every note has a raised-cosine attack and release, chords overlap their
neighbours by a short crossfade, and the track fades in and out, so there are no clicks at
joins. The ``hf`` backend asks a transformers text-to-audio model (MusicGen-style) for the
mood's prompt and trims the result to the same exact length.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmthink.dsp.resample import resample
from mmthink.dsp.wav import wav_bytes
from mmthink.errors import BackendError, InputError
from mmthink.modalities.base import Artifact

MAX_SECONDS = 600.0
"""Longest track one call may ask for."""
MAX_PARTIAL_HZ = 6000.0
"""No oscillator partial goes above this, so anything above it in the output is a click."""
TARGET_RMS_DB = -20.0
PEAK_LIMIT = 0.89

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
}
_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii")


@dataclass(frozen=True)
class MoodSpec:
    """How one mood sounds. Degrees are 0-based scale steps; a progression is one chord per bar."""

    key: int  # pitch class of the tonic, 0 = C
    mode: str
    tempo: float  # beats per minute
    progressions: tuple[tuple[int, ...], ...]
    pad: float = 0.5  # instrument levels (linear, before loudness normalisation)
    bass: float = 0.35
    arp: float = 0.25
    arp_rate: int = 2  # arpeggio notes per beat (0 = no arpeggio)
    arp_shape: str = "up"  # up | updown | random | sparse
    bass_beats: tuple[float, ...] = (0.0, 2.0)  # beats in the bar where the bass plays
    brightness: float = 0.5  # 0..1: harmonics in the pad
    sevenths: bool = False
    attack: float = 0.6  # pad attack, seconds
    prompt: str = ""  # text prompt for a text-to-audio model
    beats_per_bar: int = 4


MOOD_SPECS: dict[str, MoodSpec] = {
    "wonder": MoodSpec(
        2,
        "lydian",
        76,
        ((0, 1, 4, 0), (0, 4, 5, 1), (5, 1, 0, 4)),
        pad=0.55,
        bass=0.25,
        arp=0.3,
        arp_rate=2,
        arp_shape="updown",
        bass_beats=(0.0,),
        brightness=0.6,
        sevenths=True,
        attack=1.0,
        prompt="ethereal ambient orchestral music, shimmering synth pads and celesta, sense of wonder",
    ),
    "tension": MoodSpec(
        9,
        "phrygian",
        96,
        ((0, 1, 0, 6), (0, 5, 1, 0)),
        pad=0.45,
        bass=0.45,
        arp=0.2,
        arp_rate=4,
        arp_shape="up",
        bass_beats=(0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5),
        brightness=0.35,
        attack=0.3,
        prompt="tense suspenseful cinematic score, low pulsing strings, dark drones",
    ),
    "triumph": MoodSpec(
        0,
        "major",
        112,
        ((0, 4, 5, 3), (0, 3, 4, 0), (5, 3, 0, 4)),
        pad=0.55,
        bass=0.45,
        arp=0.3,
        arp_rate=2,
        arp_shape="up",
        bass_beats=(0.0, 1.0, 2.0, 3.0),
        brightness=0.75,
        attack=0.15,
        prompt="triumphant heroic orchestral anthem, brass fanfare, timpani, major key",
    ),
    "calm": MoodSpec(
        5,
        "major",
        66,
        ((0, 3, 5, 4), (0, 5, 3, 4)),
        pad=0.6,
        bass=0.25,
        arp=0.18,
        arp_rate=1,
        arp_shape="sparse",
        bass_beats=(0.0,),
        brightness=0.3,
        sevenths=True,
        attack=1.2,
        prompt="calm peaceful ambient piano and soft pads, slow tempo, relaxing",
    ),
    "sad": MoodSpec(
        4,
        "minor",
        62,
        ((0, 5, 2, 6), (0, 3, 5, 4)),
        pad=0.6,
        bass=0.3,
        arp=0.2,
        arp_rate=1,
        arp_shape="sparse",
        bass_beats=(0.0, 2.0),
        brightness=0.3,
        attack=1.0,
        prompt="sad melancholic solo piano with soft strings, slow, minor key",
    ),
    "hope": MoodSpec(
        7,
        "major",
        84,
        ((0, 4, 5, 3), (3, 0, 4, 5), (5, 3, 0, 4)),
        pad=0.55,
        bass=0.3,
        arp=0.28,
        arp_rate=2,
        arp_shape="updown",
        bass_beats=(0.0, 2.0),
        brightness=0.55,
        attack=0.6,
        prompt="hopeful uplifting piano and strings, gentle build, warm major key",
    ),
    "mystery": MoodSpec(
        11,
        "harmonic minor",
        70,
        ((0, 5, 3, 4), (0, 1, 0, 4)),
        pad=0.55,
        bass=0.3,
        arp=0.22,
        arp_rate=1,
        arp_shape="random",
        bass_beats=(0.0,),
        brightness=0.4,
        sevenths=True,
        attack=1.0,
        prompt="mysterious dark ambient music, celesta and low drones, enigmatic",
    ),
    "adventure": MoodSpec(
        2,
        "mixolydian",
        120,
        ((0, 6, 3, 0), (0, 3, 6, 4)),
        pad=0.5,
        bass=0.45,
        arp=0.3,
        arp_rate=4,
        arp_shape="updown",
        bass_beats=(0.0, 1.5, 2.0, 3.5),
        brightness=0.65,
        attack=0.2,
        prompt="adventurous energetic orchestral music, driving strings and horns, exploration",
    ),
    "joy": MoodSpec(
        0,
        "major",
        124,
        ((0, 3, 4, 0), (0, 5, 3, 4)),
        pad=0.45,
        bass=0.4,
        arp=0.32,
        arp_rate=4,
        arp_shape="up",
        bass_beats=(0.0, 1.0, 2.0, 3.0),
        brightness=0.7,
        attack=0.1,
        prompt="joyful playful upbeat music, bright plucked strings and glockenspiel",
    ),
    "melancholy": MoodSpec(
        9,
        "dorian",
        68,
        ((0, 3, 0, 6), (0, 2, 3, 4)),
        pad=0.6,
        bass=0.3,
        arp=0.2,
        arp_rate=2,
        arp_shape="updown",
        bass_beats=(0.0, 2.0),
        brightness=0.35,
        sevenths=True,
        attack=0.9,
        prompt="wistful melancholic ambient music, soft electric piano, rain",
    ),
    "epic": MoodSpec(
        2,
        "minor",
        100,
        ((0, 5, 2, 6), (0, 6, 5, 6)),
        pad=0.6,
        bass=0.5,
        arp=0.25,
        arp_rate=4,
        arp_shape="up",
        bass_beats=(0.0, 0.75, 1.5, 2.0, 2.75, 3.5),
        brightness=0.7,
        attack=0.3,
        prompt="epic cinematic trailer music, huge drums, choir and brass, minor key",
    ),
    "dreamy": MoodSpec(
        4,
        "lydian",
        72,
        ((0, 1, 0, 1), (0, 4, 1, 5)),
        pad=0.6,
        bass=0.2,
        arp=0.3,
        arp_rate=2,
        arp_shape="random",
        bass_beats=(0.0,),
        brightness=0.45,
        sevenths=True,
        attack=1.3,
        prompt="dreamy ethereal ambient music, soft synth pads, music box arpeggios",
    ),
    "inspiring": MoodSpec(
        7,
        "major",
        92,
        ((5, 3, 0, 4), (0, 4, 5, 3)),
        pad=0.55,
        bass=0.4,
        arp=0.3,
        arp_rate=4,
        arp_shape="updown",
        bass_beats=(0.0, 2.0, 2.5),
        brightness=0.6,
        attack=0.4,
        prompt="inspiring motivational cinematic music, piano ostinato and rising strings",
    ),
    "playful": MoodSpec(
        5,
        "mixolydian",
        116,
        ((0, 3, 0, 6), (0, 4, 3, 0)),
        pad=0.35,
        bass=0.45,
        arp=0.35,
        arp_rate=2,
        arp_shape="random",
        bass_beats=(0.0, 1.0, 2.0, 3.0),
        brightness=0.6,
        attack=0.05,
        prompt="playful quirky music, pizzicato strings, marimba and whistles",
    ),
    "dark": MoodSpec(
        3,
        "phrygian",
        60,
        ((0, 1, 0, 1), (0, 5, 1, 0)),
        pad=0.6,
        bass=0.5,
        arp=0.12,
        arp_rate=1,
        arp_shape="sparse",
        bass_beats=(0.0,),
        brightness=0.25,
        attack=1.5,
        prompt="dark ominous drone music, deep bass, distant metallic textures",
    ),
    "romantic": MoodSpec(
        10,
        "major",
        74,
        ((0, 5, 1, 4), (0, 2, 5, 4)),
        pad=0.55,
        bass=0.3,
        arp=0.25,
        arp_rate=2,
        arp_shape="updown",
        bass_beats=(0.0, 2.0),
        brightness=0.5,
        sevenths=True,
        attack=0.8,
        prompt="romantic tender music, piano and warm strings, slow waltz feel",
    ),
}

MOOD_ALIASES: dict[str, str] = {
    "awe": "wonder",
    "curiosity": "wonder",
    "suspense": "tension",
    "danger": "tension",
    "victory": "triumph",
    "peaceful": "calm",
    "serene": "calm",
    "sadness": "sad",
    "grief": "sad",
    "hopeful": "hope",
    "mysterious": "mystery",
    "exploration": "adventure",
    "happy": "joy",
    "joyful": "joy",
    "nostalgic": "melancholy",
    "heroic": "epic",
    "inspiration": "inspiring",
    "uplifting": "inspiring",
    "fun": "playful",
    "ominous": "dark",
    "love": "romantic",
    "tense": "tension",
    "triumphant": "triumph",
}

MOODS: tuple[str, ...] = tuple(MOOD_SPECS)


def resolve_mood(mood: str) -> str:
    """The canonical mood name for ``mood`` (aliases allowed); InputError listing the moods otherwise."""
    key = " ".join(str(mood or "").lower().replace("_", " ").split())
    key = MOOD_ALIASES.get(key, key)
    if key not in MOOD_SPECS:
        raise InputError("mood", f"unknown mood {mood!r}", f"use one of: {', '.join(MOODS)}")
    return key


def _check_seconds(seconds: Any) -> float:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        raise InputError("seconds", f"{seconds!r} is not a number", "give the track length in seconds") from None
    if not math.isfinite(s) or s <= 0:
        raise InputError("seconds", f"{seconds!r} is not a positive duration", "ask for more than 0 seconds")
    if s > MAX_SECONDS:
        raise InputError(
            "seconds",
            f"{s:g} s is longer than the {MAX_SECONDS:g} s limit",
            f"ask for at most {MAX_SECONDS:g} s, or join several tracks",
        )
    return s


def _check_sample_rate(sample_rate: Any) -> int:
    if not isinstance(sample_rate, (int, np.integer)) or not 8000 <= int(sample_rate) <= 96000:
        raise InputError("sample_rate", f"{sample_rate!r} is not a sample rate in 8000..96000 Hz", "use e.g. 32000")
    return int(sample_rate)


# --------------------------------------------------------------------------- synthesis


@dataclass
class _Score:
    """The composed plan, kept for the artifact's meta."""

    chords: list[list[int]] = field(default_factory=list)  # MIDI notes per bar
    names: list[str] = field(default_factory=list)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _chord(scale: tuple[int, ...], degree: int, size: int) -> list[int]:
    """Stack thirds on a scale degree: semitone offsets from the tonic."""
    out = []
    for k in range(size):
        step = degree + 2 * k
        out.append(scale[step % 7] + 12 * (step // 7))
    return out


def _chord_name(key: int, scale: tuple[int, ...], degree: int) -> str:
    third = (scale[(degree + 2) % 7] - scale[degree % 7]) % 12
    fifth = (scale[(degree + 4) % 7] - scale[degree % 7]) % 12
    roman = _ROMAN[degree % 7]
    roman = roman.upper() if third == 4 else roman
    suffix = "°" if fifth == 6 else ("+" if fifth == 8 else "")
    return f"{roman}{suffix}({_NOTE_NAMES[(key + scale[degree % 7]) % 12]})"


def _raised_cosine(n: int) -> np.ndarray:
    if n <= 0:
        return np.zeros(0, np.float64)
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _envelope(n: int, attack: int, release: int, decay: float = 0.0, sr: int = 32000) -> np.ndarray:
    """A note envelope that starts and ends at exactly zero: raised-cosine attack and release."""
    attack = max(1, min(attack, n // 2))
    release = max(1, min(release, n - attack))
    env = np.ones(n, np.float64)
    if decay > 0:
        env *= np.exp(-np.arange(n) / (decay * sr))
    env[:attack] *= _raised_cosine(attack)
    env[n - release :] *= _raised_cosine(release)[::-1]
    return env


def _add(buf: np.ndarray, start: int, sig: np.ndarray) -> None:
    end = min(len(buf), start + len(sig))
    if end > start >= 0:
        buf[start:end] += sig[: end - start]


def _tone(
    freq: float,
    n: int,
    sr: int,
    partials: tuple[tuple[float, float], ...],
    phase: float = 0.0,
    detune_cents: float = 0.0,
) -> np.ndarray:
    """Sum of sine partials (ratio, amplitude); partials above MAX_PARTIAL_HZ are dropped."""
    t = np.arange(n) / sr
    out = np.zeros(n, np.float64)
    f0 = freq * 2.0 ** (detune_cents / 1200.0)
    for ratio, amp in partials:
        f = f0 * ratio
        if f >= MAX_PARTIAL_HZ or f >= sr * 0.4:
            continue
        out += amp * np.sin(2 * np.pi * f * t + phase * ratio)
    return out


def synthesize(mood: str, seconds: float, *, seed: int = 0, sample_rate: int = 32000) -> tuple[np.ndarray, dict]:
    """Compose and render a mono track; returns samples (float32, exactly round(seconds*sr) long) and facts."""
    name = resolve_mood(mood)
    seconds = _check_seconds(seconds)
    sr = _check_sample_rate(sample_rate)
    spec = MOOD_SPECS[name]
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, MOODS.index(name)])
    scale = SCALES[spec.mode]
    n_total = int(round(seconds * sr))

    beat = 60.0 / spec.tempo
    bar = beat * spec.beats_per_bar
    n_bars = int(math.ceil(seconds / bar)) + 1
    prog = spec.progressions[int(rng.integers(len(spec.progressions)))]
    tonic = 48 + spec.key  # C3 + key
    score = _Score()
    for b in range(n_bars):
        deg = prog[b % len(prog)]
        notes = _chord(scale, deg, 4 if spec.sevenths else 3)
        score.chords.append([tonic + n for n in notes])
        score.names.append(_chord_name(spec.key, scale, deg))

    pad = np.zeros(n_total, np.float64)
    bass = np.zeros(n_total, np.float64)
    arp = np.zeros(n_total, np.float64)
    xfade = min(0.5 * bar, 0.6)
    bright = spec.brightness
    pad_partials = tuple((h, (1.0 / h) * (bright ** (h - 1))) for h in (1, 2, 3, 4, 5))
    bass_partials = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))
    bell_partials = ((1.0, 1.0), (2.0, 0.32), (2.76, 0.18), (5.4, 0.06))

    for b, chord in enumerate(score.chords):
        t0 = b * bar
        if t0 >= seconds:
            break
        start = int(round(t0 * sr))
        # Pad: each chord held across the bar and overlapping the next by a crossfade.
        n = int(round((bar + xfade) * sr))
        env = _envelope(n, int(min(spec.attack, bar * 0.6) * sr), int(xfade * sr))
        voiced = sorted(12 + c if c < tonic + 7 else c for c in chord)  # lift the low notes: an open voicing
        sig = np.zeros(n, np.float64)
        for note in voiced:
            hz = _midi_hz(note)
            for cents in (-6.0, 6.0):
                sig += _tone(hz, n, sr, pad_partials, phase=float(rng.uniform(0, 2 * np.pi)), detune_cents=cents)
        _add(pad, start, sig * env / max(1, len(voiced)))
        # Bass: the chord root an octave down, on the mood's beats.
        root = chord[0] - 12
        beats = sorted(spec.bass_beats)
        for i, bt in enumerate(beats):
            nxt = beats[i + 1] if i + 1 < len(beats) else spec.beats_per_bar
            dur = (nxt - bt) * beat * 0.92
            n = max(8, int(dur * sr))
            env = _envelope(n, int(0.012 * sr), int(min(0.08, dur * 0.4) * sr), decay=max(0.25, dur * 1.5), sr=sr)
            _add(bass, start + int(round(bt * beat * sr)), _tone(_midi_hz(root), n, sr, bass_partials) * env)
        # Arpeggio / bell: chord tones two octaves up in the mood's pattern.
        if spec.arp_rate > 0 and spec.arp > 0:
            steps = spec.beats_per_bar * spec.arp_rate
            tones = [c + 12 for c in chord] + [chord[0] + 24]
            order = _arp_order(spec.arp_shape, len(tones), steps, rng)
            step_s = beat / spec.arp_rate
            for k, idx in enumerate(order):
                if idx < 0:
                    continue
                dur = min(1.6, step_s * 3.0)
                n = int(dur * sr)
                env = _envelope(n, int(0.004 * sr), int(0.05 * sr), decay=dur * 0.35, sr=sr)
                vel = 0.75 + 0.25 * float(rng.random()) if k % spec.arp_rate else 1.0
                _add(
                    arp,
                    start + int(round(k * step_s * sr)),
                    _tone(_midi_hz(tones[idx]), n, sr, bell_partials) * env * vel,
                )

    # A soft echo on the bell line: delayed copies carry no new frequencies.
    delay = int(round(beat * 0.75 * sr))
    echo = arp.copy()
    for tap, gain in ((1, 0.35), (2, 0.15)):
        d = delay * tap
        if d < n_total:
            echo[d:] += arp[: n_total - d] * gain

    mix = spec.pad * pad + spec.bass * bass + spec.arp * echo
    fade = min(1.5, seconds * 0.15)
    nf = max(1, int(fade * sr))
    mix[:nf] *= _raised_cosine(nf)
    mix[n_total - nf :] *= _raised_cosine(nf)[::-1]
    rms = float(np.sqrt(np.mean(mix**2))) if n_total else 0.0
    if rms > 0:
        mix *= 10 ** (TARGET_RMS_DB / 20) / rms
    peak = float(np.max(np.abs(mix))) if n_total else 0.0
    if peak > PEAK_LIMIT:
        mix *= PEAK_LIMIT / peak
    out = mix.astype(np.float32)
    facts = {
        "mood": name,
        "key": _NOTE_NAMES[spec.key],
        "mode": spec.mode,
        "tempo": spec.tempo,
        "progression": score.names[: len(prog)],
        "bars": int(math.ceil(seconds / bar)),
        "rms_db": _db(out),
        "peak": float(np.max(np.abs(out))) if n_total else 0.0,
    }
    return out, facts


def _arp_order(shape: str, n_tones: int, steps: int, rng: np.random.Generator) -> list[int]:
    """Which chord tone plays on each step of a bar (-1 = rest)."""
    if shape == "updown":
        cycle = list(range(n_tones)) + list(range(n_tones - 2, 0, -1))
        return [cycle[k % len(cycle)] for k in range(steps)]
    if shape == "random":
        return [int(rng.integers(n_tones)) if rng.random() < 0.8 else -1 for _ in range(steps)]
    if shape == "sparse":
        return [int(rng.integers(n_tones)) if k % 2 == 0 and rng.random() < 0.75 else -1 for k in range(steps)]
    return [k % n_tones for k in range(steps)]


def _db(x: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2))) if len(x) else 0.0
    return round(20 * math.log10(rms), 2) if rms > 0 else -120.0


def fit_length(samples: np.ndarray, n: int, sr: int, fade_s: float = 0.5) -> np.ndarray:
    """Trim or zero-pad to exactly ``n`` samples, fading the edges so the cut is silent."""
    x = np.asarray(samples, np.float32)
    x = x[:n] if len(x) >= n else np.concatenate([x, np.zeros((n - len(x),) + x.shape[1:], np.float32)])
    nf = min(int(fade_s * sr), n // 4)
    if nf > 0:
        ramp = _raised_cosine(nf).astype(np.float32)
        shape = (-1,) + (1,) * (x.ndim - 1)
        x[:nf] *= ramp.reshape(shape)
        x[n - nf :] *= ramp[::-1].reshape(shape)
    return x


# --------------------------------------------------------------------------- tool


class MusicTool:
    """Renders ``<music mood=... seconds=...>`` drafts."""

    BACKENDS = ("embedded", "hf")

    def __init__(self, backend: str = "embedded", model: str | None = None, device: str | None = None) -> None:
        if backend not in self.BACKENDS:
            raise InputError("music_backend", f"unknown backend {backend!r}", f"use one of: {', '.join(self.BACKENDS)}")
        if backend == "hf" and not model:
            raise InputError(
                "music_model",
                "the hf music backend needs a model",
                "give a hub id or a local folder of a MusicGen-style text-to-audio model",
            )
        self.backend = backend
        self.model = model
        self.device = device
        self._hf: _HFMusic | None = None

    def render(self, *, mood: str, seconds: float, seed: int = 0, sample_rate: int = 32000) -> Artifact:
        name = resolve_mood(mood)
        seconds = _check_seconds(seconds)
        sr = _check_sample_rate(sample_rate)
        t0 = time.perf_counter()
        if self.backend == "embedded":
            samples, facts = synthesize(name, seconds, seed=seed, sample_rate=sr)
        else:
            if self._hf is None:
                self._hf = _HFMusic(str(self.model), self.device)
            samples, facts = self._hf.generate(MOOD_SPECS[name].prompt or name, seconds, seed=seed, sample_rate=sr)
            facts = {"mood": name, **facts, "rms_db": _db(samples)}
        elapsed = time.perf_counter() - t0
        meta = {
            "backend": self.backend,
            "model": self.model,
            "seconds": seconds,
            "sample_rate": sr,
            "seed": int(seed),
            "samples": int(len(samples)),
            "render_seconds": round(elapsed, 4),
            "rtf": round(elapsed / seconds, 5),
            **facts,
        }
        return Artifact("audio", wav_bytes(samples, sr), "wav", meta, (samples, sr))


class _HFMusic:
    """A transformers text-to-audio model: MusicGen directly, anything else through the pipeline."""

    def __init__(self, model: str, device: str | None, force_pipeline: bool = False) -> None:
        try:
            import torch  # noqa: F401
            import transformers
        except ImportError as e:  # pragma: no cover - depends on the install
            raise BackendError(f"the hf music backend needs torch and transformers: {e}") from e
        from transformers import AutoConfig

        self.device = device or "cpu"
        try:
            cfg = AutoConfig.from_pretrained(model)
        except Exception as e:
            raise BackendError(f"cannot load music model {model!r}: {e}") from e
        self.kind = "pipeline" if force_pipeline else getattr(cfg, "model_type", "")
        if self.kind in ("musicgen", "musicgen_melody"):
            cls = (
                transformers.MusicgenMelodyForConditionalGeneration
                if self.kind == "musicgen_melody"
                else transformers.MusicgenForConditionalGeneration
            )
            self.model = cls.from_pretrained(model).to(self.device).eval()
            try:
                self.processor = transformers.AutoProcessor.from_pretrained(model)
                self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
            except Exception:
                self.processor = None
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
            enc = self.model.config.audio_encoder
            self.frame_rate = float(getattr(enc, "frame_rate", 50))
            self.native_sr = int(getattr(enc, "sampling_rate", 32000))
            self.max_frames = int(getattr(self.model.config.decoder, "max_position_embeddings", 2048)) - 4
        else:
            self.pipe = transformers.pipeline("text-to-audio", model=model, device=self.device)

    def generate(self, prompt: str, seconds: float, *, seed: int, sample_rate: int) -> tuple[np.ndarray, dict]:
        import torch

        torch.manual_seed(int(seed))
        if self.kind in ("musicgen", "musicgen_melody"):
            pieces: list[np.ndarray] = []
            chunk_s = max(0.5, self.max_frames / self.frame_rate - 0.5)
            overlap_s = min(1.0, chunk_s / 4)
            remaining = seconds
            while remaining > 0 and len(pieces) < 64:
                lead = overlap_s if pieces else 0.0
                want = min(chunk_s, remaining + lead)
                tokens = int(math.ceil(want * self.frame_rate)) + 1
                ids = self.tokenizer([prompt], return_tensors="pt", padding=True)
                ids = {k: v.to(self.device) for k, v in ids.items() if k in ("input_ids", "attention_mask")}
                with torch.no_grad():
                    audio = self.model.generate(**ids, do_sample=True, max_new_tokens=tokens)
                x = audio[0].float().cpu().numpy()
                x = x.mean(axis=0) if x.ndim == 2 else x
                pieces.append(resample(x.reshape(-1), self.native_sr, sample_rate))
                got = len(pieces[-1]) / sample_rate - lead
                if got <= 0:
                    break
                remaining -= got
            x = _join(pieces, int(overlap_s * sample_rate))
            native = self.native_sr
        else:
            out = self.pipe(prompt, forward_params={"do_sample": True})
            x = np.asarray(out["audio"], np.float32)
            x = x.mean(axis=0) if x.ndim == 2 else x
            native = int(out["sampling_rate"])
            x = resample(x.reshape(-1), native, sample_rate)
            want = int(round(seconds * sample_rate))
            if 0 < len(x) < want:  # a model with its own clip length: loop it with crossfades
                overlap = min(sample_rate, len(x) // 4)
                reps = int(math.ceil((want - len(x)) / max(1, len(x) - overlap))) + 1
                x = _join([x] * reps, overlap)
        x = np.nan_to_num(x.astype(np.float32))
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        if peak > PEAK_LIMIT:
            x *= PEAK_LIMIT / peak
        n = int(round(seconds * sample_rate))
        generated = len(x) / sample_rate
        x = fit_length(x, n, sample_rate, fade_s=min(1.5, seconds * 0.15))
        return x, {"prompt": prompt, "native_sample_rate": native, "generated_seconds": round(generated, 3)}


def _join(pieces: list[np.ndarray], overlap: int) -> np.ndarray:
    """Concatenate with equal-power crossfades, so independently generated chunks do not click."""
    out = pieces[0]
    for p in pieces[1:]:
        k = min(overlap, len(out), len(p))
        if k <= 0:
            out = np.concatenate([out, p])
            continue
        ramp = np.sin(0.5 * np.pi * (np.arange(k) + 0.5) / k).astype(np.float32)
        mid = out[-k:] * ramp[::-1] + p[:k] * ramp
        out = np.concatenate([out[:-k], mid, p[k:]])
    return out


def load_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a track back (mono float32)."""
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=False)
    return (x.mean(axis=1) if x.ndim > 1 else x).astype(np.float32), int(sr)
