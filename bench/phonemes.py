"""Experiment ``rtf``: our service against bare piper-tts on the same sentences, and what the phonemizer costs.

Service RTF = client wall time of one-at-a-time POST /synthesize (WAV) / audio seconds; raw RTF = piper-tts's
own ``PiperVoice.synthesize`` in this process (its in-process espeak-ng binding, its ONNX Runtime defaults) on
the same sentences, the two alternating sentence by sentence. Phonemizer: milliseconds per sentence from our
long-lived espeak-ng workers vs one espeak-ng process per sentence (what the engine did before).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from bench.peer import _post
from bench.stats import median
from bench.workload import PEER_SENTENCES, PROFILES, SERVER_ENV
from devtools.server_process import ServerProcess

Log = Callable[[str], None]


def _raw_piper() -> Callable[[str], tuple[float, float]]:
    from piper import PiperVoice

    from tts_predictor.engines.onnx.vits import embedded_voice_paths

    voice = PiperVoice.load(embedded_voice_paths()[0])

    def run(text: str) -> tuple[float, float]:
        started = time.perf_counter()
        samples = sum(len(chunk.audio_float_array) for chunk in voice.synthesize(text))
        return time.perf_counter() - started, samples / voice.config.sample_rate

    return run


def phonemizer_ms(sentences: list[str]) -> dict[str, float]:
    """Median ms per sentence: worker pool vs a process per sentence."""
    from tts_predictor.engines.onnx.espeak import EspeakPhonemizer

    ph = EspeakPhonemizer("en-us")
    try:
        ph.phonemize(sentences[0])
        worker, process = [], []
        for s in sentences:
            t0 = time.perf_counter()
            ph.phonemize(s)
            t1 = time.perf_counter()
            ph._run(" ".join(s.split()))
            process.append(time.perf_counter() - t1)
            worker.append(t1 - t0)
    finally:
        ph.close()
    return {"worker_ms": median(worker) * 1e3, "process_per_sentence_ms": median(process) * 1e3}


def run_rtf(profile: str = "latency", log: Log = lambda msg: None) -> dict[str, Any]:
    """Service vs raw piper-tts RTF (alternating per sentence), plus the phonemizer comparison."""
    raw = _raw_piper()
    server = ServerProcess(env={**SERVER_ENV, **PROFILES[profile]}).start()
    service: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    try:

        async def one(client: httpx.AsyncClient, text: str) -> tuple[float, float]:
            return await _post(client, f"{server.url}/synthesize", text)

        async def all_sentences() -> None:
            async with httpx.AsyncClient(timeout=300) as client:
                await one(client, PEER_SENTENCES[0])  # warm-up both
                raw(PEER_SENTENCES[0])
                for text in PEER_SENTENCES:
                    service.append(await one(client, text))
                    bare.append(raw(text))

        log(f"[bench]   rtf: {len(PEER_SENTENCES)} sentences, service ({profile}) and raw piper-tts alternating")
        asyncio.run(all_sentences())
    finally:
        server.stop()
    rtf = {
        name: float(np.sum([t for t, _ in runs]) / np.sum([a for _, a in runs]))
        for name, runs in (("service", service), ("raw_piper_tts", bare))
    }
    out = {
        "profile": profile,
        "sentences": len(PEER_SENTENCES),
        "rtf": rtf,
        "service_over_raw": rtf["service"] / rtf["raw_piper_tts"],
        "phonemizer": phonemizer_ms(list(PEER_SENTENCES[:10])),
    }
    out["table"] = [
        f"rtf: {out['sentences']} sentences one at a time, profile {profile}: service RTF {rtf['service']:.4f}, "
        f"raw piper-tts RTF {rtf['raw_piper_tts']:.4f} -> service/raw {out['service_over_raw']:.3f}",
        f"phonemizer per sentence: long-lived espeak-ng worker {out['phonemizer']['worker_ms']:.1f} ms, "
        f"one process per sentence {out['phonemizer']['process_per_sentence_ms']:.1f} ms",
    ]
    return out
