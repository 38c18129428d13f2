"""Piper's voice catalogue: the `voices.json` index of rhasspy/piper-voices (or a mirror), parsed and cached.

The index maps a voice key (``en_GB-alan-medium``) to its language, quality, speaker count and files, each file
by its path in the repository with ``size_bytes`` and ``md5_digest`` (piper-voices' voices.json, as Piper's
``download_voices`` and wyoming-piper read it). Only entries whose paths and digests are well-formed are kept.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path
from typing import Any

import httpx

from tts_predictor.errors import VoiceUnavailable
from tts_predictor.settings import Settings

log = logging.getLogger(__name__)

SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
"""A voice name this server may put in a path or a URL (checked before any request)."""
NAME_SHAPE = re.compile(r"[a-z]{2,3}_(?:[A-Z]{2}|[0-9]{3})-[A-Za-z0-9_]{1,64}-(?:x_low|low|medium|high)")
"""Piper's ``<lang>_<REGION>-<name>-<quality>``: a catalogue name, when the index cannot be read."""
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.-]{1,120}(?:/[A-Za-z0-9_.-]{1,120}){0,8}")
_MD5 = re.compile(r"[0-9a-f]{32}")
MAX_VOICE_BYTES = 1 << 30
"""A voice file larger than this is refused whatever the index says (Piper's largest are ~120 MB)."""
INDEX_MAX_BYTES = 32 << 20
INDEX_MAX_AGE_S = 24 * 3600.0
"""The cached index is fetched again after a day (a stale copy is used when the catalogue is unreachable)."""
RETRY_UNREACHABLE_S = 60.0
"""After a failed index fetch, the in-process answer is 'unreachable' for this long (no request per lookup)."""
TIMEOUT = httpx.Timeout(10.0, read=30.0)
"""Connect 10 s, and 30 s without a byte: a dead mirror fails a download, never hangs it."""
PULL_HINT = "pre-fetch it with `tts-predictor voices pull {name}` or set TTS_PIPER_VOICES_URL to a reachable mirror"


class Unreachable(Exception):
    """The catalogue could not be read (offline, network error, bad answer); the message says why."""


@dataclass(frozen=True)
class VoiceFile:
    """One file of a catalogue voice."""

    path: str
    """Path in the catalogue repository, relative to TTS_PIPER_VOICES_URL."""
    size_bytes: int
    md5: str
    """Hex MD5 digest the download must have."""


@dataclass(frozen=True)
class CatalogueEntry:
    """A voice of Piper's catalogue."""

    key: str
    language: str
    """Piper's language code, e.g. ``en_GB``."""
    quality: str
    num_speakers: int
    model: VoiceFile
    """The ``.onnx`` graph."""
    config: VoiceFile
    """The ``.onnx.json`` voice config."""

    def to_dict(self) -> dict[str, Any]:
        """The listing shape of GET /v1/voices?available=true (without ``installed``)."""
        return {
            "id": self.key,
            "language": self.language.replace("_", "-"),
            "quality": self.quality,
            "num_speakers": self.num_speakers,
            "size_bytes": self.model.size_bytes + self.config.size_bytes,
        }


def _voice_file(key: str, suffix: str, files: dict[str, Any]) -> VoiceFile | None:
    """The entry's file named ``<key><suffix>``, if its path, size and digest are well-formed."""
    for path, meta in files.items():
        if not (isinstance(path, str) and path.rsplit("/", 1)[-1] == key + suffix and isinstance(meta, dict)):
            continue
        size, md5 = meta.get("size_bytes"), meta.get("md5_digest")
        if not _SAFE_PATH.fullmatch(path) or ".." in path.split("/"):
            return None
        if not (isinstance(size, int) and 0 < size <= MAX_VOICE_BYTES and isinstance(md5, str)):
            return None
        return VoiceFile(path, size, md5.lower()) if _MD5.fullmatch(md5.lower()) else None
    return None


def _entry(key: str, raw: Any) -> CatalogueEntry | None:
    if not (isinstance(raw, dict) and SAFE_NAME.fullmatch(key) and isinstance(raw.get("files"), dict)):
        return None
    model = _voice_file(key, ".onnx", raw["files"])
    config = _voice_file(key, ".onnx.json", raw["files"])
    if model is None or config is None:
        return None
    language = raw.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    speakers = raw.get("num_speakers")
    return CatalogueEntry(
        key=key,
        language=code if isinstance(code, str) and len(code) <= 16 else "und",
        quality=str(raw.get("quality", ""))[:16],
        num_speakers=speakers if isinstance(speakers, int) and speakers > 0 else 1,
        model=model,
        config=config,
    )


def parse_index(data: bytes) -> dict[str, CatalogueEntry]:
    """The well-formed voices of a voices.json document (malformed entries are skipped and logged)."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise Unreachable(f"the catalogue index is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise Unreachable("the catalogue index is not a JSON object of voices")
    entries = {key: entry for key, value in raw.items() if (entry := _entry(str(key), value)) is not None}
    if len(entries) < len(raw):
        log.warning("piper catalogue: skipped %d malformed entries", len(raw) - len(entries))
    return entries


def file_url(settings: Settings, path: str) -> str:
    """The URL of a catalogue path."""
    return f"{settings.piper_voices_url.rstrip('/')}/{path}"


def index_path(settings: Settings) -> Path:
    """The on-disk copy of the index of TTS_PIPER_VOICES_URL (one per URL)."""
    tag = sha1(settings.piper_voices_url.encode(), usedforsecurity=False).hexdigest()[:12]
    return settings.piper_dir() / f"voices-{tag}.json"


def client() -> httpx.Client:
    """The HTTP client of catalogue requests (redirects followed: Hugging Face answers files with a redirect)."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=True)


def _download_index(settings: Settings) -> bytes:
    url = file_url(settings, "voices.json")
    try:
        with client() as http, http.stream("GET", url) as response:
            if response.status_code != 200:
                raise Unreachable(f"{url} answered HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > INDEX_MAX_BYTES:
                    raise Unreachable(f"{url} is larger than {INDEX_MAX_BYTES} bytes")
            return bytes(data)
    except httpx.HTTPError as exc:
        raise Unreachable(f"cannot read {url}: {type(exc).__name__}: {exc}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


_MEMO: dict[str, tuple[float, dict[str, CatalogueEntry] | str]] = {}
_MEMO_LOCK = threading.Lock()


def load_index(settings: Settings) -> dict[str, CatalogueEntry]:
    """The catalogue: the cached copy while fresh, else fetched (a stale copy when unreachable).

    Raises:
        Unreachable: offline (HF_HUB_OFFLINE) with no cached copy, or the catalogue cannot be read.
    """
    key = f"{settings.piper_voices_url}|{settings.piper_dir()}|{settings.hf_hub_offline}"
    with _MEMO_LOCK:
        memo = _MEMO.get(key)
        if memo is not None:
            age = time.monotonic() - memo[0]
            if isinstance(memo[1], dict) and age < INDEX_MAX_AGE_S:
                return memo[1]
            if isinstance(memo[1], str) and age < RETRY_UNREACHABLE_S:
                raise Unreachable(memo[1])
        try:
            entries = _read_index(settings)
        except Unreachable as exc:
            _MEMO[key] = (time.monotonic(), str(exc))
            raise
        _MEMO[key] = (time.monotonic(), entries)
        return entries


def forget_index() -> None:
    """Drop the in-process copies (the next lookup reads the disk or the catalogue again)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _read_index(settings: Settings) -> dict[str, CatalogueEntry]:
    cached = index_path(settings)
    fresh = cached.is_file() and time.time() - cached.stat().st_mtime < INDEX_MAX_AGE_S
    if settings.hf_hub_offline or fresh:
        if cached.is_file():
            return parse_index(cached.read_bytes())
        raise Unreachable("HF_HUB_OFFLINE is set and no catalogue index is cached")
    try:
        data = _download_index(settings)
        entries = parse_index(data)
    except Unreachable as exc:
        if not cached.is_file():
            raise
        log.warning("piper catalogue unreachable (%s); using the cached index %s", exc, cached)
        return parse_index(cached.read_bytes())
    _write_atomic(cached, data)
    return entries


def check_name(name: str) -> None:
    """Refuse a voice name that cannot be a catalogue name (before any request or path is made of it)."""
    if not SAFE_NAME.fullmatch(name):
        shown = name[:60].encode("unicode_escape").decode("ascii")
        raise VoiceUnavailable(
            f"'{shown}' is not a Piper catalogue voice name (letters, digits, '_' and '-', at most 100; "
            "e.g. en_GB-alan-medium)"
        )
