"""Debian's nats-server on a free port, with JetStream stored on disk, that a test can stop and start again on the
same port (the broker outage of the job-events tests)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from server_process import free_port


class NatsBroker:
    """A real nats-server (`-js`, store in `directory`); `stop` and `start` keep the port and the stored streams."""

    def __init__(self, directory: Path):
        if shutil.which("nats-server") is None:
            pytest.skip("Debian's nats-server is not installed (apt-get install nats-server)")
        self.port, self.directory = free_port(), directory
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsBroker:
        """Start and wait until the port accepts connections."""
        command = ["nats-server", "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.directory)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then wait)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
