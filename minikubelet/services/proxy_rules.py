"""What the node's service proxy listens on and where each listener sends new connections:
a pure function of the Services and EndpointSlices in the store (kube-proxy's
`CategorizeEndpoints` and its service map, `pkg/proxy/topology.go`, `servicechangetracker.go`).

- Every Service with a cluster IP (not headless, not ExternalName) owns that address on the node,
  so a connection to a port without a usable endpoint is refused at once (a TCP reset, as
  kube-proxy's REJECT rule answers), never routed away.
- A (clusterIP, port) listener exists only while the port has usable endpoints: those whose
  `ready` is true (or unset); when none is ready, those `serving` and `terminating`.
- NodePort Services also get a listener on each node-port address (127.0.0.1 by default).
- Only TCP ports are proxied; UDP and SCTP ports are left out (cluster DNS serves UDP itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from minikubelet.api.raw import JSON

__all__ = ["PROXY_MODES", "Backend", "cluster_ips", "desired_listeners", "usable_endpoints"]

Address = tuple[str, int]
PROXY_MODES = ("nftables", "userspace")  # the agent's --proxy-mode; the first is the default


@dataclass(frozen=True, slots=True)
class Backend:
    """One listener's destination set: `ns/name[:port]` (kube-proxy's service port name), the
    usable endpoints in a stable order, and the ClientIP affinity timeout (None: none)."""

    name: str
    endpoints: tuple[Address, ...]
    affinity_seconds: int | None = None


def cluster_ips(services: list[JSON]) -> set[str]:
    """The addresses the node must own: each proxied Service's cluster IPs."""
    found: set[str] = set()
    for svc in services:
        spec = svc.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue
        found.update(ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None")
    return found


def _ready(endpoint: JSON) -> bool:
    value = (endpoint.get("conditions") or {}).get("ready")
    return value is None or bool(value)


def _serving_terminating(endpoint: JSON) -> bool:
    conditions = endpoint.get("conditions") or {}
    return bool(conditions.get("serving")) and bool(conditions.get("terminating"))


def usable_endpoints(slices: list[JSON], port_name: str) -> tuple[Address, ...]:
    """The endpoints of one Service port: ready ones, else serving-and-terminating ones."""
    ready: list[Address] = []
    fallback: list[Address] = []
    for item in slices:
        number = next(
            (p.get("port") for p in item.get("ports") or [] if (p.get("name") or "") == port_name),
            None,
        )
        if number is None:
            continue
        for endpoint in item.get("endpoints") or []:
            addresses = endpoint.get("addresses") or []
            if not addresses:
                continue
            address = (str(addresses[0]), int(number))
            if _ready(endpoint):
                ready.append(address)
            elif _serving_terminating(endpoint):
                fallback.append(address)
    return tuple(sorted(set(ready or fallback)))


def desired_listeners(
    services: list[JSON], slices: list[JSON], node_port_hosts: tuple[str, ...] = ("127.0.0.1",)
) -> dict[Address, Backend]:
    """(host, port) -> Backend, for every TCP Service port that has usable endpoints."""
    by_service: dict[tuple[str, str], list[JSON]] = {}
    for item in slices:
        meta = item.get("metadata") or {}
        owner = (meta.get("labels") or {}).get("kubernetes.io/service-name", "")
        by_service.setdefault((meta.get("namespace", ""), owner), []).append(item)
    wanted: dict[Address, Backend] = {}
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        ips = [ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None"]
        if spec.get("type") == "ExternalName" or not ips:
            continue
        key = (meta.get("namespace", ""), meta.get("name", ""))
        affinity = None
        if spec.get("sessionAffinity") == "ClientIP":
            config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
            affinity = int(config.get("timeoutSeconds") or 10800)
        for port in spec.get("ports") or []:
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            name = port.get("name") or ""
            endpoints = usable_endpoints(by_service.get(key, []), name)
            if not endpoints:
                continue
            label = f"{key[0]}/{key[1]}" + (f":{name}" if name else "")
            backend = Backend(label, endpoints, affinity)
            for ip in ips:
                wanted[(ip, int(port["port"]))] = backend
            if port.get("nodePort") and spec.get("type") in ("NodePort", "LoadBalancer"):
                for host in node_port_hosts:
                    wanted[(host, int(port["nodePort"]))] = backend
    return wanted
