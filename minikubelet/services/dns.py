"""Cluster DNS records, as the Kubernetes DNS specification (schema 1.1.0) and CoreDNS as kubeadm
deploys it define them; a pure function of the Services and EndpointSlices in the store.

- ClusterIP Service: `<svc>.<ns>.svc.cluster.local. A <clusterIP>`; a named port adds
  `_<port>._<proto>.<svc>.<ns>.svc.cluster.local. SRV 0 100 <port> <svc>.<ns>.svc.cluster.local.`;
  the cluster IP's PTR names the Service.
- Headless Service: one A per ready endpoint (any, with publishNotReadyAddresses) at the
  Service's name, and at `<hostname>.<svc>...` (the endpoint's hostname, else its dashed IP);
  SRV per (endpoint, named port) targeting that name; no ready endpoint: NXDOMAIN.
- ExternalName: a CNAME to `spec.externalName`.
- `dns-version.cluster.local. TXT "1.1.0"`. Answers carry TTL 30 (kubeadm's CoreDNS).
- A name under `cluster.local.` that matches nothing is NXDOMAIN (authoritative); any other
  name is not ours (`lookup` returns None) and is forwarded to the host's resolvers.

dnslib (pinned) does the wire format; this module only decides the records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dnslib import AAAA, CNAME, PTR, QTYPE, RR, SRV, TXT, A, DNSRecord

from minikubelet.api.raw import JSON

__all__ = ["DOMAIN", "TTL", "Zone", "build_zone", "lookup"]

DOMAIN = "cluster.local."
TTL = 30


@dataclass
class Zone:
    """name (lower case, with the final dot) -> its records; `names` also holds empty names
    (a headless Service with no ready endpoint exists but answers NXDOMAIN, per the spec)."""

    records: dict[str, list[RR]] = field(default_factory=dict)

    def add(self, name: str, qtype: int, rdata: Any) -> None:
        self.records.setdefault(name.lower(), []).append(RR(name, qtype, rdata=rdata, ttl=TTL))


def _ready(endpoint: JSON, publish: bool) -> bool:
    ready = (endpoint.get("conditions") or {}).get("ready")
    return publish or ready is None or bool(ready)


def _reverse(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."


def _add_service(zone: Zone, svc: JSON, slices: list[JSON]) -> None:
    meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
    fqdn = f"{meta.get('name', '')}.{meta.get('namespace', '')}.svc.{DOMAIN}"
    if spec.get("type") == "ExternalName":
        zone.add(fqdn, QTYPE.CNAME, CNAME(str(spec.get("externalName", "")).rstrip(".") + "."))
        return
    named = [p for p in spec.get("ports") or [] if p.get("name")]
    ips = [ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None"]
    if ips:
        for ip in ips:
            zone.add(fqdn, QTYPE.AAAA if ":" in ip else QTYPE.A, AAAA(ip) if ":" in ip else A(ip))
            if ":" not in ip:
                zone.add(_reverse(ip), QTYPE.PTR, PTR(fqdn))
        for port in named:
            proto = str(port.get("protocol") or "TCP").lower()
            srv = f"_{port['name']}._{proto}.{fqdn}"
            zone.add(srv, QTYPE.SRV, SRV(0, 100, int(port["port"]), fqdn))
        return
    publish = bool(spec.get("publishNotReadyAddresses"))
    zone.records.setdefault(fqdn.lower(), [])
    for item in slices:
        ports = {p.get("name") or "": p for p in item.get("ports") or []}
        for endpoint in item.get("endpoints") or []:
            addresses = endpoint.get("addresses") or []
            if not addresses or not _ready(endpoint, publish):
                continue
            ip = str(addresses[0])
            host = f"{endpoint.get('hostname') or ip.replace('.', '-')}.{fqdn}"
            zone.add(fqdn, QTYPE.A, A(ip))
            zone.add(host, QTYPE.A, A(ip))
            zone.add(_reverse(ip), QTYPE.PTR, PTR(host))
            for port in named:
                found = ports.get(port["name"])
                if found is None or found.get("port") is None:
                    continue
                proto = str(port.get("protocol") or "TCP").lower()
                srv = f"_{port['name']}._{proto}.{fqdn}"
                zone.add(srv, QTYPE.SRV, SRV(0, 100, int(found["port"]), host))


def build_zone(services: list[JSON], slices: list[JSON]) -> Zone:
    """Every record of the cluster domain for these Services and their slices."""
    by_service: dict[tuple[str, str], list[JSON]] = {}
    for item in slices:
        meta = item.get("metadata") or {}
        owner = (meta.get("labels") or {}).get("kubernetes.io/service-name", "")
        by_service.setdefault((meta.get("namespace", ""), owner), []).append(item)
    zone = Zone()
    zone.add(f"dns-version.{DOMAIN}", QTYPE.TXT, TXT("1.1.0"))
    for svc in services:
        meta = svc.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        _add_service(zone, svc, by_service.get(key, []))
    return zone


def lookup(zone: Zone, query: DNSRecord) -> DNSRecord | None:
    """The authoritative answer to `query`, or None when the name is neither in the cluster
    domain nor a cluster IP's reverse name: the caller forwards it to the host's resolvers."""
    name = str(query.q.qname).lower()
    if not name.endswith("."):
        name += "."
    found = zone.records.get(name)
    in_domain = name == DOMAIN or name.endswith("." + DOMAIN)
    if found is None and not in_domain:
        return None
    reply = query.reply()
    reply.header.ra = 1
    if found is None or (not found and query.q.qtype != QTYPE.ANY):
        reply.header.rcode = 3  # NXDOMAIN
        return reply
    wanted = query.q.qtype
    answers = [rr for rr in found if wanted in (rr.rtype, QTYPE.ANY)]
    if not answers:  # a CNAME answers every type, as CoreDNS does
        answers = [rr for rr in found if rr.rtype == QTYPE.CNAME]
    for rr in answers:
        reply.add_answer(rr)
    return reply
