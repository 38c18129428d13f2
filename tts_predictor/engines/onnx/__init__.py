"""ONNX Runtime engines for Piper-format VITS voices, and the espeak-ng phonemizer."""
