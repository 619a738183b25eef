"""Music: exact length, moods that sound like their key, no clicks, clean errors, and the MusicGen backend."""

from __future__ import annotations

import io

import numpy as np
import pytest

from mmthink.errors import InputError
from mmthink.modalities.video.music import MOOD_SPECS, MOODS, SCALES, MusicTool, resolve_mood, synthesize

CLICK_HP_HZ = 9000.0
CLICK_LIMIT = 2e-3


def highpass_peak(x: np.ndarray, sr: int) -> float:
    """Largest sample of the signal above 9 kHz: the synth has no partial there, a click puts energy there."""
    from scipy.signal import butter, sosfilt

    sos = butter(8, CLICK_HP_HZ, "hp", fs=sr, output="sos")
    return float(np.max(np.abs(sosfilt(sos, x.astype(np.float64)))))


def scale_fraction(x: np.ndarray, sr: int, key: int, scale: tuple[int, ...]) -> float:
    """Share of spectral energy (60 Hz..2 kHz) at pitch classes of the given key and scale."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sr)
    band = (f > 60) & (f < 2000)
    pc = np.round(12 * np.log2(f[band] / 440.0) + 69).astype(int) % 12
    chroma = np.bincount(pc, weights=spec[band], minlength=12)
    wanted = {(key + s) % 12 for s in scale}
    return float(sum(chroma[i] for i in wanted) / chroma.sum())


@pytest.fixture(scope="module")
def tool() -> MusicTool:
    return MusicTool()


@pytest.mark.parametrize("seconds,sr", [(1.0, 32000), (2.3457, 32000), (3.01, 22050), (0.05, 16000)])
def test_exact_duration(tool: MusicTool, seconds: float, sr: int) -> None:
    art = tool.render(mood="wonder", seconds=seconds, sample_rate=sr)
    x, rate = art.payload
    assert rate == sr and x.dtype == np.float32 and x.ndim == 1
    assert len(x) == round(seconds * sr)
    import soundfile as sf

    back, back_sr = sf.read(io.BytesIO(art.data), dtype="float32")
    assert back_sr == sr and len(back) == len(x)
    assert art.kind == "audio" and art.ext == "wav" and art.meta["samples"] == len(x)


@pytest.mark.parametrize("mood", MOODS)
def test_every_mood_in_its_key_without_clicks(tool: MusicTool, mood: str) -> None:
    sr = 32000
    art = tool.render(mood=mood, seconds=12.0, seed=3, sample_rate=sr)
    x, _ = art.payload
    assert np.all(np.isfinite(x))
    assert 0.05 < float(np.max(np.abs(x))) <= 0.9
    assert abs(art.meta["rms_db"] - (-20.0)) < 3.0
    # Faded in and out: the track starts and ends in silence.
    assert abs(float(x[0])) < 1e-3 and abs(float(x[-1])) < 1e-3
    # No clicks at any note or chord join.
    assert highpass_peak(x, sr) < CLICK_LIMIT
    # The mood's key and mode are what is heard: far more energy in its scale than a tritone away.
    spec = MOOD_SPECS[mood]
    scale = SCALES[spec.mode]
    own = scale_fraction(x, sr, spec.key, scale)
    other = scale_fraction(x, sr, spec.key + 6, scale)
    assert own > 0.75 and own > other + 0.3, (own, other)


def test_click_detector_catches_a_hard_splice() -> None:
    sr = 32000
    t = np.arange(sr) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t)
    x[: sr // 2] = 0.0  # the tone starts mid-cycle with no envelope
    x[sr // 2 :] = 0.3 * np.sin(2 * np.pi * 440 * t[sr // 2 :] + 1.0)
    assert highpass_peak(x.astype(np.float32), sr) > 10 * CLICK_LIMIT


def test_moods_differ_and_seed_is_deterministic(tool: MusicTool) -> None:
    a = tool.render(mood="calm", seconds=4.0, seed=1).payload[0]
    b = tool.render(mood="calm", seconds=4.0, seed=1).payload[0]
    c = tool.render(mood="tension", seconds=4.0, seed=1).payload[0]
    assert np.array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-3)
    meta = tool.render(mood="triumph", seconds=4.0).meta
    assert meta["mode"] == "major" and meta["tempo"] == MOOD_SPECS["triumph"].tempo and meta["progression"]


def test_aliases_and_mood_list() -> None:
    assert {"wonder", "tension", "triumph", "calm", "sad", "hope", "mystery", "adventure"} <= set(MOODS)
    assert resolve_mood("Suspense") == "tension" and resolve_mood(" happy ") == "joy"


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"mood": "bluesy-ish", "seconds": 2}, "mood"),
        ({"mood": "calm", "seconds": 0}, "seconds"),
        ({"mood": "calm", "seconds": -3}, "seconds"),
        ({"mood": "calm", "seconds": 36000}, "seconds"),
        ({"mood": "calm", "seconds": float("nan")}, "seconds"),
        ({"mood": "calm", "seconds": "long"}, "seconds"),
        ({"mood": "calm", "seconds": 2, "sample_rate": 100}, "sample_rate"),
    ],
)
def test_bad_input_names_the_field(tool: MusicTool, kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as e:
        tool.render(**kwargs)
    assert e.value.field == field
    if field == "mood":
        assert "wonder" in str(e.value) and "tension" in str(e.value)


def test_bad_backend() -> None:
    with pytest.raises(InputError) as e:
        MusicTool(backend="midi")
    assert e.value.field == "music_backend"
    with pytest.raises(InputError) as e:
        MusicTool(backend="hf")
    assert e.value.field == "music_model"


def test_synthesis_is_fast_enough_to_measure() -> None:
    x, facts = synthesize("adventure", 2.0, seed=0, sample_rate=16000)
    assert len(x) == 32000 and facts["bars"] >= 1


# --------------------------------------------------------------------------- MusicGen backend


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models run far faster on one thread than fighting for two busy cores."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> str:
    """A randomly initialised MusicGen (T5 text encoder, EnCodec, decoder) with an in-memory T5 tokenizer."""
    torch = pytest.importorskip("torch")
    tr = pytest.importorskip("transformers")
    text = tr.T5Config(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2, decoder_start_token_id=0)
    audio = tr.EncodecConfig(
        target_bandwidths=[1.0],
        sampling_rate=16000,
        audio_channels=1,
        num_filters=4,
        hidden_size=8,
        upsampling_ratios=[8, 5, 4],
        codebook_size=32,
        codebook_dim=8,
        num_lstm_layers=1,
        num_residual_layers=1,
    )
    assert audio.frame_rate == 100 and audio.num_quantizers == 2
    dec = tr.MusicgenDecoderConfig(
        vocab_size=32,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        num_codebooks=2,
        max_position_embeddings=256,
        pad_token_id=32,
        bos_token_id=32,
    )
    cfg = tr.MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=dec.to_dict())
    torch.manual_seed(0)
    model = tr.MusicgenForConditionalGeneration(cfg).eval()
    model.generation_config.decoder_start_token_id = 32
    model.generation_config.pad_token_id = 32
    words = "▁calm ▁peaceful ▁music ▁piano ▁soft ▁slow ▁dark ▁tense ▁a ▁and c a l m s o f t e n".split()
    tok = tr.T5Tokenizer(
        vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(w, -float(i)) for i, w in enumerate(words)],
        extra_ids=0,
    )
    proc = tr.MusicgenProcessor(
        feature_extractor=tr.EncodecFeatureExtractor(feature_size=1, sampling_rate=16000), tokenizer=tok
    )
    folder = tmp_path_factory.mktemp("musicgen")
    model.save_pretrained(folder)
    proc.save_pretrained(folder)
    return str(folder)


def test_musicgen_backend_exact_length_resampled(tiny_musicgen: str) -> None:
    tool = MusicTool(backend="hf", model=tiny_musicgen)
    art = tool.render(mood="calm", seconds=0.8, seed=5, sample_rate=22050)
    x, sr = art.payload
    assert sr == 22050 and len(x) == round(0.8 * 22050) and np.all(np.isfinite(x))
    assert art.meta["native_sample_rate"] == 16000 and art.meta["backend"] == "hf"
    assert "calm" in art.meta["prompt"]
    assert float(np.max(np.abs(x))) > 0  # the random decoder makes some sound
    again = tool.render(mood="calm", seconds=0.8, seed=5, sample_rate=22050).payload[0]
    assert np.array_equal(x, again)


def test_musicgen_backend_joins_chunks_beyond_its_context(tiny_musicgen: str) -> None:
    # 256 positions at 100 frames/s: ~2 s per generate call, so 4.3 s needs several joined chunks.
    art = MusicTool(backend="hf", model=tiny_musicgen).render(mood="tension", seconds=4.3, seed=1, sample_rate=16000)
    x, sr = art.payload
    assert len(x) == round(4.3 * 16000)
    assert art.meta["generated_seconds"] >= 4.3 - 1e-6


def test_text_to_audio_pipeline_path_loops_to_length(tiny_musicgen: str) -> None:
    from mmthink.modalities.video.music import _HFMusic

    tool = MusicTool(backend="hf", model=tiny_musicgen)
    tool._hf = _HFMusic(tiny_musicgen, None, force_pipeline=True)  # the path taken by non-MusicGen models
    art = tool.render(mood="hope", seconds=1.5, seed=2, sample_rate=16000)
    x, sr = art.payload
    assert len(x) == 24000 and np.all(np.isfinite(x))
    assert art.meta["generated_seconds"] >= 1.5 - 1e-6
