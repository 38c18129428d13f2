"""Issue 23 (attack run 3), text side, against a real server with real clients: Markdown and say-as ReDoS that
froze the process, EPUB spine amplification, blocklist bypasses, espeak-ng's stack smash, and 500s of
/v1/normalize and malformed EPUBs. Each test names its finding; process-freeze tests poll /live while the hostile
request runs and require every answer within 200 ms."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from epub_builders import GOOD, SECRET, epub, with_method, xhtml
from server_process import ServerProcess
from v2_helpers import infer_body
from ws_helpers import events_until_closed

pytestmark = pytest.mark.slow
KEY = {"X-API-Key": "attack3-key"}
JOB_MAX_CHARS = 400_000
LIVE_WITHIN_S = 0.2


@pytest.fixture(scope="module")
def text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Jobs, a blocklist (kiss, forbidden phrase), private webhooks (a webhook without secret: a 400 after parsing)."""
    root = tmp_path_factory.mktemp("attack3")
    (root / "blocklist.txt").write_text("kiss\nforbidden phrase\n")
    server = ServerProcess(
        env={
            "TTS_API_KEYS": KEY["X-API-Key"],
            "TTS_JOBS_DIR": str(root / "jobs"),
            "TTS_JOB_MAX_CHARS": str(JOB_MAX_CHARS),
            "TTS_BLOCKLIST_FILE": str(root / "blocklist.txt"),
            "TTS_WEBHOOK_ALLOW_PRIVATE": "true",
        }
    ).start()
    yield server
    server.stop()


def while_live(server: ServerProcess, hostile: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    """Run `hostile` in a thread, polling /live meanwhile; (its response, the slowest /live answer in seconds)."""
    result: dict[str, httpx.Response | BaseException] = {}

    def run() -> None:
        try:
            result["response"] = hostile()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            result["response"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    slowest = 0.0
    with httpx.Client(timeout=30) as client:
        while True:
            start = time.perf_counter()
            assert client.get(f"{server.url}/live").status_code == 200
            slowest = max(slowest, time.perf_counter() - start)
            if not thread.is_alive():
                break
            time.sleep(0.05)
    thread.join()
    response = result["response"]
    if isinstance(response, BaseException):
        raise response
    return response, slowest


def _post(
    server: ServerProcess, path: str, timeout: float = 30, headers: dict | None = None, **kwargs
) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", headers={**KEY, **(headers or {})}, timeout=timeout, **kwargs)


# -- finding 2: Markdown ReDoS ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "markdown",
    ["# a" + " " * 100_000 + "b", "*a " * 100_000, "![" * 60_000],
    ids=["heading-spaces", "stars", "images"],
)
def test_markdown_redos_does_not_freeze_the_process(text_server, markdown):
    """Finding 2: a 2 KB heading froze the process (and /live) for 12.7 s, `*a ` x 20,000 for 17 s. Now these far
    larger documents are parsed on a worker thread in linear time; the job is then refused for its webhook."""
    body = {"markdown": markdown, "webhook": {"url": "http://127.0.0.1:9/hook"}}
    response, slowest = while_live(text_server, lambda: _post(text_server, "/v1/jobs", json=body))
    assert response.status_code == 400 and "webhook.secret" in response.text, response.text
    assert slowest < LIVE_WITHIN_S, slowest


def test_markdown_over_the_job_limit_is_refused_before_parsing(text_server):
    """Finding 2: 32 MiB bodies were parsed before the character limit was checked."""
    start = time.perf_counter()
    response = _post(text_server, "/v1/jobs", json={"markdown": "*a " * (JOB_MAX_CHARS // 2)})
    assert response.status_code == 400 and f"limit is {JOB_MAX_CHARS}" in response.text, response.text
    assert time.perf_counter() - start < 5


# -- finding 3: say-as currency ReDoS --------------------------------------------------------------------------
SAY_AS = '<speak><say-as interpret-as="currency">$1' + " " * 3000 + "!</say-as></speak>"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/synthesize", {"text": SAY_AS}),
        ("/v1/audio/speech", {"model": "tts-1", "input": SAY_AS, "voice": "alloy"}),
        ("/v2/models/tts/infer", infer_body([SAY_AS], ssml=True)),
        ("/v1/normalize", {"text": SAY_AS}),
    ],
    ids=["synthesize", "openai", "v2", "normalize"],
)
def test_say_as_currency_redos_does_not_freeze_the_process(text_server, path, body):
    """Finding 3: 360 bytes froze every SSML route for 4 s (~n^3.8); 3,000 spaces are now a prompt 400."""
    response, slowest = while_live(text_server, lambda: _post(text_server, path, json=body))
    assert response.status_code == 400 and "currency" in response.text, response.text
    assert slowest < LIVE_WITHIN_S, slowest


# -- finding 4: EPUB spine amplification -----------------------------------------------------------------------
def test_epub_spine_amplification_is_bounded(text_server):
    """Finding 4: a 3.6 KB EPUB naming one 1 MiB chapter 3,000 times cost 3 GB and 57 s of CPU before its 400."""
    data = epub({"big.xhtml": xhtml("<p>" + "word " * 200_000 + "</p>")}, ["big.xhtml"] * 3000)
    files = {"file": ("book.epub", data, "application/epub+zip")}
    response, slowest = while_live(text_server, lambda: _post(text_server, "/v1/jobs", files=files))
    assert response.status_code == 400 and "TTS_JOB_MAX_CHARS" in response.text, response.text
    assert slowest < LIVE_WITHIN_S


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (with_method(GOOD, "OEBPS/c.xhtml", 6), "unsupported compression"),
        (with_method(GOOD, "OEBPS/c.xhtml", 8, flags=0x1), "encrypted"),
        (epub({"c.xhtml": f"<p>{SECRET}<![ x"}, ["c.xhtml"]), "not well-formed XHTML"),
    ],
    ids=["implode", "encrypted", "marked-section"],
)
def test_malformed_epubs_are_400s_without_echo(text_server, data, problem):
    """Low: these answered 500/501 echoing the upload."""
    response = _post(text_server, "/v1/jobs", files={"file": ("book.epub", data, "application/epub+zip")})
    assert response.status_code == 400 and problem in response.text, response.text
    assert SECRET not in response.text and "<![" not in response.text


# -- finding 8: blocklist bypasses -----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["ki'ss me", "ki\u2019ss me", "\u0138iss me"])
@pytest.mark.parametrize("path", ["/synthesize", "/v1/audio/speech", "/v2/models/tts/infer"])
def test_blocklist_bypasses_are_rejected_on_every_route(text_server, path, text):
    """Finding 8: apostrophes and Latin kra hid `kiss` from the blocklist on every route."""
    body = {
        "/synthesize": {"text": text},
        "/v1/audio/speech": {"model": "tts-1", "input": text, "voice": "alloy"},
        "/v2/models/tts/infer": infer_body([text]),
    }[path]
    response = _post(text_server, path, json=body)
    assert response.status_code == 400 and "content filter" in response.text, response.text


def test_espeak_phoneme_input_is_not_a_channel(text_server):
    """Finding 8: `[[k'Is]]` made espeak-ng say `kiss`; the engine now gets the brackets spaced apart."""
    response = _post(text_server, "/v1/normalize", json={"text": "[[k'Is]] me"})
    assert response.status_code == 200 and response.json()["segments"][0]["text"] == "[ k'Is ] me"
    assert _post(text_server, "/synthesize", json={"text": "[[k'Is]] me"}).status_code == 200


def test_a_blocked_phrase_split_by_a_newline_on_the_websocket_is_rejected(text_server):
    """Finding 8: on /v1/stream `forbidden\\nphrase` became two utterances, each passing the blocklist alone."""
    pytest.importorskip("websockets")
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{text_server.http_port}/v1/stream"
    with connect(url, additional_headers=KEY, open_timeout=30, max_size=None) as ws:
        ws.send(json.dumps({"type": "config", "format": "pcm"}))
        ws.send(json.dumps({"type": "text", "text": "It is forbidden\n"}))
        ws.send(json.dumps({"type": "text", "text": "phrase and more.\n"}))
        ws.send(json.dumps({"type": "close"}))
        events, code = events_until_closed(ws)
    errors = [e for e in events if e.get("type") == "error"]
    assert code == 1008 and errors and "content filter" in errors[0]["message"], (code, events)


# -- finding 13: espeak-ng stack smashing ----------------------------------------------------------------------
@pytest.mark.parametrize("text", ["a." * 100, "U.S.A." * 30, "\u00e9." * 60])
def test_dotted_letters_that_smash_espeaks_stack_are_spoken(text_server, text):
    """Finding 13: `a.` x 100 aborted espeak-ng (`*** stack smashing detected ***`): a 500 on every Piper route."""
    for path, body in (
        ("/synthesize", {"text": text}),
        ("/v1/audio/speech", {"model": "tts-1", "input": text, "voice": "alloy"}),
        ("/v2/models/tts/infer", infer_body([text])),
    ):
        response = _post(text_server, path, json=body, timeout=120)
        assert response.status_code == 200, (path, response.text[:300])


# -- low: /v1/normalize ----------------------------------------------------------------------------------------
def test_normalize_answers_400_for_lone_surrogates_and_reads_long_amounts(text_server):
    """Low: a lone surrogate and `$` + 30 digits were 500s on /v1/normalize."""
    response = _post(
        text_server,
        "/v1/normalize",
        content='{"text": "a\\ud800b"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and "surrogate" in response.text, response.text
    for text in (
        "$" + "1" * 30,
        "$" + "9" * 30 + ".99",
        '<speak><say-as interpret-as="currency">$' + "1" * 30 + "</say-as></speak>",
    ):
        response = _post(text_server, "/v1/normalize", json={"text": text})
        assert response.status_code == 200, (text, response.text)
