"""Security regressions (issue 23), the request budget side, against a real server with a tiny cloning model:
uploaded audio whose header declares absurd rates, channels or sizes is refused before decoding (finding 5), the
audio of all items of one request is capped together (finding 9), and stored beds are bounded and owned (finding 6).

RSS is sampled with psutil on the server's pid while the attack runs: the bound is on the peak over the baseline.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from hostile_audio import flac_declaring, silence, speech_like, vorbis_declaring
from server_process import ServerProcess
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

KEY_A, KEY_B, ADMIN = "budget-key-a", "budget-key-b", "budget-admin"
REQUEST_AUDIO_S = 30
BED_MAX_S, BEDS_PER_KEY = 20, 2
RSS_BOUND = 100e6
"""Growth allowed while an attack runs (the bombs below would unpack 150 MB-1 GB each)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_models import build_vits

    root = tmp_path_factory.mktemp("attack3")
    model = build_vits(root / "yourtts", speakers=["ann", "bob"], cloning=True)
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{model}",
            "TTS_DEVICE": "cpu",
            "TTS_CLONED_VOICES_DIR": str(root / "store"),
            "TTS_API_KEYS": f"{KEY_A},{KEY_B}",
            "TTS_ADMIN_API_KEYS": ADMIN,
            "TTS_BED_MAX_SECONDS": str(BED_MAX_S),
            "TTS_MAX_BEDS_PER_KEY": str(BEDS_PER_KEY),
            "TTS_MAX_REQUEST_AUDIO_SECONDS": str(REQUEST_AUDIO_S),
            "TTS_BEDS_DIR": str(root / "beds"),
            "TTS_CACHE_MAX_BYTES": "0",
        }
    ).start()
    yield proc
    proc.stop()


def _key(key: str = KEY_A) -> dict[str, str]:
    return {"X-API-Key": key}


def _peak_rss_growth(server: ServerProcess, attack: Callable[[], object]) -> tuple[float, object]:
    """Run `attack` while sampling the server's RSS; (peak - baseline, what `attack` returned)."""
    proc = psutil.Process(server.proc.pid)
    base = proc.memory_info().rss
    peak, done = [base], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = attack()
    finally:
        done.set()
        sampler.join()
    return peak[0] - base, result


def _v2_with_sample(server: ServerProcess, sample: bytes, texts: list[str] | None = None) -> httpx.Response:
    body = infer_body(texts or ["Hi."])
    body["inputs"].append(
        {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(sample).decode()]}
    )
    return httpx.post(f"{server.url}/v2/models/tts/infer", json=body, headers=_key(), timeout=120)


def _voice_upload(server: ServerProcess, name: str, sample: bytes) -> httpx.Response:
    body = {"name": name, "audio": base64.b64encode(sample).decode()}
    return httpx.post(f"{server.url}/v1/voices", json=body, headers=_key(), timeout=120)


# -- finding 5: decode bombs through the header ------------------------------------------------------------------
HEADER_BOMBS = {
    "flac-1048575Hz-8ch": (flac_declaring(silence("FLAC", 1, 48000, 8), rate=1_048_575), "TTS_MAX_UPLOAD_SAMPLE_RATE"),
    "vorbis-1GHz": (
        vorbis_declaring(silence("OGG", 1, 48000, 1, "VORBIS"), 1_000_000_000),
        "TTS_MAX_UPLOAD_SAMPLE_RATE",
    ),
    "flac-192kHz-8ch-15s": (silence("FLAC", 15, 192_000, 8), "TTS_MAX_REQUEST_DECODED_BYTES"),
}


@pytest.mark.parametrize("name", sorted(HEADER_BOMBS))
def test_header_bombs_are_refused_before_decoding(server, name):
    bomb, setting = HEADER_BOMBS[name]
    assert len(bomb) < 100_000
    growth, responses = _peak_rss_growth(
        server, lambda: [_v2_with_sample(server, bomb), _voice_upload(server, "bomb", bomb)]
    )
    for res in responses:
        assert res.status_code == 400 and setting in res.text, res.text
    assert growth < RSS_BOUND, f"RSS grew {growth / 1e6:.0f} MB"


def test_parallel_sample_bombs_stay_bounded(server):
    """Four V2 requests at once, each carrying 92 MB of declared float32: all refused, memory flat."""
    bomb = HEADER_BOMBS["flac-192kHz-8ch-15s"][0]

    def attack() -> list[httpx.Response]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda _: _v2_with_sample(server, bomb), range(4)))

    growth, responses = _peak_rss_growth(server, attack)
    assert all(r.status_code == 400 and "TTS_MAX_REQUEST_DECODED_BYTES" in r.text for r in responses)
    assert growth < RSS_BOUND, f"RSS grew {growth / 1e6:.0f} MB"


def test_a_sample_within_the_budget_still_clones(server):
    res = _v2_with_sample(server, speech_like("WAV", 5, 22050))
    assert res.status_code == 200, res.text


# -- finding 9: the audio of all items of a request -----------------------------------------------------------------
PAUSED = '<speak>Hi.<break time="10s"/><break time="10s"/></speak>'
"""About 20 s of audio: within the per-text cap, two of them past the request's 30 s."""


def test_total_audio_across_v2_items_is_capped(server):
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer", json=infer_body([PAUSED, PAUSED]), headers=_key(), timeout=120
    )
    assert res.status_code == 400 and "TTS_MAX_REQUEST_AUDIO_SECONDS" in res.text and "30" in res.text, res.text
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body([PAUSED]), headers=_key(), timeout=120)
    assert res.status_code == 200, res.text


def test_total_audio_across_grpc_items_is_capped(server):
    """gRPC has no gateway: preprocess opens the request's budget."""
    import grpc
    from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
    from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc

    def infer(texts: list[str]) -> grpc.RpcError | None:
        tensor = pb.ModelInferRequest.InferInputTensor(
            name="text",
            datatype="BYTES",
            shape=[len(texts)],
            contents=pb.InferTensorContents(bytes_contents=[t.encode() for t in texts]),
        )
        with grpc.insecure_channel(server.grpc_url) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            try:
                stub.ModelInfer(
                    pb.ModelInferRequest(model_name="tts", inputs=[tensor]),
                    metadata=[("x-api-key", KEY_A)],
                    timeout=120,
                )
            except grpc.RpcError as exc:
                return exc
        return None

    refused = infer([PAUSED, PAUSED])
    assert refused is not None and refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "TTS_MAX_REQUEST_AUDIO_SECONDS" in refused.details()
    assert infer([PAUSED]) is None, "one item is within the budget: a fresh budget per call"


def test_total_audio_across_batch_items_is_capped(server):
    body = {"items": [{"text": PAUSED}, {"text": PAUSED}], "format": "wav"}
    res = httpx.post(f"{server.url}/batch_synthesize", json=body, headers=_key(), timeout=120)
    assert res.status_code == 400 and "TTS_MAX_REQUEST_AUDIO_SECONDS" in res.text, res.text


def test_total_audio_of_a_websocket_session_is_capped(server):
    websockets = pytest.importorskip("websockets")
    sentence = "The quick brown fox jumps over the lazy dog near the riverbank on a sunny afternoon. "
    url = server.url.replace("http://", "ws://") + "/v1/stream"

    async def run() -> list[dict]:
        got: list[dict] = []
        async with websockets.connect(url, additional_headers=_key()) as ws:
            for _ in range(12):  # about 4 s each: 48 s in one session
                await ws.send(json.dumps({"type": "text", "text": sentence}))
            await ws.send(json.dumps({"type": "close"}))
            try:
                async for message in ws:
                    if isinstance(message, str):
                        got.append(json.loads(message))
            except websockets.ConnectionClosed as closed:
                got.append({"type": "closed", "code": closed.rcvd.code if closed.rcvd else None})
        return got

    messages = asyncio.run(run())
    errors = [m for m in messages if m["type"] == "error"]
    assert errors and "TTS_MAX_REQUEST_AUDIO_SECONDS" in errors[0]["message"], messages[-3:]
    spoken = max((m["end_s"] for m in messages if m["type"] == "segment"), default=0)
    assert spoken <= REQUEST_AUDIO_S + 5
    assert messages[-1] == {"type": "closed", "code": 1008}


# -- finding 6: beds without limits or owners -------------------------------------------------------------------------
def _bed(server: ServerProcess, name: str, data: bytes, key: str = KEY_A, **fields: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/beds",
        data={"name": name, **fields},
        files={"file": (f"{name}.flac", data)},
        headers=_key(key),
        timeout=120,
    )


def _beds(server: ServerProcess, key: str) -> list[str]:
    return httpx.get(f"{server.url}/v1/beds", headers=_key(key), timeout=30).json()["beds"]


def test_a_long_bed_is_refused_from_its_header(server):
    """An hour of 48 kHz audio is a 37 KB-class FLAC: refused before decoding (it took +1.7 GB)."""
    hour = silence("FLAC", 3600, 48000)
    assert len(hour) < 1_000_000
    growth, res = _peak_rss_growth(server, lambda: _bed(server, "hour", hour))
    assert res.status_code == 400 and "3600.0 s" in res.text and f"{BED_MAX_S:g} s" in res.text, res.text
    assert growth < RSS_BOUND, f"RSS grew {growth / 1e6:.0f} MB"
    for name, (bomb, setting) in HEADER_BOMBS.items():
        res = _bed(server, "bomb", bomb)
        assert res.status_code == 400 and setting in res.text, (name, res.text)


def test_beds_have_owners(server):
    tone = speech_like("FLAC", 3, 22050)
    assert _bed(server, "a-bed", tone, KEY_A).status_code == 201
    assert "a-bed" in _beds(server, KEY_A) and "a-bed" not in _beds(server, KEY_B)
    taken = _bed(server, "a-bed", tone, KEY_B)  # it replaced key A's bed before
    assert taken.status_code == 409 and "exists" in taken.text, taken.text
    body = infer_body(["Hello there."], bed="a-bed")
    used = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, headers=_key(KEY_B), timeout=120)
    assert used.status_code == 400 and "unknown bed" in used.text, used.text
    mine = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, headers=_key(KEY_A), timeout=120)
    assert mine.status_code == 200, mine.text
    assert httpx.delete(f"{server.url}/v1/beds/a-bed", headers=_key(KEY_B)).status_code == 404
    assert _bed(server, "a-bed", tone, KEY_A).status_code == 201, "the owner may replace it"
    assert "a-bed" in _beds(server, ADMIN)
    assert _bed(server, "b-shared", tone, KEY_B, shared="true").status_code == 403
    assert _bed(server, "shared-bed", tone, ADMIN, shared="true").status_code == 201
    assert "shared-bed" in _beds(server, KEY_B)


def test_beds_per_key_are_capped(server):
    tone = speech_like("FLAC", 2, 16000)
    codes = [_bed(server, f"q{i}", tone, KEY_B).status_code for i in range(BEDS_PER_KEY + 1)]
    assert codes[:BEDS_PER_KEY] == [201] * BEDS_PER_KEY
    res = _bed(server, "q-over", tone, KEY_B)
    assert res.status_code == 409 and "TTS_MAX_BEDS_PER_KEY" in res.text, res.text
    for i in range(BEDS_PER_KEY):
        assert httpx.delete(f"{server.url}/v1/beds/q{i}", headers=_key(KEY_B)).status_code == 204
