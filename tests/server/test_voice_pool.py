"""Voice pool on a real server: least-recently-used eviction under TTS_MAX_MODELS and TTS_MODELS_MEMORY_MB, reloads
on use with one load for many waiting requests, progressive loading at start, and a flood across more voices than
the pool holds."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest
from prom_metrics import metric
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

from tts_predictor.engines.onnx.vits import embedded_voice_paths

pytestmark = pytest.mark.slow
DEFAULT = "en_US-joe-medium"


def copy_voices(root: Path, names: list[str]) -> Path:
    """Copies of the embedded voice under other names (each its own model of the pool)."""
    model, config = embedded_voice_paths()
    for name in names:
        shutil.copy(model, root / f"{name}.onnx")
        shutil.copy(config, root / f"{name}.onnx.json")
    return root


def start(root: Path, **env: str) -> ServerProcess:
    """A server with the embedded voice first and the voices of `root` after it."""
    return ServerProcess(
        env={"TTS_VOICES_DIR": str(root), "TTS_DEVICE": "cpu", "TTS_CACHE_MAX_BYTES": "0", **env}
    ).start()


def states(url: str) -> dict[str, str]:
    """Each model's state from /ready."""
    res = httpx.get(f"{url}/ready", timeout=10)
    assert res.status_code == 200, res.text
    return res.json()["models"]


def settle(url: str) -> dict[str, str]:
    """The model states once no start-up load runs any more."""
    for _ in range(600):
        now = states(url)
        if "loading" not in now.values():
            return now
        time.sleep(0.2)
    raise AssertionError(f"models still loading: {now}")


def speak(url: str, voice: str, text: str = "The quick brown fox jumps over the lazy dog.") -> np.ndarray:
    """The samples of `text` in `voice` (asserting a 200)."""
    res = httpx.post(f"{url}/v2/models/tts/infer", json=infer_body([text], voice=voice), timeout=180)
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])[0]


def assert_speech_like(samples: np.ndarray, reference: np.ndarray) -> None:
    """Real speech of about the reference's length and energy (the voice is not deterministic: no byte compare)."""
    rms, ref_rms = float(np.sqrt(np.mean(samples**2))), float(np.sqrt(np.mean(reference**2)))
    assert 0.7 < len(samples) / len(reference) < 1.4, (len(samples), len(reference))
    assert ref_rms > 0.01 and 0.5 < rms / ref_rms < 2.0, (rms, ref_rms)


@pytest.fixture(scope="module")
def pool_server(tmp_path_factory):
    server = start(copy_voices(tmp_path_factory.mktemp("pool"), ["a", "b", "c"]), TTS_MAX_MODELS="2")
    yield server
    server.stop()


def test_least_recently_used_model_is_evicted_and_reloads(pool_server):
    """a, b, c with room for two: a is evicted (counted), and asking for a again reloads it into real speech."""
    url = pool_server.url
    assert settle(url) == {DEFAULT: "loaded", "a": "loaded", "b": "unloaded", "c": "unloaded"}, "start: two fit"
    voices = {v["id"] for v in httpx.get(f"{url}/v1/voices", timeout=10).json()["voices"]}
    assert {DEFAULT, "a", "b", "c"} <= voices, "unloaded models' voices are listed too"
    listing = httpx.get(f"{url}/v2/models/tts/voices", timeout=10).json()
    assert listing["models"] == {DEFAULT: "loaded", "a": "loaded", "b": "unloaded", "c": "unloaded"}
    first = speak(url, "a")
    speak(url, "b")
    speak(url, "c")
    assert states(url) == {DEFAULT: "unloaded", "a": "unloaded", "b": "loaded", "c": "loaded"}
    assert metric(url, "tts_model_evictions_total", model="a", reason="count") == 1
    assert metric(url, "tts_models_loaded") == 2
    again = speak(url, "a")
    assert metric(url, "tts_model_loads_total", model="a", reason="reload") == 1
    assert metric(url, "tts_model_cold_start_seconds_count") >= 3  # b, c cold; a reloaded
    assert_speech_like(again, first)
    assert_speech_like(speak(url, DEFAULT), first), "the default voice's model was evicted too, and reloads"


def test_concurrent_requests_for_an_evicted_model_share_one_load(pool_server):
    """Eight requests at once for an evicted voice: one load, every request answered with audio."""
    url = pool_server.url
    speak(url, "a")
    speak(url, "c")  # now a and c are loaded, b is not
    assert states(url)["b"] == "unloaded"
    before = metric(url, "tts_model_loads_total", model="b")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: speak(url, "b", "Many hands make light work."), range(8)))
    assert metric(url, "tts_model_loads_total", model="b") - before == 1
    assert all(len(r) > 8000 for r in results)


def test_memory_budget_evicts(tmp_path):
    """With a budget smaller than three voices, loading the third evicts by memory and the estimate stays within."""
    server = start(copy_voices(tmp_path, ["a", "b", "c"]), TTS_MAX_MODELS="8", TTS_MODELS_MEMORY_MB="160")
    try:
        url = server.url
        settle(url)
        for voice in ["a", "b", "c", DEFAULT]:
            assert len(speak(url, voice)) > 8000
        assert metric(url, "tts_model_evictions_total", reason="memory") >= 2
        assert metric(url, "tts_model_evictions_total", reason="count") == 0
        assert 0 < metric(url, "tts_models_memory_bytes") <= 160 * 2**20
        assert list(states(url).values()).count("loaded") <= 2
    finally:
        server.stop()


def test_slow_second_model_loads_in_the_background(tmp_path):
    """A slow second model does not delay readiness: /ready says it is loading, and a request for it waits."""
    server = start(copy_voices(tmp_path, ["slowpoke"]), TTS_TEST_SLOW_MODEL_LOAD="slowpoke=6")
    try:
        url = server.url
        ready = httpx.get(f"{url}/v2/health/ready", timeout=10)
        assert ready.status_code == 200
        assert ready.json()["models"] == {DEFAULT: "loaded", "slowpoke": "loading"}
        assert len(speak(url, DEFAULT)) > 8000, "the default voice answers meanwhile"
        assert len(speak(url, "slowpoke")) > 8000, "a request for the loading voice waits for it"
        assert states(url) == {DEFAULT: "loaded", "slowpoke": "loaded"}
        assert metric(url, "tts_model_loads_total", model="slowpoke") == 1, "the request waited, no second load"
        assert metric(url, "tts_model_loads_total", model="slowpoke", reason="start") == 1
    finally:
        server.stop()


def _resources(pid: int) -> tuple[int, int, int]:
    proc = psutil.Process(pid)
    return proc.num_threads(), proc.num_fds(), len(proc.children(recursive=True))


def test_flood_across_more_voices_than_the_pool_holds(tmp_path):
    """Hostile: requests cycling through five voices with room for two: no 5xx, at most two loaded after each
    round, and a second round leaves no more threads, files or child processes than the first."""
    names = ["a", "b", "c", "d"]
    server = start(copy_voices(tmp_path, names), TTS_MAX_MODELS="2", TTS_MAX_CONCURRENCY="2", TTS_MAX_QUEUE="200")
    try:
        url = server.url
        settle(url)
        cycle = [DEFAULT, *names]

        def one(i: int) -> int:
            body = infer_body(["Flood."], voice=cycle[i % len(cycle)])
            return httpx.post(f"{url}/v2/models/tts/infer", json=body, timeout=300).status_code

        after = []
        for _ in range(2):
            with ThreadPoolExecutor(6) as pool:
                codes = list(pool.map(one, range(20)))
            assert codes == [200] * 20, codes
            assert metric(url, "tts_models_loaded") <= 2
            assert list(states(url).values()).count("loaded") <= 2
            after.append(_resources(server.proc.pid))
        (threads1, fds1, kids1), (threads2, fds2, kids2) = after
        assert threads2 <= threads1 + 2 and fds2 <= fds1 + 4 and kids2 <= kids1, after
        assert metric(url, "tts_model_evictions_total") >= 10
    finally:
        server.stop()


def test_model_that_fails_to_load_is_a_503_not_a_500(tmp_path):
    """A corrupt voice file: listed, its load fails (state 'failed'), requests for it get a 503 naming the model
    (tried again each time), and the other voices keep working."""
    root = copy_voices(tmp_path, ["broken"])
    (root / "broken.onnx").write_bytes(b"not an onnx graph" * 100)
    server = start(root)
    try:
        url = server.url
        assert settle(url) == {DEFAULT: "loaded", "broken": "failed"}
        for _ in range(2):
            res = httpx.post(f"{url}/v2/models/tts/infer", json=infer_body(["Hi."], voice="broken"), timeout=60)
            assert res.status_code == 503 and "broken" in res.json()["error"], res.text
        assert len(speak(url, DEFAULT)) > 8000
    finally:
        server.stop()
