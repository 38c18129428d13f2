"""Who is calling: API keys (REST headers and gRPC metadata), owner ids, the caller's address and the current caller.

The one home of caller identity. An owner id is a hash of the caller's API key (never the key itself); the current
request's owner id is a context variable set at the entry (HTTP/WebSocket gateway, gRPC preprocess, job worker), so
it reaches the voice catalogue, the cache and the jobs wherever they run.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

ANONYMOUS = "anonymous"


def owner_of(api_key: str | None) -> str:
    """Owner id of a caller (jobs, stored voices, cache partitions): a hash of the caller's API key (never the key itself), or 'anonymous'."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:24] if api_key else ANONYMOUS


def key_from(authorization: str | None, x_api_key: str | None) -> str | None:
    """The API key of `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    auth = authorization or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return x_api_key


def is_admin(key: str | None, admin_keys: frozenset[str]) -> bool:
    """True when `key` is an admin key (TTS_ADMIN_API_KEYS): model repository load / unload."""
    return key_valid(key, admin_keys)


def key_valid(key: str | None, keys: frozenset[str]) -> bool:
    """True when `key` is one of `keys` (constant-time comparisons)."""
    if key is None:
        return False
    given = key.encode("utf-8", "surrogatepass")  # compare_digest refuses non-ASCII str: compare bytes
    return any(hmac.compare_digest(given, k.encode("utf-8")) for k in keys)


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


def address_owner(address: str) -> str:
    """Owner id of an unauthenticated caller (no keys configured): a hash of its client address.

    Without configured keys a presented key proves nothing, so it must not pick the owner (a made-up key per
    job would escape the per-owner limits); the address does not change with what the client writes (X-Forwarded-For
    counts only from trusted proxies, see `client_address`).
    """
    return "addr-" + hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:24]


_CALLER: ContextVar[str | None] = ContextVar("tts_voice_caller", default=None)
_ADDRESS: ContextVar[str | None] = ContextVar("tts_client_address", default=None)


def set_client_address(address: str | None) -> None:
    """The current request comes from `address` (the gateway's `client_address`)."""
    _ADDRESS.set(address)


def request_owner(api_key: str | None, keyed: bool, peer: str | None = None) -> str:
    """Owner id of the current request: its key's hash when keys are configured (the gateway checked the key),
    else its client address (set by the gateway; `peer` where no gateway ran)."""
    if keyed:
        return owner_of(api_key)
    return address_owner(_ADDRESS.get() or peer or "unknown")


def current_caller() -> str | None:
    """The owner id the current request acts for (None: no key)."""
    return _CALLER.get()


def set_caller(api_key: str | None) -> None:
    """The current request (task and what it starts) acts for `api_key` (None: no key)."""
    _CALLER.set(owner_of(api_key) if api_key else None)


@contextmanager
def acting_for(owner: str | None) -> Iterator[None]:
    """Inside the block, act for the owner id `owner` (a job worker rendering a job of that owner)."""
    token = _CALLER.set(owner)
    try:
        yield
    finally:
        _CALLER.reset(token)
