"""Experiment ``peer``: our server against Piper's own HTTP server on the same voice and sentences, same run.

Piper's server (``python -m piper.http_server`` from piper-tts, a Flask app; piper-tts is GPL-3.0, so it is
only a *bench* extra, never a run-time dependency) and one of our servers per profile (`PROFILES`) run side by
side. Each round, every service in turn (the first rotating) answers the same sentences one request at a time
(median latency), then a burst of all sentences at concurrency 4 (throughput = audio seconds per second).
Ratios ours/piper are taken within each round, so load from other processes on a shared machine hits both.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bench.stats import median
from bench.workload import PEER_SENTENCES, PROFILES, SERVER_ENV
from devtools.server_process import ServerProcess, free_port

BURST_CONCURRENCY = 4
Log = Callable[[str], None]


class PiperServer:
    """`python -m piper.http_server` on the embedded voice, on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> PiperServer:
        from tts_predictor.engines.onnx.vits import embedded_voice_paths

        model, _ = embedded_voice_paths()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "piper.http_server",
                "-m",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("piper.http_server exited; is piper-tts[http] installed (bench extra)?")
            try:
                if httpx.get(f"{self.url}/voices", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("piper.http_server did not start in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wav_seconds(data: bytes) -> float:
    """Duration of a WAV body (both servers answer WAV)."""
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


async def _post(client: httpx.AsyncClient, url: str, text: str) -> tuple[float, float]:
    """(seconds, audio seconds) of one POST {"text"} -> WAV; both servers take this body at /synthesize."""
    started = time.perf_counter()
    res = await client.post(url, json={"text": text})
    res.raise_for_status()
    return time.perf_counter() - started, wav_seconds(res.content)


async def single(url: str, sentences: Sequence[str]) -> dict[str, float]:
    """One request at a time: median latency and the summed real-time factor."""
    async with httpx.AsyncClient(timeout=300) as client:
        timed = [await _post(client, url, s) for s in sentences]
    return {
        "p50_ms": median([t for t, _ in timed]) * 1e3,
        "rtf": sum(t for t, _ in timed) / max(sum(a for _, a in timed), 1e-9),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far."""
    import psutil

    total = 0.0
    proc = psutil.Process(pid)
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


async def burst(
    url: str, sentences: Sequence[str], concurrency: int = BURST_CONCURRENCY, pid: int | None = None
) -> dict[str, float]:
    """All sentences by `concurrency` clients: wall time, audio seconds per second and (with the server's `pid`)
    audio seconds per CPU second of the server, which does not depend on how much of a shared machine it got."""
    todo = list(sentences)
    audio: list[float] = []
    cpu_before = cpu_seconds(pid) if pid else 0.0

    async def worker(client: httpx.AsyncClient) -> None:
        while todo:
            audio.append((await _post(client, url, todo.pop(0)))[1])

    async with httpx.AsyncClient(timeout=300) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before if pid else float("nan")
    return {"wall_s": wall, "audio_s_per_s": sum(audio) / wall, "cpu_s": cpu, "audio_s_per_cpu_s": sum(audio) / cpu}


def run_peer(profiles: Sequence[str], rounds: int, singles: int, log: Log = lambda msg: None) -> dict[str, Any]:
    """Piper's server and ours (one per profile), interleaved for `rounds` rounds; per-round ratios."""
    services: dict[str, Any] = {}
    try:
        services["piper"] = PiperServer().start()
        for name in profiles:
            services[name] = ServerProcess(env={**SERVER_ENV, **PROFILES[name]}).start()
        names = list(services)
        urls = {n: f"{services[n].url}/synthesize" for n in names}
        for n in names:  # warm-up
            asyncio.run(single(urls[n], PEER_SENTENCES[:2]))
        per_round: list[dict[str, dict[str, float]]] = []
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            log(f"[bench]   peer round {r + 1}/{rounds}: {', '.join(order)}")
            row = {
                n: {
                    **asyncio.run(single(urls[n], PEER_SENTENCES[:singles])),
                    **asyncio.run(burst(urls[n], PEER_SENTENCES, pid=services[n].proc.pid)),
                }
                for n in order
            }
            per_round.append(row)
    finally:
        for service in services.values():
            service.stop()
    return _summary(profiles, per_round, singles)


def _summary(profiles: Sequence[str], per_round: list[dict[str, dict[str, float]]], singles: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sentences": len(PEER_SENTENCES),
        "singles": singles,
        "burst_concurrency": BURST_CONCURRENCY,
        "rounds": per_round,
        "profiles": {p: PROFILES[p] for p in profiles},
        "cores": os.cpu_count(),
        "ratios": {},
    }
    for p in profiles:
        thr = [r[p]["audio_s_per_s"] / r["piper"]["audio_s_per_s"] for r in per_round]
        lat = [r[p]["p50_ms"] / r["piper"]["p50_ms"] for r in per_round]
        rtf = [r[p]["rtf"] / r["piper"]["rtf"] for r in per_round]
        eff = [r[p]["audio_s_per_cpu_s"] / r["piper"]["audio_s_per_cpu_s"] for r in per_round]
        out["ratios"][p] = {
            "throughput_c4": thr,
            "p50_c1": lat,
            "rtf_c1": rtf,
            "audio_per_cpu_c4": eff,
            "throughput_c4_median": median(thr),
            "p50_c1_median": median(lat),
            "audio_per_cpu_c4_median": median(eff),
        }
    out["table"] = peer_rows(out)
    return out


def peer_rows(exp: dict[str, Any]) -> list[str]:
    """Text rows: per profile, ours/piper throughput at concurrency 4 and median latency at 1 (all rounds)."""
    lines = [
        f"peer: piper.http_server vs ours, {exp['sentences']} sentences, {len(exp['rounds'])} interleaved rounds "
        f"({exp['singles']} one-at-a-time requests, then a burst at concurrency {exp['burst_concurrency']})",
        "ours/piper per profile: audio s per wall s at c4, audio s per server CPU s at c4, median latency at c1;",
        "median over rounds [each round]",
        f"{'profile':<11} {'thr c4':>6} {'[each]':<18} {'per-CPU c4':>10} {'[each]':<18} {'p50 c1':>6} {'[each]':<18}",
    ]
    for p, r in exp["ratios"].items():
        cols = []
        for key in ("throughput_c4", "audio_per_cpu_c4", "p50_c1"):
            each = ",".join(f"{x:.2f}" for x in r[key])
            cols.append(f"{r[key + '_median']:>{10 if key == 'audio_per_cpu_c4' else 6}.2f} {'[' + each + ']':<18}")
        lines.append(f"{p:<11} " + " ".join(cols))
    return lines
