"""Raw engine vs server vs server + transformer: alternating latency, concurrency sweep, time to first audio."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.memory import MemorySampler, vm_hwm_bytes
from bench.models import load_raw_engine
from bench.stats import summarize
from bench.workload import INPUTS, SERVER_ENV, TEN_SENTENCES, THROUGHPUT_INPUT
from devtools.server_process import ServerProcess, TransformerProcess

INFER_PATH = "/v2/models/tts/infer"


def infer_body(text: str) -> dict[str, Any]:
    """V2 inference request for one text."""
    return {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]}


def audio_seconds(response: Any) -> float:
    """`duration_s` of a V2 response (raises on an HTTP error)."""
    response.raise_for_status()
    for output in response.json()["outputs"]:
        if output["name"] == "duration_s":
            return float(output["data"][0])
    raise RuntimeError(f"no duration_s in response: {response.text[:300]}")


class ServerPair:
    """A server and a transformer in front of it, with the server's memory sampled while they run.

    After the ``with`` block: `ready_s` (server start time), `peak_rss_mib` and `vm_hwm_mib`.
    """

    def __init__(self, spec: str, extra: dict[str, str] | None = None):
        self.server = ServerProcess(env={"TTS_MODEL": spec, **SERVER_ENV, **(extra or {})})
        self.transformer: TransformerProcess | None = None
        self.sampler: MemorySampler | None = None
        self.ready_s = 0.0
        self.peak_rss_mib = 0.0
        self.vm_hwm_mib: float | None = None

    def __enter__(self) -> ServerPair:
        try:
            start = time.perf_counter()
            self.server.start()
            self.ready_s = time.perf_counter() - start
            self.transformer = TransformerProcess(
                env=SERVER_ENV, args=["--predictor_host", f"127.0.0.1:{self.server.http_port}"]
            ).start()
            self.sampler = MemorySampler(self.server.proc.pid)
            self.sampler.start()
        except BaseException:
            self._stop_processes()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            assert self.sampler is not None
            self.peak_rss_mib = round(self.sampler.stop() / 2**20, 1)
            hwm = vm_hwm_bytes(self.server.proc.pid)
            self.vm_hwm_mib = round(hwm / 2**20, 1) if hwm else None
        finally:
            self._stop_processes()

    def _stop_processes(self) -> None:
        self.server.stop()
        if self.transformer is not None:
            self.transformer.stop()


Timings = dict[str, list[float]]


def alternate(calls: dict[str, Callable[[], float]], warmup: int, repeats: int) -> tuple[Timings, Timings]:
    """Warm-up calls, then timed calls of every path in turn, one at a time.

    Each call returns the audio seconds it produced. Returns (wall seconds, audio seconds) per path.
    """
    for _ in range(warmup):
        for call in calls.values():
            call()
    walls: Timings = {path: [] for path in calls}
    audio: Timings = {path: [] for path in calls}
    for _ in range(repeats):
        for path, call in calls.items():
            t0 = time.perf_counter()
            seconds = call()
            walls[path].append(time.perf_counter() - t0)
            audio[path].append(seconds)
    return walls, audio


async def concurrent_level(url: str, text: str, concurrency: int, requests: int) -> dict[str, Any]:
    """Send `requests` identical requests with at most `concurrency` in flight."""
    import httpx

    body = infer_body(text)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    walls: list[float] = []
    audio: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                response = await client.post(INFER_PATH, json=body)
                walls.append(time.perf_counter() - start)
                audio.append(audio_seconds(response))

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start

    stats = summarize(walls, audio)
    stats.update(
        concurrency=concurrency,
        requests=requests,
        wall_s=elapsed,
        throughput_audio_s_per_s=float(sum(audio) / elapsed),
        requests_per_s=requests / elapsed,
    )
    return stats


def _path_calls(engine: Any, voice: Any, server: Any, transformer: Any, text: str) -> dict[str, Callable[[], float]]:
    """The three paths for one text: raw engine, server, server behind the transformer."""
    from tts_predictor.engines.base import SynthesisRequest

    request = SynthesisRequest(text, voice, voice.languages[0])
    body = infer_body(text)
    return {
        "raw": lambda: engine.synthesize(request).duration_s,
        "server": lambda: audio_seconds(server.post(INFER_PATH, json=body)),
        "transformer": lambda: audio_seconds(transformer.post(INFER_PATH, json=body)),
    }


def bench_model(
    spec: str,
    repeats: int,
    warmup: int,
    concurrency: Sequence[int],
    requests: int,
    log: Callable[[str], None] = lambda msg: None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Raw engine vs server on the same texts, then the server's concurrency sweep and peak memory.

    Raw and server calls alternate (raw, server, raw, server, ...), one at a time, so that load from
    other processes hits both paths alike and the server/raw ratio stays meaningful on a busy machine.
    """
    import httpx

    engine, voice, raw_info = load_raw_engine(spec, extra)
    raw: dict[str, Any] = dict(raw_info)
    tfm: dict[str, Any] = {}
    try:
        with ServerPair(spec, extra) as pair:
            srv: dict[str, Any] = {"ready_s": pair.ready_s, "env": SERVER_ENV}
            assert pair.transformer is not None
            with (
                httpx.Client(base_url=pair.server.url, timeout=600) as client,
                httpx.Client(base_url=pair.transformer.url, timeout=600) as via_transformer,
            ):
                for label, text in INPUTS.items():
                    log(f"[bench]   {label}: {warmup} warm-up + {repeats} timed calls per path, alternating")
                    calls = _path_calls(engine, voice, client, via_transformer, text)
                    walls, audio = alternate(calls, warmup, repeats)
                    raw[label], srv[label], tfm[label] = (
                        summarize(walls[path], audio[path]) for path in ("raw", "server", "transformer")
                    )
                    srv[label]["paired_ratio_median"] = float(np.median(np.divide(walls["server"], walls["raw"])))
                srv["time_to_first_audio"] = time_to_first_audio(client, engine, voice, repeats=min(repeats, 5))
            engine.close()  # free the in-process copy before the sweep; only the server runs from here on
            engine = None
            gc.collect()
            srv["concurrency"] = []
            for c in concurrency:
                log(f"[bench]   concurrency {c}: {requests} requests")
                level = concurrent_level(pair.server.url, INPUTS[THROUGHPUT_INPUT], c, requests)
                srv["concurrency"].append(asyncio.run(level))
    finally:
        if engine is not None:
            engine.close()
    srv["peak_rss_mib"] = pair.peak_rss_mib
    srv["vm_hwm_mib"] = pair.vm_hwm_mib
    return {"raw": raw, "server": srv, "transformer": tfm}


def time_to_first_audio(client: Any, engine: Any, voice: Any, repeats: int) -> dict[str, Any]:
    """Streaming (`POST /synthesize`, stream) first-byte time for 10 sentences vs the first sentence alone (raw)."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.text.split import split_sentences

    first = split_sentences(TEN_SENTENCES)[0]
    stream_s, whole_s, first_raw_s = [], [], []
    body = {"text": TEN_SENTENCES, "options": {"format": "pcm", "stream": True}}
    for _ in range(repeats):
        t0 = time.perf_counter()
        with client.stream("POST", "/synthesize", json=body) as response:
            for chunk in response.iter_bytes():
                if chunk:
                    stream_s.append(time.perf_counter() - t0)
                    break
        t0 = time.perf_counter()
        client.post(INFER_PATH, json=infer_body(TEN_SENTENCES))
        whole_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.synthesize(SynthesisRequest(first, voice, voice.languages[0]))
        first_raw_s.append(time.perf_counter() - t0)
    ttfa, first_alone = float(np.median(stream_s)), float(np.median(first_raw_s))
    return {
        "sentences": len(split_sentences(TEN_SENTENCES)),
        "streaming_first_audio_ms": ttfa * 1000,
        "non_streaming_total_ms": float(np.median(whole_s)) * 1000,
        "first_sentence_raw_ms": first_alone * 1000,
        "ttfa_over_first_sentence": ttfa / first_alone,
    }
