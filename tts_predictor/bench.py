"""Benchmark harness: raw engine vs the real server, latency, throughput and memory.

Run with ``python -m tts_predictor.bench`` (or ``make bench``). For each model it measures, in one run:

* the raw engine called in-process (loaded exactly as the server loads it, same thread count);
* the same text sent to a real ``python -m tts_predictor serve`` subprocess over HTTP (V2 REST, audio
  cache off), raw and server calls alternating one at a time so that outside load hits both alike;
* throughput through the server at several client concurrencies;
* the server process's peak resident memory.

Models: ``embedded`` (the packaged Piper voice, ONNX Runtime) and ``coqui-full`` (a full-size Coqui VITS
with random weights, built into a temporary directory: its speed is real, its speech is noise).
Things are measured one at a time, never two at once. Results go to ``<out>/bench.json`` and
``<out>/bench.png``; a compact table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .devtools.server_process import ServerProcess, TransformerProcess

MODELS = ("embedded", "coqui-full", "embedded-int8", "coqui-full-onnx", "coqui-full-int8")
MODEL_SETTINGS: dict[str, dict[str, str]] = {
    "embedded-int8": {"TTS_COMPUTE_TYPE": "int8"},
    "coqui-full-onnx": {"TTS_COQUI_BACKEND": "onnx"},
    "coqui-full-int8": {"TTS_COQUI_BACKEND": "onnx", "TTS_COMPUTE_TYPE": "int8"},
}
"""Engine settings per benchmark model, applied to the raw engine and the server alike."""
DEFAULT_MODELS = ("embedded", "coqui-full", "coqui-full-onnx")

INPUTS: dict[str, str] = {
    "sentence": "The quick brown fox jumps over the lazy dog near the quiet river bank.",
    "paragraph": (
        "The weather today is mild, with light winds coming in from the west. "
        "Later this afternoon, clouds will gather over the hills and a few showers may follow. "
        "Temperatures should stay close to the seasonal average for most of the week. "
        "On Saturday, a stronger front is expected to bring heavy rain to the coast. "
        "Anyone planning a trip outdoors should check the forecast again before leaving."
    ),
}
"""One sentence (~14 words) and one paragraph (5 sentences)."""

DEFAULT_REPEATS = {"embedded": 20, "coqui-full": 5}
QUICK_REPEATS = {"embedded": 3, "coqui-full": 1}
DEFAULT_REQUESTS = {"embedded": 16, "coqui-full": 8}
"""Requests per concurrency level in the throughput sweep (same count at every level)."""
QUICK_REQUESTS = {"embedded": 4, "coqui-full": 2}
DEFAULT_CONCURRENCY = (1, 2, 4, 8, 16)
QUICK_CONCURRENCY = (1, 2)
WARMUP_CALLS = 2
THROUGHPUT_INPUT = "sentence"


# --------------------------------------------------------------------------------------------- stats


def summarize(walls: Sequence[float], audio: Sequence[float]) -> dict[str, Any]:
    """Latency percentiles (ms) and real-time factor (wall / audio seconds) of repeated calls."""
    w = np.asarray(walls, dtype=np.float64)
    a = np.asarray(audio, dtype=np.float64)
    rtf = w / np.maximum(a, 1e-9)
    return {
        "n": int(w.size),
        "p50_ms": float(np.percentile(w, 50) * 1e3),
        "p95_ms": float(np.percentile(w, 95) * 1e3),
        "p99_ms": float(np.percentile(w, 99) * 1e3),
        "mean_ms": float(w.mean() * 1e3),
        "min_ms": float(w.min() * 1e3),
        "max_ms": float(w.max() * 1e3),
        "audio_s": float(np.median(a)),
        "rtf": float(np.median(rtf)),
        "rtf_mean": float(rtf.mean()),
    }


# --------------------------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM and library versions of this machine."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": version("onnxruntime"),
        "torch": version("torch"),
        "coqui_tts": version("coqui-tts"),
        "kserve": version("kserve"),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "loadavg_at_start": list(os.getloadavg()),
    }


# --------------------------------------------------------------------------------------------- models


def prepare_model(name: str, workdir: Path) -> str:
    """The TTS_MODEL value for a benchmark model name (builds the random-weight Coqui model)."""
    if name.startswith("embedded"):
        return "embedded"
    if name.startswith("coqui-full"):
        from .devtools.coqui_models import build_vits

        target = workdir / "coqui-full"  # built once, shared by the torch and ONNX variants
        return str(target if (target / "model.pth").is_file() else build_vits(target, size="full"))
    raise SystemExit(f"unknown benchmark model {name!r}; choose from {', '.join(MODELS)}")


def load_raw_engine(spec: str, extra: dict[str, str] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Load the engine in-process exactly as the server does (same settings, same thread count)."""
    from .engines.registry import load_engine
    from .settings import load_settings

    overrides = {k.removeprefix("TTS_").lower(): v for k, v in (extra or {}).items()}
    settings = load_settings(model=spec, device="cpu", **overrides)
    start = time.perf_counter()
    engine = load_engine(settings)
    info = {"load_s": time.perf_counter() - start, "threads": settings.threads}
    return engine, engine.voices()[0], info


# --------------------------------------------------------------------------------------------- server


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


class MemorySampler(threading.Thread):
    """Polls a process tree's RSS with psutil; `peak_bytes` is the largest seen."""

    def __init__(self, pid: int, interval_s: float = 0.1):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        import psutil

        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
            self.peak_bytes = max(self.peak_bytes, sum(p.memory_info().rss for p in procs))
        except psutil.Error:
            pass

    def run(self) -> None:
        while not self._halt.wait(self.interval_s):
            self.sample()

    def stop(self) -> int:
        self.sample()
        self._halt.set()
        self.join(2)
        return self.peak_bytes


def _vm_hwm_bytes(pid: int) -> int | None:
    """Kernel-recorded peak RSS (VmHWM) of one process, Linux only."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


async def _concurrent(url: str, text: str, concurrency: int, requests: int) -> dict[str, Any]:
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
                response = await client.post("/v2/models/tts/infer", json=body)
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


SERVER_ENV = {"TTS_DEVICE": "cpu", "TTS_CACHE_MAX_BYTES": "0"}
"""Server settings besides TTS_MODEL: the audio cache is off, or repeated texts would be cache hits."""


def bench_model(
    spec: str, repeats: int, warmup: int, concurrency: Sequence[int], requests: int,
    log: Callable[[str], None] = lambda msg: None, extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Raw engine vs server on the same texts, then the server's concurrency sweep and peak memory.

    Raw and server calls alternate (raw, server, raw, server, ...), one at a time, so that load from
    other processes hits both paths alike and the server/raw ratio stays meaningful on a busy machine.
    """
    import httpx

    from .engines.base import SynthesisRequest

    engine, voice, raw_info = load_raw_engine(spec, extra)
    raw: dict[str, Any] = dict(raw_info)
    server = ServerProcess(env={"TTS_MODEL": spec, **SERVER_ENV, **(extra or {})})
    transformer: TransformerProcess | None = None
    try:
        start = time.perf_counter()
        server.start()
        srv: dict[str, Any] = {"ready_s": time.perf_counter() - start, "env": SERVER_ENV}
        transformer = TransformerProcess(
            env=SERVER_ENV, args=["--predictor_host", f"127.0.0.1:{server.http_port}"]).start()
        sampler = MemorySampler(server.proc.pid)
        sampler.start()
    except BaseException:
        server.stop()
        if transformer is not None:
            transformer.stop()
        engine.close()
        raise
    tfm: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=server.url, timeout=600) as client, \
                httpx.Client(base_url=transformer.url, timeout=600) as via_transformer:
            for label, text in INPUTS.items():
                request = SynthesisRequest(text, voice, voice.languages[0])
                body = infer_body(text)
                calls = {
                    "raw": lambda r=request: engine.synthesize(r).duration_s,
                    "server": lambda b=body: audio_seconds(client.post("/v2/models/tts/infer", json=b)),
                    "transformer": lambda b=body: audio_seconds(via_transformer.post("/v2/models/tts/infer", json=b)),
                }
                log(f"[bench]   {label}: {warmup} warm-up + {repeats} timed calls per path, alternating")
                for _ in range(warmup):
                    for call in calls.values():
                        call()
                walls: dict[str, list[float]] = {path_: [] for path_ in calls}
                audio: dict[str, list[float]] = {path_: [] for path_ in calls}
                for _ in range(repeats):
                    for path_, call in calls.items():
                        t0 = time.perf_counter()
                        seconds = call()
                        walls[path_].append(time.perf_counter() - t0)
                        audio[path_].append(seconds)
                raw[label] = summarize(walls["raw"], audio["raw"])
                srv[label] = summarize(walls["server"], audio["server"])
                tfm[label] = summarize(walls["transformer"], audio["transformer"])
                paired = np.asarray(walls["server"]) / np.asarray(walls["raw"])
                srv[label]["paired_ratio_median"] = float(np.median(paired))
            srv["time_to_first_audio"] = time_to_first_audio(client, engine, voice, repeats=min(repeats, 5))
        engine.close()  # free the in-process copy before the sweep; only the server runs from here on
        engine = None
        gc.collect()
        srv["concurrency"] = []
        for c in concurrency:
            log(f"[bench]   concurrency {c}: {requests} requests")
            srv["concurrency"].append(asyncio.run(_concurrent(server.url, INPUTS[THROUGHPUT_INPUT], c, requests)))
    finally:
        try:
            peak = sampler.stop()
            hwm = _vm_hwm_bytes(server.proc.pid)
        finally:
            server.stop()
            transformer.stop()
            if engine is not None:
                engine.close()
    srv["peak_rss_mib"] = round(peak / 2**20, 1)
    srv["vm_hwm_mib"] = round(hwm / 2**20, 1) if hwm else None
    return {"raw": raw, "server": srv, "transformer": tfm}


TEN_SENTENCES = " ".join([INPUTS["paragraph"], INPUTS["paragraph"].replace("today", "tomorrow")])


def time_to_first_audio(client: Any, engine: Any, voice: Any, repeats: int) -> dict[str, Any]:
    """Streaming (`POST /synthesize`, stream) first-byte time for 10 sentences vs the first sentence alone (raw)."""
    from .engines.base import SynthesisRequest
    from .text.split import split_sentences

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
        client.post("/v2/models/tts/infer", json=infer_body(TEN_SENTENCES))
        whole_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.synthesize(SynthesisRequest(first, voice, voice.languages[0]))
        first_raw_s.append(time.perf_counter() - t0)
    ttfa, first_alone = float(np.median(stream_s)), float(np.median(first_raw_s))
    return {"sentences": len(split_sentences(TEN_SENTENCES)), "streaming_first_audio_ms": ttfa * 1000,
            "non_streaming_total_ms": float(np.median(whole_s)) * 1000, "first_sentence_raw_ms": first_alone * 1000,
            "ttfa_over_first_sentence": ttfa / first_alone}


# --------------------------------------------------------------------------------------------- report


def plot(results: dict[str, Any], path: Path) -> None:
    """Left: RTF per model/path/input; right: p50 latency (and throughput) vs concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(results["models"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    bars = [(inp, path_) for inp in INPUTS for path_ in ("raw", "server")]
    width = 0.8 / len(bars)
    x = np.arange(len(models))
    for i, (inp, path_) in enumerate(bars):
        values = [results["models"][m][path_][inp]["rtf"] for m in models]
        left.bar(x + (i - (len(bars) - 1) / 2) * width, values, width, label=f"{path_} / {inp}")
    left.set_xticks(x, models)
    left.set_ylabel("real-time factor (wall / audio s), lower is better")
    left.set_title("RTF: raw engine vs server")
    left.legend(fontsize=8)
    left.grid(axis="y", alpha=0.3)

    for m in models:
        sweep = results["models"][m]["server"]["concurrency"]
        conc = [s["concurrency"] for s in sweep]
        right.plot(conc, [s["p50_ms"] for s in sweep], marker="o", label=f"{m} p50")
        right.plot(conc, [s["p95_ms"] for s in sweep], marker="x", linestyle="--", label=f"{m} p95")
    right.set_xscale("log", base=2)
    all_conc = sorted({s["concurrency"] for m in models for s in results["models"][m]["server"]["concurrency"]})
    right.set_xticks(all_conc, [str(c) for c in all_conc])
    right.minorticks_off()
    right.set_yscale("log")
    right.set_xlabel("client concurrency")
    right.set_ylabel(f"latency per request (ms), {THROUGHPUT_INPUT}")
    right.set_title("Server latency vs concurrency")
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    machine = results["machine"]
    fig.suptitle(f"tts-predictor bench: {machine['cpu_model']}, {machine['cores']} cores, {machine['date']}",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(results: dict[str, Any]) -> str:
    """Compact text table of the results."""
    lines = [
        f"{'model':<11} {'input':<10} {'path':<7} {'audio s':>7} {'RTF':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'srv/raw p50':>11} {'srv/raw RTF':>11} {'paired':>6}"
    ]
    for name, model in results["models"].items():
        for inp in INPUTS:
            ratio = model["server_raw_p50_ratio"][inp]
            rtf_ratio = model["server_raw_rtf_ratio"][inp]
            for path_ in ("raw", "server", "transformer"):
                s = model[path_][inp]
                r = {"server": f"{ratio:.3f}", "transformer": f"{model['transformer_raw_p50_ratio'][inp]:.3f}"}.get(path_, "")
                rr = f"{rtf_ratio:.3f}" if path_ == "server" else ""
                pr = f"{model['server'][inp]['paired_ratio_median']:.3f}" if path_ == "server" else ""
                lines.append(
                    f"{name:<11} {inp:<10} {path_:<7} {s['audio_s']:>7.2f} {s['rtf']:>6.3f} {s['p50_ms']:>8.1f} "
                    f"{s['p95_ms']:>8.1f} {s['p99_ms']:>8.1f} {r:>11} {rr:>11} {pr:>6}"
                )
    lines.append("")
    lines.append(f"{'model':<11} {'conc':>4} {'reqs':>4} {'audio s/s':>9} {'req/s':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for name, model in results["models"].items():
        for s in model["server"]["concurrency"]:
            lines.append(
                f"{name:<11} {s['concurrency']:>4} {s['requests']:>4} {s['throughput_audio_s_per_s']:>9.2f} "
                f"{s['requests_per_s']:>6.2f} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f}"
            )
        srv = model["server"]
        lines.append(f"{name:<11} server peak RSS {srv['peak_rss_mib']} MiB (VmHWM {srv['vm_hwm_mib']} MiB)")
        t = srv["time_to_first_audio"]
        lines.append(f"{name:<11} {t['sentences']} sentences: first streamed audio {t['streaming_first_audio_ms']:.0f} ms, "
                     f"first sentence alone (raw) {t['first_sentence_raw_ms']:.0f} ms -> ratio "
                     f"{t['ttfa_over_first_sentence']:.2f}; whole text without streaming {t['non_streaming_total_ms']:.0f} ms")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- driver


def run_benchmark(
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    repeats: int | None = None,
    concurrency: Sequence[int] | None = None,
    requests: int | None = None,
    warmup: int | None = None,
    out_dir: Path | str = "bench-results",
    quick: bool = False,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Benchmark each model (raw engine, then server), write bench.json + bench.png, return the results."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    concurrency = list(concurrency or (QUICK_CONCURRENCY if quick else DEFAULT_CONCURRENCY))
    warmup = (1 if quick else WARMUP_CALLS) if warmup is None else warmup
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": {
            "quick": quick,
            "warmup_calls": warmup,
            "inputs": INPUTS,
            "throughput_input": THROUGHPUT_INPUT,
            "concurrency": concurrency,
            "server_env": {**SERVER_ENV, "TTS_THREADS": "unset: 0 = cores", "TTS_MAX_CONCURRENCY": "unset: default"},
            "order": "per input: warm-up calls, then raw and server calls alternate, one at a time",
            "latency": "client-side wall time; raw = engine.synthesize(), server = HTTP POST /v2/models/tts/infer",
        },
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="tts-bench-") as tmp:
        for name in models:
            family = "embedded" if name.startswith("embedded") else "coqui-full"
            n = repeats or (QUICK_REPEATS if quick else DEFAULT_REPEATS).get(family, 5)
            reqs = requests or (QUICK_REQUESTS if quick else DEFAULT_REQUESTS).get(family, 8)
            log(f"[bench] {name}: preparing model")
            started = time.perf_counter()
            spec = prepare_model(name, Path(tmp))
            entry: dict[str, Any] = {"spec": spec if name.startswith("embedded") else "<tmp>/coqui-full", "repeats": n,
                                     "settings": MODEL_SETTINGS.get(name, {})}
            entry["prepare_s"] = time.perf_counter() - started
            log(f"[bench] {name}: raw engine vs server, then concurrency {concurrency} x {reqs} requests")
            entry.update(bench_model(spec, n, warmup, concurrency, reqs, log=log, extra=MODEL_SETTINGS.get(name)))
            entry["server_raw_p50_ratio"] = {
                inp: entry["server"][inp]["p50_ms"] / entry["raw"][inp]["p50_ms"] for inp in INPUTS
            }
            entry["server_raw_rtf_ratio"] = {
                inp: entry["server"][inp]["rtf"] / entry["raw"][inp]["rtf"] for inp in INPUTS
            }
            entry["transformer_raw_p50_ratio"] = {
                inp: entry["transformer"][inp]["p50_ms"] / entry["raw"][inp]["p50_ms"] for inp in INPUTS
            }
            entry["loadavg_after"] = list(os.getloadavg())
            results["models"][name] = entry
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2))
    plot(results, out_dir / "bench.png")
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tts_predictor.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, concurrency 1,2 (smoke run, < 2 min)")
    parser.add_argument("--out", default="bench-results", help="output directory (default: bench-results)")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed calls per input and path (default: embedded 20, coqui-full 5)")
    parser.add_argument("--concurrency", default=None, help="comma-separated client concurrencies (default 1,2,4,8)")
    parser.add_argument("--requests", type=int, default=None,
                        help="requests per concurrency level (default: embedded 16, coqui-full 8)")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    concurrency = [int(c) for c in args.concurrency.split(",")] if args.concurrency else None
    results = run_benchmark(models, repeats=args.repeats, concurrency=concurrency, requests=args.requests,
                            out_dir=args.out, quick=args.quick)
    print(table(results))
    print(f"\nwrote {Path(args.out) / 'bench.json'} and {Path(args.out) / 'bench.png'}")


if __name__ == "__main__":
    main()
