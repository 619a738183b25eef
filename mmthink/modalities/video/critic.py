"""The video critic: does each frame belong to the film, does the cut fit the words, does the file play?

Three levels, each a real measurement:

* a storyboard frame: the scene's elements are drawn where the scene says (the image critic's
  checks), the frame is not empty, flat or black, it was made with the storyboard's style, and
  its colours (hue/saturation histogram, saturation level) belong with the frames before it;
* the cut: every scene lasts at least its narration plus a breath, and not much longer;
* the written movie: the streams a player needs (one H.264 video, one AAC audio, yuv420p, even
  size), its duration against the plan, and narration-to-music level while speaking (from the
  mix's stems, and re-measured from the decoded audio).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmthink.dsp.color import srgb_to_lab
from mmthink.modalities.base import Artifact, Critique, ImageArtifact
from mmthink.modalities.registry import service
from mmthink.modalities.video.frames import StoryboardStyle, style_hash
from mmthink.modalities.video.plan import FilmPlan

HISTOGRAM_BREAK = 0.95
"""Hue/saturation histogram distance (Hellinger, 0..1) to the nearest earlier frame that breaks the film."""
SATURATION_RATIO_MAX = 2.5
DURATION_TOLERANCE_S = 0.5
MIN_LEVEL_DIFF_DB = 10.0
BREATH_MIN_S = 0.3
LINGER_MAX_S = 8.0
READING_CPS_MAX = 22.0
"""Subtitle characters per second a viewer can read."""
AUDIBLE_DBFS = -45.0
"""A planned line or cue quieter than this in the decoded soundtrack (RMS) is not in the film."""
AUDIO_SR = 16000


# --------------------------------------------------------------------------- colour


_lab = srgb_to_lab


def _pixels(frame: Any, long_side: int = 160) -> np.ndarray:
    from PIL import Image

    img = frame.payload if isinstance(getattr(frame, "payload", None), Image.Image) else None
    if img is None and isinstance(frame, Image.Image):
        img = frame
    if img is None:
        import io

        img = Image.open(io.BytesIO(frame.data))
    img = img.convert("RGB")
    s = long_side / max(img.size)
    if s < 1:
        img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BILINEAR)
    return np.asarray(img)


def grade_signature(frame: Any) -> dict[str, float]:
    """What a colour grade controls, measured: shadow and highlight tint, saturation, contrast."""
    px = _pixels(frame).reshape(-1, 3)
    lab = _lab(px)
    L = lab[:, 0]
    lo, hi = np.percentile(L, 30), np.percentile(L, 80)
    sh, hl = lab[L <= lo], lab[L >= hi]
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    hist = _hs_hist(px)
    return {
        "shadow_a": float(sh[:, 1].mean()),
        "shadow_b": float(sh[:, 2].mean()),
        "high_a": float(hl[:, 1].mean()),
        "high_b": float(hl[:, 2].mean()),
        "chroma": float(chroma.mean()),
        "L_mean": float(L.mean()),
        "L_std": float(L.std()),
        "L_p99": float(np.percentile(L, 99)),
        "hist": hist.tolist(),
    }


def _hs_hist(px: np.ndarray, bins: int = 12) -> np.ndarray:
    """Hue (12) x saturation (3) histogram: a colour fingerprint independent of brightness."""
    c = px.astype(np.float32) / 255.0
    mx, mn = c.max(axis=1), c.min(axis=1)
    d = mx - mn
    sat = np.where(mx > 0, d / np.maximum(mx, 1e-6), 0)
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    hue = np.zeros(len(c), np.float32)
    nz = d > 1e-6
    rmax = nz & (mx == r)
    gmax = nz & (mx == g) & ~rmax
    bmax = nz & ~rmax & ~gmax
    hue[rmax] = ((g - b)[rmax] / d[rmax]) % 6
    hue[gmax] = (b - r)[gmax] / d[gmax] + 2
    hue[bmax] = (r - g)[bmax] / d[bmax] + 4
    hb = np.clip((hue / 6 * bins).astype(int), 0, bins - 1)
    sb = np.clip((sat * 3).astype(int), 0, 2)
    hist = np.bincount(hb * 3 + sb, minlength=bins * 3).astype(np.float64)
    return hist / max(1.0, hist.sum())


def hellinger(p: Sequence[float], q: Sequence[float]) -> float:
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    return float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(p * q)))))


def _palette_lab(style: StoryboardStyle) -> np.ndarray | None:
    from PIL import Image

    from mmthink.modalities.video.frames import grade

    rgb = style.palette_rgb()
    if not rgb:
        return None
    swatch = Image.new("RGB", (len(rgb), 1))
    swatch.putdata(rgb)
    graded = np.asarray(grade(swatch, style, ink=0.0)).reshape(-1, 3)
    return _lab(graded)


def palette_distance(frame: Any, style: StoryboardStyle) -> float:
    """Mean Lab distance from the frame's chromatic pixels to the nearest (graded) palette colour."""
    pal = _palette_lab(style)
    if pal is None:
        return 0.0
    lab = _lab(_pixels(frame, 96).reshape(-1, 3))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    lab = lab[chroma > 12]  # greys and blacks match any palette
    if len(lab) == 0:
        return 0.0
    d = np.sqrt(((lab[:, None, :] - pal[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return float(d.mean())


# --------------------------------------------------------------------------- critic


class VideoCritic:
    """Judges storyboard frames, the cut's timing, and the written movie."""

    name = "video"

    def __init__(self, image_critic: Any | None = None) -> None:
        self._image_critic = image_critic

    @property
    def image_critic(self) -> Any:
        if self._image_critic is None:
            self._image_critic = service("image", "ImageCritic")()
        return self._image_critic

    # ------------------------------------------------------------------ frames
    def critique_frame(
        self, frame: ImageArtifact, *, scene_text: str, style: StoryboardStyle, previous: Sequence[ImageArtifact] = ()
    ) -> Critique:
        findings: list[str] = []
        metrics: dict[str, Any] = {}
        scene, scene_findings = service("image", "parse_scene")(scene_text or "")
        sig = grade_signature(frame)
        metrics["grade"] = {k: round(v, 2) for k, v in sig.items() if k != "hist"}
        parts: list[tuple[float, float]] = []  # (weight, score)

        # 1. The scene's elements, judged by the image critic from the renderer's layout.
        if frame.placed and scene.elements:
            crit = self.image_critic.critique(frame, scene, None, prompt=scene_text, scene_findings=scene_findings)
            findings.extend(crit.findings)
            metrics["elements"] = {
                "score": round(crit.score, 3),
                "passed": crit.passed,
                "issues": crit.metrics.get("issues", []),
            }
            elements_ok = crit.passed
            parts.append((0.5, crit.score))
        else:
            elements_ok = True
            metrics["elements"] = {
                "score": None,
                "passed": None,
                "note": "no layout boxes from this backend: placement not checked",
            }
            findings.extend(scene_findings)

        # 2. Exposure and emptiness.
        exposure_ok = True
        if sig["L_std"] < 4.0:
            findings.append(f"the frame is flat (lightness spread {sig['L_std']:.1f}): give it contrast")
            exposure_ok = False
        if sig["L_p99"] < 25.0:
            findings.append("the frame is almost black (nothing in it is bright): light the subject")
            exposure_ok = False
        elif sig["L_mean"] > 96.0:
            findings.append("the frame is washed out: darken the scene")
            exposure_ok = False
        if frame.background_rgb is not None and frame.placed:
            coverage = _coverage(frame)
            metrics["coverage"] = round(coverage, 3)
            if coverage < 0.03:
                findings.append(f"the frame is nearly empty ({coverage:.0%} covered): make the subject larger")
                exposure_ok = False
        parts.append((0.2, 1.0 if exposure_ok else 0.2))

        # 3. One film: the grade of this frame against the storyboard's style and the frames before it.
        style_ok = True
        made_with = (frame.meta or {}).get("style_hash")
        if made_with is not None and made_with != style_hash(style):
            findings.append("this frame was made with a different storyboard style: redraw it with the storyboard's")
            style_ok = False
        pd = palette_distance(frame, style)
        metrics["palette_distance"] = round(pd, 2)
        prev_sigs = [grade_signature(p) for p in previous if p is not None]
        if prev_sigs:
            # Scenes differ in content, so a frame only has to share its colour world with *some* earlier frame;
            # a frame whose hues share almost nothing with every earlier one (or is far more or less saturated)
            # breaks the film.
            hist_d = min(hellinger(sig["hist"], s["hist"]) for s in prev_sigs)
            ref_chroma = float(np.median([s["chroma"] for s in prev_sigs]))
            sat_ratio = max(sig["chroma"], 1.0) / max(ref_chroma, 1.0)
            tint_d = min(
                math.hypot(sig["shadow_a"] - s["shadow_a"], sig["shadow_b"] - s["shadow_b"]) for s in prev_sigs
            )
            metrics.update(
                {
                    "histogram_distance": round(hist_d, 3),
                    "saturation_ratio": round(sat_ratio, 2),
                    "shadow_tint_distance": round(tint_d, 2),
                }
            )
            if hist_d > HISTOGRAM_BREAK:
                findings.append(
                    f"style break: its colours share almost nothing with the earlier frames "
                    f"(histogram distance {hist_d:.2f}): keep the storyboard's {style.lighting} lighting "
                    f"and {', '.join(style.palette[:3])} palette"
                )
                style_ok = False
            if not 1 / SATURATION_RATIO_MAX <= sat_ratio <= SATURATION_RATIO_MAX:
                word = "more" if sat_ratio > 1 else "less"
                findings.append(f"style break: {sat_ratio:.1f}x {word} saturated than the earlier frames")
                style_ok = False
            parts.append((0.3, (1.0 - 0.5 * hist_d) if style_ok else 0.15))
        else:
            parts.append((0.3, 1.0 if style_ok else 0.15))
        total_w = sum(w for w, _ in parts)
        score = sum(w * s for w, s in parts) / total_w
        metrics["style_ok"], metrics["exposure_ok"], metrics["elements_ok"] = style_ok, exposure_ok, elements_ok
        return Critique(score, elements_ok and style_ok and exposure_ok, findings, metrics)

    # ------------------------------------------------------------------ the cut
    def critique_cut(self, cuts: Sequence[Any], timing: Sequence[float] | None = None) -> Critique:
        from mmthink.modalities.video.compositor import _narration_seconds, plan_timing

        cuts = list(cuts)
        timing = list(timing) if timing is not None else plan_timing(cuts)
        findings: list[str] = []
        rows: list[dict[str, Any]] = []
        if len(timing) != len(cuts):
            return Critique(
                0.0, False, [f"timing has {len(timing)} scenes but the cut has {len(cuts)}"], {"scenes": len(cuts)}
            )
        ok_count = 0
        for i, (c, d) in enumerate(zip(cuts, timing)):
            narr = _narration_seconds(c, i)
            text = " ".join(str(getattr(c, "subtitle", "") or "").split())
            row = {"scene": i + 1, "seconds": round(float(d), 2), "narration_seconds": round(narr, 2)}
            ok = True
            if narr > 0 and d < narr + BREATH_MIN_S:
                findings.append(
                    f"scene {i + 1} lasts {d:.1f} s but its narration needs {narr:.1f} s: "
                    f"make it at least {narr + BREATH_MIN_S:.1f} s or shorten the narration"
                )
                ok = False
            elif narr > 0 and d > narr + LINGER_MAX_S:
                findings.append(
                    f"scene {i + 1} holds {d - narr:.1f} s after its narration ends: shorten it or say more"
                )
                ok = False
            elif narr == 0:
                findings.append(f"scene {i + 1} has no narration")
            if text and d > 0 and len(text) / d > READING_CPS_MAX:
                findings.append(
                    f"scene {i + 1}'s subtitle is too long to read in {d:.1f} s ({len(text) / d:.0f} "
                    f"characters/s): shorten it"
                )
                ok = False
            row["ok"] = ok
            ok_count += ok
            rows.append(row)
        total = float(sum(timing))
        return Critique(
            ok_count / max(1, len(cuts)),
            ok_count == len(cuts),
            findings,
            {"scenes": rows, "total_seconds": round(total, 2)},
        )

    # ------------------------------------------------------------------ the file
    def critique_video(
        self,
        artifact_or_path: Artifact | str | Path,
        *,
        planned_seconds: float,
        narration_mask: Sequence[Sequence[float]] | None = None,
        plan: FilmPlan | None = None,
    ) -> Critique:
        """Judge the written movie; with a ``plan``, also that it holds every planned scene, line and cue.

        What the film holds is read from the composer's record of the cut (the artifact's ``scenes`` and
        ``music``) and measured in the decoded soundtrack: a planned line or cue must be audible there.
        """
        from mmthink.modalities.video.probe import probe, read_audio

        meta: dict[str, Any] = {}
        tmp: tempfile.TemporaryDirectory | None = None
        if isinstance(artifact_or_path, Artifact):
            meta = dict(artifact_or_path.meta or {})
            path = Path(meta["path"]) if meta.get("path") else None
            if path is None or not path.is_file() or path.stat().st_size != len(artifact_or_path.data):
                tmp = tempfile.TemporaryDirectory(prefix="mmthink-critic-")
                path = Path(tmp.name) / "movie.mp4"
                path.write_bytes(artifact_or_path.data)
        else:
            path = Path(artifact_or_path)
        try:
            return self._judge_file(path, float(planned_seconds), meta, narration_mask, probe, read_audio, plan)
        finally:
            if tmp is not None:
                tmp.cleanup()

    def _judge_file(
        self,
        path: Path,
        planned: float,
        meta: dict[str, Any],
        mask: Any,
        probe: Any,
        read_audio: Any,
        plan: FilmPlan | None = None,
    ) -> Critique:
        from mmthink.errors import InputError

        findings: list[str] = []
        try:
            info = probe(path, decode=True)
        except InputError as e:
            return Critique(0.0, False, [f"the file does not open: {e.problem}"], {"playable": False})
        video = [s for s in info["streams"] if s["type"] == "video"]
        audio = [s for s in info["streams"] if s["type"] == "audio"]
        checks: dict[str, bool] = {}
        checks["one_video"] = len(video) == 1
        checks["one_audio"] = len(audio) == 1
        v = video[0] if video else {}
        a = audio[0] if audio else {}
        checks["h264"] = v.get("codec") == "h264"
        checks["aac"] = a.get("codec") == "aac"
        checks["yuv420p"] = v.get("pix_fmt") == "yuv420p"
        checks["even_size"] = bool(v.get("width")) and v.get("width", 1) % 2 == 0 and v.get("height", 1) % 2 == 0
        duration = info.get("duration") or 0.0
        checks["duration"] = abs(duration - planned) <= DURATION_TOLERANCE_S
        decoded = info.get("decoded", {})
        checks["decodes"] = bool(decoded.get("ok")) and decoded.get("frames", 0) > 0
        if not checks["one_video"]:
            findings.append(f"{len(video)} video streams: a movie needs exactly one")
        if not checks["one_audio"]:
            findings.append(f"{len(audio)} audio streams: a movie needs exactly one")
        if video and not checks["h264"]:
            findings.append(f"video codec is {v.get('codec')}, not H.264: most players expect H.264")
        if audio and not checks["aac"]:
            findings.append(f"audio codec is {a.get('codec')}, not AAC")
        if video and not checks["yuv420p"]:
            findings.append(f"pixel format is {v.get('pix_fmt')}, not yuv420p: browsers and phones may not play it")
        if video and not checks["even_size"]:
            findings.append(f"frame size {v.get('width')}x{v.get('height')} is odd: H.264 players need even sides")
        if not checks["duration"]:
            findings.append(f"the movie lasts {duration:.2f} s, planned {planned:.2f} s")
        if not checks["decodes"]:
            findings.append("the file does not decode cleanly: " + "; ".join(decoded.get("errors", [])[:2]))
        metrics: dict[str, Any] = {
            "duration": duration,
            "planned_seconds": round(planned, 3),
            "checks": checks,
            "video": v,
            "audio": a,
            "decoded_frames": decoded.get("frames"),
        }

        # Narration against music while speaking.
        windows = [tuple(w) for w in (mask if mask is not None else meta.get("speaking") or [])]
        levels = meta.get("audio") or {}
        stem_diff = levels.get("level_diff_db")
        measured = None
        sound: list[np.ndarray] = []

        def soundtrack() -> np.ndarray:  # decoded once, for every measurement that needs it
            if not sound:
                sound.append(read_audio(path, AUDIO_SR))
            return sound[0]

        if audio and windows:
            measured = measure_ducking(soundtrack(), AUDIO_SR, windows)
            metrics["measured"] = measured
        metrics["stems"] = levels or None
        diff = stem_diff if stem_diff is not None else (measured or {}).get("level_diff_db")
        if diff is not None:
            checks["narration_over_music"] = diff >= MIN_LEVEL_DIFF_DB
            metrics["level_diff_db"] = diff
            if not checks["narration_over_music"]:
                findings.append(
                    f"music is only {diff:.1f} dB below the narration while speaking "
                    f"(want {MIN_LEVEL_DIFF_DB:g}+): duck it more"
                )
        if plan is not None:  # what was planned comes first: it is what the user notices missing
            gaps, plan_checks, plan_metrics = plan_gaps(plan, meta, soundtrack if audio else None)
            findings[:0] = gaps
            checks.update(plan_checks)
            metrics["plan"] = plan_metrics
        playable = all(checks[k] for k in ("one_video", "one_audio", "h264", "aac", "yuv420p", "even_size", "decodes"))
        metrics["playable"] = playable
        score = sum(checks.values()) / len(checks)
        return Critique(score if playable else min(score, 0.4), all(checks.values()), findings, metrics)


def plan_gaps(
    plan: FilmPlan, meta: dict[str, Any], soundtrack: Any | None
) -> tuple[list[str], dict[str, bool], dict[str, Any]]:
    """What the film lacks of its plan: findings with their fixes, one check per kind, and the measurements.

    ``meta`` is the composer's record of the cut (``scenes`` with their number and narration window,
    ``music`` tracks, ``speaking`` windows); ``soundtrack()`` decodes the film's audio (None: it has none).
    """
    rows = [r for r in meta.get("scenes") or [] if isinstance(r, dict)]
    in_film = {int(r.get("scene") or i + 1): r for i, r in enumerate(rows)}
    findings: list[str] = []
    checks: dict[str, bool] = {}
    metrics: dict[str, Any] = {"planned_scenes": list(plan.scenes), "film_scenes": sorted(in_film)}

    def rms_db(t0: float, t1: float) -> float | None:
        if soundtrack is None:
            return None
        x = soundtrack()
        seg = x[max(0, int(t0 * AUDIO_SR)) : max(0, int(t1 * AUDIO_SR))]
        return (
            round(20 * math.log10(float(np.sqrt(np.mean(np.square(seg, dtype=np.float64)))) + 1e-9), 1)
            if seg.size
            else None
        )

    # 1. every planned scene has its frame in the cut
    missing = [n for n in plan.scenes if n not in in_film]
    checks["planned_scenes"] = not missing
    if missing:
        which = ", ".join(map(str, missing))
        findings.append(
            (f"scene {which} has no frame" if len(missing) == 1 else f"scenes {which} have no frame")
            + f': draw <frame scene="{missing[0]}">'
            + (" for each" if len(missing) > 1 else "")
        )
    # 2. every planned line is spoken in its scene, audibly
    unsaid: list[tuple[int, str]] = []  # (scene, how it falls short)
    levels: dict[str, Any] = {}
    for no, line in plan.narration.items():
        row = in_film.get(no)
        if row is None:
            continue  # the missing scene is the finding
        window = row.get("narration")
        level = rms_db(float(window[0]), float(window[1])) if window else None
        levels[str(no)] = level
        if not window:
            unsaid.append((no, f"scene {no}" + (f' ("{_short(line)}")' if line else "")))
        elif level is not None and level < AUDIBLE_DBFS:
            unsaid.append((no, f"scene {no} (its narration is silent in the file, {level:.0f} dBFS)"))
    if plan.narration:
        metrics["narration_dbfs"] = levels
        checks["planned_narration"] = not unsaid
    if unsaid:
        first = unsaid[0][0]
        findings.append(
            f"no narration in {', '.join(w for _, w in unsaid)}, though it was planned: say it with "
            f'<draft_audio scene="{first}">{_short(plan.narration[first] or "its line")}</draft_audio>'
            + (" (and the same for each)" if len(unsaid) > 1 else "")
        )
    # 3. planned music is under the film, audibly where nobody speaks
    if plan.music:
        tracks = [t for t in meta.get("music") or [] if isinstance(t, dict)]
        level = None
        if tracks:
            total = float(meta.get("duration") or max(float(t.get("end") or 0) for t in tracks))
            free = _free_of_speech(tracks, meta.get("speaking") or [], total)
            if free >= 0.5 and soundtrack is not None:
                level = _rms_in(soundtrack(), tracks, meta.get("speaking") or [], total)
        metrics["music_dbfs"] = level
        heard = bool(tracks) and (level is None or level >= AUDIBLE_DBFS)
        checks["planned_music"] = heard
        if not heard:
            hint = {
                "mood": "wonder",
                "seconds": f"{float(meta.get('duration') or 10):g}",
                "scenes": "all",
                **plan.music_hint,
            }
            attrs = " ".join(f'{k}="{v}"' for k, v in hint.items())
            why = "no music" if not tracks else f"music too quiet to hear ({level:.0f} dBFS where nobody speaks)"
            findings.append(f"the film has {why}, though {plan.music_why}: write <music {attrs}></music>")
    return findings, checks, metrics


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _free_mask(
    tracks: Sequence[dict[str, Any]], speaking: Sequence[Sequence[float]], total: float, sr: int
) -> np.ndarray:
    n = int(round(total * sr))
    t = (np.arange(n) + 0.5) / sr
    under = np.zeros(n, bool)
    for tr in tracks:
        under |= (t >= float(tr.get("start") or 0) + 0.3) & (t < float(tr.get("end") or 0) - 0.3)
    for w in speaking:
        under &= ~((t >= float(w[0]) - 0.4) & (t < float(w[1]) + 0.4))
    return under


def _free_of_speech(tracks: Sequence[dict[str, Any]], speaking: Sequence[Sequence[float]], total: float) -> float:
    """Seconds where music plays and nobody speaks (fades and the voice's edges left out)."""
    return float(_free_mask(tracks, speaking, total, 100).sum()) / 100


def _rms_in(
    x: np.ndarray, tracks: Sequence[dict[str, Any]], speaking: Sequence[Sequence[float]], total: float
) -> float:
    mask = _free_mask(tracks, speaking, total, AUDIO_SR)[: len(x)]
    seg = x[: len(mask)][mask]
    return round(20 * math.log10(float(np.sqrt(np.mean(np.square(seg, dtype=np.float64)))) + 1e-9), 1)


def measure_ducking(x: np.ndarray, sr: int, windows: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Narration vs music from a decoded mix: loud frames inside speaking windows are the voice,
    the quiet frames there (pauses between words) are the ducked music; outside, music alone."""
    hop = max(1, int(0.02 * sr))
    n = len(x) // hop
    if n == 0:
        return {}
    rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) + 1e-9
    t = (np.arange(n) + 0.5) * hop / sr
    inside = np.zeros(n, bool)
    for w in windows:
        inside |= (t >= float(w[0]) + 0.05) & (t < float(w[1]) - 0.05)
    out: dict[str, Any] = {}
    if inside.sum() >= 5:
        r = rms[inside]
        voice = float(np.sqrt(np.mean(r[r >= np.percentile(r, 60)] ** 2)))
        floor = float(np.sqrt(np.mean(r[r <= np.percentile(r, 10)] ** 2)))
        out.update(
            {
                "voice_db": round(20 * math.log10(voice), 2),
                "under_voice_db": round(20 * math.log10(floor), 2),
                "level_diff_db": round(20 * math.log10(voice / floor), 2),
            }
        )
    edge = np.zeros(n, bool)
    for w in windows:
        edge |= (t >= float(w[0]) - 0.4) & (t < float(w[1]) + 0.4)
    music_only = ~edge & (t > 1.2) & (t < t[-1] - 1.2)
    if music_only.sum() >= 5:
        out["music_only_db"] = round(20 * math.log10(float(np.sqrt(np.mean(rms[music_only] ** 2)))), 2)
    return out


def _coverage(frame: ImageArtifact) -> float:
    w, h = frame.payload.size if frame.payload is not None else (0, 0)
    if not w:
        return 1.0
    mask = np.zeros((h, w), bool)
    for p in frame.placed:
        x0, y0, x1, y1 = p.box
        mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
    return float(mask.mean())
