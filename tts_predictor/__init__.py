"""tts-predictor: a KServe text-to-speech inference service."""

__version__ = "0.1.0"
