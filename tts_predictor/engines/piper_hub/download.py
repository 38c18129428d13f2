"""Download a catalogue voice into the model cache: verified, placed atomically, once for many callers.

A voice is two files, ``<name>.onnx`` and ``<name>.onnx.json``, under `Settings.piper_dir`. Each is streamed to a
temporary file in the same directory, checked against the index (never more bytes than it lists, then the exact
size and MD5) and moved into place with `os.replace`; the config goes last, so a voice counts as installed only
when both files are whole. One thread per process (a lock per voice) and one process per cache directory (an
exclusive `flock` on ``.<name>.lock``) downloads a voice; the others wait and find it installed.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tts_predictor.engines.piper_hub.index import (
    PULL_HINT,
    CatalogueEntry,
    Unreachable,
    VoiceFile,
    check_name,
    client,
    file_url,
    load_index,
)
from tts_predictor.errors import VoiceUnavailable
from tts_predictor.settings import Settings

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
PROGRESS_EVERY_S = 5.0

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def installed_path(name: str, settings: Settings) -> Path | None:
    """The ``.onnx`` of an installed (whole, verified) catalogue voice, else None."""
    root = settings.piper_dir()
    model, config = root / f"{name}.onnx", root / f"{name}.onnx.json"
    return model if model.is_file() and config.is_file() else None


def installed_names(settings: Settings) -> list[str]:
    """Every voice installed in the cache, by name."""
    root = settings.piper_dir()
    if not root.is_dir():
        return []
    names = (p.name.removesuffix(".onnx.json") for p in root.glob("*.onnx.json"))
    return sorted(n for n in names if (root / f"{n}.onnx").is_file())


def fetch(name: str, settings: Settings) -> Path:
    """The ``.onnx`` of catalogue voice `name`, downloaded first unless already in the cache (blocking: call it
    from a worker thread).

    Raises:
        VoiceUnavailable: a malformed or unknown name, offline or unreachable with the voice not cached, or a
            download refused (HTTP error, more bytes than the index lists, wrong size or MD5); the message names
            the voice and how to pre-fetch it.
    """
    check_name(name)
    if (path := installed_path(name, settings)) is not None:
        return path
    if settings.hf_hub_offline:
        raise VoiceUnavailable(
            f"voice '{name}' is not in the model cache and HF_HUB_OFFLINE is set; " + PULL_HINT.format(name=name)
        )
    entry = _entry(name, settings)  # before any lock: only catalogue names get one
    with _thread_lock(name), _file_lock(settings.piper_dir(), name):
        if (path := installed_path(name, settings)) is not None:
            return path  # another thread or process placed it while we waited
        _download_voice(entry, settings)
    path = installed_path(name, settings)
    assert path is not None
    return path


def _entry(name: str, settings: Settings) -> CatalogueEntry:
    try:
        entries = load_index(settings)
    except Unreachable as exc:
        raise VoiceUnavailable(
            f"voice '{name}' is not in the model cache and Piper's catalogue cannot be read ({exc}); "
            + PULL_HINT.format(name=name)
        ) from None
    if name not in entries:
        raise VoiceUnavailable(
            f"'{name}' is not a voice of Piper's catalogue at {settings.piper_voices_url} "
            "(GET /v1/voices?available=true lists them)"
        )
    return entries[name]


@contextmanager
def _thread_lock(name: str) -> Iterator[None]:
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(name, threading.Lock())
    with lock:
        yield


@contextmanager
def _file_lock(root: Path, name: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or when a killed holder exits
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download_voice(entry: CatalogueEntry, settings: Settings) -> None:
    """Both files to temporary names, verified, then placed (model first, config last)."""
    root = settings.piper_dir()
    for stale in root.glob(f".{entry.key}.onnx*.part"):
        stale.unlink(missing_ok=True)  # left by a killed download; we hold the voice's file lock
    started = time.monotonic()
    parts: list[tuple[Path, Path]] = []
    try:
        with client() as http:
            for file, final in ((entry.model, f"{entry.key}.onnx"), (entry.config, f"{entry.key}.onnx.json")):
                tmp = root / f".{final}.{os.getpid()}.{threading.get_ident()}.part"
                parts.append((tmp, root / final))
                _download_file(http, entry.key, file, file_url(settings, file.path), tmp)
        for tmp, final_path in parts:
            os.replace(tmp, final_path)
    finally:
        for tmp, _final in parts:
            tmp.unlink(missing_ok=True)
    log.info(
        "piper voice %s: %d bytes downloaded and verified in %.1f s",
        entry.key,
        entry.model.size_bytes + entry.config.size_bytes,
        time.monotonic() - started,
    )


def _refuse(name: str, url: str, why: str) -> VoiceUnavailable:
    return VoiceUnavailable(f"download of voice '{name}' from {url} refused: {why}; nothing was kept")


def _download_file(http: httpx.Client, name: str, file: VoiceFile, url: str, tmp: Path) -> None:
    """Stream `url` to `tmp`, refusing more bytes than the index lists, a short body and a wrong MD5."""
    log.info("piper voice %s: downloading %s (%d bytes)", name, url, file.size_bytes)
    digest = hashlib.md5(usedforsecurity=False)
    received, last_log = 0, time.monotonic()
    try:
        with http.stream("GET", url) as response, open(tmp, "wb") as out:
            if response.status_code != 200:
                raise _refuse(name, url, f"HTTP {response.status_code}")
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > file.size_bytes:
                raise _refuse(name, url, f"{length} bytes announced; the catalogue lists {file.size_bytes}")
            for chunk in response.iter_bytes(CHUNK_BYTES):
                received += len(chunk)
                if received > file.size_bytes:
                    raise _refuse(name, url, f"more than the {file.size_bytes} bytes the catalogue lists")
                digest.update(chunk)
                out.write(chunk)
                if time.monotonic() - last_log >= PROGRESS_EVERY_S:
                    last_log = time.monotonic()
                    log.info("piper voice %s: %d of %d bytes", name, received, file.size_bytes)
            out.flush()
            os.fsync(out.fileno())
    except httpx.HTTPError as exc:
        raise VoiceUnavailable(
            f"download of voice '{name}' from {url} failed ({type(exc).__name__}: {exc}); nothing was kept; "
            + PULL_HINT.format(name=name)
        ) from None
    if received != file.size_bytes:
        raise _refuse(name, url, f"{received} bytes received; the catalogue lists {file.size_bytes}")
    if digest.hexdigest() != file.md5:
        raise _refuse(name, url, f"MD5 {digest.hexdigest()} does not match the catalogue's {file.md5}")


_BACKGROUND: dict[str, threading.Thread] = {}
_FAILED: dict[str, tuple[float, VoiceUnavailable]] = {}
FAILURE_REMEMBERED_S = 60.0
"""A background download that failed answers the next requests for the voice with its error for this long."""


def fetch_in_background(name: str, settings: Settings) -> None:
    """Start downloading catalogue voice `name` in a daemon thread (one per voice at a time) and return at once.

    Raises VoiceUnavailable at once when the voice cannot come (offline, unknown) or when its last background
    download failed less than FAILURE_REMEMBERED_S ago (the failure's own message: wrong checksum, HTTP error...).
    """
    check_name(name)
    if settings.hf_hub_offline:
        fetch(name, settings)  # raises the offline message without touching the network
    with _LOCKS_GUARD:
        failed = _FAILED.get(name)
        if failed is not None and time.monotonic() - failed[0] < FAILURE_REMEMBERED_S:
            raise failed[1]
        running = _BACKGROUND.get(name)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_fetch_logged, args=(name, settings), name=f"piper-fetch-{name}", daemon=True)
        _BACKGROUND[name] = thread
        _FAILED.pop(name, None)
    thread.start()


def _fetch_logged(name: str, settings: Settings) -> None:
    try:
        fetch(name, settings)
    except VoiceUnavailable as exc:
        log.warning("background download of voice %s failed: %s", name, exc)
        with _LOCKS_GUARD:
            _FAILED[name] = (time.monotonic(), exc)
    except Exception as exc:  # noqa: BLE001 - a thread's failure must reach the next request, not vanish
        log.exception("background download of voice %s failed", name)
        with _LOCKS_GUARD:
            _FAILED[name] = (time.monotonic(), VoiceUnavailable(f"voice '{name}' could not be downloaded: {exc}"))
