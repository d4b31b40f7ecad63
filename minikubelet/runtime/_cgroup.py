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
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CGROUP_ROOT", "enable_oom_group", "unified_cgroup_of"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")


def unified_cgroup_of(pid: int, proc: Path = PROC) -> str | None:
    """The cgroup v2 path of `pid` (the `0::` line of /proc/PID/cgroup), or None on v1."""
    try:
        lines = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    if any(not line.startswith("0::") for line in lines if line):
        return None  # hybrid or v1 hierarchies: no unified memory controller to set
    for line in lines:
        if line.startswith("0::"):
            return line[3:]
    return None


def enable_oom_group(pid: int, root: Path = CGROUP_ROOT, proc: Path = PROC) -> bool:
    """Write `memory.oom.group` = 1 for the cgroup of `pid`; True when it was set."""
    if pid <= 0:
        return False
    path = unified_cgroup_of(pid, proc)
    if path is None:
        return False
    target = root / path.lstrip("/") / "memory.oom.group"
    try:
        if not target.exists():
            return False
        target.write_text("1\n")
    except OSError:
        return False
    return True
