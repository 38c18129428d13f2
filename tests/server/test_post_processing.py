"""Post-processing options: each effect measured on real speech (band energy, RMS under/over speech, duration),
then the options over a real server (validated as 400s, refused on streams, applied in the fixed order)."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
import soundfile as sf

from tts_predictor.audio import effects, mix, post
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.errors import UnknownBed


@pytest.fixture(scope="module")
def speech() -> AudioBuffer:
    """Two sentences of the embedded voice with a second of silence on each side."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.onnx.vits import OnnxVitsEngine, embedded_voice_paths

    engine = OnnxVitsEngine(*embedded_voice_paths(), device="cpu", threads=1)
    voice = engine.voices()[0]
    audio = engine.synthesize(SynthesisRequest("Good evening. The news at nine follows.", voice, voice.languages[0]))
    pad = np.zeros(audio.sample_rate, np.float32)
    return AudioBuffer(np.concatenate([pad, audio.samples, pad]), audio.sample_rate)


def band_energy(audio: AudioBuffer, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio.samples)) ** 2
    freqs = np.fft.rfftfreq(len(audio.samples), 1 / audio.sample_rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def test_telephone_band_pass_removes_lows_and_highs(speech):
    out = effects.band_pass(speech, "telephone")
    for low, high in ((0, 200), (4500, 11000)):
        assert band_energy(out, low, high) < 0.05 * band_energy(speech, low, high)
    assert band_energy(out, 800, 2500) > 0.5 * band_energy(speech, 800, 2500)


def test_eq_presets_shift_band_balance(speech):
    bright, warm = effects.equalize(speech, "bright"), effects.equalize(speech, "warm")
    ratio = lambda a: band_energy(a, 5000, 10000) / band_energy(a, 50, 300)  # noqa: E731
    assert ratio(bright) > 2 * ratio(speech) and ratio(warm) < ratio(speech) / 2  # shelves of about +-7 dB in sum


def test_compressor_narrows_dynamics(speech):
    out = effects.compress(speech)
    frames = lambda a: np.array([rms(a.samples[i : i + 441]) for i in range(0, len(a.samples) - 441, 441)])  # noqa: E731
    loud = frames(speech) > 0.01
    spread = lambda f: np.percentile(20 * np.log10(f[loud]), 95) - np.percentile(20 * np.log10(f[loud]), 20)  # noqa: E731
    assert spread(frames(out)) < spread(frames(speech)) - 2  # dB


def test_reverb_adds_a_tail(speech):
    out = effects.reverb(speech, 0.5)
    end = speech.sample_rate  # the trailing second of silence
    tail = slice(len(speech.samples) - end, len(speech.samples) - end + speech.sample_rate // 5)
    assert rms(out.samples[tail]) > 10 * (rms(speech.samples[tail]) + 1e-6)
    assert np.array_equal(out.samples, effects.reverb(speech, 0.5).samples)  # deterministic


def test_trim_silence_and_fades(speech):
    trimmed = effects.trim_silence(speech)
    assert speech.duration_s - trimmed.duration_s == pytest.approx(2.0, abs=0.3)
    faded = effects.fade(speech, 0.5, 0.5)
    assert len(faded.samples) == len(speech.samples)
    assert faded.samples[0] == 0 and faded.samples[-1] == 0
    assert rms(faded.samples[-int(0.05 * speech.sample_rate) :]) <= rms(
        speech.samples[-int(0.05 * speech.sample_rate) :]
    )


def test_bed_is_looped_and_ducked_under_speech(speech, tmp_path):
    rate = speech.sample_rate
    t = np.arange(rate // 2) / rate
    sf.write(tmp_path / "hum.wav", (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32), rate)
    bed = mix.load_bed(str(tmp_path), "hum", rate)
    out = mix.mix_bed(speech, bed, gain_db=-10, duck_db=15)
    bed_only = out.samples - speech.samples  # what the bed added, sample by sample
    envelope = mix.speech_envelope(speech.samples, rate)
    over, under = rms(bed_only[envelope == 0]), rms(bed_only[envelope == 1])
    assert 20 * np.log10(over / under) == pytest.approx(15, abs=1.5)  # ducked by duck_db while speaking
    quarter = rate // 4  # the bed (0.5 s) repeats in the leading silence: looped
    assert np.allclose(bed_only[:quarter], bed_only[rate // 2 : rate // 2 + quarter], atol=1e-6)
    assert rms(bed_only[:quarter]) == pytest.approx(0.3 / np.sqrt(2) * 10 ** (-10 / 20), rel=0.05)
    with pytest.raises(UnknownBed, match="stored beds: hum"):
        mix.bed_path(str(tmp_path), "rain")


def test_chain_per_chunk_trims_and_fades_only_at_the_ends(speech):
    options = post.PostOptions(trim_silence=True, fade_in_s=0.2)
    middle = post.apply(speech, options, first=False, last=False)
    assert np.array_equal(middle.samples, speech.samples)
    assert post.apply(speech, options).duration_s < speech.duration_s


EVERY_EFFECT = {
    "trim_silence": True,
    "eq": "warm",
    "band_pass": "radio",
    "compressor": True,
    "reverb": 0.3,
    "fade_in_s": 0.5,
    "fade_out_s": 0.5,
}


@pytest.mark.parametrize("samples", [0, 1, 7])
@pytest.mark.parametrize("name", list(EVERY_EFFECT))
def test_each_effect_takes_audio_of_no_or_a_few_samples(name, samples):
    # A text that speaks nothing ("." or "!!!") reaches the chain as 0 samples; the band-pass filter raised on it (a 500).
    audio = AudioBuffer(np.zeros(samples, np.float32), 22050)
    out = post.apply(audio, post.PostOptions(**{name: EVERY_EFFECT[name]}))
    assert len(out.samples) <= samples and out.sample_rate == 22050


@pytest.mark.slow
@pytest.mark.parametrize("text", [".", "!!!", "\u200b"])
def test_a_text_that_speaks_nothing_with_every_effect_is_not_an_error(embedded_server, text):
    items = httpx.post(
        f"{embedded_server.url}/batch_synthesize", timeout=60, json={"items": [{"text": text, "options": EVERY_EFFECT}]}
    )
    assert items.status_code == 200, items.text
    assert items.json()["items"][0]["duration_s"] < 0.5
    v2 = httpx.post(
        f"{embedded_server.url}/v2/models/tts/infer",
        timeout=60,
        json={
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}],
            "parameters": EVERY_EFFECT,
        },
    )
    assert v2.status_code == 200, v2.text


@pytest.mark.slow
def test_options_over_the_server(embedded_server):
    text = "Testing the telephone line."
    plain = _synth(embedded_server, text, {})
    phone = _synth(embedded_server, text, {"band_pass": "telephone", "trim_silence": True, "fade_out_s": 0.2})
    assert band_energy(phone, 0, 200) < 0.05 * band_energy(plain, 0, 200)
    # Each output checked on its own (two syntheses of this voice differ in length by up to ~0.4 s, so comparing
    # their durations proves nothing): trimmed, it starts within trim_silence's 50 ms margin (+ one 10 ms frame)
    # of its first sound above -45 dBFS; faded, its last 20 ms are far below its peak.
    frame = phone.sample_rate // 100
    frames = np.abs(phone.samples[: len(phone.samples) // frame * frame]).reshape(-1, frame).max(axis=1)
    assert np.nonzero(frames > 10 ** (-45 / 20))[0][0] * 0.01 <= 0.06
    tail = phone.samples[-phone.sample_rate // 50 :]
    assert np.abs(tail).max() < 0.1 * np.abs(phone.samples).max()
    v2 = httpx.post(
        f"{embedded_server.url}/v2/models/tts/infer",
        json={
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}],
            "parameters": {"eq": "warm", "compressor": True, "reverb": 0.2},
        },
    )
    assert v2.status_code == 200, v2.text


@pytest.mark.slow
@pytest.mark.parametrize(
    "options, field",
    [
        ({"eq": "loud"}, "options.eq"),
        ({"reverb": 2}, "options.reverb"),
        ({"band_pass": "tin"}, "options.band_pass"),
        ({"bed": "rain"}, "bed"),
        ({"fade_in_s": -1}, "options.fade_in_s"),
        ({"eq": "warm", "stream": True}, "eq"),
    ],
)
def test_bad_options_are_400s(embedded_server, options, field):
    response = httpx.post(f"{embedded_server.url}/synthesize", json={"text": "Hi.", "options": options})
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(field)


def _synth(server, text: str, options: dict) -> AudioBuffer:
    response = httpx.post(f"{server.url}/synthesize", json={"text": text, "options": options}, timeout=60)
    assert response.status_code == 200, response.text
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float32")
    return AudioBuffer(samples, rate)


@pytest.mark.slow
def test_uploaded_bed_mixed_under_speech(tmp_path):
    from server_process import ServerProcess

    rate = 22050
    t = np.arange(rate) / rate
    bed = io.BytesIO()
    sf.write(bed, (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32), rate, format="WAV")
    server = ServerProcess(env={"TTS_BEDS_DIR": str(tmp_path / "beds"), "TTS_JOBS_ENABLED": "false"}).start()
    try:
        stored = httpx.post(f"{server.url}/v1/beds", data={"name": "hum"}, files={"file": ("hum.wav", bed.getvalue())})
        assert stored.status_code == 201, stored.text
        assert httpx.get(f"{server.url}/v1/beds").json() == {"beds": ["hum"]}
        bad = httpx.post(f"{server.url}/v1/beds", data={"name": "../x"}, files={"file": ("x.wav", bed.getvalue())})
        assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("name:")
        # The speech is at the default loudness (-19 LUFS, ~6 dB over the raw voice), and so are its own 100-120 Hz
        # harmonics: the bed goes at 0 dB (was -12 when speech was quieter) to stand clear of them.
        options = {"bed": "hum", "bed_gain_db": 0, "bed_duck_db": 18}
        mixed = _synth(server, "Music under the words.", options)
        plain = _synth(server, "Music under the words.", {})
        assert band_energy(mixed, 100, 120) > 3 * band_energy(
            plain, 100, 120
        )  # the 110 Hz bed is there (ducking: unit test)
    finally:
        server.stop()
