"""The transformers speech backend, measured on a tiny random VITS saved to a folder (nothing is downloaded).

The voice is noise, but everything the tool promises around it can be measured: a real 16-bit WAV at the
model's own sample rate, the emotion's level and pace, a rate change that changes the length and not the
spectrum, repeatable takes, and a clear error, without touching the network, when the model is not there.
"""

from __future__ import annotations

import io
import json
import math
import socket
import string

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
sf = pytest.importorskip("soundfile")
pytest.importorskip("parselmouth")  # the Praat shaping that follows synthesis

from mmthink.errors import BackendError  # noqa: E402
from mmthink.modalities.speech.tts import NEUTRAL_DBFS, Shaping, SpeechTool, _stretch, shaping_for  # noqa: E402

SR = 22050  # not VitsConfig's default (16 kHz), so the rate must come from the saved config
HOP = 8 * 8  # samples per spectrogram frame: the product of upsample_rates below
FRAMES_PER_TOKEN = 6.0  # what the duration predictor is biased to: a real voice's order of magnitude
TEXT = "We still have time to heal this planet, and I believe we will."


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def vits_dir(tmp_path_factory):
    """A VITS with a few thousand random weights and a character tokenizer, saved as a local model folder."""
    folder = tmp_path_factory.mktemp("tiny-vits")
    symbols = ["<pad>", "<unk>", " ", *string.ascii_lowercase, *".,;:!?'-"]
    (folder / "vocab.json").write_text(json.dumps({s: i for i, s in enumerate(symbols)}), encoding="utf-8")
    tokenizer = transformers.VitsTokenizer(str(folder / "vocab.json"), phonemize=False, add_blank=True)
    config = transformers.VitsConfig(
        vocab_size=len(symbols),
        pad_token_id=0,
        sampling_rate=SR,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        flow_size=8,
        spectrogram_bins=8,
        upsample_initial_channel=16,
        upsample_rates=[8, 8],
        upsample_kernel_sizes=[16, 16],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        use_stochastic_duration_prediction=False,
        duration_predictor_filter_channels=16,
        prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
    )
    torch.manual_seed(1234)
    model = transformers.VitsModel(config).eval()
    with torch.no_grad():  # durations near FRAMES_PER_TOKEN, so rounding them up to whole frames is a small error
        model.duration_predictor.proj.weight.mul_(0.1)
        model.duration_predictor.proj.bias.fill_(math.log(FRAMES_PER_TOKEN))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tool(vits_dir):
    return SpeechTool(backend="hf", model=str(vits_dir))


@pytest.fixture(scope="module")
def n_tokens(vits_dir):
    return len(transformers.VitsTokenizer.from_pretrained(str(vits_dir))(TEXT)["input_ids"])


def _decode(art) -> tuple[np.ndarray, int]:
    info = sf.info(io.BytesIO(art.data))
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)
    x, sr = sf.read(io.BytesIO(art.data), dtype="float32")
    return x, sr


def _dbfs(x: np.ndarray) -> float:
    return 20 * math.log10(float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def _centroid_hz(x: np.ndarray, sr: int) -> float:
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    return float(np.sum(power * np.fft.rfftfreq(len(x), 1 / sr)) / np.sum(power))


def test_wav_is_real_at_the_models_sample_rate(tool, vits_dir, n_tokens):
    art = tool.render(TEXT, emotion="happy")
    x, sr = _decode(art)
    assert sr == SR == art.meta["sample_rate"]
    assert art.meta["backend"] == f"hf:{vits_dir}"
    assert np.all(np.isfinite(x))
    assert np.abs(x).max() < 0.999  # not clipped
    assert _dbfs(x) > -40  # not silent
    assert abs(len(x) / sr - art.meta["seconds"]) < 1e-3
    rate = shaping_for("happy").rate
    expect_s = n_tokens * FRAMES_PER_TOKEN / rate * HOP / SR  # what the duration predictor asks for
    assert 0.8 * expect_s <= len(x) / sr <= 1.3 * expect_s


@pytest.mark.parametrize("emotion", ["sad", "angry"])
def test_emotion_sets_level_and_pace(tool, emotion):
    neutral, sr = _decode(tool.render(TEXT, emotion="neutral"))
    shaped, _ = _decode(tool.render(TEXT, emotion=emotion))
    want = shaping_for(emotion)
    assert _dbfs(neutral) == pytest.approx(NEUTRAL_DBFS, abs=0.5)
    assert _dbfs(shaped) == pytest.approx(NEUTRAL_DBFS + want.gain_db, abs=0.5)
    assert len(shaped) / len(neutral) == pytest.approx(1 / want.rate, rel=0.08)


def test_rate_changes_length_and_keeps_the_spectrum(tool):
    takes = {r: _decode(tool.render(TEXT, shaping=Shaping(rate=r)))[0] for r in (0.7, 1.0, 1.4)}
    base = takes[1.0]
    for r, x in takes.items():
        assert len(x) / len(base) == pytest.approx(1 / r, rel=0.08)
        # resampling in time would move every frequency by the rate (and alias when speeding up)
        assert _centroid_hz(x, SR) == pytest.approx(_centroid_hz(base, SR), rel=0.05)


def test_same_seed_same_take(tool):
    a = tool.render("Hello there.", emotion="calm", seed=3)
    b = tool.render("Hello there.", emotion="calm", seed=3)
    c = tool.render("Hello there.", emotion="calm", seed=4)
    assert a.data == b.data
    assert c.data != a.data


def test_stretch_for_pipelines_without_a_rate_keeps_the_pitch():
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.5 * np.sin(2 * np.pi * 180.0 * t)).astype(np.float32)
    y = _stretch(tone, sr, 1.25)
    assert len(y) / sr == pytest.approx(0.8, rel=0.03)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)] == pytest.approx(180.0, abs=3.0)


@pytest.mark.parametrize("case", ["missing folder", "empty folder", "hub id not cached"])
def test_unavailable_model_is_a_clear_error_without_network(tmp_path, monkeypatch, case):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read once, at import
    attempts: list = []

    def no_network(sock, address, *args):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    if case == "empty folder":
        model = str(tmp_path)
    elif case == "missing folder":
        model = str(tmp_path / "no-such-voice")
    else:
        model = "mmthink-tests/no-such-tts-model"
    tool = SpeechTool(backend="hf", model=model)
    with pytest.raises(BackendError) as e:
        tool.render("Hello.", emotion="neutral")
    message = str(e.value)
    assert model in message
    assert ("does not exist" in message) == (case == "missing folder")
    assert "save_pretrained" in message or "download" in message  # says how to fix it
    assert attempts == []
