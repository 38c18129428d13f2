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
