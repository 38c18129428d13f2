"""The web UI at /ui in real headless Chromium (Playwright driving the system's /usr/bin/chromium).

The page records performance.now() at the click and when the first audible sample plays (Web Audio: the
scheduled time of the first non-silent sample; <audio>: an AnalyserNode in the element's graph), so the test
reads the page's own measurement. The test asserts the structure (the first sample plays before the last byte
arrives: the page streams), not a time: click-to-sound is measured by the benchmark, never asserted here.

The playback tests act like a person: Speak a long text, Pause, Resume, Stop mid-stream (the download slowed by
Chromium's own network emulation so it is still running), Speak twice, replay from the history, type past the
limit, load at 390 px. What is audible is read from the page's audio objects (window.ttsAudio); a failing test
leaves a screenshot under pytest's base temp folder, ui-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser(embedded_server: ServerProcess) -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, server: ServerProcess, **context):
    page = browser.new_page(**context)
    page.goto(f"{server.url}/ui", wait_until="load")
    page.wait_for_function("document.querySelectorAll('#voice option').length > 0", timeout=30000)
    return page


def _screenshot_if_failed(request: pytest.FixtureRequest, artifacts: Path, page, failed_before: int) -> None:
    """A test failed while this page was open: keep what the page showed under the run's artifacts folder."""
    if request.session.testsfailed > failed_before:
        path = artifacts / f"{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failing page: {path}")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of failing pages (pytest's base temp folder, ui-artifacts/)."""
    return tmp_path_factory.mktemp("ui-artifacts", numbered=False)


@pytest.fixture(scope="module")
def page(browser, embedded_server: ServerProcess, request: pytest.FixtureRequest, artifacts: Path) -> Iterator:
    page = _open(browser, embedded_server)
    failed_before = request.session.testsfailed
    yield page
    _screenshot_if_failed(request, artifacts, page, failed_before)
    page.close()


@dataclass
class Tab:
    """A fresh /ui tab for one test, with what went wrong on the wire."""

    page: Any
    aborted: list[str] = field(default_factory=list)
    """URLs of requests that failed (the page's Stop aborts its fetch: net::ERR_ABORTED)."""
    bad_responses: list[str] = field(default_factory=list)
    """'status url' of every response >= 400 (a favicon 404 would land here)."""


@pytest.fixture
def tab(browser, embedded_server: ServerProcess, request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Tab]:
    page = browser.new_page()
    seen = Tab(page)
    page.on("requestfailed", lambda r: seen.aborted.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: seen.bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{embedded_server.url}/ui", wait_until="load")
    page.wait_for_function("document.querySelectorAll('#voice option').length > 0", timeout=30000)
    failed_before = request.session.testsfailed
    yield seen
    _screenshot_if_failed(request, artifacts, page, failed_before)
    page.close()


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
    for asset in ("app.js", "player.js", "app.css"):
        assert httpx.get(f"{embedded_server.url}/ui/static/{asset}").status_code == 200


def test_every_option_is_on_the_page(page) -> None:
    assert page.get_attribute("#speed", "data-min") == "0.25" and page.get_attribute("#speed", "data-max") == "4"
    for control in ("#pitch", "#volume", "#emotion", "#style", "#language", "#ssml", "#apikey"):
        assert page.query_selector(control) is not None, control
    assert "happy" in page.eval_on_selector("#emotion", "s => [...s.options].map(o => o.value)")
    formats = page.eval_on_selector("#format", "s => [...s.options].map(o => o.value)")
    assert {"pcm", "mp3", "wav", "opus", "aac", "ogg", "flac"} <= set(formats)
    page.click("#ssml-example")
    assert page.input_value("#text").startswith("<speak>") and page.is_checked("#ssml")


def test_sound_starts_before_the_download_ends_on_thirty_sentences(page) -> None:
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
    assert first_audible_ms > 0


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
    # the slider is log2 of the speed: 8 -> 256x, past the API's bound
    page.evaluate("document.getElementById('speed').max = '10'; document.getElementById('speed').value = '8'")
    _speak(page, "This one fails.", "pcm")
    assert "error" in page.text_content("#status") and "speed" in page.text_content("#status")
    assert page.is_hidden("#download") and page.is_hidden("#transcript")
    page.evaluate("document.getElementById('speed').max = '2'; document.getElementById('speed').value = '0'")


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


def test_page_loads_with_api_keys_on_and_sends_the_key(browser) -> None:
    server = ServerProcess(env={"TTS_API_KEYS": "page-secret", "TTS_MAX_TEXT_CHARS": "300"}).start()
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/ui", wait_until="load")
        page.wait_for_function("document.getElementById('status').textContent.includes('API key')", timeout=30000)
        assert page.is_visible("#status.error")
        page.fill("#apikey", "page-secret")
        page.dispatch_event("#apikey", "change")  # what leaving the field does
        page.wait_for_function("document.querySelectorAll('#voice option').length > 0", timeout=30000)
        page.wait_for_function("document.getElementById('count').textContent.includes('/ 300 ')", timeout=30000)
        page.fill("#text", "Keyed in the browser.")
        page.click("#speak")
        page.wait_for_function("window.ttsMetrics.done", timeout=60000)
        assert "error" not in page.text_content("#status") and page.is_visible("#history")
        page.close()
        for path in ("/ui/", "/ui/static/app.js", "/ui/static/player.js", "/ui/static/app.css"):
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


# --- Playback controls, like a person uses them ---------------------------------------------------------------------
# What is audible is read from the page's own audio objects (window.ttsAudio, player.js): connected Web Audio source
# nodes still scheduled or playing, and <audio> elements that are not paused; the clock is AudioContext.currentTime
# for pcm/wav (Web Audio) and the <audio> element's currentTime for the other formats.

FORMATS = ["pcm", "wav", "mp3", "aac", "opus", "ogg", "flac"]
WEB_AUDIO = {"pcm", "wav"}
FOURTEEN_SENTENCES = " ".join(f"Sentence {i + 1} is here, and it goes on for a while." for i in range(14))
OTHER_TEXT = " ".join(f"A different clip, part {i + 1}, with words of its own." for i in range(14))
SOUNDING = "window.ttsAudio.sounding()"
PLAYERS_SOUNDING = "window.ttsAudio.playersSounding()"


def _clock(fmt: str) -> str:
    return "window.ttsAudio.contextTime()" if fmt in WEB_AUDIO else "document.getElementById('player').currentTime"


def _start(page, text: str, fmt: str) -> None:
    page.fill("#text", text)
    page.select_option("#format", fmt)
    page.click("#speak")


def _wait_playing(page, fmt: str) -> float:
    """Until the clip is audible and its clock moves; returns the clock then."""
    page.wait_for_function("window.ttsMetrics.state === 'playing'", timeout=120000)
    start = page.evaluate(_clock(fmt))
    page.wait_for_function(f"{_clock(fmt)} > {start} + 0.1", timeout=30000)
    return page.evaluate(_clock(fmt))


def _throttle(page, bytes_per_s: int) -> None:
    """Chromium's own network emulation: the download stays slower than playback, so Stop lands mid-stream."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": bytes_per_s, "uploadThroughput": -1},
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_pause_resume_and_stop_while_playing(tab: Tab, fmt: str) -> None:
    page = tab.page
    _start(page, FOURTEEN_SENTENCES, fmt)
    _wait_playing(page, fmt)
    assert page.evaluate(PLAYERS_SOUNDING) == 1 and "playing" in page.text_content("#status")
    page.click("#pause")
    page.wait_for_function(
        "window.ttsAudio.contextState() === 'suspended'"
        if fmt in WEB_AUDIO
        else "document.getElementById('player').paused"
    )
    assert page.text_content("#status").startswith("paused") and page.text_content("#pause") == "Resume"
    held = page.evaluate(_clock(fmt))
    page.wait_for_timeout(500)
    assert page.evaluate(_clock(fmt)) == held, "the clip's clock moved while paused"
    page.click("#pause")
    page.wait_for_function(f"{_clock(fmt)} > {held} + 0.2", timeout=30000)
    assert page.text_content("#status").startswith("playing") and page.text_content("#pause") == "Pause"
    page.click("#stop")
    assert page.text_content("#status") == "stopped" and page.evaluate("window.ttsMetrics.state") == "stopped"
    assert page.evaluate(SOUNDING) == 0
    assert page.is_disabled("#stop") and page.is_disabled("#pause") and page.is_enabled("#speak")
    page.wait_for_timeout(700)  # nothing queued starts later
    assert page.evaluate(SOUNDING) == 0 and page.text_content("#status") == "stopped"


@pytest.mark.parametrize("fmt", FORMATS)
def test_stop_mid_stream_cancels_the_request_and_every_queued_buffer(tab: Tab, fmt: str) -> None:
    page = tab.page
    _throttle(page, 64_000)  # below pcm's 59 kB/s of base64 audio plus JSON: the download never gets ahead
    _start(page, " ".join([FOURTEEN_SENTENCES] * 6), fmt)
    page.wait_for_function("Number(document.getElementById('status').dataset.bytes) > 0", timeout=120000)
    if fmt in {"pcm", "wav", "mp3", "aac"}:  # these play while they stream; opus, ogg, flac when complete
        _wait_playing(page, fmt)
    assert not page.evaluate("window.ttsMetrics.done"), "the download finished before Stop: nothing to cancel"
    with page.expect_event("requestfailed", timeout=10000) as failed:
        page.click("#stop")
    assert failed.value.url.endswith("/synthesize") and "ABORTED" in (failed.value.failure or ""), failed.value.failure
    assert page.text_content("#status") == "stopped" and page.evaluate(SOUNDING) == 0
    page.wait_for_timeout(1000)
    assert page.evaluate(SOUNDING) == 0 and page.text_content("#status") == "stopped"
    assert page.is_hidden("#history"), "a cancelled clip is not kept"


@pytest.mark.parametrize("fmt", ["pcm", "mp3"])
def test_stop_stays_enabled_until_the_audio_ends_not_the_download(tab: Tab, fmt: str) -> None:
    page = tab.page
    _start(page, FOURTEEN_SENTENCES, fmt)  # ~50 s of speech, synthesized many times faster
    page.wait_for_function("window.ttsMetrics.done", timeout=120000)
    assert page.evaluate("window.ttsMetrics.state") == "playing" and page.evaluate(SOUNDING) > 0
    assert page.is_enabled("#stop") and page.is_enabled("#pause")
    assert page.text_content("#status").startswith("playing") and "all" in page.text_content("#status")
    page.click("#stop")
    assert page.evaluate(SOUNDING) == 0 and page.text_content("#status") == "stopped"


@pytest.mark.parametrize("fmt", ["pcm", "mp3", "opus"])
def test_a_second_speak_stops_the_first(tab: Tab, fmt: str) -> None:
    page = tab.page
    # twice in quick succession: only the second clip is played and kept
    _start(page, FOURTEEN_SENTENCES, fmt)
    _start(page, OTHER_TEXT, fmt)
    _wait_playing(page, fmt)
    for _ in range(5):
        assert page.evaluate(PLAYERS_SOUNDING) == 1
        page.wait_for_timeout(100)
    page.wait_for_function("window.ttsMetrics.done", timeout=120000)
    assert page.eval_on_selector_all("#history-list .clip", "cs => cs.map(c => c.title)") == [OTHER_TEXT]
    assert page.text_content("#transcript").startswith("A different clip")
    # and again while the first one is audible
    _start(page, FOURTEEN_SENTENCES, fmt)
    _wait_playing(page, fmt)
    for _ in range(5):
        assert page.evaluate(PLAYERS_SOUNDING) == 1
        page.wait_for_timeout(100)
    assert page.text_content("#transcript").startswith("Sentence 1 is here")
    page.click("#stop")
    assert page.evaluate(SOUNDING) == 0


def test_speak_after_pausing_a_web_audio_clip_is_heard(tab: Tab) -> None:
    """Pausing pcm suspends the page's one AudioContext, which every <audio> element also plays through: the next
    clip must resume it, or it would 'play' in silence."""
    page = tab.page
    _start(page, FOURTEEN_SENTENCES, "pcm")
    _wait_playing(page, "pcm")
    page.click("#pause")
    page.wait_for_function("window.ttsAudio.contextState() === 'suspended'")
    _start(page, OTHER_TEXT, "mp3")
    _wait_playing(page, "mp3")
    assert page.evaluate("window.ttsAudio.contextState()") == "running"
    assert page.evaluate(PLAYERS_SOUNDING) == 1 and page.text_content("#status").startswith("playing")
    page.click("#stop")


def test_first_audible_sample_is_the_current_clips(tab: Tab) -> None:
    page = tab.page
    _start(page, FOURTEEN_SENTENCES, "mp3")
    _wait_playing(page, "mp3")
    _start(page, OTHER_TEXT, "opus")  # plays only once complete: it cannot be heard before its last byte
    _wait_playing(page, "opus")
    m = page.evaluate("window.ttsMetrics")
    assert m["clickAt"] < m["lastByteAt"] <= m["firstAudibleAt"], m
    page.click("#stop")


def test_character_counter_disables_speak_past_the_servers_limit(tab: Tab, embedded_server: ServerProcess) -> None:
    page = tab.page
    limit = httpx.get(f"{embedded_server.url}/config", timeout=30).json()["max_text_chars"]
    page.fill("#text", "a" * limit)
    assert page.text_content("#count") == f"{limit:,} / {limit:,} characters" and page.is_enabled("#speak")
    page.fill("#text", "😀" * limit)  # code points, as the server counts them (not UTF-16 units)
    assert page.is_enabled("#speak") and "over" not in page.text_content("#count")
    page.fill("#text", "a" * (limit + 1))
    assert page.is_disabled("#speak") and "1 over the limit" in page.text_content("#count")
    too_long = httpx.post(f"{embedded_server.url}/synthesize", json={"text": "a" * (limit + 1)}, timeout=30)
    assert too_long.status_code == 400 and "limit" in too_long.text  # the page's limit is the server's
    page.fill("#text", "Short again.")
    assert page.is_enabled("#speak") and page.text_content("#count") == f"12 / {limit:,} characters"


def test_history_keeps_the_last_five_clips_with_replay_and_download(tab: Tab) -> None:
    page = tab.page
    for i in range(6):
        if i == 5:
            dropped = page.get_attribute("#history-list li:last-child a", "href")  # "Clip number 1." leaves next
        _start(page, f"Clip number {i + 1}.", "mp3" if i % 2 else "pcm")
        page.wait_for_function("window.ttsMetrics.done", timeout=60000)
    fetch_ok = "async (url) => { try { await fetch(url); return true; } catch (e) { return false; } }"
    assert page.evaluate(fetch_ok, dropped) is False, "the dropped clip's object URL was not revoked"
    titles = page.eval_on_selector_all("#history-list .clip", "cs => cs.map(c => c.title)")
    assert titles == [f"Clip number {i}." for i in (6, 5, 4, 3, 2)]
    links = page.eval_on_selector_all("#history-list a", "as => as.map(a => [a.href, a.download])")
    assert [name.rsplit(".", 1)[1] for _, name in links] == ["mp3", "wav", "mp3", "wav", "mp3"]
    first_bytes = page.evaluate(
        "async (url) => [...new Uint8Array(await (await fetch(url)).arrayBuffer()).slice(0, 4)]", links[1][0]
    )
    assert bytes(first_bytes) == b"RIFF"  # the pcm clip downloads as a WAV file
    page.wait_for_function("window.ttsMetrics.state === 'done'", timeout=60000)
    assert page.text_content("#status").startswith("done") and page.is_disabled("#stop")
    page.click("#history-list li:nth-child(2) .replay")  # "Clip number 5." (pcm, saved as WAV)
    page.wait_for_function("window.ttsMetrics.state === 'playing'", timeout=30000)
    assert page.evaluate(PLAYERS_SOUNDING) == 1 and page.eval_on_selector("#player", "a => a.src") == links[1][0]
    page.wait_for_function("window.ttsMetrics.state === 'done'", timeout=30000)
    assert page.evaluate(SOUNDING) == 0


def test_favicon_and_no_failed_requests_on_load(tab: Tab) -> None:
    """The icon is inline (a data: URI), so a browser never asks for /favicon.ico (headless Chromium does not
    ask at all, which is why the link itself is checked)."""
    page = tab.page
    page.wait_for_timeout(500)
    assert tab.bad_responses == [] and tab.aborted == []
    link = page.query_selector("link[rel=icon]")
    icon = link.get_attribute("href") if link else None
    assert icon and icon.startswith("data:image/svg+xml,"), icon
    width = page.evaluate(
        "(src) => new Promise((ok) => { const i = new Image(); i.onload = () => ok(i.naturalWidth); "
        "i.onerror = () => ok(0); i.src = src; })",
        icon,
    )
    assert width > 0


def test_speed_slider_has_one_at_its_middle(page) -> None:
    speed = page.locator("#speed")
    assert page.text_content("#speed-value") == "1.00×"
    lo, hi, value = (float(page.get_attribute("#speed", a)) for a in ("min", "max", "value"))
    assert value == (lo + hi) / 2
    speed.focus()
    page.keyboard.press("Home")
    assert page.text_content("#speed-value") == "0.25×"
    page.keyboard.press("End")
    assert page.text_content("#speed-value") == "4.00×"
    page.fill("#text", "Fast.")
    with page.expect_request("**/synthesize") as sent:
        page.click("#speak")
    assert json.loads(sent.value.post_data)["options"]["speed"] == 4
    page.wait_for_function("window.ttsMetrics.done", timeout=60000)
    speed.evaluate("s => { s.value = '0'; s.dispatchEvent(new Event('input')); }")
    assert page.text_content("#speed-value") == "1.00×"


@pytest.mark.parametrize("width", [390, 1280])
def test_layout_fits_the_width_and_labels_are_not_cut(browser, embedded_server: ServerProcess, width: int) -> None:
    page = _open(browser, embedded_server, viewport={"width": width, "height": 844})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for selector in ("#text", "#format", "#voice", "#speed", "#speak", "#pause", "#stop", "#count"):
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)
        # every format's and voice's label fits its select (text measured in the select's own font, arrow excluded)
        for select in ("#format", "#voice"):
            room, widest = page.eval_on_selector(
                select,
                "s => { const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(s).font;"
                " return [s.clientWidth - 40, Math.max(...[...s.options].map(o => c.measureText(o.text).width))]; }",
            )
            assert widest <= room, (select, widest, room)
    finally:
        page.close()
