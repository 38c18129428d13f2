"""`AsyncClient`: the asyncio client (httpx.AsyncClient); the same requests as `Client`, from `_core.Calls`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
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


class AsyncClient:
    """The asyncio twin of `Client` (same arguments, same methods, awaited); use as ``async with``."""

    def __init__(
        self,
        base_url: str = "http://localhost:8080",
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        on_retry: RetryHook | None = None,
        http: httpx.AsyncClient | None = None,
    ):
        headers = client_headers(api_key, USER_AGENT)
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.base_url, self.api_key = base_url.rstrip("/"), api_key
        self.retry = RetryPolicy(max_retries=max_retries, max_wait_s=max_retry_wait)
        self.on_retry = on_retry

    async def close(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _send(self, call: Call[Any], stream: bool = False) -> httpx.Response:
        """Send `call`, retrying per `self.retry`; the successful response (unread when `stream`)."""
        retry = 0
        while True:
            try:
                response = await self._http.send(call.request(self._http), stream=stream)
                if stream and not response.is_success:
                    await response.aread()
                    await response.aclose()
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
            await asyncio.sleep(wait)

    async def _run(self, call: Call[T]) -> T:
        return call.parse(await self._send(call))

    async def synthesize(
        self, text: str, *, voice: str | None = None, format: str | None = None, **options: Any
    ) -> Speech:
        """See `Client.synthesize`."""
        return await self._run(Calls.synthesize(text, {"voice": voice, "format": format, **options}))

    async def synthesize_to_file(
        self, text: str, path: str | Path, *, format: str | None = None, **options: Any
    ) -> Speech:
        """See `Client.synthesize_to_file`."""
        speech = await self.synthesize(text, format=format_of(path, format), **options)
        speech.save(path)
        return speech

    async def stream(
        self, text: str, *, format: str = "pcm", chunk_size: int | None = None, **options: Any
    ) -> AsyncIterator[bytes]:
        """See `Client.stream`."""
        response = await self._send(Calls.stream(text, {"format": format, **options}), stream=True)
        try:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
        finally:
            await response.aclose()

    async def stream_text(
        self, pieces: AsyncIterable[str] | Iterable[str], *, format: str = "pcm", **config: Any
    ) -> AsyncIterator[bytes | dict[str, Any]]:
        """See `Client.stream_text`: WebSocket /v1/stream, text in as it comes, audio bytes and events out."""
        from tts_predictor_client.ws import stream_text

        async for item in stream_text(self.base_url, self.api_key, pieces, {"format": format, **config}):
            yield item

    async def normalize(self, text: str, **options: Any) -> dict[str, Any]:
        """See `Client.normalize`."""
        return await self._run(Calls.normalize(text, options))

    async def voices(self, language: str | None = None) -> VoiceList:
        """See `Client.voices`."""
        return await self._run(Calls.voices(language))

    async def get_voice(self, voice_id: str) -> dict[str, Any]:
        """See `Client.get_voice`."""
        return await self._run(Calls.voice(voice_id))

    async def clone_voice(
        self, name: str, sample: bytes | str | Path, *, consent: bool | None = None, **fields: Any
    ) -> dict[str, Any]:
        """See `Client.clone_voice`."""
        data, filename = read_upload(sample, "sample.wav" if isinstance(sample, bytes) else None)
        return await self._run(Calls.clone_voice(name, data, filename, {"consent": consent, **fields}))

    async def delete_voice(self, voice_id: str) -> None:
        """See `Client.delete_voice`."""
        await self._run(Calls.delete_voice(voice_id))

    async def submit_job(
        self,
        text: str | None = None,
        *,
        ssml: str | None = None,
        markdown: str | None = None,
        title: str | None = None,
        author: str | None = None,
        **options: Any,
    ) -> Job:
        """See `Client.submit_job`."""
        source = {"text": text, "ssml": ssml, "markdown": markdown, "title": title, "author": author}
        return await self._run(Calls.submit_job(source, options))

    async def submit_job_file(self, file: str | Path | bytes, *, filename: str | None = None, **options: Any) -> Job:
        """See `Client.submit_job_file`."""
        data, name = read_upload(file, filename)
        return await self._run(Calls.submit_job_file(data, name, {}, options))

    async def get_job(self, job_id: str) -> Job:
        """See `Client.get_job`."""
        return await self._run(Calls.job(job_id))

    async def list_jobs(self) -> list[Job]:
        """See `Client.list_jobs`."""
        return await self._run(Calls.jobs())

    async def wait_job(
        self,
        job: Job | str,
        *,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        on_progress: ProgressHook | None = None,
    ) -> Job:
        """See `Client.wait_job`."""
        job_id = job.id if isinstance(job, Job) else job
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = await self.get_job(job_id)
            if on_progress:
                on_progress(current)
            if current.finished:
                if current.state != "completed":
                    raise JobFailedError(current)
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {current.state} after {timeout} s")
            await asyncio.sleep(poll_interval)

    async def download_job(
        self, job: Job | str, path: str | Path | None = None, *, chapter: int | None = None
    ) -> bytes:
        """See `Client.download_job`."""
        data = await self._run(Calls.job_audio(job.id if isinstance(job, Job) else job, chapter))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    async def cancel_job(self, job: Job | str) -> dict[str, Any]:
        """See `Client.cancel_job`."""
        return await self._run(Calls.cancel_job(job.id if isinstance(job, Job) else job))
