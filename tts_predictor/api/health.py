"""Process health details for /health: memory, writable dirs, GPU."""

from __future__ import annotations

import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

from tts_predictor import metrics


def _writable(path: str) -> bool:
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            return True
    except OSError:
        return False


def _gpu() -> dict[str, Any]:
    torch = sys.modules.get("torch")  # only report what a loaded engine already uses; never import torch here
    if torch is None or not torch.cuda.is_available():
        return {"available": False}
    allocated = int(torch.cuda.memory_allocated())
    metrics.GPU_MEMORY.set(allocated)
    return {
        "available": True,
        "name": torch.cuda.get_device_name(0),
        "memory_allocated_bytes": allocated,
        "memory_total_bytes": int(torch.cuda.get_device_properties(0).total_memory),
    }


def system_health(cache_dir: str) -> dict[str, Any]:
    """Memory of this process, whether temp/cache dirs are writable, and the GPU when torch uses one."""
    return {
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "temp_dir_writable": _writable(tempfile.gettempdir()),
        "cache_dir": cache_dir,
        "cache_dir_writable": _writable(cache_dir),
        "gpu": _gpu(),
    }
