"""Ray Serve mode: one kserve front end, two TTSPredictor replicas; concurrent requests spread over both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from server_process import REPO, free_port
from v2_helpers import decode_wav, infer_body

pytest.importorskip("ray.serve", reason="ray[serve] is not installed (pip install 'ray[serve]')")

from tts_predictor.ray.replica import REPLICA_HEADER, RayOptions, ray_options  # noqa: E402
from tts_predictor.settings import Settings, load_settings  # noqa: E402


def settings_of(env: dict[str, str]) -> Settings:
    """Settings as the process would read them from these TTS_* variables."""
    return load_settings(**{name.removeprefix("TTS_").lower(): value for name, value in env.items()})


def ray_options_from_env(env: dict[str, str]) -> RayOptions:
    return ray_options(settings_of(env))


def ray_mode_requested(env: dict[str, str]) -> bool:
    return settings_of(env).ray_mode()


def test_options_from_env() -> None:
    env = {"TTS_RAY_NUM_REPLICAS": "3", "TTS_RAY_NUM_CPUS": "0.5", "TTS_RAY_NUM_GPUS": "0.25"}
    assert ray_mode_requested(env) and not ray_mode_requested({})
    options = ray_options_from_env(env)
    assert (options.num_replicas, options.num_cpus, options.num_gpus) == (3, 0.5, 0.25)
    with pytest.raises(SystemExit, match="TTS_RAY_NUM_REPLICAS: Input should be a valid integer"):
        ray_options_from_env({"TTS_RAY_NUM_REPLICAS": "two"})
    with pytest.raises(SystemExit, match="TTS_RAY_NUM_REPLICAS: Input should be greater than or equal to 1"):
        ray_options_from_env({"TTS_RAY_NUM_REPLICAS": "0"})
    assert not ray_mode_requested({"TTS_RAY_NUM_REPLICAS": " "})  # blank is unset, as before
    assert options.deployment_options(2) == {
        "max_ongoing_requests": 2,
        "ray_actor_options": {"num_cpus": 0.5, "num_gpus": 0.25},
        "num_replicas": 3,
    }


def test_autoscaling_options_from_env() -> None:
    env = {
        "TTS_RAY_MIN_REPLICAS": "1",
        "TTS_RAY_MAX_REPLICAS": "4",
        "TTS_RAY_TARGET_ONGOING_REQUESTS": "2",
        "TTS_RAY_DOWNSCALE_DELAY_S": "10",
    }
    assert ray_mode_requested(env)
    options = ray_options_from_env(env)
    assert options.autoscaling
    assert options.deployment_options(3)["autoscaling_config"] == {
        "min_replicas": 1,
        "initial_replicas": 1,
        "max_replicas": 4,
        "target_ongoing_requests": 2.0,
        "upscale_delay_s": 3.0,
        "downscale_delay_s": 10.0,
    }
    # no target given: TTS_MAX_CONCURRENCY per replica
    assert (
        ray_options_from_env({"TTS_RAY_MAX_REPLICAS": "3"}).deployment_options(4)["autoscaling_config"][
            "target_ongoing_requests"
        ]
        == 4
    )
    with pytest.raises(SystemExit, match="TTS_RAY_MAX_REPLICAS=2 is below the floor 3"):
        ray_options_from_env({"TTS_RAY_MIN_REPLICAS": "3", "TTS_RAY_MAX_REPLICAS": "2"})


RAY_LOG: list[Path] = []
"""The Ray server's log (console spans land there)."""
TRACE_ID = "5cf92f3577b34da6a3ce929d0e0e4737"


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, grpc_port = free_port(), free_port()
    tmp = Path(tmp_path_factory.mktemp("ray"))
    log_path = tmp / "server.log"
    RAY_LOG[:] = [log_path]
    env = {
        **os.environ,
        "TTS_MODEL": "embedded",
        "TTS_JOBS_DIR": str(tmp / "jobs"),
        "TTS_OTEL_ENABLED": "true",
        "TTS_OTEL_SERVICE_NAME": "tts-ray",
        "TTS_RAY_NUM_REPLICAS": "2",
        "TTS_RAY_NUM_CPUS": "1",
        "TTS_RAY_NUM_GPUS": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    with log_path.open("wb") as log:
        # Own session: Ray's raylet/GCS/workers are children we can clean up as one group.
        proc = subprocess.Popen(
            [sys.executable, "-m", "tts_predictor", "serve", "--http_port", str(port), "--grpc_port", str(grpc_port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ray server exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ray server not ready after 120 s:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)  # like the kubelet: PID 1 only; it shuts Ray down itself
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of our session is left
        except ProcessLookupError:
            pass
        proc.wait(5)


def test_two_replicas_serve_concurrent_requests(ray_server: str) -> None:
    text = "Request number {}: the quick brown fox jumps over the lazy dog, twice, to keep a replica busy."

    def one(i: int) -> httpx.Response:
        return httpx.post(f"{ray_server}/v2/models/tts/infer", json=infer_body([text.format(i)]), timeout=60)

    replicas: set[str | None] = set()
    for _round in range(3):  # each replica takes one request at a time; a loaded machine may still serialize a round
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(one, range(4)))
        for answer in answers:
            assert answer.status_code == 200, answer.text
            audio = next(o for o in answer.json()["outputs"] if o["name"] == "audio")
            samples, rate = decode_wav(audio["data"][0])
            assert rate > 0 and len(samples) > 0
        replicas |= {answer.headers.get(REPLICA_HEADER) for answer in answers}
        if len(replicas) >= 2:
            break
    assert None not in replicas
    assert len(replicas) == 2, f"expected both replicas to serve, got {replicas}"


def test_routes_beside_inference(ray_server: str) -> None:
    voices = httpx.get(f"{ray_server}/v2/models/tts/voices", timeout=10)
    assert voices.status_code == 200 and voices.json()["voices"]
    metadata = httpx.get(f"{ray_server}/v2/models/tts", timeout=10)
    assert metadata.status_code == 200 and metadata.json()["inputs"][0]["name"] == "text"
    assert httpx.get(f"{ray_server}/v2/models/tts/ready", timeout=10).status_code == 200
    bad = httpx.post(f"{ray_server}/v2/models/tts/infer", json={"inputs": "nope"}, timeout=10)
    assert bad.status_code == 400


def test_ray_mode_serves_jobs(ray_server: str) -> None:
    """One app assembly: Ray mode has the jobs API and its worker (issue 22; it had none)."""
    from jobs_helpers import wait_job

    text = "The first sentence of a small job. The second sentence of it."
    res = httpx.post(f"{ray_server}/v1/jobs", json={"text": text, "options": {"format": "wav"}}, timeout=30)
    assert res.status_code == 202, res.text
    job = wait_job(ray_server, res.json()["id"], timeout_s=120)
    assert job["state"] == "completed", job
    audio = httpx.get(f"{ray_server}/v1/jobs/{job['id']}/audio", timeout=30)
    samples, rate = decode_wav(audio.content)
    assert rate == 22050 and len(samples) / rate > 2.0


def test_ray_mode_traces_requests(ray_server: str) -> None:
    """One app assembly: Ray mode carries OpenTelemetry spans that continue the caller's trace (it had none)."""
    pytest.importorskip("opentelemetry.instrumentation.fastapi", reason="pip install '.[otel]'")
    res = httpx.post(
        f"{ray_server}/v2/models/tts/infer",
        json=infer_body(["Hello there."]),
        headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
        timeout=60,
    )
    assert res.status_code == 200, res.text
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and f'"trace_id": "0x{TRACE_ID}"' not in RAY_LOG[0].read_text(errors="replace"):
        time.sleep(0.3)
    log = RAY_LOG[0].read_text(errors="replace")
    assert f'"trace_id": "0x{TRACE_ID}"' in log and '"service.name": "tts-ray"' in log, log[-3000:]
    assert '"name": "POST /v2/models/{model_name}/infer"' in log
