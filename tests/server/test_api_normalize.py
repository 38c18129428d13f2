"""POST /v1/normalize, PLS lexicons and the `normalize` CLI against a real server with the embedded voice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server_process import REPO, ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

PLS_FILE = Path(__file__).parents[1] / "data" / "lexicon_en.pls"


@pytest.fixture(scope="module")
def http():
    server = ServerProcess(env={"TTS_LEXICONS": str(PLS_FILE)}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client
    finally:
        server.stop()


def test_plain_text_segments_with_input_offsets(http: httpx.Client) -> None:
    text = "Call 555-0134 before 9 AM. It costs $3.2 million, about 1/2 of it."
    r = http.post("/v1/normalize", json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"] == "en-US" and body["voice"]
    [segment] = body["segments"]
    assert segment["source"] == text
    assert segment["text"] == (
        "Call five five five, zero one three four before nine AM. "
        "It costs three point two million dollars, about one half of it."
    )
    spans = segment["rewrites"]
    assert [s["kind"] for s in spans] == ["telephone", "time", "money", "fraction"]
    for span in spans:
        assert text[span["start"] : span["end"]] == span["original"]


def _doc_json(marker: str) -> dict:
    doc = (Path(__file__).parents[2] / "docs" / "ssml.md").read_text(encoding="utf-8")
    return json.loads(doc.split(marker, 1)[1].split("```json", 1)[1].split("```", 1)[0])


def test_documented_example(http: httpx.Client) -> None:
    request = _doc_json("<!-- normalize request: tested by tests/server/test_api_normalize.py -->")
    r = http.post("/v1/normalize", json=request)
    assert r.status_code == 200, r.text
    assert r.json() == _doc_json("<!-- normalize response: tested by tests/server/test_api_normalize.py -->")


def test_ssml_say_as_and_lexicon(http: httpx.Client) -> None:
    ssml = (
        '<speak>Dr. Nguyen of the W3C: <say-as interpret-as="telephone">2125550199</say-as>'
        '<break time="300ms"/><say-as interpret-as="fraction">3/4</say-as></speak>'
    )
    r = http.post("/v1/normalize", json={"text": ssml, "lexicons": ["lexicon_en"]})
    assert r.status_code == 200, r.text
    segments = r.json()["segments"]
    assert [s["text"] for s in segments] == [
        "Doc [[wIn]] of the World Wide Web Consortium:",
        "two one two, five five five, zero one nine nine",
        "three quarters",
    ]
    assert [s["say_as"] for s in segments] == [False, True, True]
    assert [a["grapheme"] for a in segments[0]["lexicon"]] == ["Doctor", "Nguyen", "W3C"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": ""}, "text: is empty"),
        ({"text": "x", "lexicons": ["nope"]}, "unknown lexicon 'nope'; loaded: lexicon_en"),
        ({"text": "<speak><say-as interpret-as='fraction'>1/0</say-as></speak>"}, 'interpret-as="fraction"'),
        ({"text": "x", "speed": 2}, "unknown field"),
        ({"text": "x", "language": "xx-YY"}, "language"),
    ],
)
def test_bad_requests_name_the_field(http: httpx.Client, body: dict, needle: str) -> None:
    r = http.post("/v1/normalize", json=body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]["message"]


def test_v2_infer_with_lexicons_parameter(http: httpx.Client) -> None:
    ok = http.post("/v2/models/tts/infer", json=infer_body(["The W3C met Dr. Nguyen."], lexicons="lexicon_en"))
    assert ok.status_code == 200, ok.text
    samples, rate = decode_wav(ok.json()["outputs"][0]["data"][0])
    assert len(samples) / rate > 1.0
    bad = http.post("/v2/models/tts/infer", json=infer_body(["x"], lexicons="nope"))
    assert bad.status_code == 400 and "unknown lexicon 'nope'" in bad.text


def test_rest_synthesize_with_lexicons_option(http: httpx.Client) -> None:
    ok = http.post("/synthesize", json={"text": "The W3C.", "options": {"format": "wav", "lexicons": "lexicon_en"}})
    assert ok.status_code == 200, ok.text
    bad = http.post("/synthesize", json={"text": "x", "options": {"lexicons": "nope"}})
    assert bad.status_code == 400 and "unknown lexicon 'nope'" in bad.json()["error"]


def test_cli_normalize_json() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tts_predictor",
            "normalize",
            "--json",
            "--lexicon",
            str(PLS_FILE),
            "World War II: the W3C at 14:30.",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [segment] = json.loads(out.stdout)["segments"]
    assert segment["text"] == "World War two: the World Wide Web Consortium at fourteen thirty."
    bad = subprocess.run(
        [sys.executable, "-m", "tts_predictor", "normalize", "<speak><x/></speak>"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "unsupported element" in bad.stderr
