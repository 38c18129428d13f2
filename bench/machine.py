"""Description of the machine a benchmark ran on (CPU, cores, RAM, library versions, load)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM and library versions of this machine."""
    import psutil

    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": _version("onnxruntime"),
        "torch": _version("torch"),
        "coqui_tts": _version("coqui-tts"),
        "kserve": _version("kserve"),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loadavg_at_start": list(os.getloadavg()),
    }
