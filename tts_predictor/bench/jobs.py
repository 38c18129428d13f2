"""``python -m tts_predictor.bench.jobs``: a long job runs while one-sentence requests measure interactive latency.

Writes JSON: one-sentence latency without and with the job running, the job's progress over time (characters,
audio seconds, ETA) and its throughput.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from ..devtools.server_process import ServerProcess

SENTENCE = "The quarterly report is ready for your review."
PARAGRAPH = ("The lighthouse keeper climbed the stairs every evening at dusk. He checked the lamp, wiped the glass and "
             "wrote a line in his logbook. Ships passed far out at sea, and none of them ever knew his name. ")


def latencies(url: str, count: int, gap_s: float) -> list[float]:
    """Seconds per one-sentence /synthesize request, `count` of them, `gap_s` apart."""
    out = []
    for _ in range(count):
        started = time.perf_counter()
        httpx.post(f"{url}/synthesize", json={"text": SENTENCE}, timeout=120).raise_for_status()
        out.append(time.perf_counter() - started)
        time.sleep(gap_s)
    return out


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"n": len(values), "p50_s": round(statistics.median(ordered), 4),
            "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4), "max_s": round(ordered[-1], 4)}


def run(chars: int, probes: int, out: Path, timeout_s: float) -> dict[str, Any]:
    server = ServerProcess(env={"TTS_JOBS_DIR": tempfile.mkdtemp(prefix="tts-bench-jobs-")}).start()
    try:
        latencies(server.url, 3, 0)  # warm
        idle = latencies(server.url, probes, 0.5)
        text = (PARAGRAPH * (chars // len(PARAGRAPH) + 1))[:chars]
        job = httpx.post(f"{server.url}/v1/jobs", json={"text": text, "options": {"format": "mp3"}}, timeout=120).json()
        started, timeline, busy = time.time(), [], []
        while True:
            state = httpx.get(f"{server.url}/v1/jobs/{job['id']}", timeout=60).json()
            timeline.append({"t_s": round(time.time() - started, 1), **state["progress"]})
            if state["state"] != "running" and state["state"] != "queued":
                break
            if time.time() - started > timeout_s:
                break
            if len(busy) < probes * 3 and state["progress"]["chunks_done"] >= 1:
                busy += latencies(server.url, 1, 0)
            time.sleep(2.0)
        result = {
            "chars": chars, "state": state["state"], "job_wall_s": round(time.time() - started, 1),
            "audio_s": state["progress"]["audio_s"], "duration_s": state.get("duration_s"),
            "chars_per_s": round(state["progress"]["chars_done"] / max(1e-6, time.time() - started), 1),
            "latency_idle": summary(idle), "latency_during_job": summary(busy) if busy else None,
            "progress": timeline,
        }
    finally:
        server.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m tts_predictor.bench.jobs", description=__doc__.split("\n")[0])
    p.add_argument("--chars", type=int, default=200_000, help="characters of the job (default 200000)")
    p.add_argument("--probes", type=int, default=10, help="one-sentence requests without the job (3x that during)")
    p.add_argument("--timeout", type=float, default=7200, help="give up after this many seconds")
    p.add_argument("--out", default="bench-results/jobs.json")
    args = p.parse_args()
    result = run(args.chars, args.probes, Path(args.out), args.timeout)
    print(json.dumps({k: v for k, v in result.items() if k != "progress"}, indent=2))


if __name__ == "__main__":
    main()
