"""A warm sandbox's hostname, set from the host: the engine fixes a container's hostname at its
creation (and hands the sandbox's to every container joining its network), before the pool
knows which pod the sandbox is for. The agent shares the engine's PID namespace (as for
port-forward, `_netns`): a worker thread enters the container's UTS namespace, sets the name,
and returns to its own before anything else runs on it."""

from __future__ import annotations

import ctypes
import os

__all__ = ["read_hostname_file", "set_hostname", "write_hostname_file"]

CLONE_NEWUTS = 0x04000000
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def set_hostname(pid: int, hostname: str) -> None:
    """sethostname(2) in the UTS namespace of process `pid`."""
    own = os.open("/proc/thread-self/ns/uts", os.O_RDONLY)
    try:
        target = os.open(f"/proc/{pid}/ns/uts", os.O_RDONLY)
        try:
            _check(_libc.setns(target, CLONE_NEWUTS))
        finally:
            os.close(target)
        try:
            name = hostname.encode()
            _check(_libc.sethostname(name, len(name)))
        finally:
            _check(_libc.setns(own, CLONE_NEWUTS))  # the thread goes back to the pool
    finally:
        os.close(own)


def write_hostname_file(path: str, hostname: str) -> None:
    """The engine's per-container hostname file (bind-mounted as /etc/hostname into the sandbox
    and every container that joins it), rewritten in place so the mounts see it."""
    with open(path, "r+") as fh:
        fh.seek(0)
        fh.write(hostname + "\n")
        fh.truncate()


def read_hostname_file(path: str) -> str:
    with open(path) as fh:
        return fh.read().strip()
