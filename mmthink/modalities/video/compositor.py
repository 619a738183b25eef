"""The final movie: storyboard frames with gentle motion, narration, ducked music, subtitles.

Timing comes from the narration (each scene lasts its narration plus a breath), so scenes
never cut a sentence. The pictures are made frame by frame with PIL and numpy from
pre-fitted sources (one resize per frame for the slow zoom/pan, one blend in crossfades, a
pre-drawn subtitle band), and moviepy hands them to ffmpeg: H.264 + AAC, yuv420p, even size.
The audio is mixed here, so the levels of each stem are known exactly and go into the meta
for the critic.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmthink.dsp.fonts import font
from mmthink.dsp.resample import resample
from mmthink.errors import BackendError, InputError
from mmthink.modalities.base import Artifact

MAX_TOTAL_S = 300.0
"""Longest movie one call composes."""
MAX_CUTS = 200
AUDIO_RATE = 44100
NARRATION_RMS_DB = -18.0
"""Narration level while speaking (RMS over its voiced frames)."""
MUSIC_RMS_DB = -24.0
"""Music level when nobody speaks."""
ZOOM = 0.08
"""How far the slow zoom/pan travels: 8% of the frame over a scene."""
MOTIONS = ("zoom_in", "pan_right", "zoom_out", "pan_left")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)`` for callers that draw their own bar."""


@dataclass
class Cut:
    """One scene of the movie."""

    frame: Any  # ImageArtifact, PIL image, or HxWx3 uint8 array
    seconds: float = 0.0  # asked length; the narration may make it longer
    narration: Artifact | None = None  # audio Artifact, payload (samples, sample_rate) or WAV bytes
    subtitle: str = ""
    music: Artifact | None = None  # music that starts with this cut and plays until the next cut that has music
    scene: int | None = None  # its number in the storyboard (default: its position, from 1)


@dataclass
class MusicSpan:
    """A music track laid under cuts ``first``..``last`` (0-based, inclusive; ``last=None``: to the end)."""

    audio: Artifact
    first: int = 0
    last: int | None = None


def scene_span(text: str | None, n_scenes: int) -> tuple[int, int]:
    """A ``scenes="1-3"`` attribute (1-based; "2", "1-3", "2,3", "all") as 0-based first and last cut."""
    if n_scenes < 1:
        raise InputError("scenes", "there are no scenes to span")
    raw = str(text or "").strip().lower()
    if raw in ("", "all", "*"):
        return 0, n_scenes - 1
    nums: list[int] = []
    for part in raw.replace(" ", "").split(","):
        a, sep, b = part.partition("-")
        try:
            lo, hi = int(a), int(b) if sep else int(a)
        except ValueError:
            raise InputError("scenes", f"{text!r} is not a scene range", 'write scenes="1-3" or scenes="2"') from None
        nums.extend([lo, hi])
    lo, hi = min(nums), max(nums)
    if lo < 1 or hi > n_scenes:
        raise InputError("scenes", f"{text!r} is outside scenes 1..{n_scenes}", f"use scene numbers 1..{n_scenes}")
    return lo - 1, hi - 1


# --------------------------------------------------------------------------- audio helpers


def audio_of(art: Any, field: str = "narration") -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate from an audio Artifact (payload first, else its WAV bytes)."""
    payload = getattr(art, "payload", None)
    if isinstance(payload, tuple) and len(payload) == 2:
        x, sr = payload
    elif getattr(art, "data", None):
        import soundfile as sf

        try:
            x, sr = sf.read(io.BytesIO(art.data), dtype="float32", always_2d=False)
        except Exception as e:
            raise InputError(field, f"cannot read its audio bytes: {e}", "give a WAV audio Artifact") from None
    else:
        raise InputError(field, "has neither samples nor audio bytes", "give an audio Artifact from the speech tool")
    x = np.asarray(x, np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1) if x.shape[1] <= 8 else x.mean(axis=0)
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise InputError(field, f"sample rate {sr!r} is not a positive integer")
    return np.nan_to_num(x.reshape(-1)), int(sr)


def _narration_seconds(cut: Cut, i: int) -> float:
    if cut.narration is None:
        return 0.0
    x, sr = audio_of(cut.narration, f"cuts[{i}].narration")
    return len(x) / sr


def _rms_db(x: np.ndarray) -> float:
    if len(x) == 0:
        return -120.0
    r = float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))
    return 20 * math.log10(r) if r > 1e-9 else -120.0


def _frame_rms(x: np.ndarray, hop: int) -> np.ndarray:
    n = len(x) // hop
    if n == 0:
        return np.zeros(0)
    return np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1))


def voiced_mask(x: np.ndarray, sr: int, *, floor_db: float = -35.0, hold_s: float = 0.35) -> np.ndarray:
    """Per-sample speaking mask: frames within ``floor_db`` of the loudest, short pauses bridged."""
    hop = max(1, sr // 100)
    env = _frame_rms(x, hop)
    if len(env) == 0 or env.max() <= 1e-6:
        return np.zeros(len(x), bool)
    on = env > env.max() * 10 ** (floor_db / 20)
    # Bridge pauses shorter than hold_s: between words the voice is still "speaking".
    gap = int(hold_s * 100)
    idx = np.flatnonzero(on)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= gap:
            on[a:b] = True
    mask = np.repeat(on, hop)
    return np.concatenate([mask, np.zeros(len(x) - len(mask), bool)])


def duck_curve(
    speaking: np.ndarray, sr: int, duck_db: float, *, lead_s: float = 0.15, smooth_s: float = 0.3
) -> np.ndarray:
    """Music gain per sample: ``duck_db`` while speaking (from a little before to a little after), smooth ramps."""
    n = len(speaking)
    if not speaking.any():
        return np.ones(n, np.float32)
    hop = max(1, sr // 100)
    nf = int(math.ceil(n / hop))
    pad = np.zeros(nf * hop, bool)
    pad[:n] = speaking
    frames = pad.reshape(nf, hop).any(axis=1)
    k = max(1, int(round(lead_s * 100)))
    cs = np.concatenate([[0], np.cumsum(frames)])
    idx = np.arange(nf)
    dil = (cs[np.minimum(nf, idx + k + 1)] - cs[np.maximum(0, idx - k)]) > 0
    g = np.where(dil, 10 ** (duck_db / 20), 1.0)
    m = max(3, int(round(smooth_s * 100)) | 1)
    win = np.hanning(m + 2)[1:-1]
    g = np.convolve(np.pad(g, m // 2, mode="edge"), win / win.sum(), mode="valid")
    return np.interp(np.arange(n) / hop, np.arange(nf) + 0.5, g).astype(np.float32)


def _intervals(mask: np.ndarray, sr: int) -> list[list[float]]:
    if not mask.any():
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [[round(s / sr, 3), round(e / sr, 3)] for s, e in zip(starts, ends)]


def _ramp(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / max(1, n))).astype(np.float32)


def _loop_to(x: np.ndarray, n: int, sr: int, overlap_s: float = 1.0) -> np.ndarray:
    """Repeat a track with crossfades until it is ``n`` samples long."""
    if len(x) >= n or len(x) == 0:
        return x[:n] if len(x) else np.zeros(n, np.float32)
    k = min(int(overlap_s * sr), len(x) // 3)
    out = x.copy()
    while len(out) < n:
        if k > 0:
            r = np.sin(0.5 * np.pi * (np.arange(k) + 0.5) / k).astype(np.float32)
            out = np.concatenate([out[:-k], out[-k:] * r[::-1] + x[:k] * r, x[k:]])
        else:
            out = np.concatenate([out, x])
    return out[:n]


_resample = resample


# --------------------------------------------------------------------------- timing


def _check_cuts(cuts: Any) -> list[Cut]:
    if cuts is None or not isinstance(cuts, (list, tuple)) or len(cuts) == 0:
        raise InputError("cuts", "there are no scenes to compose", "give at least one Cut (a frame per scene)")
    if len(cuts) > MAX_CUTS:
        raise InputError("cuts", f"{len(cuts)} scenes is more than {MAX_CUTS}", "merge scenes")
    for i, c in enumerate(cuts):
        if not isinstance(c, Cut):
            raise InputError(f"cuts[{i}]", f"is a {type(c).__name__}, not a Cut", "wrap each scene in Cut(frame, ...)")
        try:
            s = float(c.seconds)
        except (TypeError, ValueError):
            raise InputError(
                f"cuts[{i}].seconds", f"{c.seconds!r} is not a number", "give seconds as a number"
            ) from None
        if not math.isfinite(s) or s < 0:
            raise InputError(f"cuts[{i}].seconds", f"{c.seconds!r} is not a duration", "use 0 or more seconds")
        if s > MAX_TOTAL_S:
            raise InputError(
                f"cuts[{i}].seconds",
                f"{s:g} s is beyond the {MAX_TOTAL_S:g} s limit of a movie",
                f"keep the whole movie under {MAX_TOTAL_S:g} s",
            )
        if c.frame is None:
            raise InputError(f"cuts[{i}].frame", "is missing", "give the scene's storyboard frame")
        if c.scene is not None and (isinstance(c.scene, bool) or not isinstance(c.scene, int) or c.scene < 1):
            raise InputError(f"cuts[{i}].scene", f"{c.scene!r} is not a scene number", "number scenes from 1")
    return list(cuts)


def plan_timing(cuts: Sequence[Cut], *, breath_s: float = 0.6, min_s: float = 2.0) -> list[float]:
    """Seconds per scene: its narration plus a breath, never shorter than asked or than ``min_s``."""
    cuts = _check_cuts(cuts)
    for name, v in (("breath_s", breath_s), ("min_s", min_s)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or v > 60:
            raise InputError(name, f"{v!r} is not in 0..60 seconds")
    out = []
    for i, c in enumerate(cuts):
        narr = _narration_seconds(c, i)
        out.append(round(max(float(c.seconds), float(min_s), narr + breath_s if narr > 0 else 0.0), 3))
    total = sum(out)
    if total > MAX_TOTAL_S:
        raise InputError(
            "cuts",
            f"the movie would last {total:.1f} s, beyond the {MAX_TOTAL_S:g} s limit",
            "use fewer or shorter scenes",
        )
    return out


# --------------------------------------------------------------------------- pictures


def _to_image(frame: Any, field: str):
    from PIL import Image

    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    payload = getattr(frame, "payload", None)
    if isinstance(payload, Image.Image):
        return payload.convert("RGB")
    if isinstance(frame, np.ndarray):
        if frame.ndim == 3 and frame.shape[2] in (3, 4):
            return Image.fromarray(np.ascontiguousarray(frame[..., :3]).astype(np.uint8))
        raise InputError(field, f"array of shape {frame.shape} is not an HxWx3 image")
    data = getattr(frame, "data", None)
    if data:
        try:
            return Image.open(io.BytesIO(data)).convert("RGB")
        except Exception as e:
            raise InputError(field, f"cannot read its image bytes: {e}", "give a PNG image Artifact") from None
    raise InputError(field, f"a {type(frame).__name__} is not an image", "give an ImageArtifact or a PIL image")


def _cover(img, w: int, h: int):
    """Scale and centre-crop to exactly w x h (fill the frame, keep the aspect ratio)."""
    from PIL import Image

    sw, sh = img.size
    s = max(w / sw, h / sh)
    nw, nh = max(w, int(math.ceil(sw * s))), max(h, int(math.ceil(sh * s)))
    img = img.resize((nw, nh), Image.LANCZOS)
    x0, y0 = (nw - w) // 2, (nh - h) // 2
    return img.crop((x0, y0, x0 + w, y0 + h))


class _Scene:
    """A pre-fitted source picture and its slow camera move over [t0, t1]."""

    def __init__(self, img, size: tuple[int, int], motion: str, t0: float, t1: float) -> None:
        self.w, self.h = size
        self.sw, self.sh = int(round(self.w * (1 + ZOOM))), int(round(self.h * (1 + ZOOM)))
        self.src = _cover(img, self.sw, self.sh)
        self.motion = motion
        self.t0, self.t1 = t0, t1

    def box(self, t: float) -> tuple[float, float, float, float]:
        u = min(1.0, max(0.0, (t - self.t0) / max(1e-6, self.t1 - self.t0)))
        sw, sh = self.sw, self.sh
        if self.motion in ("zoom_in", "zoom_out"):
            z = 1 + ZOOM * (u if self.motion == "zoom_in" else 1 - u)
            bw, bh = sw / z, sh / z
            x0, y0 = (sw - bw) / 2, (sh - bh) / 2
        else:
            z = 1 + ZOOM / 2
            bw, bh = sw / z, sh / z
            p = u if self.motion == "pan_right" else 1 - u
            x0, y0 = (sw - bw) * p, (sh - bh) / 2
        return (x0, y0, x0 + bw, y0 + bh)

    def frame(self, t: float) -> np.ndarray:
        from PIL import Image

        return np.asarray(self.src.resize((self.w, self.h), Image.BILINEAR, box=self.box(t)))


_font = font


def _wrap(text: str, font, max_w: int, draw) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if draw.textlength(trial, font=font) <= max_w or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines


def subtitle_band(text: str, size: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray] | None:
    """A pre-drawn subtitle: (top row, premultiplied RGB float32, alpha float32) for the bottom of the frame."""
    from PIL import Image, ImageDraw

    text = " ".join(str(text or "").split())
    if not text:
        return None
    w, h = size
    fs = max(10, int(round(h * 0.055)))
    font = _font(fs)
    probe = ImageDraw.Draw(Image.new("L", (8, 8)))
    lines = _wrap(text, font, int(w * 0.88), probe)
    while len(lines) > 3 and fs > 9:  # long captions get a smaller font rather than a third of the frame
        fs -= 1
        font = _font(fs)
        lines = _wrap(text, font, int(w * 0.88), probe)
    if len(lines) > 3:
        lines = lines[:2] + [" ".join(lines[2:])]
        while probe.textlength(lines[2] + "…", font=font) > w * 0.88 and len(lines[2]) > 1:
            lines[2] = lines[2][:-1]
        lines[2] += "…"
    line_h = int(fs * 1.25)
    pad = max(3, fs // 3)
    stroke = max(1, fs // 12)
    band_h = min(h, line_h * len(lines) + 2 * pad + max(4, h // 30))
    top = h - band_h
    layer = Image.new("RGBA", (w, band_h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    widths = [d.textlength(ln, font=font) for ln in lines]
    box_w = int(max(widths)) + 4 * pad
    bx0 = (w - box_w) // 2
    by1 = band_h - max(4, h // 30) + pad // 2
    by0 = by1 - line_h * len(lines) - pad
    d.rounded_rectangle((bx0, by0, bx0 + box_w, by1), radius=pad, fill=(0, 0, 0, 140))
    for k, ln in enumerate(lines):
        x = (w - widths[k]) / 2
        y = by0 + pad // 2 + k * line_h
        d.text((x, y), ln, font=font, fill=(255, 255, 255, 255), stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
    arr = np.asarray(layer).astype(np.float32) / 255.0
    alpha = arr[..., 3:4]
    return top, arr[..., :3] * alpha * 255.0, alpha


class _Timeline:
    """Renders the picture at time t: scene motion, crossfades, fades to black, subtitles."""

    def __init__(
        self,
        scenes: list[_Scene],
        bounds: list[tuple[float, float]],
        subs: list[Any],
        crossfade_s: float,
        total: float,
        fade_s: float = 0.4,
    ) -> None:
        self.scenes, self.bounds, self.subs = scenes, bounds, subs
        self.cf, self.total, self.fade = crossfade_s, total, fade_s
        self.ends = [b[1] for b in bounds]

    def scene_at(self, t: float) -> int:
        for i, (_, end) in enumerate(self.bounds):
            if t < end:
                return i
        return len(self.bounds) - 1

    def __call__(self, t: float) -> np.ndarray:
        i = self.scene_at(t)
        a, b = self.bounds[i]
        img = self.scenes[i].frame(t)
        half = self.cf / 2
        if half > 0:
            if i + 1 < len(self.scenes) and t >= b - half:
                img = _blend(img, self.scenes[i + 1].frame(t), _smooth((t - (b - half)) / self.cf))
            elif i > 0 and t < a + half:
                img = _blend(self.scenes[i - 1].frame(t), img, _smooth((t - (a - half)) / self.cf))
        level = min(
            1.0, t / self.fade if self.fade > 0 else 1.0, (self.total - t) / self.fade if self.fade > 0 else 1.0
        )
        sub = self.subs[i]
        if sub is not None:
            top, rgb, alpha = sub
            fade = min(1.0, (t - a) / 0.2, (b - t) / 0.2) if i + 1 < len(self.scenes) else min(1.0, (t - a) / 0.2)
            fade = max(0.0, fade) * max(0.0, level)
            if fade > 0:
                img = np.array(img, copy=True)
                band = img[top:].astype(np.float32)
                img[top:] = (band * (1.0 - alpha * fade) + rgb * fade + 0.5).astype(np.uint8)
        if level < 1.0:
            img = (img.astype(np.float32) * max(0.0, level)).astype(np.uint8)
        return img


def _smooth(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _blend(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    wi = int(round(w * 256))
    if wi <= 0:
        return a
    if wi >= 256:
        return b
    out = a.astype(np.uint16) * (256 - wi)
    out += b.astype(np.uint16) * wi
    return (out >> 8).astype(np.uint8)


# --------------------------------------------------------------------------- progress


def _logger(progress: bool | Progress, total_frames: int):
    """A proglog logger that draws moviepy's bars with rich (or forwards them to a callback)."""
    if not progress:
        return None
    from proglog import ProgressBarLogger

    labels = {"chunk": "audio", "frame_index": "video"}

    class RichBars(ProgressBarLogger):
        def __init__(self) -> None:
            super().__init__(logged_bars=False, min_time_interval=0.1)
            self.rich = None
            self.tasks: dict[str, Any] = {}

        def bars_callback(self, bar, attr, value, old_value=None):  # noqa: ANN001 - proglog's signature
            total = self.bars[bar].get("total") or 0
            stage = labels.get(bar, bar)
            if callable(progress):
                if attr == "index":
                    progress(stage, int(value), int(total))
                return
            if self.rich is None:
                from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

                self.rich = Progress(
                    TextColumn("[bold]encoding {task.description}"),
                    BarColumn(),
                    TextColumn("{task.completed}/{task.total}"),
                    TimeRemainingColumn(),
                    transient=True,
                )
                self.rich.start()
            if bar not in self.tasks:
                self.tasks[bar] = self.rich.add_task(stage, total=total or None)
            if attr == "total":
                self.rich.update(self.tasks[bar], total=value)
            elif attr == "index":
                self.rich.update(self.tasks[bar], completed=value)

        def close(self) -> None:
            if self.rich is not None:
                self.rich.stop()
                self.rich = None

    return RichBars()


# --------------------------------------------------------------------------- compose


def _check_options(size: Any, fps: Any, crossfade_s: Any, duck_db: Any, out_path: Any) -> tuple[int, int]:
    try:
        w, h = (int(size[0]), int(size[1]))
    except (TypeError, ValueError, IndexError):
        raise InputError("size", f"{size!r} is not (width, height)", "e.g. size=(640, 360)") from None
    w, h = w - w % 2, h - h % 2  # H.264 with yuv420p needs even sides
    if not (32 <= w <= 3840 and 32 <= h <= 2160):
        raise InputError("size", f"{size!r} is outside 32x32..3840x2160", "e.g. size=(640, 360)")
    if not isinstance(fps, (int, float)) or not math.isfinite(fps) or not 1 <= fps <= 60:
        raise InputError("fps", f"{fps!r} is not in 1..60", "e.g. fps=24")
    if not isinstance(crossfade_s, (int, float)) or not 0 <= crossfade_s <= 3:
        raise InputError("crossfade_s", f"{crossfade_s!r} is not in 0..3 seconds", "e.g. 0.5")
    if not isinstance(duck_db, (int, float)) or not -60 <= duck_db <= 0:
        raise InputError("duck_db", f"{duck_db!r} is not in -60..0 dB", "e.g. -14")
    p = Path(out_path)
    if p.suffix.lower() != ".mp4":
        raise InputError("out_path", f"{str(out_path)!r} does not end in .mp4", "write an .mp4 file")
    if p.exists() and p.is_dir():
        raise InputError("out_path", f"{str(out_path)!r} is a folder", "give a file path ending in .mp4")
    return w, h


def _music_spans(cuts: list[Cut], music: Any, bounds: list[tuple[float, float]]) -> list[tuple[Artifact, float, float]]:
    """Resolve every way music can be given into (track, start, end) spans on the timeline."""
    total = bounds[-1][1]
    spans: list[tuple[Artifact, float, float]] = []
    if music is not None:
        if isinstance(music, (list, tuple)):
            t = 0.0
            for k, m in enumerate(music):
                if isinstance(m, MusicSpan):
                    last = len(cuts) - 1 if m.last is None else m.last
                    if not (0 <= m.first <= last < len(cuts)):
                        raise InputError(f"music[{k}]", f"cuts {m.first}..{m.last} are not in 0..{len(cuts) - 1}")
                    spans.append((m.audio, bounds[m.first][0], bounds[last][1]))
                elif isinstance(m, Artifact):  # a playlist: tracks one after another
                    x, sr = audio_of(m, f"music[{k}]")
                    spans.append((m, t, min(total, t + len(x) / sr)))
                    t = spans[-1][2]
                else:
                    raise InputError(
                        f"music[{k}]", f"a {type(m).__name__} is not music", "give Artifacts or MusicSpans"
                    )
        elif isinstance(music, Artifact):
            spans.append((music, 0.0, total))
        else:
            raise InputError("music", f"a {type(music).__name__} is not music", "give an audio Artifact or a list")
    starts = [i for i, c in enumerate(cuts) if c.music is not None]
    for n, i in enumerate(starts):
        end = bounds[starts[n + 1] - 1][1] if n + 1 < len(starts) else total
        spans.append((cuts[i].music, bounds[i][0], end))
    return [s for s in spans if s[2] - s[1] > 0.05]


def _mix(
    cuts: list[Cut], timing: list[float], bounds, spans, duck_db: float, breath_s: float, sr: int = AUDIO_RATE
) -> tuple[np.ndarray, dict[str, Any]]:
    total = bounds[-1][1]
    n = int(round(total * sr))
    narration = np.zeros(n, np.float32)
    placed: list[list[float] | None] = []
    for i, c in enumerate(cuts):
        if c.narration is None:
            placed.append(None)
            continue
        x, xsr = audio_of(c.narration, f"cuts[{i}].narration")
        x = _resample(x, xsr, sr)
        voiced = voiced_mask(x, sr)
        level = _rms_db(x[voiced]) if voiced.any() else _rms_db(x)
        if level > -100:
            x = x * np.float32(10 ** ((NARRATION_RMS_DB - level) / 20))
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        if peak > 0.97:
            x *= np.float32(0.97 / peak)
        a, b = bounds[i]
        lead = min(breath_s * 0.4, max(0.0, (b - a) - len(x) / sr) / 2)
        s0 = int(round((a + lead) * sr))
        s1 = min(n, s0 + len(x))
        narration[s0:s1] += x[: s1 - s0]
        placed.append([round(s0 / sr, 3), round(s1 / sr, 3)])

    music = np.zeros(n, np.float32)
    fade_s = 1.0
    tracks = []
    for k, (art, t0, t1) in enumerate(spans):
        x, xsr = audio_of(art, f"music[{k}]")
        x = _resample(x, xsr, sr)
        lvl = _rms_db(x)
        if lvl > -100:
            x = x * np.float32(10 ** ((MUSIC_RMS_DB - lvl) / 20))
        # Overlap neighbours by the fade so one track crossfades into the next.
        a = max(0.0, t0 - (fade_s / 2 if t0 > 0 else 0))
        b = min(total, t1 + (fade_s / 2 if t1 < total else 0))
        s0, s1 = int(round(a * sr)), int(round(b * sr))
        seg = _loop_to(x, s1 - s0, sr).copy()
        nf = min(int(fade_s * sr), len(seg) // 2)
        if nf > 0:
            seg[:nf] *= _ramp(nf)
            seg[-nf:] *= _ramp(nf)[::-1]
        music[s0:s1] += seg
        tracks.append(
            {
                "start": round(a, 3),
                "end": round(b, 3),
                "mood": (art.meta or {}).get("mood"),
                "source_seconds": round(len(x) / sr, 3),
            }
        )

    speaking = voiced_mask(narration, sr) if narration.any() else np.zeros(n, bool)
    gain = duck_curve(speaking, sr, duck_db)
    ducked = music * gain
    mix = narration + ducked
    peak = float(np.max(np.abs(mix))) if n else 0.0
    scale = 0.98 / peak if peak > 0.98 else 1.0
    mix *= np.float32(scale)
    has_music = np.abs(music) > 0
    free = has_music & ~speaking
    levels = {
        "narration_db": round(_rms_db(narration[speaking]) + 20 * math.log10(scale), 2) if speaking.any() else None,
        "music_speaking_db": round(_rms_db(ducked[speaking]) + 20 * math.log10(scale), 2)
        if speaking.any() and has_music.any()
        else None,
        "music_free_db": round(_rms_db(ducked[free]) + 20 * math.log10(scale), 2) if free.any() else None,
        "duck_db": duck_db,
        "mix_peak": round(peak * scale, 4),
        "sample_rate": sr,
    }
    if levels["narration_db"] is not None and levels["music_speaking_db"] is not None:
        levels["level_diff_db"] = round(levels["narration_db"] - levels["music_speaking_db"], 2)
    return mix, {"levels": levels, "narration": placed, "speaking": _intervals(speaking, sr), "music": tracks}


def compose_video(
    cuts: list[Cut],
    out_path: str | Path,
    *,
    size: tuple[int, int] = (640, 360),
    fps: int = 24,
    music: Artifact | list | None = None,
    crossfade_s: float = 0.5,
    duck_db: float = -14.0,
    subtitles: bool = True,
    progress: bool | Progress = True,
    breath_s: float = 0.6,
    min_s: float = 2.0,
    preset: str = "veryfast",
    threads: int = 2,
) -> Artifact:
    """Write the movie to ``out_path`` (an .mp4) and return it as a video Artifact."""
    w, h = _check_options(size, fps, crossfade_s, duck_db, out_path)
    timing = plan_timing(cuts, breath_s=breath_s, min_s=min_s)
    cuts = list(cuts)
    if crossfade_s > min(timing) / 2:
        raise InputError(
            "crossfade_s",
            f"{crossfade_s:g} s is longer than half the shortest scene ({min(timing):g} s)",
            "use a shorter crossfade",
        )
    images = [_to_image(c.frame, f"cuts[{i}].frame") for i, c in enumerate(cuts)]
    bounds, t = [], 0.0
    for d in timing:
        bounds.append((round(t, 6), round(t + d, 6)))
        t += d
    total = bounds[-1][1]
    spans = _music_spans(cuts, music, bounds)
    t_start = time.perf_counter()
    mix, audio_meta = _mix(cuts, timing, bounds, spans, float(duck_db), float(breath_s))
    scenes = [
        _Scene(img, (w, h), MOTIONS[i % len(MOTIONS)], a - crossfade_s / 2, b + crossfade_s / 2)
        for i, (img, (a, b)) in enumerate(zip(images, bounds))
    ]
    texts = [(c.subtitle or (getattr(c.narration, "meta", None) or {}).get("text") or "") for c in cuts]
    subs = [subtitle_band(tx, (w, h)) if subtitles else None for tx in texts]
    timeline = _Timeline(scenes, bounds, subs, float(crossfade_s), total)
    prep_s = time.perf_counter() - t_start

    try:
        from moviepy import AudioArrayClip, VideoClip
    except ImportError as e:  # pragma: no cover - depends on the install
        raise BackendError(f"composing video needs moviepy 2.x: {e}") from e
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    n_frames = int(round(total * fps))
    logger = _logger(progress, n_frames)
    clip = VideoClip(frame_function=timeline, duration=total)
    stereo = np.repeat(mix[:, None], 2, axis=1)
    clip = clip.with_audio(AudioArrayClip(stereo, fps=AUDIO_RATE))
    t_enc = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mmthink-video-", dir=str(out.parent)) as tmp:
        part = Path(tmp) / "movie.mp4"
        try:
            clip.write_videofile(
                str(part),
                fps=fps,
                codec="libx264",
                audio_codec="aac",
                audio_fps=AUDIO_RATE,
                audio_bitrate="160k",
                preset=preset,
                threads=threads,
                temp_audiofile_path=tmp,
                ffmpeg_params=["-pix_fmt", "yuv420p", "-movflags", "+faststart", "-crf", "23"],
                logger=logger,
            )
        except Exception as e:
            raise BackendError(f"encoding the movie failed: {e}") from e
        finally:
            if logger is not None and hasattr(logger, "close"):
                logger.close()
            clip.close()
        os.replace(part, out)  # only a finished file replaces what was there
    encode_s = time.perf_counter() - t_enc
    data = out.read_bytes()
    meta = {
        "duration": round(total, 3),
        "size": [w, h],
        "fps": fps,
        "frames": n_frames,
        "path": str(out),
        "scenes": [
            {
                "scene": cuts[i].scene or i + 1,
                "start": round(a, 3),
                "end": round(b, 3),
                "seconds": round(b - a, 3),
                "subtitle": texts[i],
                "narration": audio_meta["narration"][i],
                "motion": scenes[i].motion,
            }
            for i, (a, b) in enumerate(bounds)
        ],
        "music": audio_meta["music"],
        "audio": audio_meta["levels"],
        "speaking": audio_meta["speaking"],
        "crossfade_s": crossfade_s,
        "subtitles": bool(subtitles),
        "codec": "h264",
        "audio_codec": "aac",
        "pix_fmt": "yuv420p",
        "prepare_seconds": round(prep_s, 3),
        "encode_seconds": round(encode_s, 3),
        "realtime_factor": round(total / encode_s, 2) if encode_s > 0 else None,
    }
    return Artifact("video", data, "mp4", meta, None)
