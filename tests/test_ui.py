"""The web UI at /ui in real headless Chromium (Playwright driving the system's /usr/bin/chromium)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server_process import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/tts-ui.png")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


def test_ui_is_served(embedded_server: ServerProcess) -> None:
    r = httpx.get(f"{embedded_server.url}/ui", follow_redirects=True)
    assert r.status_code == 200 and "Speak" in r.text
    assert httpx.get(f"{embedded_server.url}/ui/static/app.js").status_code == 200


def test_speak_plays_audio_in_chromium(embedded_server: ServerProcess) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{embedded_server.url}/ui", wait_until="load")
            page.wait_for_function("document.querySelectorAll('#voice option').length > 0", timeout=15000)
            page.fill("#text", "Hello from the browser. A second sentence.")
            page.select_option("#format", "wav")
            page.click("#speak")
            page.wait_for_function(
                "() => { const a = document.getElementById('player');"
                " return a.src.startsWith('blob:') && Number.isFinite(a.duration) && a.duration > 0.5; }",
                timeout=30000,
            )
            duration = page.eval_on_selector("#player", "a => a.duration")
            received = int(page.get_attribute("#status", "data-bytes"))
            assert duration > 1.0 and received > 20000
            assert page.get_attribute("#download", "href").startswith("blob:")
            assert "error" not in page.text_content("#status")
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
