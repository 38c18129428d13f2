"""The light install (`pip install tts-predictor`, no extras): every API serves the Piper voice without torch.

No second install: a `sitecustomize` shim (tests/support/light_install.py) hides every module the base
dependencies do not bring (torch, TTS, torchaudio, c2pa, nats...), in the real server and in `say`.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from jobs_helpers import wait_job
from light_install import shim_env
from server_process import REPO, ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body
from ws_helpers import stream_messages

pytestmark = pytest.mark.slow
TEXT = "The light install speaks. It needs no torch."


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment that hides everything outside the base install."""
    return shim_env(tmp_path_factory.mktemp("light-shim"), REPO / "pyproject.toml")


@pytest.fixture(scope="module")
def light_server(shim: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """The embedded voice served by a process that cannot import any extra."""
    cache = tmp_path_factory.mktemp("light-cache")
    env = {**shim, "TTS_CACHE_DIR": str(cache), "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("light-jobs"))}
    server = ServerProcess(env=env).start()
    yield server
    server.stop()


def run_python(shim: dict[str, str], *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python *args` in the repository with the shim, the embedded voice and `env`."""
    environ = {"PATH": "/usr/bin:/bin", "TTS_MODEL": "embedded", **shim, **env}
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, timeout=300, env=environ)


def test_shim_hides_the_extras_and_keeps_the_base(shim: dict[str, str]) -> None:
    """torch, Coqui TTS and the extras' packages are gone; onnxruntime and onnx (base dependencies) are there."""
    for module in ("torch", "torchaudio", "TTS", "c2pa", "nats", "opentelemetry.sdk"):
        result = run_python(shim, "-c", f"import {module}")
        assert result.returncode == 1 and b"not in the light install" in result.stderr, module
    assert run_python(shim, "-c", "import onnxruntime, onnx, kserve, opentelemetry.trace").returncode == 0


def test_v2_rest_with_word_timings(light_server: ServerProcess) -> None:
    """V2 REST: audio, and word timings (the `onnx` package edits the voice's graph: a base dependency)."""
    r = httpx.post(f"{light_server.url}/v2/models/tts/infer", json=infer_body([TEXT], timings=True), timeout=120)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    assert rate == 22050 and len(samples) / rate > 1.5 and np.abs(samples).max() > 0.05
    words = [w["text"] for s in json.loads(outputs["timings"]["data"][0]) for w in s["words"]]
    assert words[:3] == ["The", "light", "install"], words


def test_v2_grpc(light_server: ServerProcess) -> None:
    """V2 over gRPC with kserve's client."""
    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([TEXT.encode()], dtype=np.object_), binary_data=True)
    audio = grpc_audio(light_server.grpc_url, InferRequest(model_name="tts", infer_inputs=[text], parameters={}))
    assert audio[:4] == b"RIFF" and len(audio) > 20_000


def test_openai_speech_and_streamed_synthesize(light_server: ServerProcess) -> None:
    """/v1/audio/speech (mp3, voice name mapped) and a chunked /synthesize stream, pitch-shifted and slowed
    (without librosa, an extra's package, the DSP falls back to overlap-add)."""
    body = {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "mp3"}
    r = httpx.post(f"{light_server.url}/v1/audio/speech", json=body, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg" and len(r.content) > 2000
    body = {"text": TEXT, "options": {"format": "pcm", "stream": True, "pitch": 2, "speed": 0.8}}
    with httpx.stream("POST", f"{light_server.url}/synthesize", json=body, timeout=120) as r:
        data = b"".join(r.iter_bytes())
    assert r.status_code == 200 and r.headers["x-streamed"] == "true"
    assert len(data) / 2 / 22050 > 1.5  # s16le at the voice's rate


def test_websocket_stream(light_server: ServerProcess) -> None:
    """/v1/stream: text pieces in, a segment per sentence with word timings, then the end."""
    messages = stream_messages(light_server.url, ["The light install ", "speaks. It needs ", "no torch."])
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("segment") == 2, kinds
    assert any(m.get("words") for m in messages if m["type"] == "segment")


def test_job_voices_and_page(light_server: ServerProcess) -> None:
    """A long-form job runs to completion; the voice listing and the web page are served."""
    r = httpx.post(f"{light_server.url}/v1/jobs", json={"text": TEXT}, timeout=60)
    assert r.status_code == 202, r.text
    assert wait_job(light_server.url, r.json()["id"])["state"] == "completed"
    audio = httpx.get(f"{light_server.url}/v1/jobs/{r.json()['id']}/audio", timeout=60)
    assert audio.status_code == 200 and sf.info(io.BytesIO(audio.content)).duration > 1.5
    voices = httpx.get(f"{light_server.url}/voices", timeout=30).json()
    assert voices["default_voice"] == "en_US-joe-medium"
    page = httpx.get(f"{light_server.url}/ui/", timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_say_with_an_int8_voice(shim: dict[str, str], tmp_path: Path) -> None:
    """The offline CLI, with the low-memory profile's int8 quantization (onnxruntime + onnx) and one thread."""
    out = tmp_path / "int8.wav"
    env = {"TTS_COMPUTE_TYPE": "int8", "TTS_THREADS": "1", "TTS_CACHE_DIR": str(tmp_path / "cache")}
    result = run_python(shim, "-m", "tts_predictor", "say", TEXT, "-o", str(out), "--no-progress", **env)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    samples, rate = sf.read(out)
    assert rate == 22050 and len(samples) / rate > 1.5
    assert list((tmp_path / "cache").glob("int8-*/*.onnx"))  # the quantized copy really was made


@pytest.mark.parametrize(
    ("setting", "extra"),
    [("TTS_MODEL", "coqui"), ("TTS_WATERMARK_MODEL", "coqui"), ("TTS_C2PA_CERT_FILE", "c2pa")],
)
def test_a_feature_of_an_extra_says_which(shim: dict[str, str], tmp_path: Path, setting: str, extra: str) -> None:
    """A Coqui model directory, a watermark model, content credentials on the light install: one line naming
    the extra and the pip command, no traceback."""
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.pth").write_bytes(b"\0")
    env = {setting: str(tmp_path if setting == "TTS_MODEL" else tmp_path / "model.pth")}
    if setting == "TTS_C2PA_CERT_FILE":
        env["TTS_C2PA_KEY_FILE"] = str(tmp_path / "model.pth")
    result = run_python(shim, "-m", "tts_predictor", "say", "Hello.", "-o", str(tmp_path / "x.wav"), **env)
    assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr.decode()[-2000:]
    assert f"needs the '{extra}' extra".encode() in result.stderr
    assert f"pip install 'tts-predictor[{extra}]'".encode() in result.stderr
