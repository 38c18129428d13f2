"""Give freed heap memory back to the OS after large responses (glibc `malloc_trim`).

glibc keeps freed memory in its arenas, and its mmap threshold grows with the blocks freed (up to 32 MiB), so
after one long response (hundreds of MB of float32 audio and encoded copies) the process can keep that much RSS
although nothing uses it. `malloc_trim(0)` returns the free pages of every arena. Elsewhere (musl, macOS) a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
from collections.abc import Callable

log = logging.getLogger(__name__)

_TRIM: Callable[[int], int] | None = None
_LOADED = False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library is not glibc."""
    global _TRIM, _LOADED
    if not _LOADED:
        _LOADED = True
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            except (OSError, AttributeError):
                log.info("malloc_trim is not available; memory is not returned after large responses")
    return _TRIM


def trim() -> bool:
    """Return free heap pages to the OS; True if anything was released (False also where unsupported)."""
    fn = _malloc_trim()
    return bool(fn(0)) if fn is not None else False


_PENDING: set[object] = set()


def trim_soon(delay_s: float = 1.0) -> None:
    """`trim()` in a thread `delay_s` from now (once for responses ending together): by then the event loop has
    handed the response's bytes to the socket (its write buffer holds them until then) and they are freed."""
    import asyncio

    if _PENDING:
        return
    loop = asyncio.get_running_loop()

    def start() -> None:
        _PENDING.clear()
        task = loop.create_task(asyncio.to_thread(trim))
        task.add_done_callback(_PENDING.discard)
        _PENDING.add(task)

    _PENDING.add(loop.call_later(delay_s, start))
