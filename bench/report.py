"""The benchmark's text output: the results table printed after a run, and bench.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.formats import format_table
from bench.normalization import normalization_rows
from bench.workload import INPUTS


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write the results, indented."""
    path.write_text(json.dumps(results, indent=2))


def _latency_rows(results: dict[str, Any]) -> list[str]:
    lines = [
        f"{'model':<11} {'input':<10} {'path':<7} {'audio s':>7} {'RTF':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'srv/raw p50':>11} {'srv/raw RTF':>11} {'paired':>6}"
    ]
    for name, model in results["models"].items():
        for inp in INPUTS:
            ratio = model["server_raw_p50_ratio"][inp]
            rtf_ratio = model["server_raw_rtf_ratio"][inp]
            tfm_ratio = model["transformer_raw_p50_ratio"][inp]
            for path_ in ("raw", "server", "transformer"):
                s = model[path_][inp]
                r = {"server": f"{ratio:.3f}", "transformer": f"{tfm_ratio:.3f}"}.get(path_, "")
                rr = f"{rtf_ratio:.3f}" if path_ == "server" else ""
                pr = f"{model['server'][inp]['paired_ratio_median']:.3f}" if path_ == "server" else ""
                lines.append(
                    f"{name:<11} {inp:<10} {path_:<7} {s['audio_s']:>7.2f} {s['rtf']:>6.3f} {s['p50_ms']:>8.1f} "
                    f"{s['p95_ms']:>8.1f} {s['p99_ms']:>8.1f} {r:>11} {rr:>11} {pr:>6}"
                )
    return lines


def _sweep_rows(results: dict[str, Any]) -> list[str]:
    lines = [f"{'model':<11} {'conc':>4} {'reqs':>4} {'audio s/s':>9} {'req/s':>6} {'p50 ms':>8} {'p95 ms':>8}"]
    for name, model in results["models"].items():
        for s in model["server"]["concurrency"]:
            lines.append(
                f"{name:<11} {s['concurrency']:>4} {s['requests']:>4} {s['throughput_audio_s_per_s']:>9.2f} "
                f"{s['requests_per_s']:>6.2f} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f}"
            )
        srv = model["server"]
        lines.append(f"{name:<11} server peak RSS {srv['peak_rss_mib']} MiB (VmHWM {srv['vm_hwm_mib']} MiB)")
        t = srv["time_to_first_audio"]
        lines.append(
            f"{name:<11} {t['sentences']} sentences: first streamed audio "
            f"{t['streaming_first_audio_ms']:.0f} ms, first sentence alone (raw) "
            f"{t['first_sentence_raw_ms']:.0f} ms -> ratio {t['ttfa_over_first_sentence']:.2f}; "
            f"whole text without streaming {t['non_streaming_total_ms']:.0f} ms"
        )
    return lines


def batching_rows(name: str, exp: dict[str, Any]) -> list[str]:
    """Sequential vs batched throughput per batch size."""
    lines = [
        f"{name}: {exp['model']}, {exp['threads']} threads, {exp['repeats']} repeats, "
        f"batched audio = {exp['batched_audio']} ({exp['elapsed_s']:.0f} s)",
        f"{'N':>3} {'ids/item':>9} {'seq ms':>8} {'batch ms':>8} {'item lat seq/bat ms':>19} "
        f"{'seq aud s/s':>11} {'batch aud s/s':>13} {'batch/seq':>9} {'range':>9} {'padding':>7}",
    ]
    for r in exp["results"]:
        ids, s, b = r["ids_per_item"], r["sequential"], r["batched"]
        padding = 1 - b["audio_s"] / b["padded_audio_s"] if b["padded_audio_s"] else 0.0
        spread = f"{min(r['ratio_each']):.2f}-{max(r['ratio_each']):.2f}"
        latency = f"{s['mean_item_latency_ms']:.0f} / {b['mean_item_latency_ms']:.0f}"
        lines.append(
            f"{r['n']:>3} {f'{min(ids)}-{max(ids)}':>9} {s['wall_ms']:>8.0f} {b['wall_ms']:>8.0f} "
            f"{latency:>19} {s['audio_s_per_s']:>11.2f} {b['audio_s_per_s']:>13.2f} "
            f"{r['ratio_batched_over_sequential']:>9.3f} {spread:>9} {padding:>7.1%}"
        )
    return lines


def threads_rows(name: str, exp: dict[str, Any]) -> list[str]:
    """Throughput and latency per threads x instances layout."""
    lines = [
        f"{name}: {exp['model']}, one sentence, {exp['requests_per_round']} requests x {exp['repeats']} rounds, "
        f"{exp['cores']} cores, engine default {exp['engine_threads']} threads ({exp['elapsed_s']:.0f} s)",
        f"{'layout':<24} {'busy thr':>8} {'audio s/s':>9} {'range':>11} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for r in exp["results"]:
        busy = f"{r['busy_threads']}{'!' if r['oversubscribed'] else ''}"
        each = r["audio_s_per_s_each"]
        spread = f"{min(each):.1f}-{max(each):.1f}"
        lines.append(
            f"{r['label']:<24} {busy:>8} {r['audio_s_per_s']:>9.2f} {spread:>11} {r['p50_ms']:>8.0f} "
            f"{r['p95_ms']:>8.0f}"
        )
    return lines


def xtts_stream_rows(name: str, exp: dict[str, Any]) -> list[str]:
    """Time to first audio against the whole sentence (XTTS streaming)."""
    return [
        f"{name}: {exp['model']} on {exp['device']}, {exp['text_chars']}-character sentence, {exp['repeats']} "
        f"repeats, {exp['chunk_tokens']} tokens per chunk ({exp['elapsed_s']:.0f} s)",
        f"first audio {exp['ttfa_s'] * 1000:.0f} ms, streamed to the end {exp['stream_total_s'] * 1000:.0f} ms in "
        f"{exp['chunks']:.0f} chunks, whole sentence {exp['whole_s'] * 1000:.0f} ms "
        f"-> first audio / whole {exp['ttfa_whole_ratio']:.2f}",
    ]


def table(results: dict[str, Any]) -> str:
    """Compact text table of the results (models, then experiments)."""
    lines: list[str] = []
    if results["models"]:
        lines += [*_latency_rows(results), "", *_sweep_rows(results)]
    for name, exp in results.get("experiments", {}).items():
        if "ttfa" in exp:
            lines += ["", f"{name} ({exp['repeats']} rounds, {exp['elapsed_s']:.0f} s)", format_table(exp)]
            continue
        if "table" in exp:  # experiments that render their own rows (peer, fairness, rtf, speed)
            rows = list(exp["table"])
        elif "ttfa_whole_ratio" in exp:
            rows = xtts_stream_rows(name, exp)
        elif "numbers_exact" in exp.get("service", {}):
            rows = normalization_rows(name, exp)
        else:
            rows = threads_rows(name, exp) if "engine_threads" in exp else batching_rows(name, exp)
        lines += ["", *rows]
    return "\n".join(lines).lstrip("\n")
