"""How many CPUs this process may use: the cgroup CPU quota, the affinity mask and the pod's CPU limit.

`os.cpu_count()` counts the node's cores: a pod limited to 2 CPUs on a 64-core node would start 64 ONNX Runtime
threads per session and be throttled by the CFS quota on every request. The server sizes TTS_THREADS and
TTS_MAX_CONCURRENCY (when left at 0 = auto) from `cpu_budget()` instead.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tts_predictor.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CpuBudget:
    """CPUs available to the process and where the number comes from."""

    cpus: float
    """Usable CPUs, possibly fractional (a 1500m limit is 1.5)."""
    source: str
    """What bounded it: ``cgroup v2 cpu.max``, ``cgroup v1 cpu.cfs_quota_us``, ``affinity``, ``TTS_CPU_LIMIT_MILLICORES``."""

    @property
    def whole(self) -> int:
        """Whole CPUs to size thread pools to: rounded down, at least 1.

        Rounded down because a thread beyond the quota only buys CFS throttling (every thread paused until the next
        period); the fraction left over serves the event loop, HTTP and audio encoding.
        """
        return max(1, math.floor(self.cpus + 1e-9))


def _mounts(proc: Path) -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, fstype, super options) of the cgroup mounts in /proc/self/mountinfo."""
    mounts = []
    try:
        lines = (proc / "self" / "mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            mounts.append((fields[3], fields[4], tail[0], set(tail[2].split(","))))
    return mounts


def _cgroup_paths(proc: Path) -> dict[str, str]:
    """Controller (``cpu`` for v1, ``""`` for the v2 unified hierarchy) -> this process's cgroup path."""
    paths = {}
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                paths[controller] = parts[2]
    return paths


def _dirs(mount_root: str, mount_point: str, path: str) -> list[Path]:
    """The process's cgroup directory under a mount and its ancestors up to the mount point (a limit may sit on
    an ancestor). Inside a container the mount root is the container's own cgroup, so the path is made relative."""
    rel = os.path.relpath(path, mount_root) if path.startswith(mount_root) else "."
    here = Path(mount_point) / ("" if rel == "." else rel)
    top = Path(mount_point)
    chain = [here]
    while chain[-1] != top and top in chain[-1].parents:
        chain.append(chain[-1].parent)
    return chain


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_quota(proc: Path = Path("/proc")) -> tuple[float, str] | None:
    """The tightest CFS quota on this process's cgroup or its ancestors, in CPUs, with the file it came from."""
    paths, best = _cgroup_paths(proc), None
    for root, point, fstype, options in _mounts(proc):
        if fstype == "cgroup2" and "" in paths:
            for d in _dirs(root, point, paths[""]):
                text = _read(d / "cpu.max")  # "max 100000" or "<quota> <period>"
                if text and not text.startswith("max"):
                    quota, period = (int(x) for x in text.split()[:2])
                    if quota > 0 and period > 0 and (best is None or quota / period < best[0]):
                        best = (quota / period, f"cgroup v2 cpu.max {d / 'cpu.max'} ({text})")
        elif fstype == "cgroup" and "cpu" in options and "cpu" in paths:
            for d in _dirs(root, point, paths["cpu"]):
                quota_text, period_text = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
                if quota_text and period_text and int(quota_text) > 0 and int(period_text) > 0:
                    cpus = int(quota_text) / int(period_text)
                    if best is None or cpus < best[0]:
                        best = (cpus, f"cgroup v1 cpu.cfs_quota_us {d} ({quota_text}/{period_text})")
    return best


def affinity_cpus() -> int:
    """CPUs in this process's affinity mask (cpuset), else the node's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def cpu_budget(limit_millicores: int | None = None, proc: Path = Path("/proc")) -> CpuBudget:
    """CPUs this process may use: the smallest of the affinity mask, the cgroup quota and the pod's CPU limit
    (TTS_CPU_LIMIT_MILLICORES, which the chart passes from limits.cpu)."""
    mask = affinity_cpus()
    candidates = [CpuBudget(float(mask), f"affinity mask ({mask} CPUs)")]
    quota = cgroup_quota(proc)
    if quota is not None:
        candidates.append(CpuBudget(quota[0], quota[1]))
    if limit_millicores:
        candidates.append(CpuBudget(limit_millicores / 1000, f"TTS_CPU_LIMIT_MILLICORES={limit_millicores}"))
    return min(candidates, key=lambda b: b.cpus)


def auto_sized(
    auto: Iterable[str], limit_millicores: int | None, proc: Path = Path("/proc")
) -> tuple[dict[str, int], CpuBudget]:
    """Values for the `auto` settings (threads, max_concurrency: those left at 0), sized to the CPU budget.

    Threads per engine and engine slots both get the budget's whole CPUs (max_concurrency at most 64, its bound).
    """
    budget = cpu_budget(limit_millicores, proc)
    limits = {"threads": 256, "max_concurrency": 64}
    chosen = {name: min(budget.whole, limits[name]) for name in auto}
    return chosen, budget


def size_settings(settings: Settings) -> Settings:
    """Settings with TTS_THREADS / TTS_MAX_CONCURRENCY resolved from the CPU budget where left at 0 (auto).

    Settings alone resolves auto values from `os.cpu_count()` (the node); `settings.auto_cpu_fields` says which
    were auto. Logs what was chosen and why.
    """
    auto = [name for name in ("threads", "max_concurrency") if name in settings.auto_cpu_fields]
    chosen, budget = auto_sized(auto, settings.cpu_limit_millicores)
    log.info(
        "CPU budget %.2f CPUs from %s (node has %s): %s",
        budget.cpus,
        budget.source,
        os.cpu_count(),
        ", ".join(f"{k}={v} (auto)" for k, v in chosen.items()) or "TTS_THREADS and TTS_MAX_CONCURRENCY set explicitly",
    )
    return settings.model_copy(update=chosen) if chosen else settings
