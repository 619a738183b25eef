"""Look inside a media file with the ffmpeg binary that imageio-ffmpeg ships (there is no ffprobe).

``probe`` reads the stream table ffmpeg prints for ``-i``; ``read_frame`` and ``read_audio``
decode to raw arrays through a pipe. The critics and tests use these to judge the file a
player would open, not the arrays that went into it.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mmthink.errors import BackendError, InputError

_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_BITRATE_RE = re.compile(r"bitrate:\s*(\d+)\s*kb/s")
_STREAM_RE = re.compile(r"^\s*Stream #(\d+):(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?:\s*(Video|Audio|Subtitle|Data):\s*(.*)$")
_TIME_RE = re.compile(r"time=\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_FRAME_RE = re.compile(r"frame=\s*(\d+)")


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as e:  # pragma: no cover - depends on the install
        raise BackendError("probing video needs imageio-ffmpeg (pip install imageio-ffmpeg)") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: list[str], timeout: float = 120.0, stdout: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise BackendError(f"ffmpeg took longer than {timeout:.0f} s on {args[-1]!r}") from e


def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError("path", f"no such file: {str(p)!r}", "give the path of a written media file")
    return p


def _hms(m: re.Match) -> float:
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def parse_stream(kind: str, desc: str) -> dict[str, Any]:
    """One ``Stream #0:0: Video: h264 (High) ..., yuv420p(progressive), 320x180, 24 fps`` line as a dict."""
    parts = _split_top(desc)
    codec_words = parts[0].split() if parts else [""]
    s: dict[str, Any] = {"type": kind.lower(), "codec": codec_words[0] if codec_words else ""}
    prof = re.match(r"\S+\s+\(([^)]*)\)", parts[0]) if parts else None
    if prof and "/" not in prof.group(1):
        s["profile"] = prof.group(1)
    for part in parts[1:]:
        p = part.strip()
        if kind == "Video":
            m = re.match(r"^(\d{2,5})x(\d{2,5})\b", p)
            if m and "width" not in s:
                s["width"], s["height"] = int(m.group(1)), int(m.group(2))
                continue
            m = re.match(r"^([\d.]+)\s+fps\b", p)
            if m:
                s["fps"] = float(m.group(1))
                continue
            if "pix_fmt" not in s and re.match(r"^[a-z0-9_]+(\(.*\))?$", p) and not p.endswith("kb/s"):
                s["pix_fmt"] = p.split("(")[0]
                continue
        elif kind == "Audio":
            m = re.match(r"^(\d+)\s+Hz$", p)
            if m:
                s["sample_rate"] = int(m.group(1))
                continue
            layouts = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}
            if p in layouts:
                s["channels"], s["layout"] = layouts[p], p
                continue
            m = re.match(r"^(\d+)\s+channels", p)
            if m:
                s["channels"] = int(m.group(1))
                continue
            if p in ("fltp", "flt", "s16", "s16p", "s32", "s32p", "dbl", "dblp", "u8", "u8p", "s64", "s64p"):
                s["sample_fmt"] = p
                continue
        m = re.match(r"^(\d+)\s+kb/s", p)
        if m:
            s["bitrate_kbps"] = int(m.group(1))
    return s


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or brackets."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur).strip())
    return out


def probe(path: str | Path, *, decode: bool = False) -> dict[str, Any]:
    """Streams and duration of a media file; with ``decode``, also decode it all (frames, true duration, errors)."""
    p = _existing(path)
    proc = _run(["-i", str(p)])
    err = proc.stderr.decode("utf-8", errors="replace")
    if "Invalid data found" in err or "moov atom not found" in err or "Input #0" not in err:
        raise InputError(
            "path",
            f"{p.name} is not a media file ffmpeg can read",
            err.strip().splitlines()[-1][:200] if err.strip() else "",
        )
    info: dict[str, Any] = {"path": str(p), "size_bytes": p.stat().st_size, "streams": []}
    m = _DURATION_RE.search(err)
    info["duration"] = _hms(m) if m else None
    m = _BITRATE_RE.search(err)
    info["bitrate_kbps"] = int(m.group(1)) if m else None
    fm = re.search(r"Input #0,\s*([^,]+(?:,[^,\s]+)*),\s*from", err)
    info["format"] = fm.group(1) if fm else None
    for line in err.splitlines():
        sm = _STREAM_RE.match(line)
        if sm:
            st = parse_stream(sm.group(3), sm.group(4))
            st["index"] = int(sm.group(2))
            info["streams"].append(st)
    if decode:
        dec = _run(["-v", "info", "-i", str(p), "-f", "null", "-"], timeout=600)
        derr = dec.stderr.decode("utf-8", errors="replace")
        times = _TIME_RE.findall(derr)
        frames = _FRAME_RE.findall(derr)
        info["decoded"] = {
            "ok": dec.returncode == 0,
            "seconds": (int(times[-1][0]) * 3600 + int(times[-1][1]) * 60 + float(times[-1][2])) if times else None,
            "frames": int(frames[-1]) if frames else 0,
            "errors": [ln for ln in derr.splitlines() if re.search(r"\berror\b", ln, re.I)][:5],
        }
    return info


def read_frame(path: str | Path, t: float) -> np.ndarray:
    """The RGB frame shown at time ``t`` (seconds), as an HxWx3 uint8 array."""
    p = _existing(path)
    info = probe(p)
    video = next((s for s in info["streams"] if s["type"] == "video"), None)
    if video is None or "width" not in video:
        raise InputError("path", f"{p.name} has no video stream")
    w, h = video["width"], video["height"]
    proc = _run(
        [
            "-v",
            "error",
            "-ss",
            f"{max(0.0, t):.3f}",
            "-i",
            str(p),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        stdout=subprocess.PIPE,
    )
    raw = proc.stdout
    if len(raw) < w * h * 3:
        raise BackendError(
            f"ffmpeg returned no frame at {t:.2f} s of {p.name}: {proc.stderr.decode(errors='replace')[-200:]}"
        )
    return np.frombuffer(raw[: w * h * 3], np.uint8).reshape(h, w, 3).copy()


def read_audio(path: str | Path, sample_rate: int = 16000, *, mono: bool = True) -> np.ndarray:
    """Decode the first audio stream to float32 samples (mono, or frames x channels)."""
    p = _existing(path)
    ch = 1 if mono else 2
    proc = _run(
        [
            "-v",
            "error",
            "-i",
            str(p),
            "-vn",
            "-ac",
            str(ch),
            "-ar",
            str(int(sample_rate)),
            "-f",
            "f32le",
            "-acodec",
            "pcm_f32le",
            "-",
        ],
        stdout=subprocess.PIPE,
    )
    if proc.returncode != 0:
        raise BackendError(
            f"ffmpeg could not decode audio from {p.name}: {proc.stderr.decode(errors='replace')[-200:]}"
        )
    x = np.frombuffer(proc.stdout, np.float32).copy()
    return x if mono else x.reshape(-1, ch)
