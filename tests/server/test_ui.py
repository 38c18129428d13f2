"""The web UI at /ui in real headless Chromium (Playwright driving the system's /usr/bin/chromium).

The page records performance.now() at the click and when the first audible sample plays (Web Audio: the
scheduled time of the first non-silent sample; <audio>: an AnalyserNode in the element's graph), so the test
reads the page's own measurement. The 1 s bound is the issue's target on a 30-sentence text; the first
sentence alone takes ~0.2 s on a quiet 2-core machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/tts-ui.png")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
THIRTY_SENTENCES = " ".join(f"This is sentence number {i + 1} of a long text read aloud." for i in range(30))
FIRST_AUDIO_BOUND_MS = 1000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(embedded_server: ServerProcess) -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{embedded_server.url}/ui", wait_until="load")
            page.wait_for_function("document.querySelectorAll('#voice option').length > 0", timeout=30000)
            yield page
        finally:
            browser.close()


def _speak(page, text: str, fmt: str, ssml: bool = False) -> dict:
    page.fill("#text", text)
    page.set_checked("#ssml", ssml)
    page.select_option("#format", fmt)
    page.click("#speak")
    page.wait_for_function("window.ttsMetrics.done", timeout=120000)
    return page.evaluate("window.ttsMetrics")


def test_ui_is_served(embedded_server: ServerProcess) -> None:
    r = httpx.get(f"{embedded_server.url}/ui", follow_redirects=True)
    assert r.status_code == 200 and "Speak" in r.text
    for asset in ("app.js", "app.css"):
        assert httpx.get(f"{embedded_server.url}/ui/static/{asset}").status_code == 200


def test_every_option_is_on_the_page(page) -> None:
    assert page.get_attribute("#speed", "min") == "0.25" and page.get_attribute("#speed", "max") == "4"
    for control in ("#pitch", "#volume", "#emotion", "#style", "#language", "#ssml", "#apikey"):
        assert page.query_selector(control) is not None, control
    assert "happy" in page.eval_on_selector("#emotion", "s => [...s.options].map(o => o.value)")
    formats = page.eval_on_selector("#format", "s => [...s.options].map(o => o.value)")
    assert {"pcm", "mp3", "wav", "opus", "aac", "ogg", "flac"} <= set(formats)
    page.click("#ssml-example")
    assert page.input_value("#text").startswith("<speak>") and page.is_checked("#ssml")


def test_sound_starts_within_a_second_on_thirty_sentences(page) -> None:
    metrics = _speak(page, THIRTY_SENTENCES, "pcm")
    assert "error" not in page.text_content("#status"), page.text_content("#status")
    first_byte_ms = metrics["firstByteAt"] - metrics["clickAt"]
    first_audible_ms = metrics["firstAudibleAt"] - metrics["clickAt"]
    print(f"click -> first byte {first_byte_ms:.0f} ms, first audible sample {first_audible_ms:.0f} ms")
    assert page.get_attribute("#download", "href").startswith("blob:")
    words = page.eval_on_selector_all("#transcript .w", "ws => ws.map(w => w.textContent)")
    assert len(words) >= 30 * 10 and words[:3] == ["This", "is", "sentence"]  # every word, from the typed text
    page.wait_for_selector("#transcript .w.now", timeout=15000)  # the word being spoken is highlighted
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    # sound comes from the stream, not from the whole body: the first sample is scheduled before the last byte
    # arrives (30 sentences take seconds to synthesize; playback is scheduled ~30 ms after a chunk arrives)
    assert metrics["firstAudibleAt"] < metrics["lastByteAt"], metrics
    if first_audible_ms >= FIRST_AUDIO_BOUND_MS and os.getloadavg()[0] > 1.5 * (os.cpu_count() or 1):
        pytest.xfail(
            f"first audible sample after {first_audible_ms:.0f} ms on an overloaded machine "
            f"(load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); the bound is for a quiet one"
        )
    assert 0 < first_audible_ms < FIRST_AUDIO_BOUND_MS


def test_mp3_plays_through_media_source(page) -> None:
    metrics = _speak(page, "An mp3 stream. It plays while it arrives.", "mp3")
    assert "error" not in page.text_content("#status"), page.text_content("#status")
    page.wait_for_function("window.ttsMetrics.firstAudibleAt !== null", timeout=30000)
    assert page.eval_on_selector("#player", "a => a.src.startsWith('blob:')")
    assert int(page.get_attribute("#status", "data-bytes")) > 2000
    assert metrics["firstByteAt"] is not None


def test_error_clears_old_results(page) -> None:
    _speak(page, "A first result.", "pcm")
    assert not page.is_hidden("#download")
    page.evaluate("document.getElementById('speed').max = '100'; document.getElementById('speed').value = '50'")
    _speak(page, "This one fails.", "pcm")
    assert "error" in page.text_content("#status") and "speed" in page.text_content("#status")
    assert page.is_hidden("#download") and page.is_hidden("#transcript")
    page.evaluate("document.getElementById('speed').max = '4'; document.getElementById('speed').value = '1'")


def test_ndjson_stream_interleaves_audio_and_events(embedded_server: ServerProcess) -> None:
    body = {"text": "One sentence here. And another one.", "options": {"format": "pcm", "stream": True}}
    with httpx.stream(
        "POST", f"{embedded_server.url}/synthesize", json=body, timeout=60, headers={"Accept": "application/x-ndjson"}
    ) as r:
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in r.iter_lines() if line]
    kinds = [m["type"] for m in lines]
    assert kinds[0] == "start" and kinds[-1] == "end" and lines[0]["sample_rate"] == 22050
    assert kinds.index("audio") < kinds.index("segment") and kinds.count("segment") == 2


def test_page_loads_with_api_keys_on_and_sends_the_key() -> None:
    server = ServerProcess(env={"TTS_API_KEYS": "page-secret"}).start()
    try:
        for path in ("/ui/", "/ui/static/app.js", "/ui/static/app.css"):
            assert httpx.get(f"{server.url}{path}", timeout=30).status_code == 200, path
        assert httpx.get(f"{server.url}/voices", timeout=30).status_code == 401
        body = {"text": "Keyed.", "options": {"format": "pcm", "stream": True}}
        r = httpx.post(
            f"{server.url}/synthesize",
            json=body,
            timeout=60,
            headers={"Authorization": "Bearer page-secret", "Accept": "application/x-ndjson"},
        )
        assert r.status_code == 200 and '"type":"end"' in r.text
    finally:
        server.stop()
