"""Quality feedback on a real server: rate a synthesis by its X-Request-Id, read it back lowest-rated first, hostile
bodies refused with the field named; and the admin page in headless Chromium showing a key's usage and feedback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess

KEY, OTHER, ADMIN = "key-fb-1", "key-fb-2", "key-fb-admin"
TEXT = "Dr. Smith paid $5 on 3 May."
CHROMIUM = Path("/usr/bin/chromium")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "TTS_API_KEYS": f"{KEY},{OTHER}",
        "TTS_ADMIN_API_KEYS": ADMIN,
        "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("feedback-store")),
        "TTS_FEEDBACK_STORE_TEXT": "true",
        "TTS_FEEDBACK_PER_MINUTE": "30",
    }
    process = ServerProcess(env=env).start()
    yield process
    process.stop()


def speak(server: ServerProcess, key: str = KEY) -> str:
    body = {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "wav"}
    r = httpx.post(f"{server.url}/v1/audio/speech", json=body, headers=auth(key), timeout=60)
    assert r.status_code == 200
    return r.headers["x-request-id"]


def post(server: ServerProcess, body: object, key: str = KEY) -> httpx.Response:
    url, headers = f"{server.url}/v1/feedback", auth(key)
    if isinstance(body, str):  # raw JSON text
        return httpx.post(url, content=body, headers={**headers, "content-type": "application/json"}, timeout=30)
    return httpx.post(url, json=body, headers=headers, timeout=30)


def test_feedback_round_trips_lowest_rated_first(server: ServerProcess) -> None:
    good, bad = speak(server), speak(server)
    assert post(server, {"request_id": good, "rating": 5}).status_code == 201
    tags = [{"tag": "mispronunciation", "span": {"start": 0, "end": 3}}, "wrong_number_reading"]
    r = post(server, {"request_id": bad, "rating": 2, "tags": tags, "comment": "Dr. read as drive ✓ — ünïcode"})
    assert r.status_code == 201, r.text
    listed = httpx.get(f"{server.url}/v1/admin/feedback", headers=auth(ADMIN), timeout=30).json()["feedback"]
    assert [f["request_id"] for f in listed[:2]] == [bad, good]
    first = listed[0]
    assert first["rating"] == 2 and first["comment"] == "Dr. read as drive ✓ — ünïcode"
    assert first["tags"] == [
        {"tag": "mispronunciation", "span": {"start": 0, "end": 3}},
        {"tag": "wrong_number_reading"},
    ]
    assert first["voice"] != "-" and first["format"] == "wav" and first["route"] == "openai"
    assert "doctor" in first["text"].lower() and "five dollars" in first["text"].lower()  # normalized, not as sent
    assert first["text_sha256"] == hashlib.sha256(first["text"].encode()).hexdigest()


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"request_id": "no-such-request", "rating": 3}, 404, "no-such-request"),
        ({"request_id": "{rid}", "rating": 3, "comment": "x" * 1001}, 400, "comment"),
        ({"request_id": "{rid}", "rating": 3, "tags": ["too_loud"]}, 400, "audio_glitch"),
        ({"request_id": "{rid}", "rating": 3, "comment": "bell\x07"}, 400, "comment"),
        ('{"request_id": "{rid}", "rating": 3, "comment": "\\ud800"}', 400, "comment"),  # a lone surrogate, as JSON
        ({"request_id": "{rid}", "rating": 6}, 400, "rating"),
        ({"request_id": "{rid}", "rating": True}, 400, "rating"),
        ({"request_id": "{rid}", "rating": 3, "tags": [{"tag": "mispronunciation", "span": {"start": 5, "end": 999}}]},
         400, "tags[0].span"),
        ({"request_id": "{rid}", "rating": 3, "tags": [{"tag": "other", "span": {"start": 0, "end": 1}}]},
         400, "tags[0].span"),
        ({"request_id": "{rid}", "rating": 3, "extra": 1}, 400, "extra"),
        ({"request_id": "\x00" * 10, "rating": 3}, 400, "request_id"),
        (["not", "an", "object"], 400, "body"),
    ],
)  # fmt: skip
def test_hostile_feedback_is_refused_naming_the_field(
    server: ServerProcess, body: object, status: int, named: str
) -> None:
    rid = speak(server)
    if isinstance(body, dict) and body.get("request_id") == "{rid}":
        body = {**body, "request_id": rid}
    elif isinstance(body, str):
        body = body.replace("{rid}", rid)
    r = post(server, body)
    assert r.status_code == status, r.text
    assert named in r.json()["error"]["message"]


def test_another_key_cannot_rate_my_request(server: ServerProcess) -> None:
    rid = speak(server)
    assert post(server, {"request_id": rid, "rating": 1}, key=OTHER).status_code == 404


def test_feedback_is_rate_limited_per_key(server: ServerProcess) -> None:
    answers = [post(server, {"request_id": "unknown", "rating": 1}, key=OTHER) for _ in range(35)]
    limited = [a for a in answers if a.status_code == 429]  # TTS_FEEDBACK_PER_MINUTE=30: a burst of 30, then refused
    assert limited and "TTS_FEEDBACK_PER_MINUTE" in limited[0].json()["error"]["message"]
    assert post(server, {"request_id": "unknown", "rating": 1}).status_code == 404  # the other key is not limited


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.slow
def test_admin_page_shows_a_keys_usage_and_feedback(server: ServerProcess, browser) -> None:
    rid = speak(server)
    assert post(server, {"request_id": rid, "rating": 1, "comment": "shown on the admin page"}).status_code == 201
    usage = httpx.get(f"{server.url}/v1/admin/usage", headers=auth(ADMIN), timeout=30).json()["rows"]
    mine = hashlib.sha256(KEY.encode()).hexdigest()[:24]
    expected = sum(r["requests"] for r in usage if r["key"] == mine)
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/ui/admin/", wait_until="load")
        page.fill("#admin-key", ADMIN)
        page.click("#load")
        page.wait_for_function("document.body.dataset.loaded === 'true'", timeout=30000)
        row = page.locator(f'#keys tr[data-key="{mine}"]')
        assert int(row.locator("td.requests").inner_text()) == expected >= 3
        assert int(row.locator("td.characters").inner_text()) == sum(r["characters"] for r in usage if r["key"] == mine)
        comments = page.locator("#feedback td.comment").all_inner_texts()
        assert "Dr. read as drive ✓ — ünïcode" in comments
        assert page.locator("#feedback td.rating").first.inner_text() == "1"  # lowest rated first
        assert page.locator("#chart polyline, #chart circle").count() >= 1
        page.fill("#admin-key", KEY)  # a valid key that is not an admin key
        page.click("#load")
        page.wait_for_function("document.getElementById('error').textContent.includes('403')", timeout=30000)
    finally:
        page.close()
