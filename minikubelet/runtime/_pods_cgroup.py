"""The node's pods under a cgroup of their own, weighted as the kubelet weights `kubepods`.

The kubelet puts every pod under `kubepods` (`/kubepods` with the cgroupfs driver), whose CPU
weight is the node's allocatable CPU: `MilliCPUToShares`, 1024 shares per core
(`node_container_manager_linux.go`, `getCgroupConfig`), beside the system's own slices. An
engine left to itself puts every container under its default parent (Docker's `docker/`, 1024
shares), and with the cgroupfs driver dockerd, containerd, the shims and each `runc exec` are
tasks of the root cgroup, each weighing as much as all the containers together. At 110 pods the
pods' own processes got a third of the CPU while the engine ran their exec probes, and became
Ready at 4.6-5.9x the time `docker run -d` took to start them (bench/README.md, the full node);
with `docker/` weighted higher, 1.8x.

So the runtime creates `/minikubelet` (one per host, as `/kubepods`: nodes on one engine share
it) with the kubelet's weight for `kubepods` (cpu.shares on cgroup v1, the equivalent
cpu.weight on v2) and gives it to the engine as every sandbox's and container's
`CgroupParent`, for an engine on the cgroupfs driver; the systemd driver (whose parents are
slices) and Podman keep the engine's default. Best effort: where we cannot write the host's
cgroups (rootless), nothing changes. `minikubelet reset` removes it once no container is left
in it (the kernel refuses while one is).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

__all__ = ["CgroupParent", "PodsCgroup", "shares_to_weight"]

SHARES_PER_CORE = 1024  # MilliCPUToShares: 1000m -> 1024


def shares_to_weight(shares: int) -> int:
    """cgroup v1 cpu.shares as v2's cpu.weight (runc's `ConvertCPUSharesToCgroupV2Value`)."""
    return 1 + ((shares - 2) * 9999) // 262142


class PodsCgroup:
    """`/minikubelet` under each hierarchy mounted at `root`."""

    def __init__(self, root: Path, cores: int | None = None, name: str = "minikubelet") -> None:
        self.name = name
        self.root = root
        self.shares = (cores or os.cpu_count() or 1) * SHARES_PER_CORE

    @property
    def parent(self) -> str:
        """The engine's `CgroupParent`."""
        return f"/{self.name}"

    def prepare(self) -> bool:
        """Make the parent with its CPU weight; False where this host does not let us."""
        unified = (self.root / "cgroup.controllers").exists()
        directory = self.root / self.name if unified else self.root / "cpu" / self.name
        setting, value = (
            ("cpu.weight", shares_to_weight(self.shares))
            if unified
            else ("cpu.shares", self.shares)
        )
        try:
            directory.mkdir(exist_ok=True)
            knob = directory / setting
            if knob.exists():  # v2: only once the root delegates the cpu controller
                knob.write_text(f"{value}\n")
        except OSError:
            return False
        return True

    def remove(self) -> None:
        """Remove the parent wherever it is (the engine made it under every v1 controller);
        one that still holds a container stays (the kernel refuses)."""
        candidates = [self.root / self.name]
        with contextlib.suppress(OSError):
            candidates += [d / self.name for d in self.root.iterdir() if d.is_dir()]
        for directory in candidates:
            with contextlib.suppress(OSError):
                directory.rmdir()


class CgroupParent:
    """Mixed into DockerRuntime, which provides the attributes declared here."""

    _call: Callable[..., Awaitable[Any]]
    _podman: bool
    _pods_cgroup: PodsCgroup
    _cgroup_parent: str | None | bool  # False: not prepared since made or removed
    _cgroupfs: bool | None  # the engine's cgroup driver is cgroupfs; None: not asked yet

    async def _parent(self) -> dict[str, Any]:
        """`cgroup_parent` for a sandbox or container: the pods' own cgroup where the engine
        (Docker on the cgroupfs driver) and the host let us make it."""
        if self._cgroup_parent is False:
            if self._cgroupfs is None:
                info = await self._call(lambda c: c.info())
                self._cgroupfs = not self._podman and info.get("CgroupDriver") == "cgroupfs"
            made = self._cgroupfs and await anyio.to_thread.run_sync(self._pods_cgroup.prepare)
            self._cgroup_parent = self._pods_cgroup.parent if made else None
        parent = self._cgroup_parent
        return {"cgroup_parent": parent} if isinstance(parent, str) else {}

    async def _forget_parent(self) -> None:
        """With the node's last container gone, the pods' cgroup goes too unless another
        node's containers are in it; made again on use."""
        await anyio.to_thread.run_sync(self._pods_cgroup.remove)
        self._cgroup_parent = False
