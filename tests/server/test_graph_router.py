"""The chart's InferenceGraph through a local copy of KServe's router (tests/support/graph_runner.py).

ASR and translation are stand-in V2 servers (tests/support/standins.py: Whisper tiny.en or a fixed transcript, and a
ten-word dictionary), because a real ASR/MT model cannot run here; TTS is the real predictor, alone or
behind the real transformer, with and without API keys. Status codes are the ones KServe's router gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graph_runner import GraphRouter, RouterServer, resolve_service_urls
from server_process import REPO, ServerProcess, TransformerProcess
from standins import ThreadedServer, asr_app, translate_app
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

KEY = "graph-key"
PROPAGATE = ["Authorization", "X-Request-Id", "Traceparent"]


def _render(values: dict[str, Any]) -> list[dict[str, Any]]:
    helm = pytest.importorskip("helm_python")
    import yaml

    rendered = helm.Chart.load(REPO / "charts" / "tts-predictor").render(values, name="tts", namespace="models")
    return [
        o for path, text in sorted(rendered.items()) if path.endswith(".yaml") for o in yaml.safe_load_all(text) if o
    ]


@pytest.fixture(scope="module")
def standins() -> Iterator[dict[str, ThreadedServer]]:
    servers = {
        "asr": ThreadedServer(asr_app("whisper")).start(),
        "mt": ThreadedServer(translate_app("translator")).start(),
    }
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="module")
def keyed() -> Iterator[dict[str, ServerProcess]]:
    """A predictor and a transformer sharing one API-key Secret, as the chart deploys them with apiKeys."""
    predictor = ServerProcess(env={"TTS_API_KEYS": KEY, "TTS_CACHE_MAX_BYTES": "0"}).start()
    try:
        transformer = TransformerProcess(
            env={"TTS_API_KEYS": KEY}, args=["--predictor_host", f"127.0.0.1:{predictor.http_port}"]
        ).start()
    except BaseException:
        predictor.stop()
        raise
    yield {"predictor": predictor, "transformer": transformer}
    transformer.stop()
    predictor.stop()


@pytest.fixture(scope="module")
def spoken(embedded_server: ServerProcess) -> dict[str, Any]:
    """A V2 request carrying the WAV of "Hello world." for the ASR step."""
    answer = httpx.post(f"{embedded_server.url}/v2/models/tts/infer", json=infer_body(["Hello world."]), timeout=60)
    wav = next(o for o in answer.json()["outputs"] if o["name"] == "audio")["data"][0]
    return {"id": "graph-1", "inputs": [{"name": "audio", "datatype": "BYTES", "shape": [1], "data": [wav]}]}


def chart_graph(standins: dict[str, ThreadedServer], tts_url: str, **values: Any) -> dict[str, Any]:
    """The chart's graph spec with URLs resolved as KServe's controller would, pointing at local servers."""
    objs = _render({"graph": {"enabled": True}, **values})
    graph = next(o for o in objs if o["kind"] == "InferenceGraph")
    steps = graph["spec"]["nodes"]["root"]["steps"]
    assert [s.get("serviceName") for s in steps] == [None, None, "tts-tts-predictor"]
    addresses = {
        "tts-tts-predictor": tts_url,
        steps[0]["serviceUrl"]: standins["asr"].infer_url("whisper"),
        steps[1]["serviceUrl"]: standins["mt"].infer_url("translator"),
    }
    return resolve_service_urls(graph, addresses, [o for o in objs if o["kind"] == "InferenceService"])


def post(
    spec: dict[str, Any],
    body: Any,
    headers: dict[str, str] | None = None,
    propagate: list[str] | None = None,
    timeout: float = 120,
) -> httpx.Response:
    """POST `body` to a fresh router for `spec`, as a client of the InferenceGraph's URL would."""
    router = RouterServer(GraphRouter(spec, propagate or [])).start()
    try:
        return httpx.post(router.url, json=body, headers=headers or {}, timeout=timeout)
    finally:
        router.stop()


def _audio(answer: httpx.Response) -> tuple[Any, int]:
    assert answer.status_code == 200, answer.text
    return decode_wav(next(o for o in answer.json()["outputs"] if o["name"] == "audio")["data"][0])


# ---- the ASR -> translate -> TTS chain --------------------------------------------------------------------


def test_chain_to_the_predictor(embedded_server: ServerProcess, standins, spoken) -> None:
    spec = chart_graph(standins, embedded_server.url)
    assert spec["nodes"]["root"]["steps"][-1]["serviceUrl"] == f"{embedded_server.url}/v2/models/tts/infer"
    answer = post(spec, spoken)
    samples, rate = _audio(answer)
    assert rate > 0 and len(samples) > rate // 10 and answer.json()["id"] == "graph-1"
    # Step response headers are dropped: only the router's JSON content type comes back.
    assert "x-request-id" not in answer.headers and answer.headers["content-type"] == "application/json"


def test_chain_through_the_transformer_with_keys(keyed, standins, spoken) -> None:
    """graph + transformer + apiKeys: the TTS step lands on the transformer, which takes the translation step's
    V2 *response* and passes the caller's Authorization on to the predictor."""
    spec = chart_graph(standins, keyed["transformer"].url, transformer={"enabled": True}, apiKeys={"keys": [KEY]})
    auth = {"Authorization": f"Bearer {KEY}", "Traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    samples, rate = _audio(post(spec, spoken, auth, PROPAGATE))
    assert rate > 0 and len(samples) > rate // 10
    # KServe propagates no header by default: the keyed TTS step answers 401 and the Hard step stops the graph.
    refused = post(spec, spoken, auth)
    assert refused.status_code == 401 and "API key" in refused.json()["error"]


def test_keyed_predictor_without_transformer(keyed, standins, spoken) -> None:
    spec = chart_graph(standins, keyed["predictor"].url, apiKeys={"keys": [KEY]})
    assert post(spec, spoken, {"Authorization": f"Bearer {KEY}"}, PROPAGATE).status_code == 200
    assert post(spec, spoken, {"Authorization": f"Bearer {KEY}"}, ["X-Request-Id"]).status_code == 401


# ---- what the predictor does with other steps' answers (the router's own rules are KServe's, not tested here) ----


def _steps(*steps: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"nodes": {"root": {"routerType": "Sequence", "steps": list(steps)}}, **spec}


def test_soft_failure_goes_on_with_the_error_body(embedded_server, standins, spoken) -> None:
    """A Soft step's 400 does not stop the graph: the TTS step is fed its error body and answers 400 itself."""
    spec = _steps(
        {"name": "mt", "serviceUrl": standins["mt"].infer_url("translator"), "dependency": "Soft"},
        {
            "name": "tts",
            "serviceUrl": f"{embedded_server.url}/v2/models/tts/infer",
            "data": "$response",
            "dependency": "Hard",
        },
    )
    answer = post(spec, spoken)  # audio is no input of the translator: 400 there
    assert answer.status_code == 400
    assert "inputs" in answer.json()["error"]  # TTS's complaint about the translator's error body


def test_tts_step_speaks_the_asr_response_it_is_given(embedded_server, standins, spoken) -> None:
    """TTS right after ASR (a graph without translation, run when the ASR answer has text): the predictor reads
    the ASR step's V2 *response* (an output named "text") as its request and speaks what was heard."""
    tts = {"serviceUrl": f"{embedded_server.url}/v2/models/tts/infer", "data": "$response", "dependency": "Hard"}
    asr = {"serviceUrl": standins["asr"].infer_url("whisper"), "dependency": "Hard"}
    ran = post(_steps(asr, {**tts, "condition": 'outputs.#(name=="text").data.0'}), spoken)
    samples, rate = _audio(ran)
    assert len(samples) / rate > 0.5  # "Hello world." spoken again, not an empty answer
