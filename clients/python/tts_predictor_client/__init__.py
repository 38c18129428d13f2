"""Python client of tts-predictor: synthesize, stream (HTTP and WebSocket), long-form jobs, voices, normalize.

from tts_predictor_client import Client

with Client("http://localhost:8080", api_key="...") as tts:
    tts.synthesize_to_file("Hello.", "hello.wav")
"""

from tts_predictor_client._core import __version__
from tts_predictor_client.async_client import AsyncClient
from tts_predictor_client.client import Client
from tts_predictor_client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    StreamError,
    TTSError,
)
from tts_predictor_client.types import Chapter, Job, JobProgress, Speech, Voice, VoiceList

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Chapter",
    "Client",
    "ConflictError",
    "Job",
    "JobFailedError",
    "JobProgress",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    "Speech",
    "StreamError",
    "TTSError",
    "Voice",
    "VoiceList",
    "__version__",
]
