"""Who may see and use a stored (cloned) voice: the API key that created it, admin keys, or everyone if shared.

A stored voice records its owner as `owner_of(api_key)` (a hash, never the key) and a `shared` flag. The caller of
the current request is a context variable set at the entry (HTTP/WebSocket gateway, gRPC preprocess, job worker),
like `engines.scheduling.scheduled_as`, so it reaches the catalogue wherever a voice is resolved. With no API keys
configured there is one tenant and every voice is everyone's (as before ownership existed).
"""

from __future__ import annotations

from dataclasses import dataclass

from tts_predictor.auth import ANONYMOUS, current_caller, owner_of


@dataclass(frozen=True)
class Ownership:
    """A stored voice's owner and whether every key may use it."""

    owner: str = ANONYMOUS
    """`owner_of` the creating API key ('anonymous' when made without one, e.g. before keys were configured)."""
    shared: bool = False
    """Set by an admin key at creation: every key may use (not delete) the voice."""


@dataclass(frozen=True)
class VoiceAccess:
    """The tenancy rule of one server: on when API keys are configured; admins see and manage everything."""

    enabled: bool = False
    admins: frozenset[str] = frozenset()
    """Owner ids (`owner_of`) of the admin keys."""

    @classmethod
    def from_keys(cls, keys: frozenset[str], admin_keys: frozenset[str]) -> VoiceAccess:
        """Tenancy when `keys` (all valid keys, admin ones included) are configured."""
        return cls(bool(keys), frozenset(owner_of(k) for k in admin_keys))

    def caller(self) -> str:
        """The current request's owner id ('anonymous' when it gave no key)."""
        return current_caller() or ANONYMOUS

    def is_admin(self) -> bool:
        """No tenancy (one tenant: everyone manages everything), or the caller holds an admin key."""
        return not self.enabled or self.caller() in self.admins

    def may_use(self, ownership: Ownership | None) -> bool:
        """Built-in voices (no ownership) and shared ones: everyone; a stored voice: its owner and admins."""
        if ownership is None or ownership.shared or self.is_admin():
            return True
        return ownership.owner == self.caller()

    def may_manage(self, ownership: Ownership | None) -> bool:
        """Describe or delete a stored voice: its owner and admins (a shared voice stays its owner's)."""
        return ownership is not None and (self.is_admin() or ownership.owner == self.caller())
