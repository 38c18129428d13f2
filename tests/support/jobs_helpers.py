"""Helpers of the jobs tests: a long text, polling, a one-go reference, Whisper transcripts, a webhook receiver."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np
import soundfile as sf
from asr import _words as words  # noqa: F401 (re-exported)
from asr import transcribe, word_error_rate  # noqa: F401 (re-exported)

STORY = [
    "The lighthouse keeper climbed the stairs every evening at dusk.",
    "He checked the lamp, wiped the glass and wrote a line in his logbook.",
    "Ships passed far out at sea, and none of them ever knew his name.",
    "In winter the storms came from the north and shook the old tower.",
    "His daughter sent letters from the city, full of trams and bright windows.",
    "He answered each one slowly, describing the gulls and the grey water.",
]


def long_text(chars: int) -> str:
    """About `chars` characters of plain English prose (the story repeated)."""
    out: list[str] = []
    while sum(len(s) + 1 for s in out) < chars:
        out.append(STORY[len(out) % len(STORY)])
    return " ".join(out)


def wait_job(
    url: str, job_id: str, *, headers: dict[str, str] | None = None, until: Any = None, timeout_s: float = 240.0
) -> dict[str, Any]:
    """Poll GET /v1/jobs/{id} until `until(job)` (default: a finished state)."""
    done = until or (lambda j: j["state"] in ("completed", "failed", "cancelled"))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", headers=headers, timeout=30).json()
        if done(job):
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} not done in {timeout_s} s: {job}")


def wav_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of a WAV/FLAC file."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    return samples, rate


def transcript(whisper: Any, samples: np.ndarray, rate: int) -> list[str]:
    """Whisper words of mono audio (deterministic decoding, as in the intelligibility tests)."""
    return words(transcribe(whisper, samples, rate))


class Receiver:
    """A webhook receiver on 127.0.0.1 answering the scripted statuses in turn (then 200)."""

    def __init__(self, statuses: list[int]):
        self.statuses, self.calls = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.calls.append((dict(self.headers), body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.calls]

    def close(self) -> None:
        self.server.shutdown()
