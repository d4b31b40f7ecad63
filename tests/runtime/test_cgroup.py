"""`memory.oom.group` on cgroup v2 (the 1.32 kubelet's `generateLinuxContainerResources` sets
`Unified["memory.oom.group"] = "1"` unless `--single-process-oom-kill`); nothing on v1."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikubelet.runtime._cgroup import enable_oom_group, memory_cgroup_of


def fake_host(tmp_path: Path, pid: int, cgroup_lines: str) -> tuple[Path, Path]:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cgroup").write_text(cgroup_lines)
    return proc, root


def test_v2_sets_the_group_of_the_containers_cgroup(tmp_path: Path) -> None:
    proc, root = fake_host(tmp_path, 42, "0::/docker/abc123\n")
    group = root / "docker" / "abc123"
    group.mkdir(parents=True)
    (group / "memory.oom.group").write_text("0\n")
    assert memory_cgroup_of(42, root, proc) == (group, 2)
    assert enable_oom_group(42, root, proc) is True
    assert (group / "memory.oom.group").read_text() == "1\n"


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param("12:memory:/docker/abc\n11:pids:/docker/abc\n0::/\n", id="hybrid"),
        pytest.param("12:memory:/docker/abc\n1:name=systemd:/docker/abc\n", id="v1"),
    ],
)
def test_v1_and_hybrid_hosts_are_left_alone(tmp_path: Path, lines: str) -> None:
    proc, root = fake_host(tmp_path, 42, lines)
    assert memory_cgroup_of(42, root, proc)[1] == 1
    assert enable_oom_group(42, root, proc) is False


def test_a_gone_process_or_missing_file_is_no_error(tmp_path: Path) -> None:
    proc, root = fake_host(tmp_path, 42, "0::/docker/gone\n")
    assert enable_oom_group(42, root, proc) is False  # no such cgroup directory
    assert enable_oom_group(7, root, proc) is False  # no such process
    assert enable_oom_group(0, root, proc) is False  # not running
