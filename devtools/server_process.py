"""Start a real tts-predictor server process on free ports and wait until it is ready (tests, benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A `python -m tts_predictor serve` child process."""

    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    http_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    role = "serve"

    def command(self) -> list[str]:
        """The command line of the child process."""
        return [
            sys.executable,
            "-m",
            "tts_predictor",
            self.role,
            "--http_port",
            str(self.http_port),
            "--grpc_port",
            str(self.grpc_port),
            *self.args,
        ]

    def start(self, timeout_s: float = 180.0, wait: bool = True) -> ServerProcess:
        env = {**os.environ, "TTS_MODEL": "embedded", **self.env}
        self.log_path = self.log_path or Path(f"/tmp/tts-test-{self.role}-{self.http_port}.log")
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.command(), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            try:
                self.wait_ready(timeout_s)
            except BaseException:
                self.stop()
                raise
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"server not ready after {timeout_s} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class TransformerProcess(ServerProcess):
    """`python -m tts_predictor transformer` in front of a predictor (pass --predictor_host in `args`)."""

    role = "transformer"

    def command(self) -> list[str]:
        return [*super().command(), "--model_name", "tts"]
