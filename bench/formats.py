"""Experiment: time to first audio per streamed format (relative to pcm) and encode cost per format.

One server (embedded voice, cache off). TTFA: the OpenAI route streams `TEN_SENTENCES` in each format in turn,
round by round (rotating who goes first, so load from other processes hits every format alike); the client
records the first byte and the moment the bytes received so far first decode to audio (the ffmpeg program). Encode cost:
one sentence through ``POST /synthesize`` (not streamed) per format, latency relative to wav.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from bench.stats import median
from bench.workload import INPUTS, SERVER_ENV, TEN_SENTENCES
from devtools.server_process import ServerProcess

STREAM_FORMATS = ("pcm", "wav", "mp3", "opus", "aac", "flac")
"""OpenAI's response formats (the route streams every one)."""
ENCODE_FORMATS = ("wav", "pcm", "flac", "mp3", "ogg", "opus", "aac", "mulaw")


def _decodes(data: bytes, fmt: str) -> bool:
    """Whether `data` (a stream's first bytes) already holds audio a decoder can play."""
    if fmt == "pcm":
        return len(data) >= 2
    if fmt == "wav":
        return len(data) > 44
    proc = subprocess.run(
        ["ffmpeg", "-v", "quiet", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "pipe:1"],
        input=data,
        capture_output=True,
        check=False,
        timeout=60,
    )
    return len(proc.stdout) >= 2


def _ttfa(client: httpx.Client, fmt: str) -> tuple[float, float]:
    """(first byte, first decodable audio) in seconds after sending, for one streamed request.

    Chunks are timed as they arrive and decoded only after the stream ends, so the decoder's own start-up
    (an ffmpeg process) is neither counted nor delays reading the following chunks.
    """
    body = {"model": "tts-1", "input": TEN_SENTENCES, "voice": "alloy", "response_format": fmt}
    arrivals: list[tuple[float, int]] = []
    received = bytearray()
    start = time.perf_counter()
    with client.stream("POST", "/v1/audio/speech", json=body) as res:
        res.raise_for_status()
        for chunk in res.iter_raw():
            received += chunk
            arrivals.append((time.perf_counter() - start, len(received)))
    assert arrivals, f"{fmt}: no audio"
    first_audio = next((at for at, size in arrivals if _decodes(bytes(received[:size]), fmt)), None)
    assert first_audio is not None, f"{fmt}: nothing decodable"
    return arrivals[0][0], first_audio


def _encode_latency(client: httpx.Client, fmt: str) -> float:
    start = time.perf_counter()
    res = client.post("/synthesize", json={"text": INPUTS["sentence"], "options": {"format": fmt}})
    res.raise_for_status()
    return time.perf_counter() - start


def run_formats(repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """TTFA per streamed format (and its ratio to pcm's) and one-sentence latency per format (ratio to wav)."""
    ttfa: dict[str, list[tuple[float, float]]] = {f: [] for f in STREAM_FORMATS}
    latency: dict[str, list[float]] = {f: [] for f in ENCODE_FORMATS}
    server = ServerProcess(env={**SERVER_ENV}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for fmt in STREAM_FORMATS:  # warm-up: each encoder once
                _ttfa(client, fmt)
            for r in range(repeats):
                log(f"[bench] formats: round {r + 1}/{repeats}")
                order = STREAM_FORMATS[r % len(STREAM_FORMATS) :] + STREAM_FORMATS[: r % len(STREAM_FORMATS)]
                for fmt in order:
                    ttfa[fmt].append(_ttfa(client, fmt))
                for fmt in ENCODE_FORMATS[r % len(ENCODE_FORMATS) :] + ENCODE_FORMATS[: r % len(ENCODE_FORMATS)]:
                    latency[fmt].append(_encode_latency(client, fmt))
    finally:
        server.stop()
    pcm_audio = median([a for _, a in ttfa["pcm"]])
    wav_latency = median(latency["wav"])
    return {
        "repeats": repeats,
        "ttfa": {
            fmt: {
                "first_byte_s": median([b for b, _ in v]),
                "first_audio_s": median([a for _, a in v]),
                "ratio_to_pcm": median([a for _, a in v]) / pcm_audio,
            }
            for fmt, v in ttfa.items()
        },
        "encode": {
            fmt: {
                "p50_ms": 1000 * median(v),
                "ratio_to_wav": median(v) / wav_latency,
                "p90_ms": 1000 * float(np.percentile(v, 90)),
            }
            for fmt, v in latency.items()
        },
    }


def format_table(result: dict[str, Any]) -> str:
    """Two small text tables: TTFA per format, encode latency per format."""
    lines = ["streamed TTFA (OpenAI route, 10 sentences)   first byte   first audio   x pcm"]
    for fmt, row in result["ttfa"].items():
        lines.append(
            f"  {fmt:<8}{row['first_byte_s']:>35.3f} s{row['first_audio_s']:>11.3f} s{row['ratio_to_pcm']:>8.2f}"
        )
    lines.append("one sentence, POST /synthesize               p50           x wav")
    for fmt, row in result["encode"].items():
        lines.append(f"  {fmt:<8}{row['p50_ms']:>35.1f} ms{row['ratio_to_wav']:>12.2f}")
    return "\n".join(lines)
