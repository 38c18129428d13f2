"""Peak memory of a server process tree: psutil sampling and the kernel's VmHWM."""

from __future__ import annotations

import threading
from pathlib import Path


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
        """Record the tree's current RSS if it is the largest so far."""
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
        """Take a last sample, stop polling and return the peak in bytes."""
        self.sample()
        self._halt.set()
        self.join(2)
        return self.peak_bytes


def vm_hwm_bytes(pid: int) -> int | None:
    """Kernel-recorded peak RSS (VmHWM) of one process, Linux only."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None
