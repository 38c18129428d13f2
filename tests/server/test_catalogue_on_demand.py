"""A request naming a Piper catalogue voice no model serves: downloaded in the background from a real local mirror,
verified, served, evicted under TTS_MAX_MODELS and reloaded from the cache; a corrupted download and an offline
server fail with a 400 naming the voice. Nothing touches the internet.

The mirror serves copies of the embedded voice under catalogue names (real sizes and MD5s), so a fetched voice
really speaks: Whisper hears it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from asr import heard
from piper_mirror import PiperMirror
from prom_metrics import metric
from server_process import ServerProcess
from v2_helpers import decode_wav

from tts_predictor.engines.onnx.vits import embedded_voice_paths

pytestmark = pytest.mark.slow

ALBA, KIM, BAD = "en_GB-alba-medium", "en_US-kim-medium", "en_US-broken-medium"


@pytest.fixture(scope="module")
def mirror():
    server = PiperMirror()
    model, config = embedded_voice_paths()
    for key in (ALBA, KIM, BAD):
        paths = server.add_voice(key, model, config)
        if key == BAD:
            server.corrupt.add(paths["model"])
    server.start()
    yield server
    server.stop()


def _server(mirror: PiperMirror, cache, **env: str) -> ServerProcess:
    return ServerProcess(
        env={
            "TTS_PIPER_VOICES_URL": mirror.url,
            "TTS_CACHE_DIR": str(cache),
            "TTS_CACHE_MAX_BYTES": "0",
            **env,
        }
    ).start()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def server(mirror, cache):
    """The embedded voice only, at most one model loaded at a time."""
    process = _server(mirror, cache, TTS_MAX_MODELS="1")
    yield process
    process.stop()


def speak(url: str, voice: str, text: str = "The weather is lovely today.") -> httpx.Response:
    return httpx.post(
        f"{url}/v1/audio/speech",
        json={"model": "tts-1", "input": text, "voice": voice, "response_format": "wav"},
        timeout=120,
    )


def speak_when_ready(url: str, voice: str, limit_s: float = 90) -> tuple[httpx.Response, int]:
    """Retry while the answer is 503 with Retry-After (the download runs), as a client would; (answer, 503s)."""
    deadline, waits = time.monotonic() + limit_s, 0
    while True:
        res = speak(url, voice)
        if res.status_code != 503 or time.monotonic() > deadline:
            return res, waits
        assert res.headers.get("retry-after"), res.headers
        waits += 1
        time.sleep(0.5)


def test_a_catalogue_voice_is_downloaded_on_first_request_and_speaks(server, mirror, whisper):
    """The first request starts the download and gets a 503 with Retry-After; the retry is served by the voice."""
    res, waits = speak_when_ready(server.url, ALBA)
    assert res.status_code == 200, res.text
    assert waits >= 1
    samples, rate = decode_wav(res.content)
    assert heard(whisper, samples, rate, {"weather", "lovely", "today"}) >= {"weather", "lovely"}
    assert mirror.count(f"{ALBA}.onnx") == 1
    assert ALBA in [v["id"] for v in httpx.get(f"{server.url}/v1/voices", timeout=30).json()["voices"]]


def test_concurrent_first_requests_share_one_download(server, mirror):
    """Six clients ask for a voice nobody has fetched: all are served, the mirror sends its file once."""
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: speak_when_ready(server.url, KIM)[0], range(6)))
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers if a.status_code != 200]
    assert mirror.count(f"{KIM}.onnx") == 1


def test_an_evicted_catalogue_voice_reloads_from_the_cache(server, mirror):
    """With TTS_MAX_MODELS=1, using one voice evicts the other; asking for it again reloads it (no new download)."""
    assert speak_when_ready(server.url, ALBA)[0].status_code == 200
    assert speak_when_ready(server.url, KIM)[0].status_code == 200
    assert metric(server.url, "tts_model_evictions_total", model=ALBA) >= 1
    reloads = metric(server.url, "tts_model_loads_total", model=ALBA, reason="reload")
    res = speak(server.url, ALBA)
    assert res.status_code == 200, res.text
    assert metric(server.url, "tts_model_loads_total", model=ALBA, reason="reload") == reloads + 1
    assert mirror.count(f"{ALBA}.onnx") == 1


def test_a_corrupted_download_is_refused_and_leaves_nothing(server, mirror, cache):
    """The mirror's bytes do not match the index's MD5: the voice's requests end in a 400 naming it, and no file of
    it is left in the cache."""
    res, _ = speak_when_ready(server.url, BAD)
    assert res.status_code == 400, res.text
    message = res.json()["error"]["message"]
    assert BAD in message and "md5" in message.lower()
    assert not list(cache.rglob(f"{BAD}*"))


def test_offline_server_names_the_voice_and_how_to_pull_it(mirror, tmp_path_factory):
    """HF_HUB_OFFLINE with the voice not cached: a 400 naming the voice and `voices pull`, nothing asked of the
    mirror."""
    before = mirror.count(f"{ALBA}.onnx")
    process = _server(mirror, tmp_path_factory.mktemp("offline-cache"), HF_HUB_OFFLINE="1")
    try:
        res = speak(process.url, ALBA)
    finally:
        process.stop()
    assert res.status_code == 400, res.text
    message = res.json()["error"]["message"]
    assert ALBA in message and "voices pull" in message
    assert mirror.count(f"{ALBA}.onnx") == before


def test_plain_unknown_voice_stays_a_fast_400(server, mirror):
    """An id that is not shaped like a catalogue voice never reaches the catalogue (/synthesize: a 400; /v1 maps
    unknown names by hash, as OpenAI names it may add)."""
    index_reads = mirror.count("voices.json")
    res = httpx.post(
        f"{server.url}/synthesize", json={"text": "Hello.", "options": {"voice": "nobody-here"}}, timeout=60
    )
    assert res.status_code == 400, res.text
    assert "nobody-here" in res.text
    assert mirror.count("voices.json") == index_reads
