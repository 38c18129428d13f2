"""V2 tensors <-> synthesis items: the only module that touches kserve's tensor types.

Request: input ``text`` (BYTES, shape [N]); optional request parameters ``voice``, ``language``,
``speed``, ``format``, ``sample_rate``. Response: ``audio`` (BYTES [N], base64 in JSON, raw bytes with
the binary extension and over gRPC), ``sample_rate`` (INT32 [N]), ``duration_s`` (FP32 [N]).
"""

from __future__ import annotations

import base64
import json
import struct
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from google.protobuf.unknown_fields import UnknownFieldSet
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tts_predictor.audio.effects import parse_effects
from tts_predictor.audio.encode import FORMATS, MEDIA_TYPES, check_bitrate
from tts_predictor.audio.post import POST_FIELDS, PostOptions
from tts_predictor.errors import TextTooLong, UnsupportedOption
from tts_predictor.schemas import EMOTIONS, PITCH_RANGE, SPEED_RANGE, STYLES, VOLUME_RANGE, combine, preset

TEXT_INPUT = "text"
ITEM_INPUTS = {"voice": "BYTES", "language": "BYTES", "speed": "FP32"}
"""Optional per-text inputs (shape [N]) that override the request parameters of the same name."""
SAMPLE_INPUT = "speaker_wav"
"""Optional BYTES [1]: 3-30 s of someone's speech (an audio file; base64 in JSON); every text is spoken in that voice."""
OUTPUT_NAMES = ("audio", "sample_rate", "duration_s", "timings", "marks")
BASE_OUTPUTS = OUTPUT_NAMES[:3]
# Parameters that belong to the protocol (tritonclient / kserve clients set them), not to synthesis.
PROTOCOL_PARAMETERS = frozenset(
    {"binary_data_output", "sequence_id", "sequence_start", "sequence_end", "priority", "timeout", "headers"}
)

VOICE_OBJECT_KEYS = ("id", "language", "gender")
"""Keys of the object form of `voice`."""
VOICE_OBJECT_CHARS = 400
"""Longest JSON string accepted as the object form of `voice`."""

Speed = Annotated[
    float,
    Field(
        ge=SPEED_RANGE[0],
        le=SPEED_RANGE[1],
        description=f"Speaking rate multiplier, {SPEED_RANGE[0]}-{SPEED_RANGE[1]}.",
    ),
]
SampleRate = Annotated[int, Field(ge=8000, le=48000, description="Output sample rate in Hz, 8000-48000.")]


class SynthesisParameters(PostOptions):
    """Request-level V2 parameters (post-processing fields from `PostOptions`); unknown ones are rejected."""

    model_config = ConfigDict(extra="forbid")

    voice: str | None = Field(
        None,
        description='Voice id (GET /v2/models/<name>/voices), or an object {"id", "language", "gender"} choosing '
        "one by language and gender.",
    )
    language: str | None = Field(
        None, description="Language code such as en-US (or en); absent: detected per sentence (TTS_DETECT_LANGUAGE)."
    )
    _voice_alias: bool = PrivateAttr(False)
    """True when `voice` was mapped from an OpenAI voice name: per-sentence detection may then switch voices."""
    speed: Speed = 1.0
    gender: Literal["female", "male"] | None = Field(
        None, description="Choose a voice of this gender (female or male) where the voices' metadata says."
    )
    format: str = Field("wav", description=f"Audio format, one of: {', '.join(FORMATS)}.")
    sample_rate: SampleRate | None = Field(None, description="Output sample rate in Hz, 8000-48000.")
    bitrate: str | None = Field(
        None,
        pattern=r"^[0-9]{1,3}k$",
        description="Bitrate for mp3/aac (8k-320k), ogg (8k-240k), opus (6k-256k), e.g. 64k.",
    )
    ssml: bool | None = Field(None, description="true: text is SSML; false: plain; absent: detect '<speak'.")
    normalize: bool = Field(True, description="Expand numbers, dates, currency and abbreviations to words.")
    lexicons: str | None = Field(
        None, max_length=400, description="Comma-separated names of loaded PLS lexicons to apply (TTS_LEXICONS)."
    )
    volume_db: float = Field(
        0.0,
        ge=VOLUME_RANGE[0],
        le=VOLUME_RANGE[1],
        description=f"Gain in dB, {VOLUME_RANGE[0]:g} to {VOLUME_RANGE[1]:g}.",
    )
    pitch: float = Field(
        0.0,
        ge=PITCH_RANGE[0],
        le=PITCH_RANGE[1],
        description=f"Pitch shift in semitones, {PITCH_RANGE[0]:g} to {PITCH_RANGE[1]:g}.",
    )
    loudness_lufs: float | None = Field(None, ge=-60.0, le=-5.0, description="Loudness target in LUFS, -60 to -5.")
    timings: bool = Field(False, description="Add the outputs 'timings' and 'marks' (JSON per text).")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="Noise seed (Coqui models): same seed, same audio.")
    temperature: float | None = Field(
        None,
        gt=0.0,
        le=2.0,
        description="Sampling temperature of an autoregressive model (XTTS), above 0 up to 2; lower is steadier.",
    )
    top_p: float | None = Field(None, gt=0.0, le=1.0, description="Nucleus sampling (XTTS), above 0 up to 1.")
    top_k: int | None = Field(None, ge=1, le=1000, description="Top-k sampling (XTTS), 1-1000.")
    repetition_penalty: float | None = Field(None, ge=1.0, le=20.0, description="Repetition penalty (XTTS), 1-20.")
    effects: str | None = Field(
        None,
        max_length=200,
        description="Comma-separated audio effects added by plugins (GET /v1/plugins), applied in order after pitch "
        "and gain; streams too.",
    )
    emotion: str | None = Field(
        None, max_length=40, description=f"Emotion as a prosody preset, one of: {', '.join(EMOTIONS)}."
    )
    style: str | None = Field(
        None, max_length=40, description=f"Speaking style as a prosody preset, one of: {', '.join(STYLES)}."
    )

    @model_validator(mode="before")
    @classmethod
    def _voice_object(cls, data: Any) -> Any:
        """``voice: {"language": "de", "gender": "female"}`` -> the fields voice (its id), language, gender."""
        if not isinstance(data, dict):
            return data
        chosen = data.get("voice")
        if isinstance(chosen, str) and chosen.lstrip().startswith("{"):  # V2 parameters are scalars: a JSON string
            if len(chosen) > VOICE_OBJECT_CHARS:  # also keeps json.loads off deeply nested input (RecursionError)
                raise ValueError(f"voice: a voice object is at most {VOICE_OBJECT_CHARS} characters")
            try:
                chosen = json.loads(chosen)
            except (ValueError, RecursionError):
                raise ValueError("voice: not a voice id and not a JSON object") from None
        if not isinstance(chosen, dict):
            return data
        unknown = sorted(str(k) for k in set(chosen) - set(VOICE_OBJECT_KEYS))
        if unknown:
            raise ValueError(f"voice: unknown key '{str(unknown[0])[:40]}'; allowed: {', '.join(VOICE_OBJECT_KEYS)}")
        flat = {k: v for k, v in data.items() if k != "voice"}
        for key, field in (("id", "voice"), ("language", "language"), ("gender", "gender")):
            if chosen.get(key) is not None:
                if flat.get(field) is not None and flat[field] != chosen[key]:
                    raise ValueError(f"voice: voice.{key} and {field} disagree; give one of them")
                flat[field] = chosen[key]
        return flat

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in MEDIA_TYPES:  # the built-in formats and those plugins added
            raise ValueError(f"unsupported format '{value[:40]}'; use one of: {', '.join(MEDIA_TYPES)}")
        return value

    @field_validator("effects")
    @classmethod
    def _known_effects(cls, value: str | None) -> str | None:
        return ",".join(parse_effects(value)) or None  # ValueError naming the installed effects

    @field_validator("emotion", "style")
    @classmethod
    def _known_preset(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            preset(str(info.field_name), value)  # ValueError listing the supported names
        return value

    @field_validator("bitrate")
    @classmethod
    def _bitrate_in_range(cls, value: str | None, info: ValidationInfo) -> str | None:
        try:
            return check_bitrate(info.data.get("format", ""), value)
        except InvalidInput as exc:
            raise ValueError(str(exc.reason).removeprefix("bitrate: ")) from None

    @model_validator(mode="after")
    def _fold_presets(self) -> SynthesisParameters:
        """Apply emotion/style presets to speed, pitch and volume_db once, then drop them (so nothing downstream,
        e.g. the predictor behind a transformer, applies them twice; equal prosody gives equal cache keys)."""
        if self.emotion is None and self.style is None:
            return self
        presets = [preset(kind, name) for kind, name in (("emotion", self.emotion), ("style", self.style)) if name]
        self.speed, self.pitch, self.volume_db = combine(self.speed, self.pitch, self.volume_db, *presets)
        self.emotion = self.style = None
        return self


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
    timings: tuple[dict[str, Any], ...] = ()
    """Per-segment text with start/end seconds."""
    marks: tuple[dict[str, Any], ...] = ()
    """SSML marks with their time offsets in seconds."""


OUTPUT_DATATYPES = {
    "audio": "BYTES",
    "sample_rate": "INT32",
    "duration_s": "FP32",
    "timings": "BYTES",
    "marks": "BYTES",
}


def input_types() -> list[dict[str, Any]]:
    """V2 metadata inputs, shared by the predictor and the transformer (one request shape for both)."""
    return (
        [{"name": TEXT_INPUT, "datatype": "BYTES", "shape": [-1]}]
        + [{"name": name, "datatype": dtype, "shape": [-1]} for name, dtype in ITEM_INPUTS.items()]
        + [{"name": SAMPLE_INPUT, "datatype": "BYTES", "shape": [1]}]
    )


def output_types() -> list[dict[str, Any]]:
    """V2 metadata outputs, shared by the predictor and the transformer."""
    return [{"name": name, "datatype": OUTPUT_DATATYPES[name], "shape": [-1]} for name in OUTPUT_NAMES]


def parameters_dict(parameters: Any) -> dict[str, Any]:
    """Plain dict from REST parameters or gRPC InferParameter maps (kserve's helper drops doubles)."""
    if not parameters:
        return {}
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if hasattr(value, "WhichOneof"):
            field = value.WhichOneof("parameter_choice")
            value = getattr(value, field) if field else _triton_only_parameter(key, value)
        out[key] = value
    return out


# Triton's grpc_service.proto InferParameter has double_param = 4 (fixed64) and uint64_param = 5 (varint); kserve's
# grpc_predict_v2.proto stops at string_param = 3, so protobuf keeps those two as unknown fields. tritonclient.grpc
# sends every Python float as double_param (tritonclient/grpc/_utils.py, _get_inference_request).
_TRITON_DOUBLE, _TRITON_UINT64 = 4, 5
_FIXED64, _VARINT = 1, 0


def _triton_only_parameter(key: str, value: Any) -> float | int:
    """The value of a Triton-only InferParameter field (double_param, uint64_param) kept as an unknown field."""
    for unknown in UnknownFieldSet(value):
        if unknown.field_number == _TRITON_DOUBLE and unknown.wire_type == _FIXED64:
            return struct.unpack("<d", struct.pack("<Q", unknown.data))[0]
        if unknown.field_number == _TRITON_UINT64 and unknown.wire_type == _VARINT:
            return unknown.data
    raise UnsupportedOption(f"parameters.{key}: no bool, int64, string, double or uint64 value")


def parse_parameters(request: InferRequest) -> SynthesisParameters:
    """Validate the request parameters, naming the bad field and the allowed values."""
    raw = {k: v for k, v in parameters_dict(request.parameters).items() if k not in PROTOCOL_PARAMETERS}
    allowed = ", ".join([*(f for f in SynthesisParameters.model_fields if f not in POST_FIELDS), *POST_FIELDS])
    unknown = sorted(set(raw) - set(SynthesisParameters.model_fields))
    if unknown:
        raise UnsupportedOption(f"unknown parameter(s) {', '.join(unknown)}; allowed parameters: {allowed}")
    try:
        return SynthesisParameters(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = err["msg"].removeprefix("Value error, ")
        if not err["loc"] and message.partition(":")[0] in SynthesisParameters.model_fields:  # "voice: ..."
            raise UnsupportedOption(f"parameters.{message}") from None
        field = str(err["loc"][0]) if err["loc"] else "parameters"
        info = SynthesisParameters.model_fields.get(field)
        hint = f"; {info.description}" if info and info.description else ""
        raise UnsupportedOption(
            f"parameters.{field}: {err['msg'].removeprefix('Value error, ')} (got {err.get('input')!r}){hint}"
        ) from None


def parse_items(
    request: InferRequest, params: SynthesisParameters, *, max_chars: int, max_batch: int
) -> list[tuple[str, SynthesisParameters]]:
    """Each text of input ``text`` (BYTES [N]) with its parameters (per-text inputs override request ones)."""
    tensors = {t.name: t for t in request.inputs}
    unknown = sorted(set(tensors) - {TEXT_INPUT, SAMPLE_INPUT, *ITEM_INPUTS})
    if TEXT_INPUT not in tensors or unknown:
        raise InvalidInput(
            f"inputs: expected '{TEXT_INPUT}' (BYTES [N]) and optionally {', '.join(ITEM_INPUTS)} ([N]) and "
            f"{SAMPLE_INPUT} (BYTES [1]); got {[t.name for t in request.inputs]}"
        )
    texts = [_text_item(i, item, max_chars) for i, item in enumerate(_column(tensors[TEXT_INPUT], "BYTES", max_batch))]
    columns = {
        name: _column(tensors[name], dtype, max_batch, len(texts))
        for name, dtype in ITEM_INPUTS.items()
        if name in tensors
    }
    items = []
    for i, text in enumerate(texts):
        scalars = {name: _scalar(values[i]) for name, values in columns.items()}
        overrides = {name: v for name, v in scalars.items() if v not in (None, "")}  # "" = request default
        items.append((text, _with_overrides(params, overrides, i) if overrides else params))
    return items


def _column(tensor: Any, dtype: str, max_batch: int, length: int | None = None) -> list[Any]:
    name, shape = tensor.name, list(tensor.shape)
    if tensor.datatype != dtype and not (dtype == "FP32" and tensor.datatype in ("FP64", "FP16")):
        raise InvalidInput(f"{name}: datatype must be {dtype}, got {tensor.datatype}")
    if len(shape) != 1 or shape[0] < 1:
        raise InvalidInput(f"{name}: shape must be [N] with N >= 1, got {shape}")
    if shape[0] > max_batch:
        raise InvalidInput(f"{name}: batch of {shape[0]} texts; the limit is {max_batch} (TTS_MAX_BATCH_SIZE)")
    if length is not None and shape[0] != length:
        raise InvalidInput(f"{name}: shape {shape} must match text's [{length}]")
    try:
        return list(tensor.as_numpy().reshape(-1))
    except Exception:  # malformed binary tensor or data that does not fit the shape
        raise InvalidInput(f"{name}: data does not match datatype {tensor.datatype} and shape {shape}") from None


def speaker_sample(request: InferRequest) -> bytes | None:
    """The audio file bytes of input ``speaker_wav`` (BYTES [1]: base64 text in JSON, raw bytes in binary/gRPC)."""
    tensor = next((t for t in request.inputs if t.name == SAMPLE_INPUT), None)
    if tensor is None:
        return None
    if list(tensor.shape) != [1]:
        raise InvalidInput(f"{SAMPLE_INPUT}: shape must be [1] (one audio file), got {list(tensor.shape)}")
    value = _column(tensor, "BYTES", 1)[0]
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise InvalidInput(
            f"{SAMPLE_INPUT}: not base64; send an audio file (WAV, FLAC, OGG, MP3) base64-encoded"
        ) from None


def _scalar(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value.item() if hasattr(value, "item") else value


def _with_overrides(params: SynthesisParameters, overrides: dict[str, Any], index: int) -> SynthesisParameters:
    try:
        return SynthesisParameters(**{**params.model_dump(), **overrides})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UnsupportedOption(
            f"{err['loc'][0]}[{index}]: {err['msg'].removeprefix('Value error, ')} (got {err.get('input')!r})"
        ) from None


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


def _json_column(values: list[Any]) -> np.ndarray:
    return np.array([json.dumps(v).encode() for v in values], dtype=np.object_)


def build_response(
    request: InferRequest, model_name: str, items: list[EncodedAudio], *, with_timings: bool = False
) -> InferResponse:
    """The V2 response for `items`, one element per input text (`timings`/`marks` JSON when asked)."""
    raw = wants_binary_audio(request)
    # kserve UTF-8-decodes BYTES elements unless sent as binary: raw audio only when binary is on.
    audio = np.array([i.data if raw else base64.b64encode(i.data) for i in items], dtype=np.object_)
    media_types = sorted({i.content_type for i in items})
    # `content_type` is KServe's/MLServer's codec hint (how elements are encoded), not a media type:
    # "base64" when the files travel base64 in JSON; the audio format is `media_type`.
    params = {"media_type": media_types[0], **({} if raw or request.from_grpc else {"content_type": "base64"})}
    outputs = [
        InferOutput("audio", [len(items)], "BYTES", data=audio, parameters=params),
        InferOutput("sample_rate", [len(items)], "INT32", data=np.array([i.sample_rate for i in items], np.int32)),
        InferOutput("duration_s", [len(items)], "FP32", data=np.array([i.duration_s for i in items], np.float32)),
    ]
    asked = {o.name for o in request.request_outputs or []}
    if with_timings or asked & {"timings", "marks"}:
        outputs.append(
            InferOutput("timings", [len(items)], "BYTES", data=_json_column([list(i.timings) for i in items]))
        )
        outputs.append(InferOutput("marks", [len(items)], "BYTES", data=_json_column([list(i.marks) for i in items])))
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
