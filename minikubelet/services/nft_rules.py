"""The node's service routes as one nftables transaction: kube-proxy's nftables mode
(`pkg/proxy/nftables/proxier.go`) for one node, a pure function of what `proxy_rules.py` wants.

    table ip minikubelet-<instance>      flags owner: it lives as long as the agent's netlink
                                         socket, so it goes with the agent however it ends
      nat-prerouting (hook prerouting, -100) ┐
      nat-output     (hook output, -100)     ┴ jump services
      services       ip daddr . tcp dport vmap { CLUSTER-IP . PORT : goto service-…,
                                                 127.0.0.1 . NODE-PORT : goto service-… }
      service-…      [ClientIP affinity: ip saddr @affinity-… goto endpoint-…, per endpoint]
                     numgen inc mod N vmap { 0 : goto endpoint-…, … }
      endpoint-…     [update @affinity-… { ip saddr }]  meta l4proto tcp dnat to IP:PORT
      nat-postrouting (hook postrouting, 100)
                     ip saddr 127.0.0.0/8 oifname != "lo" masquerade     127.0.0.1:NODE-PORT
                     ct status dnat ip saddr . ip daddr { E . E, … } masquerade
                                                         a pod reaching itself (hairpin)

As in kube-proxy: a chain per service port and per endpoint, named from a hash of what it
serves plus its readable name; connections already made keep their translation (conntrack);
a port without usable endpoints has no entry, so it falls to the cluster IP's own address on the
agent's device, where nothing listens: a reset, as kube-proxy's reject rule answers. Unlike
kube-proxy's `numgen random`, new connections take the endpoints in turn (`numgen inc`), as the
user-space proxy did: spread evenly, also over a handful of connections.

Every sync is one transaction: the table is flushed (rules only: affinity sets keep their
entries) and written again; chains and sets no longer wanted are deleted in the same batch.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from minikubelet.services.proxy_rules import Address, Backend

__all__ = ["Ruleset", "render"]

_BASE = (
    ("nat-prerouting", "type nat hook prerouting priority -100; policy accept;"),
    ("nat-output", "type nat hook output priority -100; policy accept;"),
    ("nat-postrouting", "type nat hook postrouting priority 100; policy accept;"),
)


@dataclass(frozen=True)
class Ruleset:
    """One sync's transaction, and the chains and sets it leaves in the table."""

    script: str
    chains: frozenset[str] = frozenset()
    sets: frozenset[str] = frozenset()


def _hash(text: str) -> str:
    """kube-proxy's `hashAndTruncate`: sha256, base32, 8 characters."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:8]


def _port_name(backend: Backend) -> str:
    """`ns/name/tcp/portname`, kube-proxy's service port name in its chain names."""
    service, _, port = backend.name.partition(":")
    return f"{service}/tcp/{port}"


def _endpoint_name(backend: Backend, endpoint: Address) -> str:
    return f"{_port_name(backend)}__{endpoint[0]}/{endpoint[1]}"


def render(table: str, routes: dict[Address, Backend], before: Ruleset | None = None) -> Ruleset:
    """The transaction that makes `table` route `routes` ((address, port) -> backend), given
    what the previous transaction left (`before`)."""
    lines = [f"add table ip {table} {{ flags owner; }}", f"flush table ip {table}"]
    for chain, spec in _BASE:
        lines.append(f"add chain ip {table} {chain} {{ {spec} }}")
    lines.append(f"add chain ip {table} services")
    lines.append(f"add rule ip {table} nat-prerouting jump services")
    lines.append(f"add rule ip {table} nat-output jump services")
    loopback = 'ip saddr 127.0.0.0/8 oifname != "lo" masquerade'  # 127.0.0.1:NODE-PORT
    lines.append(f"add rule ip {table} nat-postrouting {loopback}")
    chains: set[str] = set()
    sets: set[str] = set()
    vmap: list[str] = []
    hairpins: set[str] = set()
    made: dict[Backend, str] = {}
    for address, backend in sorted(routes.items()):
        if not backend.endpoints:
            continue
        service = made.get(backend)
        if service is None:
            service = f"service-{_hash(_port_name(backend))}-{_port_name(backend)}"
            made[backend] = service
            chains.add(service)
            lines.append(f"add chain ip {table} {service}")
            lines.extend(_service(table, service, backend, chains, sets))
            hairpins.update(f"{ip} . {ip}" for ip, _ in backend.endpoints)
        vmap.append(f"{address[0]} . {address[1]} : goto {service}")
    if vmap:
        lines.append(
            f"add rule ip {table} services ip daddr . tcp dport vmap {{ {', '.join(vmap)} }}"
        )
    if hairpins:
        pairs = ", ".join(sorted(hairpins))
        lines.append(
            f"add rule ip {table} nat-postrouting ct status dnat "
            f"ip saddr . ip daddr {{ {pairs} }} masquerade"
        )
    if before is not None:
        lines.extend(f"delete chain ip {table} {c}" for c in sorted(before.chains - chains))
        lines.extend(f"delete set ip {table} {s}" for s in sorted(before.sets - sets))
    return Ruleset("\n".join(lines) + "\n", frozenset(chains), frozenset(sets))


def _service(
    table: str, service: str, backend: Backend, chains: set[str], sets: set[str]
) -> list[str]:
    """The service port's chain and its endpoints' chains (and affinity sets)."""
    lines: list[str] = []
    targets: list[str] = []
    for endpoint in backend.endpoints:
        label = _endpoint_name(backend, endpoint)
        chain = f"endpoint-{_hash(label)}-{label}"
        chains.add(chain)
        targets.append(chain)
        lines.append(f"add chain ip {table} {chain}")
        if backend.affinity_seconds is not None:
            # the timeout is in the set's name: a changed timeout is a new set
            affinity = f"affinity-{_hash(f'{label}@{backend.affinity_seconds}')}"
            sets.add(affinity)
            lines.append(
                f"add set ip {table} {affinity} {{ type ipv4_addr; flags dynamic,timeout; "
                f"timeout {backend.affinity_seconds}s; }}"
            )
            lines.append(f"add rule ip {table} {service} ip saddr @{affinity} goto {chain}")
            lines.append(f"add rule ip {table} {chain} update @{affinity} {{ ip saddr }}")
        ip, port = endpoint
        lines.append(f"add rule ip {table} {chain} meta l4proto tcp dnat to {ip}:{port}")
    spread = ", ".join(f"{i} : goto {chain}" for i, chain in enumerate(targets))
    lines.append(f"add rule ip {table} {service} numgen inc mod {len(targets)} vmap {{ {spread} }}")
    return lines
