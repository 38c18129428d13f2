"""Domain errors, subclassing kserve's so its handlers produce the HTTP/gRPC status."""

from __future__ import annotations

from kserve.errors import InferenceError, InvalidInput, ModelNotReady


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


class UnknownModel(ModelLoadError):
    """The repository has no model of this name to load (gRPC NOT_FOUND; REST 503 like every kserve load failure)."""


class PredictorUnavailable(RuntimeError):
    """The transformer could not get an answer from the predictor (503 with Retry-After)."""


class VoiceConflict(UnsupportedOption):
    """A stored voice cannot be created: the id is taken or the store is full (409 on /v1/voices)."""


class VoiceNotFound(UnsupportedOption):
    """No stored voice has this id (404 on /v1/voices/{id}; 400 where a request names it)."""


class PredictorRefused(RuntimeError):
    """The predictor refused the caller's credentials (401/403): the transformer answers the same status."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


class EncoderUnavailable(RuntimeError):
    """The library or program needed for this format is missing or failed."""


class BudgetExceeded(InvalidInput):
    """The request passed a limit of its budget (TTS_MAX_REQUEST_*, upload rate/channels): 400 naming the limit."""
