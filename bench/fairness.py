"""Experiment ``fairness``: how long a one-sentence request takes while another client's 5,000-character text runs.

The server runs with one engine slot (the latency profile). Once the long request (V2 infer, not streamed) is
synthesizing, one-sentence requests are sent one after another; reported: their latencies, the same sentence's
latency on an idle server, and the long request's total time. ``fifo`` repeats it with
``TTS_MAX_ACTIVE_REQUESTS=1`` (whole requests in turn: the behaviour before sentence-level scheduling).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.stats import median
from bench.workload import FAIRNESS_LONG_TEXT, FAIRNESS_SHORT_TEXT, PROFILES, SERVER_ENV
from devtools.server_process import ServerProcess

MODES = {"fair": {}, "fifo": {"TTS_MAX_ACTIVE_REQUESTS": "1"}}
Log = Callable[[str], None]


def _body(text: str) -> dict[str, Any]:
    return {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [text]}]}


async def _scenario(url: str, shorts: int) -> dict[str, Any]:
    infer = f"{url}/v2/models/tts/infer"
    async with httpx.AsyncClient(timeout=600) as client:
        alone = []
        for _ in range(3):
            started = time.perf_counter()
            (await client.post(infer, json=_body(FAIRNESS_SHORT_TEXT))).raise_for_status()
            alone.append(time.perf_counter() - started)
        started = time.perf_counter()
        long_task = asyncio.create_task(client.post(infer, json=_body(FAIRNESS_LONG_TEXT)))
        await asyncio.sleep(0.5)  # the long text is admitted and synthesizing
        behind, long_done_at = [], None
        for _ in range(shorts):
            sent = time.perf_counter()
            (await client.post(infer, json=_body(FAIRNESS_SHORT_TEXT))).raise_for_status()
            behind.append(time.perf_counter() - sent)
            if long_task.done() and long_done_at is None:
                long_done_at = len(behind)
        (await long_task).raise_for_status()
        long_s = time.perf_counter() - started
    return {
        "short_alone_ms": median(alone) * 1e3,
        "short_behind_long_ms": [b * 1e3 for b in behind],
        "short_behind_long_p50_ms": median(behind) * 1e3,
        "long_total_s": long_s,
        "long_finished_before_short": long_done_at,
    }


def run_fairness(shorts: int = 3, log: Log = lambda msg: None) -> dict[str, Any]:
    """Both modes, one after the other, each on a fresh server."""
    out: dict[str, Any] = {
        "long_chars": len(FAIRNESS_LONG_TEXT),
        "short_text": FAIRNESS_SHORT_TEXT,
        "profile": PROFILES["latency"],
        "modes": {},
    }
    for mode, env in MODES.items():
        log(f"[bench]   fairness {mode}")
        server = ServerProcess(env={**SERVER_ENV, **PROFILES["latency"], **env}).start()
        try:
            out["modes"][mode] = asyncio.run(_scenario(server.url, shorts))
        finally:
            server.stop()
    out["table"] = fairness_rows(out)
    return out


def fairness_rows(exp: dict[str, Any]) -> list[str]:
    """Text rows: one-sentence latency alone and behind the long text, the long text's total."""
    lines = [
        f"fairness: one sentence while a {exp['long_chars']}-char request runs (one engine slot)",
        f"{'mode':<6} {'alone ms':>9} {'behind long p50 ms':>19} {'each ms':>24} {'long total s':>12}",
    ]
    for mode, r in exp["modes"].items():
        each = ", ".join(f"{x:.0f}" for x in r["short_behind_long_ms"])
        lines.append(
            f"{mode:<6} {r['short_alone_ms']:>9.0f} {r['short_behind_long_p50_ms']:>19.0f} {each:>24} "
            f"{r['long_total_s']:>12.1f}"
        )
    return lines
