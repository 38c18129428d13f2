"""Audio cache: an in-memory LRU bounded in bytes, or Redis shared by replicas; failures degrade to synthesis."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from tts_predictor import metrics
from tts_predictor.engines.base import Voice
from tts_predictor.protocol.v2 import EncodedAudio, SynthesisParameters

log = logging.getLogger(__name__)


def cache_key(
    model: str, text: str, params: SynthesisParameters, language: str, voice: str = "", scope: str = ""
) -> str:
    """Everything that changes the audio: model, resolved language, text, every parameter and the identity of the
    voice actually used (`voice_identity`); `scope` keeps tenants apart (`cache_scope`)."""
    payload = json.dumps([model, language, text, params.model_dump(mode="json"), voice, scope], sort_keys=True)
    return "tts:" + hashlib.sha256(payload.encode()).hexdigest()


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def voice_identity(voice: Voice) -> str:
    """What makes this voice sound as it does: its engine, speaker and mix, and for a cloned voice the content
    hash of its stored embedding (a voice deleted and re-created under the same name never hits the old audio)."""
    parts = [voice.id, voice.engine, str(voice.speaker), repr(voice.mix), str(voice.model)]
    if voice.store:
        path = Path(voice.store) / f"{voice.speaker or voice.id}.pth"
        try:
            stat = path.stat()
        except OSError:
            return "uncacheable"
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _FILE_HASHES:
            if len(_FILE_HASHES) > 4096:
                _FILE_HASHES.clear()
            _FILE_HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        parts.append(_FILE_HASHES[key])
    return "|".join(parts)


def voice_tag(model: str, voice_id: str) -> str:
    """The tag of every cache entry spoken (in part) by stored voice `voice_id` of `model`: purged when the voice is
    deleted, whichever key's partition the entry is in."""
    return f"voice:{model}|{voice_id}"


def cache_scope(headers: Mapping[str, str] | None, keys: frozenset[str], shared: bool) -> str:
    """The cache partition of a request: one per API key (hashed) unless the cache is shared (TTS_CACHE_SHARED) or
    no keys are configured; so one tenant cannot time another's cached audio."""
    if shared or not keys:
        return ""
    from tts_predictor.auth import key_from

    meta = {k.lower(): v for k, v in (headers or {}).items()}
    key = key_from(meta.get("authorization"), meta.get("x-api-key")) or ""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _pack(value: EncodedAudio) -> bytes:
    meta = {k: v for k, v in asdict(value).items() if k != "data"}
    return json.dumps(meta).encode() + b"\n" + value.data


def _unpack(blob: bytes) -> EncodedAudio:
    meta, _, data = blob.partition(b"\n")
    fields: dict[str, Any] = json.loads(meta)
    fields["timings"] = tuple(fields.get("timings", ()))
    fields["marks"] = tuple(fields.get("marks", ()))
    return EncodedAudio(data=data, **fields)


class AudioCache(Protocol):
    """get/put by key, purge by tag; never raises."""

    def get(self, key: str) -> EncodedAudio | None: ...

    def put(self, key: str, value: EncodedAudio, tags: tuple[str, ...] = ()) -> None: ...

    def purge(self, tag: str) -> int: ...


class MemoryCache:
    """Least-recently-used entries are dropped once the stored audio exceeds `max_bytes`."""

    backend = "memory"

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, EncodedAudio] = OrderedDict()
        self._tags: dict[str, set[str]] = {}  # tag -> keys
        self._key_tags: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> EncodedAudio | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
        metrics.CACHE.labels(self.backend, "hit" if value else "miss").inc()
        return value

    def put(self, key: str, value: EncodedAudio, tags: tuple[str, ...] = ()) -> None:
        if len(value.data) > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            self.size += len(value.data)
            self._items[key] = value
            if tags:
                self._key_tags[key] = tags
                for tag in tags:
                    self._tags.setdefault(tag, set()).add(key)
            while self.size > self.max_bytes:
                self._drop(next(iter(self._items)))

    def purge(self, tag: str) -> int:
        """Drop every entry tagged `tag`; how many."""
        with self._lock:
            keys = list(self._tags.get(tag, ()))
            for key in keys:
                self._drop(key)
            self._tags.pop(tag, None)
        return len(keys)

    def _drop(self, key: str) -> None:
        """Remove `key` and its tag links (the lock is held)."""
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old.data)
        for tag in self._key_tags.pop(key, ()):
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]


class RedisCache:
    """Shared cache; any Redis error counts as a miss and is logged, never raised."""

    backend = "redis"

    def __init__(self, url: str, ttl_s: int = 24 * 3600):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl_s = ttl_s

    def get(self, key: str) -> EncodedAudio | None:
        try:
            blob = self.client.get(key)
        except Exception as exc:  # redis.RedisError, OSError
            metrics.CACHE.labels(self.backend, "error").inc()
            log.warning("redis cache unavailable, synthesizing instead: %s", type(exc).__name__)
            return None
        metrics.CACHE.labels(self.backend, "hit" if blob else "miss").inc()
        return _unpack(bytes(blob)) if blob else None  # type: ignore[arg-type]  # redis-py: bytes | str

    def put(self, key: str, value: EncodedAudio, tags: tuple[str, ...] = ()) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, _pack(value), ex=self.ttl_s)
            now = time.time()
            for tag in tags:  # the tagged keys scored by expiry; expired ones are dropped, so the set stays bounded
                pipe.zadd(_tag_key(tag), {key: now + self.ttl_s})
                pipe.zremrangebyscore(_tag_key(tag), "-inf", now)
                pipe.expire(_tag_key(tag), self.ttl_s)
            pipe.execute()
        except Exception as exc:
            metrics.CACHE.labels(self.backend, "error").inc()
            log.warning("redis cache write failed: %s", type(exc).__name__)

    def purge(self, tag: str) -> int:
        """Delete every entry tagged `tag` (in every replica's view: the cache is shared); how many."""
        try:
            keys = self.client.zrange(_tag_key(tag), 0, -1)
            self.client.delete(_tag_key(tag), *keys)
        except Exception as exc:
            metrics.CACHE.labels(self.backend, "error").inc()
            log.warning("redis cache purge failed: %s", type(exc).__name__)
            return 0
        return len(keys)


def _tag_key(tag: str) -> str:
    return "tts:tag:" + hashlib.sha256(tag.encode()).hexdigest()


def make_cache(max_bytes: int, redis_url: str | None) -> AudioCache | None:
    """Redis when configured, else the in-memory LRU, or None when caching is off."""
    if redis_url:
        return RedisCache(redis_url)
    return MemoryCache(max_bytes) if max_bytes > 0 else None
