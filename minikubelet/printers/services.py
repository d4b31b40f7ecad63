"""`get` rows for Services, Endpoints and EndpointSlices (`printService`, `printEndpoints`,
`printEndpointSlice` in `pkg/printers/internalversion/printers.go`, 1.32).

The API server builds Tables with `Wide: true`, so the rows carry every column (kubectl hides the
priority-1 ones) and LoadBalancer ingress lists are never cut.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minikubelet.api.codec import parse_time
from minikubelet.api.gofmt import join_host_port
from minikubelet.api.raw import JSON
from minikubelet.printers.duration import age
from minikubelet.printers.tables import TablePrinter

__all__ = [
    "ENDPOINTS_TABLE",
    "ENDPOINT_SLICE_TABLE",
    "SERVICE_TABLE",
    "ENDPOINTS_COLUMNS",
    "ENDPOINT_SLICE_COLUMNS",
    "SERVICE_COLUMNS",
    "endpoint_slice_row",
    "endpoints_row",
    "format_endpoints",
    "format_labels",
    "port_string",
    "service_row",
]

Column = tuple[str, str, str, int]

SERVICE_COLUMNS: list[Column] = [
    ("Name", "string", "name", 0),
    ("Type", "string", "", 0),
    ("Cluster-IP", "string", "", 0),
    ("External-IP", "string", "", 0),
    ("Port(s)", "string", "", 0),
    ("Age", "string", "", 0),
    ("Selector", "string", "", 1),
]
ENDPOINTS_COLUMNS: list[Column] = [
    ("Name", "string", "name", 0),
    ("Endpoints", "string", "", 0),
    ("Age", "string", "", 0),
]
ENDPOINT_SLICE_COLUMNS: list[Column] = [
    ("Name", "string", "name", 0),
    ("AddressType", "string", "", 0),
    ("Ports", "string", "", 0),
    ("Endpoints", "string", "", 0),
    ("Age", "string", "", 0),
]
_MAX = 3


def _created(obj: JSON, now: datetime) -> str:
    text = (obj.get("metadata") or {}).get("creationTimestamp")
    return age(parse_time(text) if text else None, now)


def format_labels(labels: dict[str, str] | None) -> str:
    """`labels.FormatLabels`: sorted `k=v` joined by `,`, or `<none>`."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def port_string(ports: list[JSON] | None) -> str:
    """`makePortString`: `80/TCP`, or `80:31234/TCP` with a nodePort, joined by `,`."""
    pieces = []
    for port in ports or []:
        head = f"{port.get('port', 0)}"
        if port.get("nodePort"):
            head += f":{port['nodePort']}"
        pieces.append(f"{head}/{port.get('protocol', '')}")
    return ",".join(pieces)


def _external_ip(svc: JSON) -> str:
    """`getServiceExternalIP` with wide=true."""
    spec = svc.get("spec") or {}
    kind = spec.get("type")
    external = list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        found = sorted({i.get("ip") or i.get("hostname") or "" for i in ingress} - {""})
        results = found + external
        return ",".join(results) if results else "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def service_row(svc: JSON, now: datetime) -> list[Any]:
    spec = svc.get("spec") or {}
    ips = spec.get("clusterIPs") or []
    return [
        (svc.get("metadata") or {}).get("name", ""),
        spec.get("type", ""),
        ips[0] if ips else "<none>",
        _external_ip(svc),
        port_string(spec.get("ports")) or "<none>",
        _created(svc, now),
        format_labels(spec.get("selector")),
    ]


def format_endpoints(endpoints: JSON, ports: set[str] | None = None) -> str:
    """`formatEndpoints`: ready addresses per port, three at most, `+ N more...`; not-ready
    addresses never show, so a Service whose pods are all unready prints an empty cell."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    found: list[str] = []
    more, count = False, 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        if not subset.get("ports"):
            count += len(addresses)
            for address in addresses:
                if len(found) == _MAX:
                    more = True
                    break
                found.append(address.get("ip", ""))
            continue
        for port in subset["ports"]:
            if ports is not None and port.get("name", "") not in ports:
                continue
            count += len(addresses)
            for address in addresses:
                if len(found) == _MAX:
                    more = True
                    break
                found.append(join_host_port(address.get("ip", ""), port.get("port", 0)))
    text = ",".join(found)
    return f"{text} + {count - _MAX} more..." if more else text


def endpoints_row(endpoints: JSON, now: datetime) -> list[Any]:
    return [
        (endpoints.get("metadata") or {}).get("name", ""),
        format_endpoints(endpoints),
        _created(endpoints, now),
    ]


def _more(found: list[str], more: bool, count: int) -> str:
    """`listWithMoreString`."""
    text = ",".join(found)
    if more:
        return f"{text} + {count - _MAX} more..."
    return text or "<unset>"


def _slice_ports(ports: list[JSON] | None) -> str:
    found: list[str] = []
    more, count = False, 0
    for port in ports or []:
        if len(found) < _MAX:
            if port.get("port") is not None:
                found.append(str(port["port"]))
            elif port.get("name") is not None:
                found.append(str(port["name"]))
            else:
                found.append("*")
        elif len(found) == _MAX:
            more = True
        count += 1
    return _more(found, more, count)


def _slice_endpoints(endpoints: list[JSON] | None) -> str:
    found: list[str] = []
    more, count = False, 0
    for endpoint in endpoints or []:
        for address in endpoint.get("addresses") or []:
            if len(found) < _MAX:
                found.append(str(address))
            elif len(found) == _MAX:
                more = True
            count += 1
    return _more(found, more, count)


def endpoint_slice_row(item: JSON, now: datetime) -> list[Any]:
    return [
        (item.get("metadata") or {}).get("name", ""),
        item.get("addressType", ""),
        _slice_ports(item.get("ports")),
        _slice_endpoints(item.get("endpoints")),
        _created(item, now),
    ]


SERVICE_TABLE = TablePrinter(SERVICE_COLUMNS, service_row)
ENDPOINTS_TABLE = TablePrinter(ENDPOINTS_COLUMNS, endpoints_row)
ENDPOINT_SLICE_TABLE = TablePrinter(ENDPOINT_SLICE_COLUMNS, endpoint_slice_row)
