"""The node's cluster IPs, on a TUN device that lives exactly as long as the agent.

The agent opens a non-persistent TUN device (`mkl<instance>`) and puts every Service's cluster
IP on it as a /32. The addresses are then local to the host: the host and every pod (whose
default route is the bridge, i.e. the host) reach them, and a port nobody listens on answers
with a reset. When the agent's process ends, however it ends (`daemon stop`, SIGKILL, a crash),
the kernel closes the device's file descriptor and removes the device with its addresses and
routes: nothing is left on the host, and a restarted agent makes them again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import subprocess
from typing import Protocol

__all__ = ["AddressSpace", "NoAddresses", "TunAddresses", "device_name"]

log = logging.getLogger("minikubelet.services")
_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000


class AddressSpace(Protocol):
    """Where cluster IPs are made local."""

    def add(self, ip: str) -> None: ...

    def remove(self, ip: str) -> None: ...

    def close(self) -> None: ...


class NoAddresses:
    """For tests and nodes without TUN: addresses are assumed local already (loopback)."""

    def add(self, ip: str) -> None:
        return

    def remove(self, ip: str) -> None:
        return

    def close(self) -> None:
        return


def device_name(instance: str) -> str:
    return f"mkl{instance}"[:15]  # IFNAMSIZ - 1


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "File exists" not in done.stderr:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")


class TunAddresses:
    """The TUN device and its /32 addresses; `close()` (or the process's end) removes all."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.ioctl(
                self._fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI)
            )
            _ip("link", "set", name, "up")
        except OSError:
            os.close(self._fd)
            raise
        self._addresses: set[str] = set()

    def add(self, ip: str) -> None:
        if ip not in self._addresses:
            _ip("addr", "add", f"{ip}/32", "dev", self.name)
            self._addresses.add(ip)

    def remove(self, ip: str) -> None:
        if ip in self._addresses:
            self._addresses.discard(ip)
            try:
                _ip("addr", "del", f"{ip}/32", "dev", self.name)
            except OSError as exc:
                log.warning("removing %s: %s", ip, exc)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # the kernel removes the device, its addresses and routes
            self._fd = -1
