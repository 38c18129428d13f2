"""Consent records of cloned voices: who uploaded the sample (a hash of their API key), when, and the statement
they accepted; stored with the voice and returned by GET /v1/voices/{id}."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from tts_predictor.auth import owner_of
from tts_predictor.errors import FieldError

DEFAULT_STATEMENT = (
    "I am the person whose voice is in this sample, or I have their written permission to create a synthetic "
    "copy of it, and I will label speech made with it as AI-generated."
)


def consent_record(
    raw: Any, api_key: str | None, *, required: bool, statement: str = DEFAULT_STATEMENT
) -> dict[str, Any] | None:
    """The record for an upload's `consent` field: true (accepts the server's statement) or
    {"accepted": true, "statement": "..."}; FieldError when missing but required, or not accepted."""
    if raw is None:
        if required:
            raise FieldError(
                "consent", f'consent: required (TTS_CLONE_REQUIRE_CONSENT); send consent: true to accept: "{statement}"'
            )
        return None
    if isinstance(raw, str) and raw.lower() in ("true", "false"):  # a multipart form field
        raw = raw.lower() == "true"
    if isinstance(raw, dict) and set(raw) <= {"accepted", "statement"} and isinstance(raw.get("statement", ""), str):
        accepted, text = raw.get("accepted") is True, raw.get("statement") or statement
    elif isinstance(raw, bool):
        accepted, text = raw, statement
    else:
        raise FieldError("consent", 'consent: give true or {"accepted": true, "statement": "..."}')
    if not accepted:
        raise FieldError("consent", "consent: not accepted; a voice is only cloned with the speaker's consent")
    if not 10 <= len(text) <= 2000:
        raise FieldError("consent", "consent.statement: must be 10-2000 characters")
    return {
        "accepted": True,
        "statement": text,
        "statement_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "uploaded_by": owner_of(api_key),
        "accepted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
