"""The pods' own cgroup on the real engine: every container of a pod, its sandbox included,
runs under `/minikubelet`, weighted as the kubelet weights `kubepods` (1024 shares per core),
so the engine's own tasks cannot crowd the pods out (bench/README.md, the full node)."""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from minikubelet.runtime._cgroup import CGROUP_ROOT
from tests.e2e.conftest import Agent
from tests.e2e.pods import engine_containers, pod, wait_running
from tests.e2e.probing import idle

pytestmark = pytest.mark.e2e


def _cgroupfs_docker() -> bool:
    client = docker.from_env()
    try:
        info = client.info()
        return (
            info.get("CgroupDriver") == "cgroupfs"
            and "podman" not in str(client.version().get("Components", "")).lower()
        )
    finally:
        client.close()


def test_a_pods_containers_run_under_the_pods_cgroup(agent: Agent) -> None:
    if not _cgroupfs_docker():
        pytest.skip("the pods' cgroup is made for Docker on the cgroupfs driver only")
    agent.apply(pod("weighed", idle("app")))
    up = wait_running(agent, "weighed", "app")
    containers = engine_containers(agent, up["metadata"]["uid"])
    assert len(containers) == 2  # the sandbox and the app
    for container in containers:
        container.reload()
        pid = container.attrs["State"]["Pid"]
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        cpu = next(line for line in lines if ":cpu" in line or line.startswith("0::"))
        assert cpu.split(":", 2)[2].startswith("/minikubelet/"), lines
    unified = (CGROUP_ROOT / "cgroup.controllers").exists()
    if unified:
        weight = (CGROUP_ROOT / "minikubelet" / "cpu.weight").read_text().strip()
        assert int(weight) == 1 + ((os.cpu_count() or 1) * 1024 - 2) * 9999 // 262142
    else:
        shares = (CGROUP_ROOT / "cpu" / "minikubelet" / "cpu.shares").read_text().strip()
        assert int(shares) == (os.cpu_count() or 1) * 1024
