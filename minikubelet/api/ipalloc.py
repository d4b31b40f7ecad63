"""ClusterIP and NodePort allocation, as the API server's bitmap allocators hand them out.

Sources: `pkg/registry/core/service/ipallocator/bitmap.go`, `portallocator/allocator.go` and
`allocator/bitmap.go` (`randomScanStrategyWithOffset`), `pkg/kubeapiserver/options`.

- Service IPs come from a range (kubeadm's 10.96.0.0/12 here). Offset 0 is network+1; the network
  and (IPv4) broadcast addresses are never handed out. The first address (10.96.0.1) is the one
  the `kubernetes` Service gets, the tenth (10.96.0.10) cluster DNS's.
- NodePorts come from 30000-32767.
- Both ranges have a static band at their low end (KEP-3070, KEP-3668): a dynamic pick starts at a
  random offset in the upper band and scans forward with wrap-around; only when the upper band is
  full is the lower band scanned the same way. An explicit value may be anywhere in the range.

The allocators are pure: what is taken is an argument (the store's Services are the allocation
state, so an allocation survives a restart of the agent and is released by deleting the Service),
and randomness is an injected `random.Random`.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Collection
from dataclasses import dataclass

__all__ = [
    "AllocationError",
    "DEFAULT_NODE_PORTS",
    "DEFAULT_SERVICE_CIDR",
    "IPRange",
    "PortRange",
    "RangeFull",
]

DEFAULT_SERVICE_CIDR = "10.96.0.0/12"


class AllocationError(Exception):
    """An explicit value the allocator refuses; the text is the allocator's own."""


class RangeFull(AllocationError):
    def __init__(self) -> None:
        super().__init__("range is full")


def _band_offset(size: int, divisor: int, low: int, high: int) -> int:
    """`calculateRangeOffset`: min(max(low, size/divisor), high); no band under `low` items."""
    if size < low:
        return 0
    return min(max(low, size // divisor), high)


def _pick(size: int, offset: int, taken: Collection[int], rng: random.Random) -> int:
    """`randomScanStrategyWithOffset.AllocateBit`: upper band first, then the lower one."""
    for start, end in ((offset, size), (0, offset)):
        width = end - start
        if width <= 0:
            continue
        first = rng.randrange(width)
        for step in range(width):
            candidate = start + (first + step) % width
            if candidate not in taken:
                return candidate
    raise RangeFull()


@dataclass(frozen=True, slots=True)
class IPRange:
    """A Service IP range (`ipallocator.Range`)."""

    cidr: str = DEFAULT_SERVICE_CIDR

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr, strict=False)

    @property
    def size(self) -> int:
        """Addresses that may be handed out: no network address, no IPv4 broadcast; IPv6 ranges
        are capped at 65536 as upstream caps them."""
        net = self.network
        if net.version == 6:
            return min(net.num_addresses - 1, 65536)
        return max(net.num_addresses - 2, 0)

    def address(self, offset: int) -> str:
        """`GetIndexedIP(range, offset + 1)`: offset 0 is network+1."""
        return str(self.network.network_address + offset + 1)

    def offset(self, ip: str) -> int | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        net = self.network
        if address.version != net.version or address not in net:
            return None
        offset = int(address) - int(net.network_address) - 1
        return offset if 0 <= offset < self.size else None

    def allocate(self, used: Collection[str], rng: random.Random) -> str:
        taken = {o for o in (self.offset(ip) for ip in used) if o is not None}
        offset = _band_offset(self.size, 16, 16, 256)
        return self.address(_pick(self.size, offset, taken, rng))

    def check(self, ip: str, used: Collection[str]) -> None:
        """`Allocate(ip)`: raises with the allocator's message when `ip` cannot be had."""
        if self.offset(ip) is None:
            raise AllocationError(
                f"the provided IP ({ip}) is not in the valid range. "
                f"The range of valid IPs is {self.network}"
            )
        if ip in used:
            raise AllocationError("provided IP is already allocated")


@dataclass(frozen=True, slots=True)
class PortRange:
    """The NodePort range (`net.PortRange`), `base` and `size` ports."""

    base: int = 30000
    size: int = 2768

    def __str__(self) -> str:
        return f"{self.base}-{self.base + self.size - 1}"

    def contains(self, port: int) -> bool:
        return self.base <= port < self.base + self.size

    def allocate(self, used: Collection[int], rng: random.Random) -> int:
        taken = {p - self.base for p in used if self.contains(p)}
        offset = _band_offset(self.size, 32, 16, 128)
        return self.base + _pick(self.size, offset, taken, rng)

    def check(self, port: int, used: Collection[int]) -> None:
        if not self.contains(port):
            raise AllocationError(
                f"provided port is not in the valid range. The range of valid ports is {self}"
            )
        if port in used:
            raise AllocationError("provided port is already allocated")


DEFAULT_NODE_PORTS = PortRange()
