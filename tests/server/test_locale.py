"""Locale variants choose the reading conventions and the response says which one applied (issue #25, item 3).

The expected readings are how a British and an American reader say the same numeric date (written by hand).
"""

from __future__ import annotations

import json

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

DATE = "It opens on 03/04/2024."


@pytest.mark.parametrize(
    ("language", "reading"),
    [
        ("en-GB", "the third of April"),
        ("en-US", "March fourth"),
        ("en-IN", "the third of April"),
        (None, "March fourth"),
    ],
)
def test_normalize_follows_the_asked_variant(
    embedded_server: ServerProcess, language: str | None, reading: str
) -> None:
    body = {"text": DATE} | ({"language": language} if language else {})
    r = httpx.post(f"{embedded_server.url}/v1/normalize", json=body, timeout=30)
    assert r.status_code == 200, r.text
    out = r.json()
    assert reading in out["segments"][0]["text"]
    assert out["language"] == "en-US" and out["text_language"] == (language or "en-US")


def test_synthesize_says_voice_and_text_language(embedded_server: ServerProcess) -> None:
    r = httpx.post(
        f"{embedded_server.url}/synthesize", json={"text": DATE, "options": {"language": "en-GB"}}, timeout=60
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-language"] == "en-US" and r.headers["x-text-language"] == "en-GB"


def test_v2_timings_carry_the_asked_language(embedded_server: ServerProcess) -> None:
    body = infer_body([DATE], timings=True, language="en-GB")
    r = httpx.post(f"{embedded_server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    timings = json.loads(outputs["timings"]["data"][0])
    assert timings and {t["language"] for t in timings} == {"en-GB"}
