"""The request budget: what one request may consume in all (text, audio seconds, decoded samples, output bytes).

One `RequestBudget` per request, created at the request's entry (the HTTP/WebSocket gateway, gRPC preprocess, the
job worker) and kept in a context variable, so the code that parses, decodes, synthesizes and encodes charges it
wherever it runs (worker threads and tasks copy the context, and share the same budget object). A charge past a
limit raises `BudgetExceeded` (400) naming the TTS_ setting and its value. Outside any request (library use, unit
tests) `current()` returns a fresh budget with the default limits, so each charge is still checked on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tts_predictor.errors import BudgetExceeded

if TYPE_CHECKING:
    from tts_predictor.settings import Settings

FLOAT32_BYTES = 4
"""Decoded audio is counted as float32 samples (what the decoder hands the pipeline)."""


@dataclass
class RequestBudget:
    """Limits of one request and what it has used so far (charges may come from several threads)."""

    max_text_chars: int = 100_000
    """TTS_MAX_REQUEST_TEXT_CHARS: characters of text in all the request's items."""
    max_audio_s: float = 1200.0
    """TTS_MAX_REQUEST_AUDIO_SECONDS: seconds of audio produced across all items, pauses included."""
    max_decoded_bytes: int = 64 * 2**20
    """TTS_MAX_REQUEST_DECODED_BYTES: float32 bytes (samples x channels x 4) unpacked from uploaded audio."""
    max_output_bytes: int = 256 * 2**20
    """TTS_MAX_REQUEST_OUTPUT_BYTES: encoded audio returned in all."""
    max_sample_rate: int = 192_000
    """TTS_MAX_UPLOAD_SAMPLE_RATE: highest sample rate an uploaded file may declare."""
    max_channels: int = 8
    """TTS_MAX_UPLOAD_CHANNELS: most channels an uploaded file may declare."""
    text_chars: int = 0
    audio_s: float = 0.0
    decoded_bytes: int = 0
    output_bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestBudget:
        """A fresh budget with the configured limits."""
        return cls(
            max_text_chars=settings.max_request_text_chars,
            max_audio_s=settings.max_request_audio_seconds,
            max_decoded_bytes=settings.max_request_decoded_bytes,
            max_output_bytes=settings.max_request_output_bytes,
            max_sample_rate=settings.max_upload_sample_rate,
            max_channels=settings.max_upload_channels,
        )

    def charge_text(self, chars: int, field: str = "text") -> None:
        """Count `chars` characters of request text."""
        with self._lock:
            total = self.text_chars + chars
            if total > self.max_text_chars:
                raise BudgetExceeded(
                    f"{field}: the request's texts add up to {total} characters; the limit is {self.max_text_chars} "
                    "per request (TTS_MAX_REQUEST_TEXT_CHARS); send fewer or shorter texts"
                )
            self.text_chars = total

    def charge_audio(self, seconds: float) -> None:
        """Count `seconds` of produced audio (speech and pauses)."""
        with self._lock:
            total = self.audio_s + seconds
            if total > self.max_audio_s:
                raise BudgetExceeded(
                    f"text: the request's items add up to {total:.0f} s of audio; the limit is {self.max_audio_s:g} s "
                    "per request (TTS_MAX_REQUEST_AUDIO_SECONDS); split it into several requests"
                )
            self.audio_s = total

    def check_format(self, field: str, sample_rate: int, channels: int) -> None:
        """400 when an uploaded file's header declares an absurd sample rate or channel count (before decoding)."""
        if not 0 < sample_rate <= self.max_sample_rate:
            raise BudgetExceeded(
                f"{field}: the file declares a sample rate of {sample_rate} Hz; at most {self.max_sample_rate} Hz "
                "is accepted (TTS_MAX_UPLOAD_SAMPLE_RATE)"
            )
        if not 0 < channels <= self.max_channels:
            raise BudgetExceeded(
                f"{field}: the file declares {channels} channels; at most {self.max_channels} are accepted "
                "(TTS_MAX_UPLOAD_CHANNELS)"
            )

    def charge_decoded(self, field: str, frames: int, channels: int) -> None:
        """Count the float32 bytes that decoding `frames` x `channels` will unpack; call it before decoding."""
        nbytes = max(0, frames) * max(1, channels) * FLOAT32_BYTES
        with self._lock:
            total = self.decoded_bytes + nbytes
            if total > self.max_decoded_bytes:
                raise BudgetExceeded(
                    f"{field}: decoding would unpack {total} bytes of audio ({frames} frames x {channels} channels); "
                    f"the limit is {self.max_decoded_bytes} bytes per request (TTS_MAX_REQUEST_DECODED_BYTES)"
                )
            self.decoded_bytes = total

    def charge_output(self, nbytes: int) -> None:
        """Count `nbytes` of encoded audio returned to the caller."""
        with self._lock:
            total = self.output_bytes + nbytes
            if total > self.max_output_bytes:
                raise BudgetExceeded(
                    f"the request's audio adds up to {total} encoded bytes; the limit is {self.max_output_bytes} "
                    "bytes per request (TTS_MAX_REQUEST_OUTPUT_BYTES); ask for fewer items or a compressed format"
                )
            self.output_bytes = total


_CURRENT: ContextVar[RequestBudget | None] = ContextVar("tts_request_budget", default=None)


def start(settings: Settings) -> RequestBudget:
    """Open a fresh budget for the request now starting (the entry points call this once per request)."""
    budget = RequestBudget.from_settings(settings)
    _CURRENT.set(budget)
    return budget


def current() -> RequestBudget:
    """The running request's budget; outside a request, a fresh one with the default limits."""
    return _CURRENT.get() or RequestBudget()


@contextmanager
def scoped(budget: RequestBudget) -> Iterator[RequestBudget]:
    """Make `budget` current for the body of the `with` (job items, WebSocket utterances are charged to it)."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)
