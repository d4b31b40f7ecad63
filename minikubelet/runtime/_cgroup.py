"""`memory.oom.group` on cgroup v2, as the 1.32 kubelet sets it for every container.

The kubelet (`kuberuntime_container_linux.go`, unless `--single-process-oom-kill`) asks the
runtime for `memory.oom.group=1` on a cgroup v2 host, so the kernel's OOM killer ends the whole
container when any process in it goes over the limit: a child killed for memory ends the
container as `OOMKilled`. Docker's API has no such option, so the agent writes the file itself
right after the start, into the cgroup the container's init process is in (read from the host's
/proc; the agent shares the engine's PID namespace). Best effort: an engine that does not let
us (rootless, another PID namespace) keeps the kernel's default.

cgroup v1 has no OOM groups: the kernel kills one process, the container's PID 1 may survive and
the container then is not OOMKilled, exactly as on a 1.32 node on cgroup v1.

`memory_cgroup_of` (where a process's memory cgroup is, and on which version) serves this and
the OOM watch of `_oom` alike.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CGROUP_ROOT", "PROC", "enable_oom_group", "memory_cgroup_of"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")


def memory_cgroup_of(pid: int, root: Path = CGROUP_ROOT, proc: Path = PROC) -> tuple[Path, int]:
    """The memory cgroup directory of `pid` and its cgroup version: 1 where a v1 hierarchy
    holds the memory controller (v1, or a hybrid host), else 2 (the `0::` line). OSError when
    /proc has no such process or names no memory cgroup."""
    lines = (proc / str(pid) / "cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return root / "memory" / path.lstrip("/"), 1
    for line in lines:
        if line.startswith("0::"):
            return root / line[3:].lstrip("/"), 2
    raise OSError(f"no memory cgroup for pid {pid}")


def enable_oom_group(pid: int, root: Path = CGROUP_ROOT, proc: Path = PROC) -> bool:
    """Write `memory.oom.group` = 1 for the cgroup of `pid`; True when it was set."""
    if pid <= 0:
        return False
    try:
        directory, version = memory_cgroup_of(pid, root, proc)
        if version != 2:
            return False  # v1 or hybrid: no memory.oom.group to set
        target = directory / "memory.oom.group"
        if not target.exists():
            return False
        target.write_text("1\n")
    except (OSError, ValueError):
        return False
    return True
