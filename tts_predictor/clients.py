"""Who is calling: the peer address (X-Forwarded-For only from trusted proxies) and per-address auth-failure limits."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR ranges (TTS_TRUSTED_PROXIES); ValueError naming a bad entry."""
    out = []
    for item in (s.strip() for s in spec.split(",")):
        if item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or CIDR range: {item!r}") from None
    return tuple(out)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The caller's address: the TCP peer, or, when the peer is a trusted proxy, the right-most X-Forwarded-For
    entry that is not itself a trusted proxy (entries further left are whatever the client wrote)."""
    address = peer or "unknown"
    if not forwarded_for or not proxies or not _trusted(address, proxies):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _trusted(hop, proxies):
            return hop[:64]
    return address


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
