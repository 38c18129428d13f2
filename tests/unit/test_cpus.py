"""The server's CPU budget from fake cgroup v1 and v2 files (tts_predictor/server/cpus.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tts_predictor.server import cpus


def fake_v2(tmp: Path, cpu_max: str, parent_max: str | None = None) -> Path:
    """/proc/self/{cgroup,mountinfo} and a cgroup2 tree under `tmp`; the process sits in /kubepods/pod1/c1."""
    proc, root = tmp / "proc", tmp / "sys" / "fs" / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text("0::/kubepods/pod1/c1\n")
    (proc / "self" / "mountinfo").write_text(
        f"24 1 0:22 / {tmp}/other rw - tmpfs tmpfs rw\n"
        f"30 24 0:26 / {root} rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    )
    leaf = root / "kubepods" / "pod1" / "c1"
    leaf.mkdir(parents=True)
    (leaf / "cpu.max").write_text(cpu_max + "\n")
    if parent_max is not None:
        (leaf.parent / "cpu.max").write_text(parent_max + "\n")
    (root / "cpu.max").write_text("max 100000\n")
    return proc


def fake_v1(tmp: Path, quota: int, period: int = 100000, mount_root: str = "/") -> Path:
    """cgroup v1 with the cpu,cpuacct controller; `mount_root` = the container's own cgroup (cgroup namespace)."""
    proc, point = tmp / "proc", tmp / "sys" / "fs" / "cgroup" / "cpu,cpuacct"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n")
    (proc / "self" / "mountinfo").write_text(
        f"35 30 0:31 {mount_root} {point} rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        f"36 30 0:32 {mount_root} {tmp}/sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
    )
    leaf = point if mount_root != "/" else point / "docker" / "abc"
    leaf.mkdir(parents=True, exist_ok=True)
    (leaf / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (leaf / "cpu.cfs_period_us").write_text(f"{period}\n")
    return proc


@pytest.mark.parametrize(
    ("cpu_max", "expected"), [("100000 100000", 1.0), ("150000 100000", 1.5), ("50000 50000", 1.0)]
)
def test_cgroup_v2_quota(tmp_path: Path, cpu_max: str, expected: float) -> None:
    cpus_found, source = cpus.cgroup_quota(fake_v2(tmp_path, cpu_max))
    assert cpus_found == expected and "cgroup v2 cpu.max" in source


def test_cgroup_v2_unlimited_leaf_takes_the_parents_limit(tmp_path: Path) -> None:
    assert cpus.cgroup_quota(fake_v2(tmp_path, "max 100000", parent_max="200000 100000"))[0] == 2.0
    assert cpus.cgroup_quota(fake_v2(tmp_path / "none", "max 100000")) is None


@pytest.mark.parametrize("mount_root", ["/", "/docker/abc"])
def test_cgroup_v1_quota(tmp_path: Path, mount_root: str) -> None:
    cpus_found, source = cpus.cgroup_quota(fake_v1(tmp_path, 100000, mount_root=mount_root))
    assert cpus_found == 1.0 and "cgroup v1 cpu.cfs_quota_us" in source
    assert cpus.cgroup_quota(fake_v1(tmp_path / "unlimited", -1)) is None


@pytest.mark.parametrize(("quota", "whole"), [(100000, 1), (150000, 1), (250000, 2), (50000, 1)])
def test_budget_rounds_down_to_whole_cpus(
    tmp_path: Path, quota: int, whole: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpus, "affinity_cpus", lambda: 64)
    budget = cpus.cpu_budget(proc=fake_v1(tmp_path, quota))
    assert budget.cpus == quota / 100000 and budget.whole == whole


def test_affinity_and_pod_limit_bound_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus, "affinity_cpus", lambda: 3)
    proc = fake_v2(tmp_path, "800000 100000")
    assert cpus.cpu_budget(proc=proc).cpus == 3 and "affinity" in cpus.cpu_budget(proc=proc).source
    limited = cpus.cpu_budget(limit_millicores=1500, proc=proc)
    assert (limited.cpus, limited.whole, limited.source) == (1.5, 1, "TTS_CPU_LIMIT_MILLICORES=1500")
    assert cpus.cpu_budget(proc=tmp_path / "no-proc").cpus == 3  # unreadable cgroup files: the mask only


def test_auto_sized_under_a_one_cpu_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = fake_v1(tmp_path, 100000)
    monkeypatch.setattr(cpus, "affinity_cpus", lambda: 64)
    chosen, budget = cpus.auto_sized(["threads", "max_concurrency"], None, proc)
    assert chosen == {"threads": 1, "max_concurrency": 1} and budget.whole == 1
    chosen, _ = cpus.auto_sized(["max_concurrency"], None, proc)
    assert chosen == {"max_concurrency": 1}  # an explicit value is kept


def test_size_settings_logs_and_keeps_explicit_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tts_predictor.settings import Settings

    monkeypatch.setattr(cpus, "cpu_budget", lambda limit=None, proc=None: cpus.CpuBudget(2.5, "test quota"))
    monkeypatch.delenv("TTS_THREADS", raising=False)
    monkeypatch.delenv("TTS_MAX_CONCURRENCY", raising=False)
    settings = Settings(max_concurrency=3)
    assert settings.threads == (os.cpu_count() or 1)  # what Settings alone resolves: the node's count
    assert settings.auto_cpu_fields == {"threads"}
    with caplog.at_level("INFO", logger="tts_predictor.server.cpus"):
        sized = cpus.size_settings(settings)
    assert (sized.threads, sized.max_concurrency) == (2, 3)
    assert "CPU budget 2.50 CPUs from test quota" in caplog.text and "threads=2 (auto)" in caplog.text
    # TTS_THREADS=0 means auto too; an explicit value equal to the core count stays explicit.
    monkeypatch.setenv("TTS_THREADS", "0")
    assert cpus.size_settings(Settings()).threads == 2
    monkeypatch.setenv("TTS_THREADS", str(os.cpu_count() or 1))
    assert cpus.size_settings(Settings()).threads == (os.cpu_count() or 1)
