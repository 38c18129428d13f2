"""Token buckets: per-client request rates (TTS_RATE_LIMIT_RPS) and failed-authentication limits (REST and gRPC)."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`rate` tokens per second up to `burst`; one token per request."""

    rate: float
    burst: int
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def wait(self) -> float:
        """Seconds until a token is available (0: one is), without taking it."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> float:
        """0 when a request may pass (a token is taken), else the seconds until it may."""
        wait = self.wait()
        if not wait:
            self.tokens -= 1
        return wait

    def idle(self) -> bool:
        """Refilled to its burst: forgetting this bucket changes nothing for its client."""
        self.wait()
        return self.tokens >= self.burst


class Buckets:
    """One TokenBucket per client id, at most MAX of them.

    When full, the least recently used idle (refilled) buckets are forgotten; a limited client's bucket is never
    dropped (that would hand it a fresh burst). Should every tracked client be limited, newcomers share one
    overflow bucket until some bucket refills.
    """

    MAX = 10_000
    SWEEP = 64  # idle buckets looked for per eviction (bounded work per request)

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._overflow = TokenBucket(rate, burst, tokens=burst)

    def __len__(self) -> int:
        return len(self._buckets)

    def get(self, client: str) -> TokenBucket:
        """The bucket of `client` (a fresh, full one for a client not seen recently)."""
        bucket = self._buckets.get(client)
        if bucket is not None:
            self._buckets.move_to_end(client)
            return bucket
        if len(self._buckets) >= self.MAX and not self._evict_idle():
            return self._overflow
        bucket = self._buckets[client] = TokenBucket(self.rate, self.burst, tokens=self.burst)
        return bucket

    def _evict_idle(self) -> bool:
        """Forget up to SWEEP idle buckets, least recently used first; False when none was idle."""
        idle = [c for c, b in _first(self._buckets, self.SWEEP * 4) if b.idle()][: self.SWEEP]
        if not idle:  # the oldest are all limited: look through the rest once
            idle = [c for c, b in self._buckets.items() if b.idle()][: self.SWEEP]
        for client in idle:
            del self._buckets[client]
        return bool(idle)


def _first(buckets: OrderedDict[str, TokenBucket], n: int) -> list[tuple[str, TokenBucket]]:
    out: list[tuple[str, TokenBucket]] = []
    for item in buckets.items():
        if len(out) >= n:
            break
        out.append(item)
    return out


class FailureLimiter:
    """Failed API-key attempts per minute, counted per client address and per presented key (its hash).

    Only a request whose key is wrong is ever refused: a valid key passes whatever others did from its address
    (behind an ingress every client shares one). A guesser is slowed per address; a client repeating one wrong key
    (a revoked key in a retry loop) is slowed per key wherever it connects from.
    """

    def __init__(self, per_minute: int):
        self.per_address = Buckets(per_minute / 60.0, per_minute)
        self.per_key = Buckets(per_minute / 60.0, per_minute)

    def blocked(self, address: str, key: str | None) -> float:
        """Seconds until a wrong attempt of `key` (None: no key sent) from `address` is heard again (0: now)."""
        per_key = self.per_key.get(key_id(key)).wait() if key is not None else 0.0
        return max(self.per_address.get(address).wait(), per_key)

    def failed(self, address: str, key: str | None) -> None:
        """Count one failed attempt (a request without a key counts for its address only)."""
        self.per_address.get(address).take()
        if key is not None:
            self.per_key.get(key_id(key)).take()


def key_id(key: str) -> str:
    """Bucket id of a presented key: a hash, so the tables never hold a secret."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
