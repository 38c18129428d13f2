"""`Client`: the blocking client (httpx.Client); every request comes from `_core.Calls`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tts_predictor_client._core import (
    USER_AGENT,
    Call,
    Calls,
    ProgressHook,
    RetryHook,
    RetryPolicy,
    check,
    client_headers,
    format_of,
    read_upload,
    transport_error,
)
from tts_predictor_client.errors import JobFailedError, TTSError
from tts_predictor_client.types import Job, Speech, VoiceList

T = TypeVar("T")


class Client:
    """A tts-predictor server, e.g. ``Client("http://localhost:8080", api_key="...")``.

    Args:
        base_url: the server's HTTP address.
        api_key: sent as ``Authorization: Bearer <key>`` (servers with TTS_API_KEYS).
        timeout: seconds for connecting and between bytes of an answer (a whole synthesis may take longer).
        max_retries: retries of 429/503 answers (waiting the server's Retry-After) and refused connections.
        max_retry_wait: longest Retry-After honoured; a longer one raises at once.
        on_retry: called before each retry with (retry number, error, seconds to wait).
        http: an httpx.Client of your own (proxies, TLS); base_url, api_key and timeout are then not applied.
    """

    def __init__(
        self,
        base_url: str = "http://localhost:8080",
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        on_retry: RetryHook | None = None,
        http: httpx.Client | None = None,
    ):
        headers = client_headers(api_key, USER_AGENT)
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.base_url, self.api_key = base_url.rstrip("/"), api_key
        self.retry = RetryPolicy(max_retries=max_retries, max_wait_s=max_retry_wait)
        self.on_retry = on_retry

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: Call[Any], stream: bool = False) -> httpx.Response:
        """Send `call`, retrying per `self.retry`; the successful response (unread when `stream`)."""
        retry = 0
        while True:
            try:
                response = self._http.send(call.request(self._http), stream=stream)
                if stream and not response.is_success:
                    response.read()
                    response.close()
                return check(response)
            except httpx.TransportError as exc:
                error: TTSError = transport_error(exc)
            except TTSError as exc:
                error = exc
            retry += 1
            wait = self.retry.delay(retry, error)
            if wait is None:
                raise error
            if self.on_retry:
                self.on_retry(retry, error, wait)
            time.sleep(wait)

    def _run(self, call: Call[T]) -> T:
        return call.parse(self._send(call))

    def synthesize(self, text: str, *, voice: str | None = None, format: str | None = None, **options: Any) -> Speech:
        """Synthesize `text` (plain or SSML) into one audio file.

        Args:
            text: what to say; SSML when it starts with ``<speak``.
            voice: a voice id (`voices()`); default: the server's.
            format: wav, mp3, flac, ogg, opus, aac, pcm, mulaw or alaw; default wav.
            **options: other /synthesize options (speed, language, pitch, energy, sample_rate, bitrate, ...).

        Raises:
            BadRequestError: with the server's message naming the field (e.g. an unknown voice).
        """
        return self._run(Calls.synthesize(text, {"voice": voice, "format": format, **options}))

    def synthesize_to_file(self, text: str, path: str | Path, *, format: str | None = None, **options: Any) -> Speech:
        """Synthesize `text` into the file `path`; its format from `format` or the file's suffix."""
        speech = self.synthesize(text, format=format_of(path, format), **options)
        speech.save(path)
        return speech

    def stream(
        self, text: str, *, format: str = "pcm", chunk_size: int | None = None, **options: Any
    ) -> Iterator[bytes]:
        """The audio of `text` in chunks while the server synthesizes it sentence by sentence.

        Concatenated, the chunks are one stream of `format` (pcm: 16-bit little-endian mono at the voice's rate).
        Errors before the first chunk raise like `synthesize`; retries happen only before it.
        """
        response = self._send(Calls.stream(text, {"format": format, **options}), stream=True)
        try:
            yield from response.iter_bytes(chunk_size)
        finally:
            response.close()

    def stream_text(
        self, pieces: Iterable[str], *, format: str = "pcm", **config: Any
    ) -> Iterator[bytes | dict[str, Any]]:
        """WebSocket /v1/stream: send text as it comes (LLM tokens); yield audio bytes and event dicts in order.

        Needs ``websockets`` (``pip install 'tts-predictor-client[ws]'``). Events: start, segment, quality, end.
        """
        from tts_predictor_client.ws import stream_text_sync

        yield from stream_text_sync(self.base_url, self.api_key, pieces, {"format": format, **config})

    def normalize(self, text: str, **options: Any) -> dict[str, Any]:
        """What the engine will speak for `text` (POST /v1/normalize): language, voice and per-segment text."""
        return self._run(Calls.normalize(text, options))

    def voices(self, language: str | None = None) -> VoiceList:
        """The voices (optionally only those speaking `language`)."""
        return self._run(Calls.voices(language))

    def get_voice(self, voice_id: str) -> dict[str, Any]:
        """A stored (cloned) voice's record."""
        return self._run(Calls.voice(voice_id))

    def clone_voice(
        self, name: str, sample: bytes | str | Path, *, consent: bool | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Clone a voice from a 3-30 s speech sample (bytes or a file path) and store it as `name`."""
        data, filename = read_upload(sample, "sample.wav" if isinstance(sample, bytes) else None)
        return self._run(Calls.clone_voice(name, data, filename, {"consent": consent, **fields}))

    def delete_voice(self, voice_id: str) -> None:
        """Delete a stored voice."""
        self._run(Calls.delete_voice(voice_id))

    def submit_job(
        self,
        text: str | None = None,
        *,
        ssml: str | None = None,
        markdown: str | None = None,
        title: str | None = None,
        author: str | None = None,
        **options: Any,
    ) -> Job:
        """Submit a long text as a job (exactly one of text, ssml, markdown); options as for `synthesize`."""
        source = {"text": text, "ssml": ssml, "markdown": markdown, "title": title, "author": author}
        return self._run(Calls.submit_job(source, options))

    def submit_job_file(self, file: str | Path | bytes, *, filename: str | None = None, **options: Any) -> Job:
        """Submit an EPUB, Markdown, text or SSML file as a job (its kind from the file name's suffix)."""
        data, name = read_upload(file, filename)
        return self._run(Calls.submit_job_file(data, name, {}, options))

    def get_job(self, job_id: str) -> Job:
        """A job's state, progress and chapters."""
        return self._run(Calls.job(job_id))

    def list_jobs(self) -> list[Job]:
        """This API key's jobs, newest first."""
        return self._run(Calls.jobs())

    def wait_job(
        self,
        job: Job | str,
        *,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        on_progress: ProgressHook | None = None,
    ) -> Job:
        """Poll until the job ends; the completed job. Raises JobFailedError (failed/cancelled), TimeoutError."""
        job_id = job.id if isinstance(job, Job) else job
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.get_job(job_id)
            if on_progress:
                on_progress(current)
            if current.finished:
                if current.state != "completed":
                    raise JobFailedError(current)
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {current.state} after {timeout} s")
            time.sleep(poll_interval)

    def download_job(self, job: Job | str, path: str | Path | None = None, *, chapter: int | None = None) -> bytes:
        """The job's result (or one chapter, from 1) as bytes; also written to `path` when given."""
        data = self._run(Calls.job_audio(job.id if isinstance(job, Job) else job, chapter))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def cancel_job(self, job: Job | str) -> dict[str, Any]:
        """Cancel a running job, or delete a finished one."""
        return self._run(Calls.cancel_job(job.id if isinstance(job, Job) else job))
