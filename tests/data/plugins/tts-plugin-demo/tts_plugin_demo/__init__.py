"""A tiny tts-predictor plugin package (tests/server/test_plugins.py installs it into a temporary folder)."""
