"""Load: 32 concurrent clients for 60 s (TTS_LOAD_SECONDS) against the embedded voice, loopback only."""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import httpx
import psutil
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

CLIENTS = 32
SECONDS = float(os.environ.get("TTS_LOAD_SECONDS", "60"))
WARMUP_S = SECONDS / 2  # allocator pools grow over the first few hundred requests, then stay flat


def _outcome(res: httpx.Response) -> bool:
    """A 200 carries a decodable sentence of audio (> 0.5 s); a 429 says when to retry."""
    if res.status_code == 200:
        samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
        return len(samples) / rate > 0.5
    return res.status_code == 429 and float(res.headers.get("retry-after", "0")) > 0


async def _client(url: str, stop_at: float, i: int, results: list[tuple[int, float, int, bool]]) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        n = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            res = await client.post(url, json=infer_body([f"Client {i} says hello, request number {n}."]))
            results.append((res.status_code, time.perf_counter() - started, i, _outcome(res)))
            n += 1
            if res.status_code == 429:
                await asyncio.sleep(float(res.headers.get("retry-after", "1")))


def test_32_clients_for_a_minute():
    server = ServerProcess(env={"TTS_MAX_CONCURRENCY": "2", "TTS_MAX_QUEUE": "16", "TTS_CACHE_MAX_BYTES": "0"}).start()
    proc = psutil.Process(server.proc.pid)
    url = f"{server.url}/v2/models/tts/infer"
    results: list[tuple[int, float, int, bool]] = []

    async def run() -> float:
        stop_at = time.monotonic() + SECONDS
        tasks = [asyncio.create_task(_client(url, stop_at, i, results)) for i in range(CLIENTS)]
        await asyncio.sleep(WARMUP_S)
        rss_warm = proc.memory_info().rss
        await asyncio.gather(*tasks)
        return rss_warm

    try:
        rss_warm = asyncio.run(run())
        rss_end = proc.memory_info().rss
    finally:
        server.stop()
    codes = [c for c, *_ in results]
    ok = sorted(t for c, t, *_ in results if c == 200)
    p95 = ok[int(0.95 * (len(ok) - 1))] if ok else float("nan")
    print(
        f"{len(results)} requests: {codes.count(200)} ok, {codes.count(429)} x 429; p50 {statistics.median(ok):.2f} s, "
        f"p95 {p95:.2f} s; RSS {rss_warm / 2**20:.0f} -> {rss_end / 2**20:.0f} MiB"
    )
    assert set(codes) <= {200, 429}, sorted(set(codes))
    assert all(good for *_, good in results), "a 200 without audio or a 429 without Retry-After"
    # overload sheds load, it does not stop serving: at least one answer per client on average, and most clients
    # (retrying as told) were served; a 2-core machine under other load served 89 of 293 in 30 s, 31 of 32 clients
    assert codes.count(200) >= CLIENTS
    assert len({i for c, _, i, _ in results if c == 200}) >= 0.75 * CLIENTS
    # A leak of one response per request (~100 KiB x hundreds of requests) grows RSS by well over 100 MiB in the
    # second half; allocator arenas and thread pools may settle by tens of MiB more on one CPU than another.
    assert rss_end < rss_warm * 1.10 + 32 * 2**20
