"""Tests use the package's launcher (shared with the benchmarks)."""

from tts_predictor.devtools.server_process import REPO, ServerProcess, free_port

__all__ = ["REPO", "ServerProcess", "free_port"]
