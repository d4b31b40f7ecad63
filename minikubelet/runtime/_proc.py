"""Killing a process tree from the host, by PID, read from /proc.

An exec probe that times out is killed with what it spawned (DESIGN.md "Decisions": kept on
purpose beyond the kubelet). The agent shares the engine's PID namespace, so the exec's host
PID from `exec inspect` names it; no helper binary is needed in the image.
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["engine_hard_limits", "kill_tree", "process_tree", "stat_fields"]


def stat_fields(stat: bytes) -> list[bytes]:
    """/proc/PID/stat's fields after the command (state, ppid, ...: field 3 onwards). The
    command may hold spaces and parentheses: the fields follow the last ')'."""
    return stat[stat.rindex(b")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, parents first, read from the host's /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat_fields(stat)[1])
        children.setdefault(ppid, []).append(int(entry))
    tree = [pid]
    for current in tree:  # grows while we walk it: breadth first, parents before children
        tree.extend(children.get(current, []))
    return tree


def kill_tree(pid: int) -> None:
    """SIGKILL an exec'd process and what it spawned (we share the engine's PID namespace):
    the tree as found, and the process group `pid` leads (runc, and the node's own exec,
    start each exec in a new session). The group's kill is atomic against a fork under way,
    which a walk of /proc is not; the walk comes first, while the children are still `pid`'s,
    and catches those that left the group. A `pid` that leads no group: ESRCH, ignored."""
    tree = process_tree(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for target in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signal.SIGKILL)


_LIMIT_NAMES = {"Max open files": "nofile", "Max processes": "nproc"}


def engine_hard_limits(command: str = "podman", proc: str = "/proc") -> dict[str, int]:
    """The lowest hard RLIMIT_NOFILE and RLIMIT_NPROC of this host's `command ... service`
    processes (the engine's API service, whose limits bound every container it starts);
    empty when none runs here (a remote engine)."""
    found: dict[str, int] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
            if not argv or os.path.basename(argv[0]).decode() != command:
                continue
            if b"service" not in argv:
                continue
            with open(f"{proc}/{entry}/limits") as fh:
                lines = fh.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            for title, name in _LIMIT_NAMES.items():
                if line.startswith(title):
                    hard = line[len(title) :].split()[1]
                    if hard.isdigit():
                        found[name] = min(found.get(name, int(hard)), int(hard))
    return found
