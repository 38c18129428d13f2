"""Third-party V2 clients against the real server: kserve's REST/gRPC clients and tritonclient."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.slow

TEXTS = ["Hello from a client.", "A second, longer sentence for the batch."]


def _request(texts: list[str], **parameters):
    from kserve import InferInput, InferRequest

    tensor = InferInput("text", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=np.object_), binary_data=False)
    return InferRequest(model_name="tts", infer_inputs=[tensor], parameters=parameters or None)


def _durations_from_files(files) -> list[float]:
    return [sf.info(io.BytesIO(bytes(f))).duration for f in files]


def test_kserve_rest_client(embedded_server):
    from kserve import InferenceRESTClient, RESTConfig

    async def run():
        client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=120))
        try:
            return await client.infer(embedded_server.url, _request(TEXTS, speed=1.25), model_name="tts")
        finally:
            await client.close()

    response = asyncio.run(run())
    audio = response.outputs[0]
    assert audio.name == "audio" and audio.parameters["media_type"] == "audio/wav"
    import base64

    files = [base64.b64decode(x) for x in audio.data]
    assert _durations_from_files(files) == pytest.approx(list(response.outputs[2].data), rel=1e-3)


def test_kserve_grpc_client_gets_raw_wav(embedded_server):
    from kserve import InferenceGRPCClient

    # kserve's gRPC proto has no double_param: numbers that are not integers travel as strings.
    speed = "1.5"

    async def run():
        client = InferenceGRPCClient(embedded_server.grpc_url, timeout=120)
        try:
            return await client.infer(_request(TEXTS, voice="en_US-joe-medium", speed=speed))
        finally:
            await client.close()

    response = asyncio.run(run())
    outputs = {o.name: o for o in response.outputs}
    files = outputs["audio"].as_numpy()
    assert bytes(files[0])[:4] == b"RIFF"  # raw file bytes over gRPC, not base64
    assert list(outputs["sample_rate"].as_numpy()) == [22050, 22050]
    assert _durations_from_files(files) == pytest.approx(list(outputs["duration_s"].as_numpy()), rel=1e-3)


def test_kserve_grpc_client_bad_input_is_invalid_argument(embedded_server):
    import grpc
    from kserve import InferenceGRPCClient

    async def run():
        client = InferenceGRPCClient(embedded_server.grpc_url, timeout=60)
        try:
            return await client.infer(_request(["hi"], voice="nobody"))
        finally:
            await client.close()

    with pytest.raises(grpc.aio.AioRpcError) as info:
        asyncio.run(run())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "valid voices" in info.value.details()


def _triton(kind: str, url: str, texts: list[str], params: dict) -> dict:
    script = Path(__file__).parents[1] / "support" / "triton_client_script.py"
    out = subprocess.run(
        [sys.executable, str(script), kind, url, json.dumps(texts), json.dumps(params)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_tritonclient(embedded_server, kind):
    url = embedded_server.url.removeprefix("http://") if kind == "http" else embedded_server.grpc_url
    summary = _triton(kind, url, TEXTS, {"sample_rate": 16000})
    assert summary["ready"] is True
    assert summary["rates"] == [16000, 16000]
    assert summary["decoded"] == pytest.approx(summary["durations"], rel=1e-3)
    bad = _triton(kind, url, ["hi"], {"speed": "10"})
    assert "parameters.speed" in bad["error"]


def test_grpc_double_param_is_read_as_triton_sends_it(embedded_server):
    """Triton's clients send floats as InferParameter.double_param (field 4), which kserve's proto lacks: the
    server reads it from the unknown fields, so `speed=1.5` and `speed="1.5"` give the same audio."""
    import struct

    import grpc
    from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb
    from kserve.protocol.grpc.grpc_predict_v2_pb2_grpc import GRPCInferenceServiceStub

    def request(speed: pb.InferParameter) -> pb.ModelInferRequest:
        tensor = pb.ModelInferRequest.InferInputTensor(name="text", datatype="BYTES", shape=[1])
        tensor.contents.bytes_contents.append(b"Hello there.")
        req = pb.ModelInferRequest(model_name="tts", inputs=[tensor])
        req.parameters["speed"].CopyFrom(speed)
        return req

    double = pb.InferParameter()
    double.MergeFromString(b"\x21" + struct.pack("<d", 1.5))  # field 4, 64-bit: an unknown field here
    assert double.WhichOneof("parameter_choice") is None
    with grpc.insecure_channel(embedded_server.grpc_url) as channel:
        stub = GRPCInferenceServiceStub(channel)
        as_double = stub.ModelInfer(request(double), timeout=60)
        as_string = stub.ModelInfer(request(pb.InferParameter(string_param="1.5")), timeout=60)
        normal = stub.ModelInfer(request(pb.InferParameter(string_param="1.0")), timeout=60)
    from kserve.protocol.infer_type import InferResponse

    durations = [
        {o.name: o for o in InferResponse.from_grpc(r).outputs}["duration_s"].as_numpy()[0]
        for r in (as_double, as_string, normal)
    ]
    assert durations[0] == pytest.approx(durations[1], rel=1e-3) and durations[0] < 0.9 * durations[2]
