"""tcpSocket probes (`pkg/probe/tcp/tcp.go`) and the dialer the other handlers share.

`dial` is the kubelet's `ProbeDialer`: one TCP connect within the timeout, errors worded as
Go's `net.Dial` (without its `SO_LINGER {1, 1}`, see below)
(`dial tcp 10.0.0.5:3000: connect: connection refused`, `dial tcp 10.0.0.5:3000: i/o timeout`).
"""

from __future__ import annotations

import errno
import ipaddress
import socket

import anyio
from anyio.abc import SocketStream

from minikubelet.api.gofmt import go_errno_text, join_host_port
from minikubelet.prober.outcome import ProbeOutcome

__all__ = ["DialError", "dial", "tcp_probe"]

# Not the kubelet's SO_LINGER {1, 1}: a lingering close() blocks its thread until the peer
# acknowledges, and here that thread is the agent's event loop, where one slow peer would delay
# every other probe (tests/prober/test_isolation.py). Connections close normally instead.


class DialError(Exception):
    """A failed dial; `str()` is Go's text. `timeout` tells the dial deadline passed."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _resolve(host: str, port: int) -> str:
    if _is_ip(host):
        return host
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DialError(f"dial tcp: lookup {host}: no such host") from exc
    if not infos:
        raise DialError(f"dial tcp: lookup {host}: no such host")
    return str(infos[0][4][0])


async def dial(host: str, port: int, timeout: float) -> SocketStream:
    """Connect within `timeout` seconds (resolution included); raise DialError."""
    with anyio.move_on_after(timeout) as scope:
        ip = await _resolve(host, port)
        address = join_host_port(ip, port)
        try:
            stream = await anyio.connect_tcp(ip, port)
        except OSError as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
            if cause.errno == errno.ETIMEDOUT:
                raise DialError(f"dial tcp {address}: i/o timeout", timeout=True) from exc
            raise DialError(f"dial tcp {address}: connect: {go_errno_text(cause)}") from exc
        return stream
    assert scope.cancelled_caught
    where = join_host_port(host, port)
    raise DialError(f"dial tcp {where}: i/o timeout", timeout=True)


async def tcp_probe(host: str, port: int, timeout: float) -> ProbeOutcome:
    """`DoTCPProbe`: connect, close at once sending nothing; every dial error is a failure."""
    try:
        stream = await dial(host, port, timeout)
    except DialError as exc:
        return ProbeOutcome.failure(str(exc)).with_detail(error=str(exc))
    await anyio.aclose_forcefully(stream)
    return ProbeOutcome.success().with_detail(connected=True)
