"""The pods' own cgroup (`_pods_cgroup`) on a stand-in for /sys/fs/cgroup: the kernel makes a
cgroup's files at mkdir; here the test makes the ones it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikubelet.runtime._pods_cgroup import PodsCgroup, shares_to_weight


def test_v1_parent_weighs_the_nodes_cores_in_shares(tmp_path: Path) -> None:
    (tmp_path / "cpu" / "minikubelet").mkdir(parents=True)
    (tmp_path / "cpu" / "minikubelet" / "cpu.shares").write_text("1024\n")
    pods = PodsCgroup(tmp_path, cores=2)
    assert pods.prepare()
    assert pods.parent == "/minikubelet"
    assert (tmp_path / "cpu" / "minikubelet" / "cpu.shares").read_text() == "2048\n"


def test_v2_parent_weighs_the_same_as_cpu_weight(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "minikubelet").mkdir()
    (tmp_path / "minikubelet" / "cpu.weight").write_text("100\n")
    assert PodsCgroup(tmp_path, cores=2).prepare()
    assert (tmp_path / "minikubelet" / "cpu.weight").read_text() == "79\n"


def test_a_host_that_refuses_keeps_the_engines_parent(tmp_path: Path) -> None:
    assert not PodsCgroup(tmp_path / "absent", cores=2).prepare()


@pytest.mark.parametrize(("shares", "weight"), [(2, 1), (1024, 39), (2048, 79), (262144, 10000)])
def test_shares_to_weight_as_runc_converts(shares: int, weight: int) -> None:
    assert shares_to_weight(shares) == weight


def test_remove_takes_every_hierarchys_empty_parent(tmp_path: Path) -> None:
    for controller in ("cpu,cpuacct", "memory", "pids"):
        (tmp_path / controller / "minikubelet").mkdir(parents=True)
    (tmp_path / "pids" / "minikubelet" / "still-a-container").mkdir()
    (tmp_path / "cpu,cpuacct" / "docker").mkdir()
    PodsCgroup(tmp_path, cores=2).remove()
    assert not (tmp_path / "cpu,cpuacct" / "minikubelet").exists()
    assert not (tmp_path / "memory" / "minikubelet").exists()
    assert (tmp_path / "pids" / "minikubelet").exists()  # the kernel refuses: not empty
    assert (tmp_path / "cpu,cpuacct" / "docker").exists()
