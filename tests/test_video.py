"""Storyboard frames, the cut, and the movie file: everything judged from what was written to disk."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from mmthink.errors import InputError
from mmthink.modalities.base import Artifact, ImageArtifact, Placed
from mmthink.modalities.image.scene import Scene, normalize_name, parse_scene
from mmthink.modalities.image.vocab import COLORS
from mmthink.modalities.video.compositor import Cut, MusicSpan, compose_video, plan_timing
from mmthink.modalities.video.critic import VideoCritic, grade_signature, measure_ducking
from mmthink.modalities.video.frames import FrameTool, StoryboardStyle, grade, storyboard_style
from mmthink.modalities.video.music import MusicTool, wav_bytes
from mmthink.modalities.video.probe import probe, read_audio, read_frame

SIZE = (321, 181)  # odd on purpose: the composer must round down to 320x180
SCENES = [
    "setting: launch pad, dawn\nrocket: large, white, center\nsun: small, orange, left, top",
    "setting: space, stars\nearth: huge, blue, left, bottom\nspaceship: medium, silver, right, top",
    "setting: moon surface\nastronaut: medium, white, center\nflag: small, red, right of astronaut",
]
TEXTS = ["The rocket rises at dawn.", "Earth falls away below us.", "A flag on the quiet Moon."]


# --------------------------------------------------------------------------- stand-ins used only when absent


class PilBackend:
    """Draws each scene line as a coloured shape and reports its box, like a layout renderer."""

    def render(
        self, scene: Scene, *, quality: str = "sketch", size=(640, 360), seed: int = 0, style=None, init=None
    ) -> ImageArtifact:
        from PIL import Image, ImageDraw

        w, h = size
        bg = (40, 50, 90) if any("space" in s for s in scene.setting) else (150, 180, 210)
        img = Image.new("RGB", (w, h), bg)
        d = ImageDraw.Draw(img)
        rng = np.random.default_rng(seed)
        placed = []
        for k, el in enumerate(scene.elements):
            frac = {"small": 0.15, "medium": 0.25, "large": 0.4, "huge": 0.55}.get(el.size or "medium", 0.25)
            bw, bh = int(w * frac), int(h * frac * 1.4)
            cx = {"left": 0.22, "right": 0.78}.get(el.h or "", 0.5) * w + rng.integers(-5, 6)
            cy = {"top": 0.25, "bottom": 0.75}.get(el.v or "", 0.5) * h
            box = (int(cx - bw / 2), int(cy - bh / 2), int(cx + bw / 2), int(cy + bh / 2))
            rgb = COLORS.get(el.color or "grey", (128, 128, 128))
            d.ellipse(box, fill=rgb, outline=(10, 10, 10), width=2)
            placed.append(
                Placed(
                    normalize_name(el.name),
                    0,
                    box,
                    "generic",
                    el.color,
                    rgb,
                    k,
                    1.0,
                    (box[2] - box[0]) * (box[3] - box[1]),
                )
            )
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return ImageArtifact("image", buf.getvalue(), "png", {"seed": seed, "style": style}, img, placed, bg)


def _image_backend():
    try:
        from mmthink.modalities.image.render.embedded import EmbeddedImageBackend
    except ImportError:
        return PilBackend(), "pil stand-in"
    return EmbeddedImageBackend(), "embedded"


def _narration(text: str, seed: int) -> Artifact:
    try:
        from mmthink.modalities.speech.tts import SpeechTool
    except ImportError:
        SpeechTool = None  # noqa: N806
    if SpeechTool is not None and hasattr(SpeechTool, "render"):
        art = SpeechTool().render(text, emotion="neutral", seed=seed)
        art.meta.setdefault("text", text)
        return art
    # Narration-like audio: voiced syllables with short gaps and a pause between words.
    sr = 22050
    parts = []
    for word in text.split():
        for _ in range(max(1, len(word) // 3)):
            n = int(0.16 * sr)
            t = np.arange(n) / sr
            f0 = 140 + 30 * np.sin(2 * np.pi * 1.3 * t)
            ph = 2 * np.pi * np.cumsum(f0) / sr
            voice = 0.5 * np.sin(ph) + 0.25 * np.sin(2 * ph) + 0.12 * np.sin(3 * ph)
            env = np.sin(np.pi * np.arange(n) / n) ** 2
            parts += [voice * env, np.zeros(int(0.04 * sr))]
        parts.append(np.zeros(int(0.12 * sr)))
    x = (0.3 * np.concatenate(parts)).astype(np.float32)
    return Artifact("audio", wav_bytes(x, sr), "wav", {"text": text}, (x, sr))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def style() -> StoryboardStyle:
    return storyboard_style("please give me a short movie about space exploration.", seed=7)


@pytest.fixture(scope="module")
def frames(style: StoryboardStyle) -> list[ImageArtifact]:
    backend, _ = _image_backend()
    tool = FrameTool(backend)
    return [tool.render(parse_scene(s)[0], style=style, size=(320, 180), scene_no=i + 1) for i, s in enumerate(SCENES)]


@pytest.fixture(scope="module")
def cuts(frames: list[ImageArtifact]) -> list[Cut]:
    return [
        Cut(frame=f, seconds=2.0, narration=_narration(t, i), subtitle=t) for i, (f, t) in enumerate(zip(frames, TEXTS))
    ]


@pytest.fixture(scope="module")
def music() -> list[Artifact]:
    tool = MusicTool()
    return [tool.render(mood="wonder", seconds=6.0, seed=1), tool.render(mood="triumph", seconds=3.0, seed=1)]


@pytest.fixture(scope="module")
def movies(tmp_path_factory: pytest.TempPathFactory, cuts: list[Cut], music: list[Artifact]) -> dict[str, Artifact]:
    """The same cut three ways: full, without subtitles, and without music."""
    out = tmp_path_factory.mktemp("movies")
    spans = [MusicSpan(music[0], 0, 1), MusicSpan(music[1], 2)]
    calls: list[tuple[str, int, int]] = []
    full = compose_video(
        cuts,
        out / "full.mp4",
        size=SIZE,
        fps=24,
        music=spans,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    full.meta["progress_calls"] = calls
    bare = compose_video(cuts, out / "bare.mp4", size=SIZE, fps=24, music=spans, subtitles=False, progress=False)
    voice = compose_video(cuts, out / "voice.mp4", size=SIZE, fps=24, music=None, progress=False)
    return {"full": full, "bare": bare, "voice": voice}


# --------------------------------------------------------------------------- style and frames


def test_storyboard_style_from_request() -> None:
    s = storyboard_style("please give me a short movie about space exploration.", seed=3)
    assert "navy" in s.palette and s.lighting == "night" and s.seed == 3 and s.line_weight >= 1
    assert StoryboardStyle.from_dict(s.to_dict()) == s
    assert any("lighting" in w for w in s.style_words())
    other = storyboard_style("a sunny day in the forest with deer", seed=3)
    assert other.palette != s.palette and other.lighting == "day"
    with pytest.raises(InputError) as e:
        StoryboardStyle.from_dict({"palette": ["red"]})
    assert e.value.field == "style"


def test_frames_carry_scene_and_style(frames: list[ImageArtifact], style: StoryboardStyle) -> None:
    for i, f in enumerate(frames):
        assert f.meta["scene_no"] == i + 1 and f.meta["style"] == style.to_dict()
        assert f.payload.size == (320, 180)
        assert f.data[:8] == b"\x89PNG\r\n\x1a\n"
    # The grade is real: the storyboard's night lighting cools the highlights of a neutral grey card.
    from PIL import Image

    card = Image.new("RGB", (64, 36), (200, 200, 200))
    r, g, b = np.asarray(grade(card, style)).reshape(-1, 3).mean(axis=0)
    assert b > r + 5


def test_frame_critic_accepts_one_film_and_flags_a_style_break(
    frames: list[ImageArtifact], style: StoryboardStyle
) -> None:
    critic = VideoCritic()
    ok = critic.critique_frame(frames[2], scene_text=SCENES[2], style=style, previous=frames[:2])
    assert ok.metrics["style_ok"], ok.findings
    # The same scene drawn in another storyboard's look (neon, magenta palette) breaks the film.
    neon = StoryboardStyle(["magenta", "lime", "yellow"], 2, "neon", style.seed, ["cinematic"])
    odd = FrameTool(_image_backend()[0]).render(parse_scene(SCENES[2])[0], style=neon, size=(320, 180), scene_no=3)
    bad = critic.critique_frame(odd, scene_text=SCENES[2], style=style, previous=frames[:2])
    assert not bad.passed and not bad.metrics["style_ok"]
    assert any("different storyboard style" in f for f in bad.findings)
    assert bad.score < ok.score
    # A picture from elsewhere (no provenance): a flat green-and-yellow cartoon among dark space frames.
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 180), (120, 200, 60))
    ImageDraw.Draw(img).ellipse((100, 30, 220, 150), fill=(250, 220, 40))
    foreign = ImageArtifact("image", b"", "png", {}, img, [], None)
    c = critic.critique_frame(foreign, scene_text="", style=style, previous=frames[:2])
    assert not c.metrics["style_ok"] and c.metrics["histogram_distance"] > 0.95
    assert any("style break" in f for f in c.findings)


def test_frame_critic_sees_missing_elements_and_empty_frames(
    frames: list[ImageArtifact], style: StoryboardStyle
) -> None:
    critic = VideoCritic()
    wanted = SCENES[1] + "\nmoon: small, grey, center, top"
    c = critic.critique_frame(frames[1], scene_text=wanted, style=style, previous=frames[:1])
    assert not c.passed and any("moon" in f for f in c.findings)
    from PIL import Image

    black = Image.new("RGB", (320, 180), (2, 2, 3))
    empty = ImageArtifact("image", b"", "png", {}, black, [], (2, 2, 3))
    c = critic.critique_frame(empty, scene_text="", style=style, previous=[])
    assert not c.passed and any("black" in f or "flat" in f for f in c.findings)


def test_grade_signature_is_stable_across_scenes(frames: list[ImageArtifact]) -> None:
    sigs = [grade_signature(f) for f in frames]
    assert all(np.isfinite([s["shadow_a"], s["high_b"], s["chroma"]]).all() for s in sigs)


# --------------------------------------------------------------------------- timing


def test_plan_timing_follows_narration(cuts: list[Cut]) -> None:
    timing = plan_timing(cuts, breath_s=0.6, min_s=2.0)
    for c, d in zip(cuts, timing):
        x, sr = c.narration.payload
        assert d == pytest.approx(max(2.0, c.seconds, len(x) / sr + 0.6), abs=1e-3)
    longer = plan_timing([Cut(cuts[0].frame, seconds=9.0, narration=cuts[0].narration)])
    assert longer == [9.0]
    silent = plan_timing([Cut(cuts[0].frame, seconds=0.0)], min_s=2.5)
    assert silent == [2.5]


def test_cut_critic_checks_scene_against_narration(cuts: list[Cut]) -> None:
    critic = VideoCritic()
    good = critic.critique_cut(cuts, plan_timing(cuts))
    assert good.passed, good.findings
    short = critic.critique_cut(cuts, [0.5] * len(cuts))
    assert not short.passed and any("narration needs" in f for f in short.findings)
    long = critic.critique_cut(cuts, [30.0] * len(cuts))
    assert not long.passed and any("after its narration" in f for f in long.findings)


@pytest.mark.parametrize(
    "make,field",
    [
        (lambda c: [], "cuts"),
        (lambda c: [Cut(c[0].frame, seconds=-1.0)], "cuts[0].seconds"),
        (lambda c: [Cut(c[0].frame, seconds=36000.0)], "cuts[0].seconds"),
        (lambda c: [Cut(c[0].frame, seconds=250.0), Cut(c[1].frame, seconds=250.0)], "cuts"),
        (lambda c: [Cut(None, seconds=2.0)], "cuts[0].frame"),
        (lambda c: ["not a cut"], "cuts[0]"),
    ],
)
def test_bad_cuts_fail_before_any_work(tmp_path: Path, cuts: list[Cut], make, field: str) -> None:
    out = tmp_path / "x.mp4"
    with pytest.raises(InputError) as e:
        compose_video(make(cuts), out, size=(64, 64), progress=False)
    assert e.value.field == field
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"fps": 0}, "fps"),
        ({"size": (10, 10)}, "size"),
        ({"size": "big"}, "size"),
        ({"crossfade_s": -1}, "crossfade_s"),
        ({"crossfade_s": 1.5}, "crossfade_s"),
        ({"duck_db": 6}, "duck_db"),
        ({"out": "movie.avi"}, "out_path"),
        ({"music": "loud"}, "music"),
    ],
)
def test_bad_options_name_the_field(tmp_path: Path, cuts: list[Cut], kwargs: dict, field: str) -> None:
    out = tmp_path / kwargs.pop("out", "x.mp4")
    with pytest.raises(InputError) as e:
        compose_video(cuts[:1], out, progress=False, **kwargs)
    assert e.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_compose(tmp_path: Path, cuts: list[Cut]) -> None:
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(InputError):
        compose_video(cuts, out, fps=500, progress=False)
    assert out.read_bytes() == b"precious"


# --------------------------------------------------------------------------- the movie file


def test_movie_streams_duration_and_size(movies: dict[str, Artifact], cuts: list[Cut]) -> None:
    art = movies["full"]
    info = probe(art.meta["path"], decode=True)
    video = [s for s in info["streams"] if s["type"] == "video"]
    audio = [s for s in info["streams"] if s["type"] == "audio"]
    assert len(video) == 1 and len(audio) == 1
    assert video[0]["codec"] == "h264" and audio[0]["codec"] == "aac"
    assert video[0]["pix_fmt"] == "yuv420p"
    assert (video[0]["width"], video[0]["height"]) == (320, 180)  # 321x181 rounded down to even
    planned = sum(plan_timing(cuts))
    assert art.meta["duration"] == pytest.approx(planned, abs=1e-3)
    assert abs(info["duration"] - planned) <= 0.5
    assert info["decoded"]["ok"] and abs(info["decoded"]["frames"] - planned * 24) <= 2
    assert planned <= 8.0
    assert art.kind == "video" and art.ext == "mp4" and art.data == Path(art.meta["path"]).read_bytes()
    assert [s["subtitle"] for s in art.meta["scenes"]] == TEXTS
    assert art.meta["encode_seconds"] > 0 and art.meta["size"] == [320, 180] and art.meta["fps"] == 24
    # The two music spans sit where they were asked: wonder under scenes 1-2, triumph from scene 3.
    tracks = art.meta["music"]
    assert [t["mood"] for t in tracks] == ["wonder", "triumph"]
    assert tracks[0]["start"] == 0.0 and tracks[1]["end"] == pytest.approx(planned, abs=1e-3)
    assert abs(tracks[1]["start"] - (art.meta["scenes"][2]["start"] - 0.5)) < 1e-3
    stages = {c[0] for c in art.meta["progress_calls"]}
    assert "video" in stages
    last = [c for c in art.meta["progress_calls"] if c[0] == "video"][-1]
    assert last[1] == last[2] > 0


def test_subtitles_are_burned_in(movies: dict[str, Artifact]) -> None:
    full, bare = movies["full"], movies["bare"]
    for scene in full.meta["scenes"]:
        t = (scene["start"] + scene["end"]) / 2
        a = read_frame(full.meta["path"], t).astype(np.int16)
        b = read_frame(bare.meta["path"], t).astype(np.int16)
        h = a.shape[0]
        band = np.abs(a[int(h * 0.75) :] - b[int(h * 0.75) :]).mean()
        top = np.abs(a[: int(h * 0.5)] - b[: int(h * 0.5)]).mean()
        assert band > 8.0, f"no subtitle at {t:.2f}s (band diff {band:.1f})"
        assert top < 2.0, f"the picture above the subtitle changed ({top:.1f})"

        # White text with a dark outline: sharp light/dark steps along the rows that the bare frame lacks.
        def steps(img: np.ndarray, h: int = h) -> int:
            lum = img[int(h * 0.75) :].mean(axis=2)
            return int((np.abs(np.diff(lum, axis=1)) > 100).sum())

        assert steps(a) > steps(b) + 40


def test_music_is_ducked_under_narration(movies: dict[str, Artifact]) -> None:
    sr = 16000
    full = read_audio(movies["full"].meta["path"], sr)
    voice = read_audio(movies["voice"].meta["path"], sr)
    n = min(len(full), len(voice))
    full, voice = full[:n], voice[:n]
    music_under = full - voice  # the same narration in both files: what is left is the (ducked) music
    t = np.arange(n) / sr
    speaking = np.zeros(n, bool)
    for a, b in movies["full"].meta["speaking"]:
        speaking |= (t >= a + 0.05) & (t < b - 0.05)
    assert speaking.sum() > sr  # more than a second of narration

    def db(x: np.ndarray) -> float:
        return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)

    assert db(voice[speaking]) - db(music_under[speaking]) >= 10.0
    # Where nobody speaks the music comes back up: ducking happened, it is not just quiet music.
    free = ~speaking & (t > 1.0) & (t < t[-1] - 1.0)
    for a, b in movies["full"].meta["speaking"]:
        free &= ~((t >= a - 0.4) & (t < b + 0.4))
    if free.sum() > sr // 10:
        assert db(full[free]) - db(music_under[speaking]) >= 6.0
    levels = movies["full"].meta["audio"]
    assert levels["level_diff_db"] >= 10.0


def test_video_critic_probes_the_file(movies: dict[str, Artifact], cuts: list[Cut]) -> None:
    planned = sum(plan_timing(cuts))
    c = VideoCritic().critique_video(movies["full"], planned_seconds=planned)
    assert c.passed, c.findings
    assert c.metrics["checks"]["h264"] and c.metrics["checks"]["yuv420p"] and c.metrics["checks"]["even_size"]
    assert c.metrics["measured"]["level_diff_db"] >= 10.0
    # From the path alone, with the speaking windows given: the level is re-measured from the decoded mix.
    c2 = VideoCritic().critique_video(
        movies["full"].meta["path"], planned_seconds=planned, narration_mask=movies["full"].meta["speaking"]
    )
    assert c2.passed and c2.metrics["level_diff_db"] >= 10.0
    late = VideoCritic().critique_video(movies["full"].meta["path"], planned_seconds=planned + 3)
    assert not late.passed and any("planned" in f for f in late.findings)


def test_video_critic_on_foreign_and_broken_files(tmp_path: Path, mp4_bytes: bytes) -> None:
    p = tmp_path / "pattern.mp4"
    p.write_bytes(mp4_bytes)
    c = VideoCritic().critique_video(p, planned_seconds=1.0)
    assert c.metrics["checks"]["h264"] and c.metrics["checks"]["aac"] and c.metrics["checks"]["duration"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    c = VideoCritic().critique_video(broken, planned_seconds=1.0)
    assert not c.passed and c.score <= 0.4


def test_ducking_estimate_from_a_known_mix() -> None:
    sr = 16000
    t = np.arange(4 * sr) / sr
    music = 0.02 * np.sin(2 * np.pi * 220 * t)
    voice = np.where((t % 0.3) < 0.2, 0.3 * np.sin(2 * np.pi * 150 * t), 0.0)
    mix = music.copy()
    w = (t >= 1.0) & (t < 3.0)
    mix[w] = voice[w] + music[w] * 10 ** (-14 / 20)
    m = measure_ducking(mix.astype(np.float32), sr, [(1.0, 3.0)])
    expected = 20 * np.log10((0.3 / np.sqrt(2)) / (0.02 * 10 ** (-14 / 20) / np.sqrt(2)))
    assert m["level_diff_db"] == pytest.approx(expected, abs=3.0)


def test_scene_span_attribute() -> None:
    from mmthink.modalities.video.compositor import scene_span

    assert scene_span("1-3", 5) == (0, 2) and scene_span("4", 5) == (3, 3) and scene_span(None, 5) == (0, 4)
    assert scene_span("2,3", 5) == (1, 2)
    for bad in ("0-2", "3-9", "one"):
        with pytest.raises(InputError) as e:
            scene_span(bad, 5)
        assert e.value.field == "scenes"


def test_video_critic_holds_the_film_against_its_plan(movies: dict[str, Artifact], cuts: list[Cut]) -> None:
    from mmthink.modalities.video.plan import FilmPlan

    planned = sum(plan_timing(cuts))
    plan = FilmPlan(scenes=[1, 2, 3], narration=dict(enumerate(TEXTS, 1)), music=True, music_why="m1 was written")
    ok = VideoCritic().critique_video(movies["full"], planned_seconds=planned, plan=plan)
    assert ok.passed, ok.findings
    assert ok.metrics["plan"]["film_scenes"] == [1, 2, 3]
    assert all(v > -30 for v in ok.metrics["plan"]["narration_dbfs"].values())  # measured in the decoded file
    # The film without music, against a plan with a fourth scene and music: each gap is a finding with its fix.
    more = FilmPlan(
        scenes=[1, 2, 3, 4],
        narration={1: TEXTS[0]},
        music=True,
        music_why="the cue m1 was written",
        music_hint={"mood": "calm"},
    )
    bad = VideoCritic().critique_video(movies["voice"], planned_seconds=planned, plan=more)
    assert not bad.passed
    assert bad.findings[0] == 'scene 4 has no frame: draw <frame scene="4">'
    assert any(
        f.startswith('the film has no music, though the cue m1 was written: write <music mood="calm"')
        for f in bad.findings
    ), bad.findings
    assert not bad.metrics["checks"]["planned_scenes"] and not bad.metrics["checks"]["planned_music"]
    assert bad.metrics["checks"]["planned_narration"]
    # A line planned for a scene that the cut plays without narration.
    unsaid = dict(movies["full"].meta)
    unsaid["scenes"] = [{**s, "narration": None} if s["scene"] == 2 else s for s in unsaid["scenes"]]
    art = Artifact("video", movies["full"].data, "mp4", unsaid)
    c = VideoCritic().critique_video(art, planned_seconds=planned, plan=plan)
    assert not c.passed and any(f.startswith(f'no narration in scene 2 ("{TEXTS[1]}")') for f in c.findings)
    # Music that is in the cut but cannot be heard is no music: measured where nobody speaks.
    sr = 22050
    hush = np.zeros(sr * 4, np.float32)
    quiet = compose_video(
        [Cut(cuts[0].frame, seconds=4.0)],
        Path(movies["full"].meta["path"]).with_name("hush.mp4"),
        size=SIZE,
        music=Artifact("audio", wav_bytes(hush, sr), "wav", {"mood": "calm"}, (hush, sr)),
        progress=False,
    )
    c = VideoCritic().critique_video(quiet, planned_seconds=4.0, plan=FilmPlan([1], {}, True, "m1 was written"))
    assert quiet.meta["music"] and not c.passed and c.metrics["plan"]["music_dbfs"] < -45
    assert any("music too quiet to hear" in f for f in c.findings), c.findings
