"""Domain errors, subclassing kserve's so its handlers produce the HTTP/gRPC status."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from grpc_interceptor import exceptions as grpc_errors
from kserve.errors import InferenceError, InvalidInput, ModelNotFound, ModelNotReady


class UnknownVoice(InvalidInput):
    """The request names a voice the model does not have (400)."""


class UnknownLanguage(InvalidInput):
    """The request names a language the voice cannot speak (400)."""


class TextTooLong(InvalidInput):
    """A text item is longer than the configured limit (400)."""


class UnsupportedOption(InvalidInput):
    """A parameter is unknown, or its value is out of range for this model (400)."""


class FieldError(UnsupportedOption):
    """A request field is invalid (400); `param` names it, as in OpenAI's error shape."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


class EngineNotReady(ModelNotReady):
    """The engine is not loaded (503; gRPC UNAVAILABLE)."""

    @property
    def reason(self) -> str:
        """kserve's gRPC interceptor aborts with `ex.reason`, which its ModelNotReady lacks (AttributeError ->
        UNKNOWN instead of UNAVAILABLE; kserve/protocol/grpc/interceptors.py)."""
        return str(self)


class SynthesisFailed(InferenceError):
    """The engine failed on valid input (500); the message carries the request id, never the payload."""


class ModelLoadError(RuntimeError):
    """The configured model could not be loaded; the message says what to fix."""


class MissingExtra(ModelLoadError):
    """An optional extra (coqui, c2pa, events...) is not installed: no retry can help, the message says what to do."""


def require_extra(module: str, extra: str, feature: str) -> ModuleType:
    """Import `module`, which only an optional extra installs (the light install has none of them).

    Raises:
        MissingExtra: naming `feature` and the pip command that brings the extra.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"{feature} needs the '{extra}' extra, which this install lacks: "
            f"pip install 'tts-predictor[{extra}]' ({exc})"
        ) from None


class UnknownModel(ModelLoadError):
    """The repository has no model of this name to load (gRPC NOT_FOUND; REST 503 like every kserve load failure)."""


class ModelMissing(ModelNotFound):
    """A request names a model this server neither serves nor can load (404); the message lists what it has
    (kserve's own says only "Model with name X does not exist.")."""

    def __init__(self, message: str):
        super().__init__()
        self.reason = message


class PredictorUnavailable(RuntimeError):
    """The transformer could not get an answer from the predictor (503 with Retry-After)."""


class VoiceConflict(UnsupportedOption):
    """A stored voice cannot be created: the id is taken or the store is full (409 on /v1/voices)."""


class VoiceNotFound(UnsupportedOption):
    """No stored voice has this id (404 on /v1/voices/{id}; 400 where a request names it)."""


class VoiceUnavailable(UnsupportedOption):
    """A Piper catalogue voice cannot be had: not in the catalogue, offline (HF_HUB_OFFLINE) or the catalogue
    unreachable, or its download failed (size, checksum). 400; the message names the voice and how to pre-fetch
    it (`tts-predictor voices pull NAME`, TTS_PIPER_VOICES_URL for a mirror)."""


class PredictorRefused(RuntimeError):
    """The predictor refused the caller's credentials (401/403): the transformer answers the same status."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


class EncoderUnavailable(RuntimeError):
    """The library or program needed for this format is missing or failed."""


class BudgetExceeded(InvalidInput):
    """The request passed a limit of its budget (TTS_MAX_REQUEST_*, upload rate/channels): 400 naming the limit."""


class HeadTooLarge(Exception):
    """The request head passed TTS_MAX_HEADER_COUNT or TTS_MAX_HEADER_BYTES (raised inside httptools' callbacks)."""


class StreamStalled(Exception):
    """The client read nothing for TTS_STREAM_STALL_TIMEOUT_S: its response (and what it holds) is given up."""


class BodyTooLarge(Exception):
    """The streamed body passed TTS_MAX_BODY_BYTES (no Content-Length to check up front)."""


class BadSource(InvalidInput):
    """The uploaded document cannot be read (400, naming the field)."""


class InvalidSSML(InvalidInput):
    """The SSML document is malformed, unsafe, too large, or uses an unsupported element or attribute."""


class UnspeakableText(InvalidInput):
    """The text holds characters that are not text (400)."""


class ContentRejected(InvalidInput):
    """The text contains a blocked term (400)."""


class InvalidLexicon(InvalidInput):
    """A PLS file is malformed, unsafe or uses an unsupported alphabet; or a request names an unknown lexicon."""


class UnknownBed(InvalidInput):
    """The request names a bed that is not stored (400, listing the stored ones)."""


class UnsupportedFormat(InvalidInput):
    """The requested audio format is not one this server encodes."""


class Overloaded(grpc_errors.ResourceExhausted):
    """Too many requests are running and waiting (REST 429 with Retry-After, gRPC RESOURCE_EXHAUSTED)."""

    retry_after_s = 1


class SlowOverloaded(Overloaded):
    """Too many requests for voices far slower than real time (Bark, Tortoise, TTS_SLOW_MODELS) are running."""

    retry_after_s = 10


class DeadlineExceeded(grpc_errors.DeadlineExceeded):
    """The request took longer than TTS_REQUEST_TIMEOUT_S (REST 504, gRPC DEADLINE_EXCEEDED)."""


class JobNotFound(InvalidInput):
    """No such job for this API key (404)."""


class JobLimit(InvalidInput):
    """Too many unfinished jobs for the key (429) or storage full (507)."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.status = status


# OpenAI's error body, read by its SDKs (openai-python `_make_status_error`: body["error"]["message"] becomes the
# exception's message); `type` and `code` by status, as OpenAI's API answers them.
_OPENAI_KINDS = {
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    503: ("server_error", "model_not_ready"),
    504: ("server_error", "timeout"),
}


def openai_body(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> dict[str, dict[str, str | None]]:
    """``{"error": {"message", "type", "param", "code"}}``: OpenAI's error shape for `status`."""
    kind, default_code = _OPENAI_KINDS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {"error": {"message": message, "type": kind, "param": param, "code": code or default_code}}


def openai_shaped(path: str) -> bool:
    """Whether errors on `path` take OpenAI's shape: every /v1 route but KServe's V1 model protocol
    (/v1/models/<name>, /v1/models/<name>:predict), whose clients read KServe's ``{"error": "..."}``."""
    return path.startswith("/v1/") and not path.startswith("/v1/models/")


def error_body(path: str, status: int, message: str, param: str | None = None) -> dict[str, Any]:
    """The one shape of an error answer: OpenAI's on /v1 routes (`openai_shaped`), else KServe's ``{"error": ...}``."""
    return openai_body(status, message, param) if openai_shaped(path) else {"error": message}
