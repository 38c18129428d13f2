"""Watermark model path: a tiny random TorchScript generator in process, and a real server with a mounted model whose
watermark is a pilot tone (so the added signal can be found in the response's spectrum)."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")

from server_process import ServerProcess  # noqa: E402

from tts_predictor.audio import watermark  # noqa: E402
from tts_predictor.audio.buffer import AudioBuffer  # noqa: E402
from tts_predictor.audio.dsp import resample  # noqa: E402
from tts_predictor.audio.output import OutputConfig, voice_dsp  # noqa: E402
from tts_predictor.protocol.v2 import SynthesisParameters  # noqa: E402

PLAIN = SynthesisParameters()
"""No pitch, loudness or gain: only the watermark changes the audio."""

PILOT_HZ = 7000.0


class RandomGenerator(torch.nn.Module):
    """AudioSeal's generator shape: audio (batch, 1, samples) in, a small watermark signal of that shape out."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(1, 4, 9, padding=4)
        self.out = torch.nn.Conv1d(4, 1, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.01 * torch.tanh(self.out(torch.relu(self.conv(x))))


class PilotTone(torch.nn.Module):
    """A watermark that is a quiet 7 kHz tone (16 kHz model rate), easy to find in a spectrum."""

    def __init__(self) -> None:
        super().__init__()
        self.hz = PILOT_HZ

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.arange(x.shape[-1], dtype=torch.float32) / 16000.0
        return (0.02 * torch.sin(2 * 3.141592653589793 * self.hz * t)).expand_as(x)


def _save(module: torch.nn.Module, path) -> str:
    torch.jit.script(module).save(str(path))
    return str(path)


def test_random_generator_adds_its_signal_at_the_output_rate(tmp_path):
    path = _save(RandomGenerator(), tmp_path / "random.pt")
    speech = AudioBuffer((0.3 * np.sin(np.arange(22050) * 0.05)).astype(np.float32), 22050)
    marking = OutputConfig(watermarker=watermark.Watermarker(path, 16000, 1.0))
    assert marking.watermarker.name == "random.pt"
    marked = voice_dsp(speech, PLAIN, marking)  # every path's DSP step adds it
    low = resample(speech, 16000).samples
    expected = RandomGenerator()(torch.from_numpy(low)[None, None]).detach().reshape(-1).numpy()
    expected = resample(AudioBuffer(expected.astype(np.float32), 16000), 22050).samples
    assert marked.sample_rate == 22050 and len(marked.samples) == len(speech.samples)
    added = marked.samples - speech.samples
    assert np.allclose(added[: len(expected)], expected[: len(added)], atol=1e-5)
    assert 0 < np.sqrt(np.mean(added**2)) < 0.01  # small against the 0.21 RMS speech
    silent = OutputConfig(watermarker=watermark.Watermarker(path, 16000, 0.0))
    assert np.array_equal(voice_dsp(speech, PLAIN, silent).samples, speech.samples)
    assert voice_dsp(speech, PLAIN, OutputConfig()) is speech


def _pilot_ratio(wav: bytes) -> float:
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    peak = spectrum[np.abs(freqs - PILOT_HZ) < 5].max()
    around = spectrum[(np.abs(freqs - PILOT_HZ) > 100) & (np.abs(freqs - PILOT_HZ) < 600)]
    return float(peak / np.median(around))


def _fix_stream_header(wav: bytes) -> bytes:
    """A streamed WAV's sizes say 'unknown' (0xFFFFFFFF): write the real ones so soundfile reads it."""
    size = len(wav) - 44
    return wav[:4] + (size + 36).to_bytes(4, "little") + wav[8:40] + size.to_bytes(4, "little") + wav[44:]


@pytest.mark.slow
def test_server_with_a_mounted_model_watermarks_whole_and_streamed_audio(tmp_path, embedded_server):
    path = _save(PilotTone(), tmp_path / "pilot.pt")
    server = ServerProcess(env={"TTS_WATERMARK_MODEL": path}).start()
    body = {"text": "The harbour was quiet before the storm arrived.", "options": {"format": "wav"}}
    try:
        whole = httpx.post(f"{server.url}/synthesize", json=body, timeout=120)
        streamed = httpx.post(
            f"{server.url}/synthesize", json={**body, "options": {"format": "wav", "stream": True}}, timeout=120
        )
    finally:
        server.stop()
    plain = httpx.post(f"{embedded_server.url}/synthesize", json=body, timeout=120)
    assert whole.status_code == streamed.status_code == plain.status_code == 200
    assert _pilot_ratio(whole.content) > 20 and _pilot_ratio(_fix_stream_header(streamed.content)) > 20
    assert _pilot_ratio(plain.content) < 5
