"""Coqui VITS through ONNX Runtime (TTS_COQUI_BACKEND=onnx) and int8 ONNX voices (TTS_COMPUTE_TYPE=int8)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from asr import transcribe_sentences, word_error_rate
from server_process import ServerProcess
from v2_helpers import decode_wav

pytestmark = pytest.mark.slow
pytest.importorskip("onnx", reason="the ONNX backend needs onnx + onnxscript")

HOP = 256  # tiny models: upsample rates 8*8*4
# Same float32 graph, same weights: torch (MKL/oneDNN) and ONNX Runtime differ only in the order of the
# float32 accumulations, measured at <= 6e-8 absolute on these models (peak amplitude 0.01-0.09). 1e-5
# leaves two orders of headroom for other CPUs/kernels yet is ~1000x below what a wrong speaker, language
# or scale produces (checked below), so the test still has teeth. Lengths come from ceil(durations): a
# rounding flip could move one frame, hence +- one hop.
ATOL = 1e-5


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh export cache for this module (TTS_CACHE_DIR)."""
    path = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TTS_CACHE_DIR", str(path))
        yield path


def _noiseless(torch_engine, onnx_engine) -> None:
    torch_engine.model.inference_noise_scale = torch_engine.model.inference_noise_scale_dp = 0.0
    onnx_engine.noise_scale = onnx_engine.noise_scale_dp = 0.0


@pytest.mark.parametrize("kind", ["single", "multi", "multilingual"])
def test_torch_onnx_parity(coqui_models, cache, kind):
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine
    from tts_predictor.engines.coqui.onnx_export import CoquiOnnxEngine

    ref = CoquiEngine(coqui_models[kind], device="cpu", threads=2)
    onnx = CoquiOnnxEngine(coqui_models[kind], device="cpu", threads=2, cache=cache)
    assert onnx.kind == "coqui-onnx" and onnx.device == "cpu"
    assert [(v.id, v.languages, v.speaker) for v in onnx.voices()] == [
        (v.id, v.languages, v.speaker) for v in ref.voices()
    ]
    _noiseless(ref, onnx)
    outputs = {}
    for i, voice in enumerate(onnx.voices()):  # every language and a speed on the first voice, then speakers
        for language in voice.languages if i == 0 else voice.languages[:1]:
            for speed in (1.0, 0.5) if i == 0 else (1.0,):
                request = SynthesisRequest("Hello there, how are you today?", voice, language, speed)
                a, b = ref.synthesize(request).samples, onnx.synthesize(request).samples
                assert abs(a.size - b.size) <= HOP, (voice.id, language, speed)
                n = min(a.size, b.size)
                assert np.abs(a[:n] - b[:n]).max() < ATOL, (voice.id, language, speed)
                outputs[voice.id, language, speed] = b
    distinct = list({k[:2]: v for k, v in outputs.items()}.values())
    for other in distinct[1:]:  # different speaker or language ids really change the audio
        n = min(other.size, distinct[0].size)
        assert np.abs(other[:n] - distinct[0][:n]).max() > 100 * ATOL


def test_export_is_cached(coqui_models, cache):
    from tts_predictor.engines.coqui.onnx_export import CoquiOnnxEngine

    first = CoquiOnnxEngine(coqui_models["multi"], device="cpu", threads=1, cache=cache)
    mtime = first.onnx_path.stat().st_mtime_ns
    second = CoquiOnnxEngine(coqui_models["multi"], device="cpu", threads=1, cache=cache)
    assert not second.exported and second.onnx_path == first.onnx_path
    assert second.onnx_path.stat().st_mtime_ns == mtime
    assert second.onnx_path.parent == cache


def test_int8_export_speaks(coqui_models, cache):
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.onnx_export import CoquiOnnxEngine

    fp32 = CoquiOnnxEngine(coqui_models["single"], device="cpu", threads=1, cache=cache)
    int8 = CoquiOnnxEngine(coqui_models["single"], device="cpu", threads=1, compute_type="int8", cache=cache)
    assert int8.onnx_path != fp32.onnx_path and int8.onnx_path.name.endswith("-int8.onnx")
    assert int8.onnx_path.stat().st_size < fp32.onnx_path.stat().st_size
    fp32.noise_scale = fp32.noise_scale_dp = int8.noise_scale = int8.noise_scale_dp = 0.0
    voice = int8.voices()[0]
    request = SynthesisRequest("A quantized model still speaks.", voice, voice.languages[0])
    a, b = fp32.synthesize(request).samples, int8.synthesize(request).samples
    assert np.isfinite(b).all() and np.abs(b).max() > 0
    # Noise off, both are deterministic: the int8 graph is the float32 one within quantization error. Measured:
    # same length, 35.6 dB signal-to-error; 20 dB leaves room for other CPUs' int8 kernels, and is far above
    # what a wrong graph, mis-calibrated ranges or another speaker gives. Not equal: it really is quantized.
    assert abs(a.size - b.size) <= HOP
    n = min(a.size, b.size)
    error = a[:n] - b[:n]
    assert 10 * np.log10(np.sum(np.square(a[:n])) / np.sum(np.square(error))) > 20
    assert np.abs(error).max() > 0


def test_invalid_precision_combinations(coqui_models, cache):
    from tts_predictor.engines.coqui.onnx_export import CoquiOnnxEngine
    from tts_predictor.engines.registry import load_engine
    from tts_predictor.errors import ModelLoadError
    from tts_predictor.settings import Settings

    with pytest.raises(ModelLoadError, match="float16 needs a CUDA"):
        CoquiOnnxEngine(coqui_models["single"], device="cpu", compute_type="float16", cache=cache)
    model = str(coqui_models["single"])
    for settings, message in [
        (Settings(model=model, compute_type="int8"), "int8 needs TTS_COQUI_BACKEND=onnx"),
        (Settings(model="embedded", compute_type="float16"), "float16 is not supported"),
        (Settings(model=model, compute_type="float16", coqui_backend="onnx", device="cpu"), "float16 needs a CUDA"),
    ]:
        with pytest.raises(ModelLoadError, match=message):
            load_engine(settings)
    engine = load_engine(Settings(model=model, coqui_backend="onnx", device="cpu", threads=1))
    assert type(engine).__name__ == "CoquiOnnxEngine"


def test_server_with_onnx_backend(coqui_models, cache):
    env = {"TTS_MODEL": str(coqui_models["multi"]), "TTS_COQUI_BACKEND": "onnx", "TTS_DEVICE": "cpu"}
    server = ServerProcess(env={**env, "TTS_CACHE_DIR": str(cache)}).start()
    try:
        body = {
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["Hello."]}],
            "parameters": {"voice": "bob"},
        }
        res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=60)
        assert res.status_code == 200, res.text
        samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
        assert rate == 22050 and samples.size > 0
        listing = httpx.get(f"{server.url}/v2/models/tts/voices", timeout=10).json()
        assert listing["engine"] == "coqui-onnx" and "bob" in [v["id"] for v in listing["voices"]]
    finally:
        server.stop()


def _piper_wer(engine, whisper_model) -> tuple[float, int]:
    # Noise off: the sampled noise is unseeded, so with noise on the comparison would measure luck rather
    # than quantization.
    engine.config = dataclasses.replace(engine.config, noise_scale=0.0, noise_w=0.0)
    reference, hypothesis = transcribe_sentences(engine, whisper_model)
    return word_error_rate(reference, hypothesis), len(reference)


# Static int8 costs the embedded voice a few words: measured on 326 words, noise off, float32 1 word wrong and
# int8 8 (+2.1 points) on an AMD EPYC (Zen 4, VNNI); which words flip depends on the CPU's int8 kernels. 5 points
# is 16 words of the 326: wide enough that no CPU's kernel choice flips the test, yet a quantization that really
# breaks the voice (a wrong calibration or scale: tens of points) fails it. The figures are in docs/performance.md.
INT8_WER_SLACK = 0.05


def test_int8_piper_voice_intelligibility(whisper, cache):
    from tts_predictor.engines.registry import load_engine
    from tts_predictor.settings import Settings

    fp32 = load_engine(Settings(model="embedded", device="cpu", threads=2))
    int8 = load_engine(Settings(model="embedded", device="cpu", threads=2, compute_type="int8"))
    assert [v.id for v in int8.voices()] == [v.id for v in fp32.voices()]
    (wer32, words), (wer8, _) = _piper_wer(fp32, whisper), _piper_wer(int8, whisper)
    print(f"WER over {words} words: float32 {wer32:.3f}, int8 {wer8:.3f}")
    assert words >= 300
    assert wer8 <= wer32 + INT8_WER_SLACK
