"""Build and run the project's images with a rootful podman (the recipe in docs/deployment.md), for tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field

import httpx
from server_process import REPO, free_port

PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
"""runc and cgroupfs: crun fails on this kind of VM (no CAP_SYS_RESOURCE, hybrid cgroups)."""
ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
# What the chart's securityContext asks (runAsUser 1000, readOnlyRootFilesystem, drop ALL,
# allowPrivilegeEscalation false) and its emptyDir volumes for the cache and /tmp. `U` chowns the tmpfs
# to the container user, as fsGroup does for an emptyDir (podman ignores mode= on a VOLUME path).
RESTRICTED = [
    "--read-only",
    "--user",
    "1000:1000",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--tmpfs",
    "/var/cache/tts:rw,size=256m,U",
    "--tmpfs",
    "/tmp:rw,size=256m,mode=1777",
]


def podman_unusable() -> str | None:
    """Why containers cannot run here, or None when a rootful podman works."""
    if os.geteuid() != 0:
        return "the container tests need root (rootful podman with runc)"
    if shutil.which("podman") is None or shutil.which("runc") is None:
        return "podman/runc not installed (bash scripts/install-system-deps.sh --container)"
    if shutil.which("debootstrap") is None:
        return "debootstrap not installed: needed to create the base image without a registry"
    info = subprocess.run([*PODMAN, "info", "--format", "json"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return f"podman info failed: {info.stderr.strip()[-300:]}"
    return None


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Run one podman command; its stderr in the error when it fails."""
    result = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


@dataclass(frozen=True)
class BuiltImage:
    """An image built by scripts/podman-build.sh, with what the build cost."""

    tag: str
    build_s: float
    size_mb: float
    config: dict


def build_image(tag: str, *build_args: str, dockerfile: str = "docker/Dockerfile", timeout: float = 1800) -> BuiltImage:
    """Build (the layer cache makes a rebuild of unchanged sources take seconds) and inspect."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "scripts/podman-build.sh", tag, *build_args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "DOCKERFILE": dockerfile},
    )
    if result.returncode != 0:
        raise RuntimeError(f"image build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    inspected = json.loads(podman("image", "inspect", tag).stdout)[0]
    return BuiltImage(tag, time.monotonic() - started, inspected["Size"] / 1e6, inspected)


@dataclass
class Container:
    """One detached container with its REST port published on 127.0.0.1 (as a pod's containerPort)."""

    image: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)
    name: str = field(default_factory=lambda: f"tts-test-{free_port()}")
    http_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout_s: float = 120) -> Container:
        env = [f"--env={k}={v}" for k, v in self.env.items()]
        podman(
            "run",
            "-d",
            "--name",
            self.name,
            *ULIMITS,
            *RESTRICTED,
            "-p",
            f"127.0.0.1:{self.http_port}:8080",
            *env,
            *self.options,
            self.image,
            *self.args,
        )
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"container {self.name} exited:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"container {self.name} not ready after {timeout_s} s:\n{self.logs()}")

    def running(self) -> bool:
        state = podman("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return state.stdout.strip() == "true"

    def ip(self) -> str:
        """The container's address on podman's bridge network (how a second container reaches it)."""
        return podman("inspect", "--format", "{{.NetworkSettings.IPAddress}}", self.name).stdout.strip()

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-6000:]

    def wait_exit(self, timeout_s: float) -> int:
        """Exit code once the container stopped."""
        return int(podman("wait", self.name, timeout=timeout_s).stdout.strip().splitlines()[-1])

    def remove(self) -> None:
        podman("rm", "-f", "-t", "5", self.name, check=False)
