"""What the sync and async clients share: each call's request (path, body) and parser, errors and the retry rule.

The clients only move bytes: `Client` with `httpx.Client`, `AsyncClient` with `httpx.AsyncClient`.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from tts_predictor_client.errors import (
    APIConnectionError,
    RateLimitError,
    ServiceUnavailableError,
    TTSError,
    status_error,
)
from tts_predictor_client.types import Job, Speech, VoiceList

T = TypeVar("T")
RetryHook = Callable[[int, TTSError, float], None]
"""Called before each retry with (retry number from 1, the error, seconds it waits)."""
ProgressHook = Callable[[Job], None]
"""Called with each polled state of a job."""

__version__ = "0.1.0"
USER_AGENT = f"tts-predictor-client-python/{__version__}"
MEDIA_FORMATS = {".wav": "wav", ".mp3": "mp3", ".flac": "flac", ".ogg": "ogg", ".opus": "opus", ".aac": "aac"}


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and how to read its successful answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The httpx request on `http` (its base URL, auth header and timeout)."""
        return http.build_request(
            self.method,
            self.path,
            json=self.json,
            params=self.params,
            data=self.data,
            files=self.files,
            headers=self.headers,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of 429 and 503 answers (after the server's Retry-After) and of refused connections.

    Bounded: at most `max_retries` retries, and none when the server asks to wait longer than `max_wait_s`
    (the error is raised at once with its `retry_after`). Without a Retry-After header the wait doubles from
    `backoff_s`.
    """

    max_retries: int = 2
    max_wait_s: float = 30.0
    backoff_s: float = 0.5

    def delay(self, retry: int, error: TTSError) -> float | None:
        """Seconds to wait before retry number `retry` (from 1) after `error`; None: do not retry."""
        if retry > self.max_retries:
            return None
        if isinstance(error, RateLimitError | ServiceUnavailableError):
            wait = error.retry_after if error.retry_after is not None else self.backoff_s * 2 ** (retry - 1)
        elif type(error) is APIConnectionError:  # refused before sending: safe to send again (not a timeout)
            wait = self.backoff_s * 2 ** (retry - 1)
        else:
            return None
        return wait if wait <= self.max_wait_s else None


def retry_after(value: str | None) -> float | None:
    """Seconds of a Retry-After header (delay-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def check(response: httpx.Response) -> httpx.Response:
    """`response` when it is a success, else raise its `APIStatusError` (read the body first when streaming)."""
    if response.is_success:
        return response
    raise status_error(
        response.status_code,
        response.content,
        retry_after(response.headers.get("retry-after")),
        response.headers.get("x-request-id"),
    )


def transport_error(exc: httpx.TransportError) -> TTSError:
    """Our exception for httpx's connection and timeout errors."""
    from tts_predictor_client.errors import APITimeoutError

    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"no answer in time: {exc!r}")
    return APIConnectionError(f"could not reach the server: {exc!r}")


def synthesis_body(text: str, options: dict[str, Any], stream: bool = False) -> dict[str, Any]:
    """The body of POST /synthesize: options that are None are left out (the server's defaults apply)."""
    chosen = {k: v for k, v in options.items() if v is not None}
    if stream:
        chosen["stream"] = True
    return {"text": text, "options": chosen}


def format_of(path: str | Path, given: str | None) -> str:
    """The format to ask for when saving to `path`: `given`, else the file's suffix, else wav."""
    return given or MEDIA_FORMATS.get(Path(path).suffix.lower(), "wav")


def _speech(response: httpx.Response) -> Speech:
    headers = response.headers
    return Speech(
        audio=response.content,
        content_type=headers.get("content-type", "application/octet-stream"),
        voice=headers.get("x-voice"),
        language=headers.get("x-language"),
        duration_s=float(headers["x-duration"]) if "x-duration" in headers else None,
        sample_rate=int(headers["x-sample-rate"]) if "x-sample-rate" in headers else None,
        request_id=headers.get("x-request-id"),
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    return response.json()  # type: ignore[no-any-return]


def _job(response: httpx.Response) -> Job:
    return Job.from_json(response.json())


def _jobs(response: httpx.Response) -> list[Job]:
    return [Job.from_json(j) for j in response.json()["jobs"]]


def _voices(response: httpx.Response) -> VoiceList:
    return VoiceList.from_json(response.json())


def _bytes(response: httpx.Response) -> bytes:
    return response.content


def _none(response: httpx.Response) -> None:
    return None


class Calls:
    """The requests of every client method (no I/O): both clients send exactly these."""

    @staticmethod
    def synthesize(text: str, options: dict[str, Any]) -> Call[Speech]:
        return Call("POST", "/synthesize", _speech, json=synthesis_body(text, options))

    @staticmethod
    def stream(text: str, options: dict[str, Any]) -> Call[None]:
        """POST /synthesize with stream true: the clients read its body in chunks (no parser)."""
        return Call("POST", "/synthesize", _none, json=synthesis_body(text, options, stream=True))

    @staticmethod
    def normalize(text: str, options: dict[str, Any]) -> Call[dict[str, Any]]:
        body = {"text": text, **{k: v for k, v in options.items() if v is not None}}
        return Call("POST", "/v1/normalize", _json, json=body)

    @staticmethod
    def voices(language: str | None) -> Call[VoiceList]:
        return Call("GET", "/v1/voices", _voices, params={"language": language} if language else None)

    @staticmethod
    def voice(voice_id: str) -> Call[dict[str, Any]]:
        return Call("GET", f"/v1/voices/{_segment(voice_id)}", _json)

    @staticmethod
    def clone_voice(name: str, sample: bytes, filename: str, fields: dict[str, Any]) -> Call[dict[str, Any]]:
        data = {"name": name, **{k: _form(v) for k, v in fields.items() if v is not None}}
        return Call("POST", "/v1/voices", _json, data=data, files={"file": (filename, sample)})

    @staticmethod
    def delete_voice(voice_id: str) -> Call[None]:
        return Call("DELETE", f"/v1/voices/{_segment(voice_id)}", _none)

    @staticmethod
    def submit_job(source: dict[str, Any], options: dict[str, Any]) -> Call[Job]:
        body = {k: v for k, v in source.items() if v is not None}
        body["options"] = {k: v for k, v in options.items() if v is not None}
        return Call("POST", "/v1/jobs", _job, json=body)

    @staticmethod
    def submit_job_file(data: bytes, filename: str, fields: dict[str, Any], options: dict[str, Any]) -> Call[Job]:
        form = {k: v for k, v in fields.items() if v is not None}
        chosen = {k: v for k, v in options.items() if v is not None}
        if chosen:
            form["options"] = _form(chosen)
        return Call("POST", "/v1/jobs", _job, data=form, files={"file": (filename, data)})

    @staticmethod
    def job(job_id: str) -> Call[Job]:
        return Call("GET", f"/v1/jobs/{_segment(job_id)}", _job)

    @staticmethod
    def jobs() -> Call[list[Job]]:
        return Call("GET", "/v1/jobs", _jobs)

    @staticmethod
    def job_audio(job_id: str, chapter: int | None) -> Call[bytes]:
        params = {"chapter": chapter} if chapter is not None else None
        return Call("GET", f"/v1/jobs/{_segment(job_id)}/audio", _bytes, params=params)

    @staticmethod
    def cancel_job(job_id: str) -> Call[dict[str, Any]]:
        return Call("DELETE", f"/v1/jobs/{_segment(job_id)}", _json)


def _segment(value: str) -> str:
    """`value` as one URL path segment (a '/' or '?' in an id cannot reach another route)."""
    from urllib.parse import quote

    return quote(value, safe="")


def _form(value: Any) -> str:
    """A multipart form value: JSON for objects and booleans, as the server reads them."""
    import json

    return value if isinstance(value, str) else json.dumps(value)


def client_headers(api_key: str | None, user_agent: str) -> dict[str, str]:
    """Headers of every request: the API key as a Bearer token, and our user agent."""
    headers = {"User-Agent": user_agent}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def read_upload(source: bytes | str | Path, filename: str | None) -> tuple[bytes, str]:
    """(bytes, file name) of an upload given as bytes (with `filename`) or a path (its name unless `filename`)."""
    if isinstance(source, bytes):
        if not filename:
            raise ValueError("give filename= with bytes: the server reads the kind from its suffix")
        return source, filename
    path = Path(source)
    return path.read_bytes(), filename or path.name
