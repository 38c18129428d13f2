"""Coqui TTS engines: the only modules importing TTS and torch (imported lazily)."""
