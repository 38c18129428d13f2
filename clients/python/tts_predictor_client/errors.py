"""Exceptions of the client: one per HTTP status the server answers, each carrying the server's own message."""

from __future__ import annotations

import json
from typing import Any


class TTSError(Exception):
    """Base of every error this client raises."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None, request_id: str | None = None):
        super().__init__(message if status is None else f"HTTP {status}: {message}")
        self.message = message
        """The server's message (`{"error": "..."}` or OpenAI's `{"error": {"message": ...}}`), or ours."""
        self.status = status
        """The HTTP status, None when no answer came (connection error, timeout)."""
        self.body = body
        """The parsed error body (dict) or its text."""
        self.request_id = request_id
        """The server's X-Request-ID, to find the request in its logs."""

    @property
    def param(self) -> str | None:
        """The field OpenAI-shaped errors name (`error.param`), else None."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("param") if isinstance(error, dict) else None


class APIConnectionError(TTSError):
    """The server could not be reached (refused, reset, DNS)."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class APIStatusError(TTSError):
    """The server answered with an error status."""


class BadRequestError(APIStatusError):
    """400: bad input; the message names the field and the allowed values."""


class AuthenticationError(APIStatusError):
    """401: missing or wrong API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (an admin-only action)."""


class NotFoundError(APIStatusError):
    """404: no such job, voice or route (or another key's)."""


class ConflictError(APIStatusError):
    """409: a taken name, a full store, or audio of an unfinished job."""


class PayloadTooLargeError(APIStatusError):
    """413: the body is over the server's limit."""


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` is the server's Retry-After in seconds (None when absent)."""

    retry_after: float | None = None


class ServerError(APIStatusError):
    """5xx: the server failed (500) or has no room for the work (507)."""


class ServiceUnavailableError(ServerError):
    """503: the model is loading or the predictor is unreachable; `retry_after` as for `RateLimitError`."""

    retry_after: float | None = None


class JobFailedError(TTSError):
    """A waited-for job ended `failed` or `cancelled`; `job` is its last state."""

    def __init__(self, job: Any):
        super().__init__(f"job {job.id} {job.state}: {job.error or 'no reason given'}")
        self.job = job


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_message(body: Any, fallback: str) -> str:
    """The message of a KServe/REST (`{"error": "..."}`) or OpenAI (`{"error": {"message": ...}}`) error body."""
    if isinstance(body, dict):
        error = body.get("error", body.get("detail"))
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
    if isinstance(body, str) and body.strip():
        return body.strip()[:1000]
    return fallback


def status_error(
    status: int, content: bytes, retry_after: float | None = None, request_id: str | None = None
) -> APIStatusError:
    """The exception for an error answer: its class by status, its message from the body."""
    try:
        body: Any = json.loads(content)
    except ValueError:
        body = content.decode("utf-8", "replace")
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else APIStatusError)
    error = kind(error_message(body, f"HTTP {status}"), status=status, body=body, request_id=request_id)
    if isinstance(error, RateLimitError | ServiceUnavailableError):
        error.retry_after = retry_after
    return error


class StreamError(TTSError):
    """The WebSocket stream ended with an error event; `code` is the close code (1008 bad message, 1011 synthesis
    failed, 1013 overloaded: try again later)."""

    def __init__(self, message: str, code: int | None):
        super().__init__(message)
        self.code = code
