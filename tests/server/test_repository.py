"""Model repository extension: load and unload speech models at run time; beyond TTS_MAX_MODELS the pool evicts."""

from __future__ import annotations

import shutil

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(coqui_models, tmp_path_factory):
    voices_dir = tmp_path_factory.mktemp("repository")
    shutil.copytree(coqui_models["multi"], voices_dir / "trio")
    shutil.copytree(coqui_models["single"], voices_dir / "solo")
    proc = ServerProcess(
        env={
            "TTS_MODEL": "embedded",
            "TTS_VOICES_DIR": str(voices_dir),
            "TTS_LOAD_VOICES_DIR": "false",
            "TTS_MAX_MODELS": "2",
            "TTS_DEVICE": "cpu",
        }
    ).start()
    yield proc
    proc.stop()


def _states(server) -> dict[str, str]:
    res = httpx.post(f"{server.url}/v2/repository/index", timeout=10)
    assert res.status_code == 200, res.text
    return {m["name"]: m["state"] for m in res.json()}


def _speak(server, voice: str, model: str = "tts") -> httpx.Response:
    return httpx.post(f"{server.url}/v2/models/{model}/infer", json=infer_body(["Hello."], voice=voice), timeout=60)


def _repo(server, name: str, action: str) -> httpx.Response:
    return httpx.post(f"{server.url}/v2/repository/models/{name}/{action}", timeout=120)


def test_load_use_unload(server):
    assert _states(server) == {
        "tts": "READY",
        "en_US-joe-medium": "READY",
        "trio": "UNAVAILABLE",
        "solo": "UNAVAILABLE",
    }
    ready = httpx.post(f"{server.url}/v2/repository/index", json={"ready": True}, timeout=10).json()
    assert [m["name"] for m in ready] == ["tts", "en_US-joe-medium"]
    assert _speak(server, "alice").status_code == 400

    assert _repo(server, "trio", "load").status_code == 200
    assert _states(server)["trio"] == "READY"
    assert _speak(server, "alice").status_code == 200, "the main model routes to the loaded model's voices"
    assert httpx.get(f"{server.url}/v2/models/trio/ready", timeout=10).status_code == 200
    assert _speak(server, "bob", model="trio").status_code == 200, "each loaded model is also served by name"
    assert "alice" in {v["id"] for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}

    assert _repo(server, "solo", "load").status_code == 200, "beyond TTS_MAX_MODELS the pool evicts, not refuses"
    models = httpx.get(f"{server.url}/ready", timeout=10).json()["models"]
    assert models == {"en_US-joe-medium": "unloaded", "trio": "loaded", "solo": "loaded"}, "the least recently used"
    assert _speak(server, "en_US-joe-medium").status_code == 200, "an evicted model reloads on use"
    assert httpx.get(f"{server.url}/ready", timeout=10).json()["models"]["en_US-joe-medium"] == "loaded"
    assert _repo(server, "solo", "unload").status_code == 200

    assert _repo(server, "trio", "unload").status_code == 200
    assert _states(server)["trio"] == "UNAVAILABLE"
    res = _speak(server, "alice")
    assert res.status_code == 400 and "unknown voice 'alice'" in res.json()["error"]
    assert httpx.get(f"{server.url}/v2/models/trio/ready", timeout=10).status_code == 404

    assert _repo(server, "solo", "load").status_code == 200, "room again after the unload"
    assert _speak(server, "solo").status_code == 200
    assert _repo(server, "solo", "unload").status_code == 200


def test_bad_repository_requests(server):
    bad = httpx.post(f"{server.url}/v2/repository/index", content=b"[1]", timeout=10)
    assert bad.status_code == 400 and '{"ready": true}' in bad.json()["error"]
    assert _repo(server, "nobody", "load").status_code == 404  # kserve's 503 for every load failure, made precise
    assert "available: " in _repo(server, "nobody", "load").text
    assert _repo(server, "nobody", "unload").status_code == 404
    assert _repo(server, "tts", "unload").status_code == 400
    last = _repo(server, "en_US-joe-medium", "unload")
    assert last.status_code == 400 and "last loaded model" in last.text
    assert _speak(server, "en_US-joe-medium").status_code == 200
