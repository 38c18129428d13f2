"""Helpers to build V2 requests and read WAV answers in tests."""

from __future__ import annotations

import base64
import io

import numpy as np
import soundfile as sf


def infer_body(texts: list[str], **parameters: object) -> dict:
    """A V2 JSON request for `texts`."""
    body: dict = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}]}
    if parameters:
        body["parameters"] = parameters
    return body


def decode_wav(data: bytes | str) -> tuple[np.ndarray, int]:
    """Samples and rate of a WAV file given raw or base64."""
    raw = base64.b64decode(data) if isinstance(data, str) else data
    samples, rate = sf.read(io.BytesIO(raw), dtype="float32")
    return samples, rate


def grpc_audio(grpc_url: str, request, timeout: float = 120) -> bytes:
    """The first output's first element (the audio bytes) of one ModelInfer over kserve's gRPC client."""
    import asyncio

    from kserve import InferenceGRPCClient  # here, not at the top: tritonclient's helpers import this module too

    async def run():
        client = InferenceGRPCClient(grpc_url, timeout=timeout)
        try:
            return await client.infer(request)
        finally:
            await client.close()

    return bytes(asyncio.run(run()).outputs[0].as_numpy()[0])
