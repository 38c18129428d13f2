"""V2 tensors <-> synthesis items: the only module that touches kserve's tensor types.

Request: input ``text`` (BYTES, shape [N]); optional request parameters ``voice``, ``language``,
``speed``, ``format``, ``sample_rate``. Response: ``audio`` (BYTES [N], base64 in JSON, raw bytes with
the binary extension and over gRPC), ``sample_rate`` (INT32 [N]), ``duration_s`` (FP32 [N]).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import TextTooLong, UnsupportedOption

TEXT_INPUT = "text"
OUTPUT_NAMES = ("audio", "sample_rate", "duration_s")
FORMATS = ("wav",)
# Parameters that belong to the protocol (tritonclient / kserve clients set them), not to synthesis.
PROTOCOL_PARAMETERS = frozenset(
    {"binary_data_output", "sequence_id", "sequence_start", "sequence_end", "priority", "timeout", "headers"}
)

Speed = Annotated[float, Field(ge=0.25, le=4.0, description="Speaking rate multiplier, 0.25-4.0.")]
SampleRate = Annotated[int, Field(ge=8000, le=48000, description="Output sample rate in Hz, 8000-48000.")]


class SynthesisParameters(BaseModel):
    """Request-level V2 parameters; unknown ones are rejected."""

    model_config = ConfigDict(extra="forbid")

    voice: str | None = Field(None, description="Voice id (GET /v2/models/<name>/voices).")
    language: str | None = Field(None, description="Language code such as en-US (or en).")
    speed: Speed = 1.0
    format: Literal["wav"] = Field("wav", description="Audio format: wav.")
    sample_rate: SampleRate | None = Field(None, description="Output sample rate in Hz, 8000-48000.")


@dataclass(frozen=True)
class EncodedAudio:
    """One synthesized item, encoded."""

    data: bytes
    """The complete audio file."""
    content_type: str
    """Media type of `data`."""
    sample_rate: int
    """Sample rate of `data` in Hz."""
    duration_s: float
    """Duration of the audio in seconds."""


def parameters_dict(parameters: Any) -> dict[str, Any]:
    """Plain dict from REST parameters or gRPC InferParameter maps (kserve's helper drops doubles)."""
    if not parameters:
        return {}
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if hasattr(value, "WhichOneof"):
            field = value.WhichOneof("parameter_choice")
            value = getattr(value, field) if field else None
        out[key] = value
    return out


def parse_parameters(request: InferRequest) -> SynthesisParameters:
    """Validate the request parameters, naming the bad field and the allowed values."""
    raw = {k: v for k, v in parameters_dict(request.parameters).items() if k not in PROTOCOL_PARAMETERS}
    allowed = ", ".join(SynthesisParameters.model_fields)
    unknown = sorted(set(raw) - set(SynthesisParameters.model_fields))
    if unknown:
        raise UnsupportedOption(f"unknown parameter(s) {', '.join(unknown)}; allowed parameters: {allowed}")
    try:
        return SynthesisParameters(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "parameters"
        info = SynthesisParameters.model_fields.get(field)
        hint = f"; {info.description}" if info and info.description else ""
        raise UnsupportedOption(f"parameters.{field}: {err['msg']} (got {err.get('input')!r}){hint}") from None


def parse_texts(request: InferRequest, *, max_chars: int, max_batch: int) -> list[str]:
    """The texts of input ``text`` (BYTES, shape [N]), validated."""
    names = [i.name for i in request.inputs]
    if names != [TEXT_INPUT]:
        raise InvalidInput(f"inputs: expected exactly one input named '{TEXT_INPUT}', got {names}")
    tensor = request.inputs[0]
    if tensor.datatype != "BYTES":
        raise InvalidInput(f"text: datatype must be BYTES, got {tensor.datatype}")
    shape = list(tensor.shape)
    if len(shape) != 1 or shape[0] < 1:
        raise InvalidInput(f"text: shape must be [N] with N >= 1, got {shape}")
    if shape[0] > max_batch:
        raise InvalidInput(f"text: batch of {shape[0]} texts; the limit is {max_batch} (TTS_MAX_BATCH_SIZE)")
    try:
        items = list(tensor.as_numpy().reshape(-1))
    except Exception:  # malformed binary tensor or data that does not fit the shape
        raise InvalidInput(f"text: data does not match datatype BYTES and shape {shape}") from None
    return [_text_item(i, item, max_chars) for i, item in enumerate(items)]


def _text_item(index: int, item: Any, max_chars: int) -> str:
    if isinstance(item, bytes):
        try:
            item = item.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"text[{index}]: not valid UTF-8") from None
    if not isinstance(item, str):
        raise InvalidInput(f"text[{index}]: must be a string, got {type(item).__name__}")
    if not item.strip():
        raise InvalidInput(f"text[{index}]: is empty")
    if len(item) > max_chars:
        raise TextTooLong(f"text[{index}]: {len(item)} characters; the limit is {max_chars} (TTS_MAX_TEXT_CHARS)")
    return item


def wants_binary_audio(request: InferRequest) -> bool:
    """Raw audio bytes (gRPC, or REST with the binary extension) instead of base64 strings."""
    if request.from_grpc:
        return True
    for output in request.request_outputs or []:
        if output.name == "audio":
            return bool(output.binary_data)
    return bool(parameters_dict(request.parameters).get("binary_data_output", False))


def check_requested_outputs(request: InferRequest) -> None:
    """Reject requested outputs this model does not produce."""
    for output in request.request_outputs or []:
        if output.name not in OUTPUT_NAMES:
            raise InvalidInput(f"outputs: unknown output '{output.name}'; available: {', '.join(OUTPUT_NAMES)}")


def build_response(request: InferRequest, model_name: str, items: list[EncodedAudio]) -> InferResponse:
    """The V2 response for `items`, one element per input text."""
    raw = wants_binary_audio(request)
    # kserve UTF-8-decodes BYTES elements unless sent as binary: raw audio only when binary is on.
    audio = np.array([i.data if raw else base64.b64encode(i.data) for i in items], dtype=np.object_)
    content_types = sorted({i.content_type for i in items})
    outputs = [
        InferOutput("audio", [len(items)], "BYTES", data=audio, parameters={"content_type": content_types[0]}),
        InferOutput("sample_rate", [len(items)], "INT32", data=np.array([i.sample_rate for i in items], np.int32)),
        InferOutput("duration_s", [len(items)], "FP32", data=np.array([i.duration_s for i in items], np.float32)),
    ]
    if request.from_grpc:
        # Serialize now: kserve's to_grpc tests `output.data` for truth, which fails on arrays of > 1 element.
        for output in outputs:
            output.set_data_from_numpy(output.data, binary_data=True)
    return InferResponse(
        response_id=request.id or str(uuid.uuid4()),
        model_name=model_name,
        infer_outputs=outputs,
        use_binary_outputs=request.use_binary_outputs,
        requested_outputs=request.request_outputs,
        from_grpc=request.from_grpc,
    )
