"""Shared fixtures: small real media files (PNG, WAV, MP4) made on the spot, never downloaded."""

from __future__ import annotations

import io
import math
import struct
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_view_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`mmthink view` pages go to a folder of the test session, never the user's cache."""
    import os

    os.environ.setdefault("MMTHINK_VIEW_DIR", str(tmp_path_factory.mktemp("views")))


def _png(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (40, 110, 200)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (245, 245, 240))
    d = ImageDraw.Draw(img)
    d.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=colour)
    d.rectangle((2, height - 8, width - 3, height - 3), fill=(60, 60, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _wav(seconds: float = 0.5, freq: float = 440.0, rate: int = 16000) -> bytes:
    n = int(seconds * rate)
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


@pytest.fixture(scope="session")
def make_png() -> Callable[..., bytes]:
    """PNG bytes drawn with PIL: ``make_png(width, height, colour)``."""
    return _png


@pytest.fixture(scope="session")
def make_wav() -> Callable[..., bytes]:
    """16-bit mono WAV bytes of a sine tone, written with the stdlib ``wave`` module."""
    return _wav


@pytest.fixture(scope="session")
def mp4_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 1 s H.264 + AAC test pattern from imageio-ffmpeg's ffmpeg; skips where it cannot be made."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:  # pragma: no cover - depends on the install
        pytest.skip(f"no ffmpeg binary: {e}")
    out: Path = tmp_path_factory.mktemp("mp4") / "test.mp4"
    cmd = [
        exe,
        "-y",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=10",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=22050",
        "-t",
        "1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        "-movflags",
        "+faststart",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    if proc.returncode != 0 or not out.exists():  # pragma: no cover
        pytest.skip(f"ffmpeg could not make a test video: {proc.stderr.decode(errors='replace')[-300:]}")
    return out.read_bytes()


@pytest.fixture
def fresh_servers(monkeypatch: pytest.MonkeyPatch):
    """No server settings from the environment and no remembered server probes, before and after a test."""
    from mmthink.reasoners import servers

    for k in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY", "MMTHINK_MODEL"):
        monkeypatch.delenv(k, raising=False)
    servers.forget()
    yield
    servers.forget()


@pytest.fixture
def make_server():
    """Start llama-cpp-python-like test servers (tests/llama_like_server.py); all stopped after the test."""
    from llama_like_server import LlamaLikeServer

    started: list[LlamaLikeServer] = []

    def make(**kw):
        srv = LlamaLikeServer(**kw).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


def _has_spacy() -> bool:
    import importlib.util

    from mmthink.modalities.image import pipelines

    return importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(pipelines.SM_MODULE) is not None


@pytest.fixture(
    params=[
        "rules",
        pytest.param("spacy", marks=pytest.mark.skipif(not _has_spacy(), reason="needs pip install 'mmthink[nlp]'")),
    ]
)
def path(request, monkeypatch):
    """Run the test on each reading path; the spaCy one is skipped where the pipeline is not installed."""
    if request.param == "rules":
        monkeypatch.setenv("MMTHINK_NLP", "rules")
    else:
        monkeypatch.delenv("MMTHINK_NLP", raising=False)
    return request.param


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray with 2 CPUs for one test module (skipped where ray is not installed)."""
    import os

    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'mmthink[ray]')")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
