"""Where NodePorts listen: kube-proxy's `--nodeport-addresses`, with a loopback default.

    NodePortAddresses.parse("")                     127.0.0.1 only (the default)
    NodePortAddresses.parse("primary")              the node's InternalIP (its pod bridge address)
    NodePortAddresses.parse("127.0.0.0/8,192.168.1.0/24")
                                                    the host's IPv4 addresses inside those CIDRs

A node on a laptop or a shared machine should not open ports to the network unless asked, so
unlike kube-proxy (whose default is every node address) the default is 127.0.0.1; given CIDRs or
`primary`, the choice is kube-proxy's: only the addresses they name (loopback too only when a
CIDR holds it). The host's addresses are read from the kernel (an rtnetlink dump, what
`ip -4 addr` asks; a system call, not a process) and read again every `REFRESH` seconds, so an
address that comes or goes later is followed. The
agents' own cluster-IP devices (`mkl*`) are never node addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from minikubelet.api.raw import JSON
from minikubelet.errors import MinikubeletError

__all__ = [
    "LOOPBACK",
    "REFRESH",
    "NodePortAddresses",
    "host_addresses",
    "node_internal_ips",
    "parse_address_dump",
]

LOOPBACK = ("127.0.0.1",)
REFRESH = 10.0  # seconds between readings of the host's addresses
PRIMARY = "primary"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# rtnetlink (linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h)
_NETLINK_ROUTE = 0
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_RTM_NEWADDR, _RTM_GETADDR = 20, 22
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_IFA_ADDRESS, _IFA_LOCAL, _IFA_LABEL = 1, 2, 3


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
    """The host's (device, IPv4 address) pairs, as `ip -4 addr` lists them, from one rtnetlink
    dump (no subprocess); none when the kernel cannot say (blocking: call it from a worker
    thread)."""
    try:
        names = dict(socket.if_nameindex())
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_ROUTE) as sock:
            sock.settimeout(10)
            header = struct.pack("=IHHII", 24, _RTM_GETADDR, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0)
            sock.sendall(header + struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0))
            found: list[tuple[str, str]] = []
            while True:
                done, more = parse_address_dump(sock.recv(1 << 16), names)
                found += more
                if done is not None:
                    return found if done else []
    except (OSError, struct.error, ValueError):
        return []


def parse_address_dump(
    data: bytes, names: dict[int, str]
) -> tuple[bool | None, list[tuple[str, str]]]:
    """One datagram of an RTM_GETADDR dump: whether it ended it (True: done, False: the
    kernel's error, None: more to come) and its IPv4 (device, address) pairs. A device is
    named by its index, else by the address's label (`eth0:1` is eth0's)."""
    found: list[tuple[str, str]] = []
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < 16:
            return False, found
        body = data[offset + 16 : offset + length]
        offset += (length + 3) & ~3
        if kind == _NLMSG_DONE:
            return True, found
        if kind == _NLMSG_ERROR:
            return False, found
        if kind != _RTM_NEWADDR or len(body) < 8:
            continue
        family, _, _, _, index = struct.unpack_from("=BBBBI", body)
        attributes = _attributes(body[8:])
        local = attributes.get(_IFA_LOCAL) or attributes.get(_IFA_ADDRESS)
        if family != socket.AF_INET or local is None or len(local) != 4:
            continue
        label = attributes.get(_IFA_LABEL, b"").split(b"\0")[0].decode(errors="replace")
        found.append((names.get(index) or label.split(":")[0], socket.inet_ntoa(local)))
    return None, found


def _attributes(data: bytes) -> dict[int, bytes]:
    """rtnetlink attributes (length, type, value; each 4-byte aligned) by type."""
    found = {}
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        found[kind] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found
