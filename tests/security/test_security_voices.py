"""Security regressions (issue 14), stored voices, against real servers with a tiny cloning model: a voice belongs
to the key that made it (every route answers another key as if it did not exist), admin keys see all and may share,
per-key quota, ownership survives a restart; deleting a voice purges its cached audio (LRU and a real Redis)."""

from __future__ import annotations

import base64
import json

import grpc
import httpx
import numpy as np
import pytest
from jobs_helpers import wait_job
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc as pb_grpc
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

ALICE, BOB, ADMIN = "alice-key", "bob-key", "admin-key"
PER_KEY = 2
TEXT_A = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."
TEXT_B = "Sphinx of black quartz, judge my vow. How vexingly quick daft zebras jump over it."


@pytest.fixture(scope="module")
def cloning_model(tmp_path_factory):
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_models import build_vits

    return build_vits(tmp_path_factory.mktemp("tenancy") / "yourtts", speakers=["ann", "bob"], cloning=True)


def _tenant_env(model, store) -> dict[str, str]:
    return {
        "TTS_MODEL": f"embedded,{model}",
        "TTS_DEVICE": "cpu",
        "TTS_CLONED_VOICES_DIR": str(store),
        # its own jobs database: the default (~/.cache) is shared with every other checkout on the machine
        "TTS_JOBS_DIR": f"{store}-jobs",
        "TTS_API_KEYS": f"{ALICE},{BOB}",
        "TTS_ADMIN_API_KEYS": ADMIN,
        "TTS_MAX_CLONED_VOICES_PER_KEY": str(PER_KEY),
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("tenant-store")


@pytest.fixture(scope="module")
def tenants(cloning_model, store):
    server = ServerProcess(env=_tenant_env(cloning_model, store)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def samples(tenants) -> tuple[bytes, bytes]:
    """Two different ~5 s speech samples (embedded voice)."""
    out = []
    for text in (TEXT_A, TEXT_B):
        res = httpx.post(f"{tenants.url}/synthesize", json={"text": text}, headers=_key(ADMIN), timeout=60)
        assert res.status_code == 200, res.text
        out.append(res.content)
    return out[0], out[1]


def _key(key: str | None) -> dict[str, str]:
    return {"X-API-Key": key} if key else {}


def _upload(server, name: str, data: bytes, key: str | None = None, **extra) -> httpx.Response:
    body = {"name": name, "audio": base64.b64encode(data).decode(), **extra}
    return httpx.post(f"{server.url}/v1/voices", json=body, headers=_key(key), timeout=120)


def _v2(server, text: str, key: str | None = None, **params) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v2/models/tts/infer", json=infer_body([text], seed=7, **params), headers=_key(key), timeout=120
    )


def _audio(res: httpx.Response) -> np.ndarray:
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])[0]


def _listed(server, key: str) -> set[str]:
    return {v["id"] for v in httpx.get(f"{server.url}/v1/voices", headers=_key(key), timeout=10).json()["voices"]}


def _ws_error(server, key: str, voice: str) -> str:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.http_port}/v1/stream", additional_headers=_key(key)) as ws:
        ws.send(json.dumps({"type": "config", "voice": voice}))
        try:
            while True:
                message = ws.recv(timeout=60)
                if isinstance(message, str) and json.loads(message).get("type") == "error":
                    return json.loads(message)["message"]
        except Exception:  # closed by the server
            return ""


def _grpc_code(server, key: str, voice: str) -> grpc.StatusCode:
    text = pb.ModelInferRequest.InferInputTensor(
        name="text", datatype="BYTES", shape=[1], contents=pb.InferTensorContents(bytes_contents=[b"Hi."])
    )
    request = pb.ModelInferRequest(
        model_name="tts", inputs=[text], parameters={"voice": pb.InferParameter(string_param=voice)}
    )
    with grpc.insecure_channel(server.grpc_url) as channel:
        try:
            pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, metadata=[("x-api-key", key)], timeout=60)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_a_stored_voice_is_its_keys_alone(tenants, samples):
    assert _upload(tenants, "alices", samples[0], ALICE).status_code == 201
    try:
        assert "alices" in _listed(tenants, ALICE) and "alices" not in _listed(tenants, BOB)
        assert "alices" not in httpx.get(f"{tenants.url}/v2/models/tts/voices", headers=_key(BOB)).text
        assert httpx.get(f"{tenants.url}/v1/voices/alices", headers=_key(ALICE)).status_code == 200
        assert httpx.get(f"{tenants.url}/v1/voices/alices", headers=_key(BOB)).status_code == 404
        _audio(_v2(tenants, "Hello.", ALICE, voice="alices"))
        # Bob gets exactly what a voice that does not exist gets, on every route.
        for voice in ("alices", "nobodys"):
            res = _v2(tenants, "Hello.", BOB, voice=voice)
            assert (
                res.status_code == 400
                and f"unknown voice '{voice}'" in res.text
                and "alices" not in res.text.replace(f"'{voice}'", "")
            ), res.text
            res = httpx.post(
                f"{tenants.url}/synthesize", json={"text": "Hi.", "options": {"voice": voice}}, headers=_key(BOB)
            )
            assert res.status_code == 400 and "unknown voice" in res.text, res.text
            assert f"unknown voice '{voice}'" in _ws_error(tenants, BOB, voice)
            assert _grpc_code(tenants, BOB, voice) == grpc.StatusCode.INVALID_ARGUMENT
        assert _grpc_code(tenants, ALICE, "alices") == grpc.StatusCode.OK
        ssml = '<speak><voice name="alices">Hello there.</voice></speak>'
        assert _v2(tenants, ssml, BOB, voice="ann").status_code == 400
        assert _v2(tenants, "Hi.", BOB, voice="alices*0.5+ann*0.5").status_code == 400
        # OpenAI maps unknown names onto built-in voices: Bob's "alices" is such a name, not Alice's voice.
        speech = {"model": "tts-1", "input": "Hello there.", "voice": "alices", "response_format": "wav"}
        mine = httpx.post(f"{tenants.url}/v1/audio/speech", json=speech, headers=_key(ALICE), timeout=60)
        theirs = httpx.post(f"{tenants.url}/v1/audio/speech", json=speech, headers=_key(BOB), timeout=60)
        assert mine.status_code == theirs.status_code == 200
        assert mine.headers["x-tts-voice"] == "alices"  # the voice actually used, not the bytes (never equal)
        assert theirs.headers["x-tts-voice"] != "alices" and theirs.headers["x-tts-voice"] in _listed(tenants, BOB)
        job = {"text": "Hello from a job.", "options": {"voice": "alices"}}
        assert httpx.post(f"{tenants.url}/v1/jobs", json=job, headers=_key(BOB), timeout=60).status_code == 400
        res = httpx.post(f"{tenants.url}/v1/jobs", json=job, headers=_key(ALICE), timeout=60)
        assert res.status_code == 202, res.text
        done = wait_job(tenants.url, res.json()["id"], headers=_key(ALICE), timeout_s=120)
        assert done["state"] == "completed", "the worker speaks with its submitter's voices"
        assert httpx.delete(f"{tenants.url}/v1/voices/alices", headers=_key(BOB)).status_code == 404
        assert "alices" in _listed(tenants, ALICE), "Bob's DELETE left it alone"
    finally:
        assert httpx.delete(f"{tenants.url}/v1/voices/alices", headers=_key(ALICE)).status_code == 204


def test_admins_see_all_and_share(tenants, samples):
    assert _upload(tenants, "bobs", samples[0], BOB).status_code == 201
    res = _upload(tenants, "for-all", samples[1], BOB, shared=True)
    assert res.status_code == 403 and "TTS_ADMIN_API_KEYS" in res.json()["error"]["message"]
    assert _upload(tenants, "house", samples[1], ADMIN, shared=True).status_code == 201
    try:
        assert {"bobs", "house"} <= _listed(tenants, ADMIN)
        assert "house" in _listed(tenants, ALICE) and "bobs" not in _listed(tenants, ALICE)
        _audio(_v2(tenants, "Hello.", ALICE, voice="house"))
        _audio(_v2(tenants, "Hello.", ADMIN, voice="bobs"))
        assert httpx.delete(f"{tenants.url}/v1/voices/house", headers=_key(ALICE)).status_code == 404
        assert httpx.delete(f"{tenants.url}/v1/voices/bobs", headers=_key(ADMIN)).status_code == 204
    finally:
        assert httpx.delete(f"{tenants.url}/v1/voices/house", headers=_key(ADMIN)).status_code == 204


def test_per_key_quota_and_ownership_survive_a_restart(tenants, samples, cloning_model, store):
    for i in range(PER_KEY):
        assert _upload(tenants, f"alice-{i}", samples[0], ALICE).status_code == 201
    try:
        full = _upload(tenants, "alice-more", samples[0], ALICE)
        assert (
            full.status_code == 409
            and f"{PER_KEY} stored voices" in full.json()["error"]["message"]
            and "TTS_MAX_CLONED_VOICES_PER_KEY" in full.json()["error"]["message"]
        )
        assert _upload(tenants, "bob-0", samples[1], BOB).status_code == 201, "the quota is per key"
        second = ServerProcess(env=_tenant_env(cloning_model, store)).start()
        try:
            assert {"alice-0", "alice-1"} <= _listed(second, ALICE) and "alice-0" not in _listed(second, BOB)
            assert _v2(second, "Hi.", BOB, voice="alice-0").status_code == 400
            _audio(_v2(second, "Hi.", ALICE, voice="alice-0"))
            assert _upload(second, "alice-more", samples[0], ALICE).status_code == 409, "the quota counts restored ones"
        finally:
            second.stop()
    finally:
        for name, key in (("alice-0", ALICE), ("alice-1", ALICE), ("bob-0", BOB)):
            httpx.delete(f"{tenants.url}/v1/voices/{name}", headers=_key(key))


# -- cache purge on delete -------------------------------------------------------------------------------------
def _check_recreated_narrator_is_not_cached(server, samples, key: str | None = None) -> None:
    """narrator from sample A, spoken (and cached) plainly and through an SSML voice switch (whose cache key holds
    only the request's own voice); deleted; re-created from sample B: the same requests give B's audio."""
    ssml = '<speak>Hi. <voice name="narrator">The same words again.</voice></speak>'
    requests = [("The same words again.", {"voice": "narrator"}), (ssml, {"voice": "ann"})]
    assert _upload(server, "narrator", samples[0], key).status_code == 201
    first = [_audio(_v2(server, text, key, **params)) for text, params in requests]
    for (text, params), audio in zip(requests, first):
        assert np.array_equal(audio, _audio(_v2(server, text, key, **params))), "cached: same audio"
    assert httpx.delete(f"{server.url}/v1/voices/narrator", headers=_key(key), timeout=30).status_code == 204
    assert _upload(server, "narrator", samples[1], key).status_code == 201
    try:
        for (text, params), old in zip(requests, first):
            new = _audio(_v2(server, text, key, **params))
            assert new.shape != old.shape or not np.array_equal(new, old), f"stale audio for {text!r}"
    finally:
        httpx.delete(f"{server.url}/v1/voices/narrator", headers=_key(key), timeout=30)


def test_delete_purges_the_local_cache(tenants, samples):
    _check_recreated_narrator_is_not_cached(tenants, samples, ALICE)


def test_delete_purges_the_shared_redis_cache(cloning_model, samples, tmp_path, redis_server):
    import redis as redis_client

    server = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{cloning_model}",
            "TTS_DEVICE": "cpu",
            "TTS_CLONED_VOICES_DIR": str(tmp_path / "v"),
            "TTS_REDIS_URL": redis_server.url,
            "TTS_CACHE_SHARED": "true",
            "TTS_JOBS_ENABLED": "false",
        }
    ).start()
    try:
        _check_recreated_narrator_is_not_cached(server, samples)
        client = redis_client.Redis(port=redis_server.port)
        assert not [k for k in client.scan_iter("tts:tag:*")], "purged tags are gone"
    finally:
        server.stop()
