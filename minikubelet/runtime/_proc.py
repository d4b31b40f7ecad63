"""Killing a process tree from the host, by PID, read from /proc.

An exec probe that times out is killed with what it spawned (DESIGN.md "Decisions": kept on
purpose beyond the kubelet). The agent shares the engine's PID namespace, so the exec's host
PID from `exec inspect` names it; no helper binary is needed in the image.
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["kill_tree", "process_tree"]


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
        # The command may hold spaces and parentheses: the ppid follows the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree = [pid]
    for current in tree:  # grows while we walk it: breadth first, parents before children
        tree.extend(children.get(current, []))
    return tree


def kill_tree(pid: int) -> None:
    """SIGKILL an exec'd process and what it spawned (we share the engine's PID namespace)."""
    for target in process_tree(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signal.SIGKILL)
