"""Experiment ``jobs``: a long job (default 200,000 characters) runs while one-sentence requests measure latency.

Opt-in (``python -m bench --only jobs``; also ``python -m bench.jobs``): the default
200,000 characters are about 3 h of audio with the embedded voice, about 20-25 minutes of synthesis on a 2-core
machine (RTF ~0.1-0.15 with the job's small segments), so the run is limited to `timeout_s` (default one hour).

One server (default profile, audio cache off). One-sentence `/synthesize` latency is measured idle before the
job, every `probe_every_s` while the job runs (so the whole job is sampled, not just its start) and idle again
after it; each probe speaks a different sentence. Reported: latency summaries, the job's wall time, audio
seconds, RTF (wall / audio), characters per second, the load average over the run and the progress timeline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.workload import PEER_SENTENCES, SERVER_ENV
from devtools.server_process import ServerProcess

Log = Callable[[str], None]
PARAGRAPH = (
    "The lighthouse keeper climbed the stairs every evening at dusk. He checked the lamp, wiped the glass and "
    "wrote a line in his logbook. Ships passed far out at sea, and none of them ever knew his name. "
)
DEFAULT_TIMEOUT_S = 3600.0


class Prober:
    """One-sentence `/synthesize` requests, each a different sentence (no cache can answer them)."""

    def __init__(self, url: str):
        self.url, self.count = url, 0

    def once(self) -> float:
        text = PEER_SENTENCES[self.count % len(PEER_SENTENCES)]
        self.count += 1
        started = time.perf_counter()
        httpx.post(f"{self.url}/synthesize", json={"text": text}, timeout=300).raise_for_status()
        return time.perf_counter() - started

    def series(self, count: int, gap_s: float) -> list[float]:
        out = []
        for _ in range(count):
            out.append(self.once())
            time.sleep(gap_s)
        return out


def summary(values: list[float]) -> dict[str, float] | None:
    """n, p50, p95 and max in seconds (None without values)."""
    if not values:
        return None
    ordered = sorted(values)
    return {
        "n": len(values),
        "p50_s": round(statistics.median(ordered), 4),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4),
        "max_s": round(ordered[-1], 4),
    }


def _follow(
    url: str, job_id: str, prober: Prober, probe_every_s: float, timeout_s: float, log: Log
) -> tuple[dict[str, Any], list[dict[str, Any]], list[float], float]:
    """Poll the job until it ends or `timeout_s`; probe latency meanwhile. Returns last state, timeline, probes, wall."""
    started, timeline, busy, last_probe, last_log = time.time(), [], [], 0.0, 0.0
    while True:
        state = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=60).json()
        now = time.time() - started
        timeline.append({"t_s": round(now, 1), "load1": round(os.getloadavg()[0], 2), **state["progress"]})
        if state["state"] not in ("running", "queued") or now > timeout_s:
            return state, timeline, busy, now
        if state["state"] == "running" and now - last_probe >= probe_every_s:
            last_probe = now
            busy.append(prober.once())
        if now - last_log >= 60:
            last_log = now
            p = state["progress"]
            log(f"[bench]   jobs: {now:.0f} s, {p['fraction']:.1%}, {p['audio_s']:.0f} s audio, eta {p.get('eta_s')}")
        time.sleep(2.0)


def run_jobs(
    chars: int = 200_000,
    probes: int = 10,
    probe_every_s: float = 10.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log: Log = lambda msg: None,
) -> dict[str, Any]:
    """Start a server, measure idle latency, run the job while probing, measure idle latency again."""
    env = {**SERVER_ENV, "TTS_JOBS_DIR": tempfile.mkdtemp(prefix="tts-bench-jobs-"), "TTS_JOB_MAX_CHARS": str(chars)}
    server = ServerProcess(env=env).start()
    load_before = list(os.getloadavg())
    try:
        prober = Prober(server.url)
        prober.series(3, 0)  # warm up
        idle_before = prober.series(probes, 0.5)
        text = (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars]
        job = httpx.post(f"{server.url}/v1/jobs", json={"text": text, "options": {"format": "mp3"}}, timeout=120)
        job.raise_for_status()
        state, timeline, busy, wall = _follow(server.url, job.json()["id"], prober, probe_every_s, timeout_s, log)
        idle_after = prober.series(probes, 0.5) if state["state"] == "completed" else []
    finally:
        server.stop()
    progress = state["progress"]
    loads = [t["load1"] for t in timeline]
    return {
        "chars": chars,
        "state": state["state"],
        "fraction": progress["fraction"],
        "job_wall_s": round(wall, 1),
        "timeout_s": timeout_s,
        "audio_s": progress["audio_s"],
        "duration_s": state.get("duration_s"),
        "job_rtf": round(wall / progress["audio_s"], 4) if progress["audio_s"] else None,
        "chars_per_s": round(progress["chars_done"] / max(1e-6, wall), 1),
        "latency_idle_before": summary(idle_before),
        "latency_during_job": summary(busy),
        "latency_idle_after": summary(idle_after),
        "load_before": load_before,
        "load_during": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)},
        "progress": timeline,
        "table": jobs_rows(chars, state["state"], progress, wall, idle_before, busy, idle_after),
    }


def jobs_rows(
    chars: int,
    state: str,
    progress: dict[str, Any],
    wall: float,
    before: list[float],
    during: list[float],
    after: list[float],
) -> list[str]:
    """Text rows: the job's outcome and the one-sentence latency without and with it."""
    audio = progress["audio_s"]
    lines = [
        f"jobs: {chars}-character job {state} ({progress['fraction']:.1%}) in {wall:.0f} s, {audio:.0f} s of audio "
        f"(RTF {wall / audio if audio else float('nan'):.3f}, {progress['chars_done'] / max(wall, 1e-6):.0f} chars/s)",
        f"{'one sentence':<22} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7}",
    ]
    for label, values in (
        ("idle before the job", before),
        ("while the job runs", during),
        ("idle after the job", after),
    ):
        s = summary(values)
        if s:
            lines.append(f"{label:<22} {s['n']:>4} {s['p50_s']:>7.3f} {s['p95_s']:>7.3f} {s['max_s']:>7.3f}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__.split("\n")[0])
    p.add_argument("--chars", type=int, default=200_000, help="characters of the job (default 200000)")
    p.add_argument("--probes", type=int, default=10, help="one-sentence requests before and after the job")
    p.add_argument("--probe-every", type=float, default=10.0, help="seconds between probes while the job runs")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="give up after this many seconds")
    p.add_argument("--out", default="bench-results/jobs.json")
    args = p.parse_args()
    result = run_jobs(args.chars, args.probes, args.probe_every, args.timeout, log=print)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print("\n".join(result["table"]))


if __name__ == "__main__":
    main()
