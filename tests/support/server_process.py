"""Tests use the package's launcher (shared with the benchmarks)."""

from devtools.server_process import REPO, ServerProcess, TransformerProcess, free_port

__all__ = ["REPO", "ServerProcess", "TransformerProcess", "free_port"]
