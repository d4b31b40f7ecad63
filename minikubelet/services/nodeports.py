"""Where NodePorts listen: kube-proxy's `--nodeport-addresses`, with a loopback default.

    NodePortAddresses.parse("")                     127.0.0.1 only (the default)
    NodePortAddresses.parse("primary")              the node's InternalIP (its pod bridge address)
    NodePortAddresses.parse("127.0.0.0/8,192.168.1.0/24")
                                                    the host's IPv4 addresses inside those CIDRs

A node on a laptop or a shared machine should not open ports to the network unless asked, so
unlike kube-proxy (whose default is every node address) the default is 127.0.0.1; given CIDRs or
`primary`, the choice is kube-proxy's: only the addresses they name (loopback too only when a
CIDR holds it). The host's addresses are read with `ip -j -4 addr` (iproute2, as `tun.py` uses)
and read again every `REFRESH` seconds, so an address that comes or goes later is followed. The
agents' own cluster-IP devices (`mkl*`) are never node addresses.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from minikubelet.api.raw import JSON
from minikubelet.errors import MinikubeletError

__all__ = ["LOOPBACK", "REFRESH", "NodePortAddresses", "host_addresses", "node_internal_ips"]

LOOPBACK = ("127.0.0.1",)
REFRESH = 10.0  # seconds between readings of the host's addresses
PRIMARY = "primary"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NodePortAddresses:
    """The option as given: CIDRs, or `primary`, or nothing (loopback only)."""

    cidrs: tuple[_Network, ...] = ()
    primary: bool = False

    @classmethod
    def parse(cls, text: str | None) -> NodePortAddresses:
        """kube-proxy's validation (validateNodePortAddresses), in its words."""
        words = [w.strip() for w in (text or "").split(",") if w.strip()]
        if PRIMARY in words:
            if words != [PRIMARY]:
                raise MinikubeletError(
                    f"invalid --nodeport-addresses \"{text}\": can't use both 'primary' and CIDRs"
                )
            return cls(primary=True)
        cidrs = []
        for word in words:
            try:
                cidrs.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                raise MinikubeletError(
                    f'invalid --nodeport-addresses "{word}": must be a valid CIDR'
                ) from None
        return cls(tuple(cidrs))

    @property
    def loopback_only(self) -> bool:
        return not self.cidrs and not self.primary

    def select(self, interfaces: Iterable[tuple[str, str]], node: JSON | None) -> tuple[str, ...]:
        """The addresses NodePorts listen on, given the host's (device, IPv4 address) pairs
        and the Node object (for `primary`)."""
        if self.primary:
            return node_internal_ips(node)
        if not self.cidrs:
            return LOOPBACK
        found = {
            address
            for device, address in interfaces
            if not device.startswith("mkl")
            and any(ipaddress.ip_address(address) in cidr for cidr in self.cidrs)
        }
        return tuple(sorted(found, key=ipaddress.ip_address))


def node_internal_ips(node: JSON | None) -> tuple[str, ...]:
    """The node's InternalIP addresses (IPv4), as kube-proxy's `primary` reads them."""
    addresses = ((node or {}).get("status") or {}).get("addresses") or []
    return tuple(
        str(a["address"])
        for a in addresses
        if a.get("type") == "InternalIP" and a.get("address") and "." in str(a["address"])
    )


def host_addresses() -> list[tuple[str, str]]:
    """The host's (device, IPv4 address) pairs; none when `ip` cannot say (blocking: call it
    from a worker thread)."""
    try:
        done = subprocess.run(
            ["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True, timeout=10
        )
        devices = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    return [
        (str(device.get("ifname", "")), str(info["local"]))
        for device in devices
        for info in device.get("addr_info") or []
        if info.get("family") == "inet" and info.get("local")
    ]
