"""Wire formats: the Open Inference Protocol (V2) tensors <-> tts-predictor values."""
