"""Footprint of an install (docs/edge.md): site-packages size, server RSS with one voice, cold start to first audio.

    python -m bench.footprint --python /tmp/light/bin/python --python .venv/bin/python

Each `--python` is an install's interpreter (a light `pip install tts-predictor` venv, the full `make install`
one). For each install and profile (`default`; `low-memory`: int8 voice, one thread, one engine slot, a 4 MiB
audio cache) the server is started `--runs` times on free ports from a scratch directory, so the install's own
package is served, never this checkout. Cold start: process spawn until the first `/synthesize` answer, sent as
soon as `/v2/health/ready` says ready (the first run of a profile also fills TTS_CACHE_DIR: int8 quantizes
there; later runs reuse it). RSS: at ready, and after a ten-sentence synthesis (with the kernel's peak, VmHWM).
Writes JSON (default bench-results/footprint.json) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.memory import vm_hwm_bytes
from devtools.server_process import free_port

PROFILES: dict[str, dict[str, str]] = {
    "default": {},
    "low-memory": {
        "TTS_COMPUTE_TYPE": "int8",
        "TTS_THREADS": "1",
        "TTS_MAX_CONCURRENCY": "1",
        "TTS_CACHE_MAX_BYTES": str(4 * 2**20),
    },
}
"""Settings of each profile on top of TTS_MODEL=embedded (the low-memory one is charts/.../values-edge.yaml's)."""
SENTENCE = "Hello, this is the first audio of a freshly started server."
PARAGRAPH = " ".join(
    f"Sentence number {i} of the paragraph that fills the engine's buffers once." for i in range(1, 11)
)
MB = 2**20


def site_packages_mb(python: str) -> float:
    """`du` of the install's site-packages (purelib), in MiB."""
    lib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    kib = subprocess.run(["du", "-sk", lib], capture_output=True, text=True, check=True).stdout.split()[0]
    return int(kib) / 1024


def rss_bytes(pid: int) -> int:
    """Current resident set (VmRSS) of one process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"not ready after {timeout_s} s")


def _synthesize(url: str, text: str) -> bytes:
    r = httpx.post(f"{url}/synthesize", json={"text": text, "options": {"format": "wav"}}, timeout=300)
    r.raise_for_status()
    return r.content


def measure_server(python: str, env: dict[str, str], workdir: Path, timeout_s: float = 600) -> dict[str, float]:
    """One start of `python -m tts_predictor serve`: cold start and RSS figures (seconds, MiB)."""
    http = free_port()
    url = f"http://127.0.0.1:{http}"
    command = [python, "-m", "tts_predictor", "serve", "--http_port", str(http), "--grpc_port", str(free_port())]
    log = (workdir / f"server-{http}.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=workdir, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, proc, timeout_s)
        ready_s = time.monotonic() - started
        rss_ready = rss_bytes(proc.pid)
        assert _synthesize(url, SENTENCE)[:4] == b"RIFF"
        first_audio_s = time.monotonic() - started
        _synthesize(url, PARAGRAPH)
        time.sleep(1.0)  # let the memory trim after a large response run
        return {
            "ready_s": round(ready_s, 2),
            "first_audio_s": round(first_audio_s, 2),
            "rss_ready_mb": round(rss_ready / MB, 1),
            "rss_after_mb": round(rss_bytes(proc.pid) / MB, 1),
            "peak_mb": round((vm_hwm_bytes(proc.pid) or 0) / MB, 1),
        }
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def measure_install(python: str, runs: int, profiles: list[str]) -> dict:
    """Size and, per profile, the first run and the median of the later ones."""
    result: dict = {"python": python, "site_packages_mb": round(site_packages_mb(python))}
    for profile in profiles:
        with tempfile.TemporaryDirectory(prefix="tts-footprint-") as work:
            env = {"TTS_MODEL": "embedded", "TTS_CACHE_DIR": f"{work}/cache", "TTS_JOBS_DIR": f"{work}/jobs"}
            env |= PROFILES[profile]
            samples = [measure_server(python, env, Path(work)) for _ in range(runs)]
        later = samples[1:] or samples
        result[profile] = {
            "settings": PROFILES[profile],
            "first_run": samples[0],
            "median_later_runs": {k: statistics.median(s[k] for s in later) for k in samples[0]},
            "runs": samples,
        }
    return result


def table(results: list[dict]) -> str:
    """Markdown: one row per install and profile."""
    rows = [
        "| install | profile | site-packages | RSS at ready | RSS after 10 sentences (peak) | ready | first audio |",
        "|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for profile in (p for p in PROFILES if p in res):
            m, first = res[profile]["median_later_runs"], res[profile]["first_run"]
            rows.append(
                f"| {res['python']} | {profile} | {res['site_packages_mb']} MiB | {m['rss_ready_mb']:.0f} MiB | "
                f"{m['rss_after_mb']:.0f} MiB ({m['peak_mb']:.0f}) | {m['ready_s']:.1f} s | {m['first_audio_s']:.1f} s "
                f"(first run {first['first_audio_s']:.1f} s) |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    """Parse the flags, measure each install, write the JSON and print the table."""
    p = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__.split("\n")[0])
    p.add_argument("--python", action="append", required=True, help="an install's interpreter (repeatable)")
    p.add_argument("--runs", type=int, default=3, help="server starts per install and profile (default 3)")
    p.add_argument("--profiles", default=",".join(PROFILES), help=f"comma-separated subset of {','.join(PROFILES)}")
    p.add_argument("--out", default="bench-results/footprint.json")
    args = p.parse_args(argv)
    profiles = [n for n in args.profiles.split(",") if n]
    results = [measure_install(python, args.runs, profiles) for python in args.python]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
