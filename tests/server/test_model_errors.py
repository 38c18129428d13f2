"""Asking for a model that is not there: a 404 naming the model and what is served (kserve's own says only "does not
exist"), and a failed repository load says why without a Python class name (kserve wraps it as "Error type: <class
...>")."""

from __future__ import annotations

import time

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v2/models/nonexistent/infer", infer_body(["Hello."])),
        ("GET", "/v2/models/nonexistent", None),
        ("GET", "/v2/models/nonexistent/ready", None),
    ],
)
def test_unknown_model_names_what_is_served(embedded_server, method, path, body):
    response = httpx.request(method, f"{embedded_server.url}{path}", json=body, timeout=30)
    assert response.status_code == 404, response.text
    served = response.json()["error"].removeprefix("model 'nonexistent' is not served here; served: ").split(", ")
    assert set(served) == {"tts", "en_US-joe-medium"}, response.text  # the main model and the embedded voice's


def test_loading_an_unknown_model_says_what_can_be_loaded(embedded_server):
    response = httpx.post(f"{embedded_server.url}/v2/repository/models/nonexistent/load", timeout=30)
    assert response.status_code == 404, response.text
    message = response.json()["error"]
    assert message.startswith("no model 'nonexistent' here; available:") and "class" not in message, message


def test_a_server_whose_model_does_not_load_explains_itself():
    server = ServerProcess(env={"TTS_MODEL": "nonexistent"}).start(wait=False)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{server.url}/live", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        load = httpx.post(f"{server.url}/v2/repository/models/tts/load", timeout=30)
        assert load.status_code == 503 and "<class" not in load.text and "still loading" in load.text, load.text
        listing = httpx.get(f"{server.url}/v2/models/other", timeout=30)
        assert listing.status_code == 404 and listing.json()["error"].endswith("served: tts"), listing.text
    finally:
        server.stop()
