"""Usage analytics and quality feedback on a real server with API keys, an admin key and a SQLite store directory.

Ground truth is what the test sent: the number of requests per key and route, the characters of their texts, the
owner ids computed here from the keys (SHA-256, first 24 hex digits, as docs/admin.md documents). The flush
interval is an hour, so usage that survives the restart was written by the shutdown flush.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess

KEYS = {"alice": "key-alice-1", "bob": "key-bob-2"}
ADMIN = "key-admin-0"
OPENAI_TEXTS = ["Hello there.", "Second clip, a bit longer.", "Three."]
REST_TEXTS = ["Bob speaks once.", "And twice, with more words."]


def owner(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def server_env(store: Path, **extra: str) -> dict[str, str]:
    return {
        "TTS_API_KEYS": ",".join(KEYS.values()),
        "TTS_ADMIN_API_KEYS": ADMIN,
        "TTS_JOBS_DIR": str(store),
        "TTS_USAGE_FLUSH_S": "3600",
        "TTS_CACHE_MAX_BYTES": "0",
        **extra,
    }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("usage-store")


@pytest.fixture(scope="module")
def restarted(store: Path) -> Iterator[ServerProcess]:
    """Traffic on a first server, stopped (SIGTERM) before anything read its usage; a second on the same store."""
    first = ServerProcess(env=server_env(store)).start()
    try:
        for text in OPENAI_TEXTS:
            body = {"model": "tts-1", "input": text, "voice": "alloy", "response_format": "wav"}
            r = httpx.post(f"{first.url}/v1/audio/speech", json=body, headers=auth(KEYS["alice"]), timeout=60)
            assert r.status_code == 200, r.text
        for text in REST_TEXTS:
            body = {"text": text, "options": {"format": "wav"}}
            r = httpx.post(f"{first.url}/synthesize", json=body, headers=auth(KEYS["bob"]), timeout=60)
            assert r.status_code == 200, r.text
        bad = {"model": "tts-1", "input": "Hi.", "voice": "alloy", "temperature": 1}
        r = httpx.post(f"{first.url}/v1/audio/speech", json=bad, headers=auth(KEYS["bob"]), timeout=60)
        assert r.status_code == 400
    finally:
        first.stop()
    second = ServerProcess(env=server_env(store)).start()
    yield second
    second.stop()


def usage_rows(server: ServerProcess, **query: str) -> list[dict]:
    r = httpx.get(f"{server.url}/v1/admin/usage", params=query, headers=auth(ADMIN), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def totals(rows: list[dict], key: str, route: str, ok: bool = True) -> dict[str, float]:
    mine = [r for r in rows if r["key"] == owner(key) and r["route"] == route and (r["format"] != "-") == ok]
    return {f: sum(r[f] for r in mine) for f in ("requests", "errors", "characters", "audio_seconds")}


def test_usage_survives_a_restart_and_matches_the_requests_sent(restarted: ServerProcess) -> None:
    rows = usage_rows(restarted, group="day")
    alice = totals(rows, KEYS["alice"], "openai")
    assert (alice["requests"], alice["errors"]) == (3, 0)
    assert alice["characters"] == sum(len(t) for t in OPENAI_TEXTS)
    assert alice["audio_seconds"] > 0
    bob = totals(rows, KEYS["bob"], "synthesize")
    assert (bob["requests"], bob["errors"], bob["characters"]) == (2, 0, sum(len(t) for t in REST_TEXTS))
    failed = totals(rows, KEYS["bob"], "openai", ok=False)
    assert (failed["requests"], failed["errors"]) == (1, 1)
    assert {r["key"] for r in rows} == {owner(KEYS["alice"]), owner(KEYS["bob"])}  # hashed: never the key itself
    assert all(r["latency_p50_s"] is not None and r["latency_p95_s"] >= r["latency_p50_s"] for r in rows)


def test_hours_add_up_to_the_days_and_csv_parses(restarted: ServerProcess) -> None:
    hours, days = usage_rows(restarted, group="hour"), usage_rows(restarted, group="day")
    assert sum(r["requests"] for r in hours) == sum(r["requests"] for r in days) == 6
    r = httpx.get(f"{restarted.url}/v1/admin/usage?format=csv", headers=auth(ADMIN), timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(r.text)))
    assert sum(int(p["requests"]) for p in parsed) == 6
    assert sum(int(p["characters"]) for p in parsed if p["key"] == owner(KEYS["alice"])) == sum(map(len, OPENAI_TEXTS))


def test_new_traffic_is_counted_on_the_next_read(restarted: ServerProcess) -> None:
    before = totals(usage_rows(restarted), KEYS["alice"], "openai")["requests"]
    body = {"model": "tts-1", "input": "One more.", "voice": "alloy", "response_format": "mp3"}
    r = httpx.post(f"{restarted.url}/v1/audio/speech", json=body, headers=auth(KEYS["alice"]), timeout=60)
    assert r.status_code == 200
    assert totals(usage_rows(restarted), KEYS["alice"], "openai")["requests"] == before + 1


def test_admin_routes_need_an_admin_key(restarted: ServerProcess) -> None:
    for path in ("/v1/admin/usage", "/v1/admin/feedback", "/v1/admin/status", "//v1//admin/usage"):
        r = httpx.get(f"{restarted.url}{path}", headers=auth(KEYS["alice"]), timeout=30)
        assert r.status_code == 403, path
        error = r.json()["error"]  # OpenAI's shape on /v1/..., KServe's on a path that does not start with it
        assert "TTS_ADMIN_API_KEYS" in (error if isinstance(error, str) else error["message"])
        assert httpx.get(f"{restarted.url}{path}", timeout=30).status_code == 401
    assert httpx.get(f"{restarted.url}/v1/admin/status", headers=auth(ADMIN), timeout=30).json()["usage"] is True


@pytest.mark.parametrize(
    ("query", "param"),
    [("from=yesterday", "from"), ("group=week", "group"), ("format=xml", "format"), ("from=9e12&to=0", "from")],
)
def test_bad_usage_queries_name_the_parameter(restarted: ServerProcess, query: str, param: str) -> None:
    r = httpx.get(f"{restarted.url}/v1/admin/usage?{query}", headers=auth(ADMIN), timeout=30)
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith(param)


def test_without_admin_keys_the_admin_routes_are_off(tmp_path: Path) -> None:
    server = ServerProcess(env={"TTS_JOBS_DIR": str(tmp_path)}).start()
    try:
        r = httpx.get(f"{server.url}/v1/admin/usage", timeout=30)
        assert r.status_code == 403 and "none is configured" in r.json()["error"]["message"]
    finally:
        server.stop()


def test_usage_in_redis_survives_a_restart(redis_server, tmp_path: Path) -> None:
    """The Redis store (TTS_REDIS_URL): the same traffic counted, flushed at shutdown, read by the next server."""
    env = server_env(tmp_path, TTS_REDIS_URL=redis_server.url)
    first = ServerProcess(env=env).start()
    try:
        for text in OPENAI_TEXTS:
            body = {"model": "tts-1", "input": text, "voice": "alloy", "response_format": "wav"}
            r = httpx.post(f"{first.url}/v1/audio/speech", json=body, headers=auth(KEYS["alice"]), timeout=60)
            assert r.status_code == 200, r.text
    finally:
        first.stop()
    assert not (tmp_path / "usage.sqlite3").exists()  # the rows went to Redis, not to the jobs directory
    second = ServerProcess(env=env).start()
    try:
        alice = totals(usage_rows(second, group="day"), KEYS["alice"], "openai")
        assert (alice["requests"], alice["characters"]) == (3, sum(len(t) for t in OPENAI_TEXTS))
    finally:
        second.stop()
