"""Coqui TTS engines: the only modules importing TTS and torch (imported lazily)."""

from __future__ import annotations

from tts_predictor.errors import require_extra


def require_coqui(feature: str) -> None:
    """Import torch and Coqui TTS, or raise ModelLoadError saying `feature` needs the 'coqui' extra."""
    for module in ("torch", "TTS"):
        require_extra(module, "coqui", feature)
