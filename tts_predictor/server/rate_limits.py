"""Who is calling: the peer address (X-Forwarded-For only from trusted proxies) and per-address auth-failure limits."""

from __future__ import annotations

import time
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


class Buckets:
    """One TokenBucket per client id, bounded in number (cleared when full: memory stays bounded)."""

    MAX = 10_000

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, TokenBucket] = {}

    def get(self, client: str) -> TokenBucket:
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.MAX:
                self._buckets.clear()
            bucket = self._buckets[client] = TokenBucket(self.rate, self.burst, tokens=self.burst)
        return bucket
