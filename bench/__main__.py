"""``python -m bench``: the benchmark's command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from bench import __doc__ as package_doc
from bench.experiments import DEFAULT_EXPERIMENTS, EXPERIMENTS, QUICK_EXPERIMENTS, ExperimentSettings
from bench.models import DEFAULT_MODELS, MODELS
from bench.report import table
from bench.suite import run_benchmark


def _names(value: str, choices: Sequence[str], what: str, parser: argparse.ArgumentParser) -> list[str]:
    """Comma-separated names; ``none`` (or empty) for none."""
    names = [n.strip() for n in value.split(",") if n.strip() and n.strip() != "none"]
    unknown = sorted(set(names) - set(choices))
    if unknown:
        parser.error(f"unknown {what}(s) {unknown}; choose from {', '.join(choices)}")
    return names


def _ints(value: str | None) -> list[int] | None:
    return [int(v) for v in value.split(",")] if value else None


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(prog="python -m bench", description=(package_doc or "").split("\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="few repeats, concurrency 1,2, every model and experiment still run (docs/performance.md)",
    )
    p.add_argument("--out", default="bench-results", help="output directory (default: bench-results)")
    p.add_argument(
        "--models", default=",".join(DEFAULT_MODELS), help=f"comma-separated subset of {','.join(MODELS)}, or none"
    )
    p.add_argument(
        "--repeats", type=int, default=None, help="timed calls per input and path (default: embedded 20, coqui-full 5)"
    )
    p.add_argument("--concurrency", default=None, help="comma-separated client concurrencies (default 1,2,4,8,16)")
    p.add_argument(
        "--requests", type=int, default=None, help="requests per concurrency level (default: embedded 16, coqui-full 8)"
    )
    p.add_argument(
        "--experiments",
        default=",".join(DEFAULT_EXPERIMENTS),
        help=f"comma-separated subset of {','.join(EXPERIMENTS)}, or none (default: {','.join(DEFAULT_EXPERIMENTS)})",
    )
    p.add_argument(
        "--only",
        default=None,
        metavar="EXPERIMENT",
        help="run just these comma-separated experiments, no models (e.g. --only normalization)",
    )
    p.add_argument("--batch-sizes", default=None, help="batching experiment: sentences per batch (default 1,2,4,8)")
    p.add_argument(
        "--experiment-repeats",
        type=int,
        default=None,
        help="experiments: repeats per batch size / rounds per layout (default 5)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the flags, run the benchmark, print the table."""
    p = parser()
    args = p.parse_args(argv)
    models = [] if args.only else _names(args.models, MODELS, "model", p)
    experiments = _names(args.only or args.experiments, EXPERIMENTS, "experiment", p)
    base = QUICK_EXPERIMENTS if args.quick else ExperimentSettings()
    settings = ExperimentSettings(
        batch_sizes=tuple(_ints(args.batch_sizes) or base.batch_sizes),
        repeats=args.experiment_repeats or base.repeats,
        threads=base.threads,
        instances=base.instances,
        requests=base.requests,
        normalization_sentences=base.normalization_sentences,
        peer_rounds=base.peer_rounds,
        peer_singles=base.peer_singles,
        peer_profiles=base.peer_profiles,
        fairness_shorts=base.fairness_shorts,
        job_chars=base.job_chars,
        coqui_models=base.coqui_models,
        coqui_levels=base.coqui_levels,
    )
    results = run_benchmark(
        models,
        repeats=args.repeats,
        concurrency=_ints(args.concurrency),
        requests=args.requests,
        out_dir=args.out,
        quick=args.quick,
        experiments=experiments,
        experiment_settings=settings,
    )
    print(table(results))
    written = [Path(args.out) / "bench.json"] + ([Path(args.out) / "bench.png"] if results["models"] else [])
    print(f"\nwrote {' and '.join(str(w) for w in written)}")


if __name__ == "__main__":
    main()
