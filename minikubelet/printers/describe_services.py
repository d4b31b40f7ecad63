"""`kubectl describe service|endpoints|endpointslice`, as kubectl 1.32 prints them
(`staging/src/k8s.io/kubectl/pkg/describe/describe.go`: `describeService`,
`formatEndpointSlices`, `describeEndpoints`, `describeEndpointSliceV1`).

Like `describe pod`, a pure function of the object, the objects it names and its events. The
Service's `Endpoints:` lines come from its EndpointSlices (kubectl reads them since 1.31), with
the upstream quirk kept: after three addresses, any further endpoint (ready or not) sets
"more", and only ready ones are counted.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from minikubelet.api.gofmt import join_host_port
from minikubelet.api.raw import JSON
from minikubelet.printers.describe_fields import annotation_lines, label_lines
from minikubelet.printers.describe_sections import events_block, layout
from minikubelet.printers.services import format_labels

__all__ = [
    "DESCRIBE_SERVICE",
    "ServiceDescriber",
    "describe_endpoint_slice",
    "describe_endpoints",
    "describe_service",
    "slice_endpoints",
]

_MAX = 3


def _head(obj: JSON) -> list[str]:
    meta = obj.get("metadata") or {}
    return [
        f"Name:\t{meta.get('name', '')}",
        f"Namespace:\t{meta.get('namespace', '')}",
        *label_lines("Labels", meta.get("labels")),
        *annotation_lines(meta.get("annotations")),
    ]


def _ready(endpoint: JSON) -> bool:
    ready = (endpoint.get("conditions") or {}).get("ready")
    return ready is None or bool(ready)


def slice_endpoints(slices: list[JSON], port_name: str | None) -> str:
    """`formatEndpointSlices(slices, sets.New(name))`; `port_name=None` means every port."""
    if not slices:
        return "<none>"
    found: list[str] = []
    more, count = False, 0
    for item in slices:
        endpoints = item.get("endpoints") or []
        ports = item.get("ports") or []
        if not ports:
            for endpoint in endpoints:
                if len(found) == _MAX:
                    more = True
                if not _ready(endpoint):
                    continue
                if not more:
                    found.append(str((endpoint.get("addresses") or [""])[0]))
                count += 1
            continue
        for port in ports:
            if port_name is not None and (port.get("name") or "") != port_name:
                continue
            for endpoint in endpoints:
                if len(found) == _MAX:
                    more = True
                if not _ready(endpoint):
                    continue
                if not more:
                    address = str((endpoint.get("addresses") or [""])[0])
                    found.append(join_host_port(address, port.get("port", 0)))
                count += 1
    text = ",".join(found)
    return f"{text} + {count - _MAX} more..." if more else text


def _ingress(ingress: list[JSON]) -> str:
    """`buildIngressString`."""
    parts = []
    for item in ingress:
        if item.get("ip"):
            parts.append(f"{item['ip']} ({item['ipMode']})" if item.get("ipMode") else item["ip"])
        else:
            parts.append(str(item.get("hostname", "")))
    return ", ".join(parts)


def describe_service(
    svc: JSON, slices: list[JSON], events: list[JSON] | None, now: datetime
) -> str:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    lines = _head(svc)
    lines.append(f"Selector:\t{format_labels(spec.get('selector'))}")
    lines.append(f"Type:\t{spec.get('type', '')}")
    if spec.get("ipFamilyPolicy") is not None:
        lines.append(f"IP Family Policy:\t{spec['ipFamilyPolicy']}")
    lines.append(f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}")
    lines.append(f"IP:\t{spec.get('clusterIP') or ''}")
    lines.append(f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}")
    if spec.get("externalIPs"):
        lines.append(f"External IPs:\t{','.join(spec['externalIPs'])}")
    if spec.get("loadBalancerIP"):
        lines.append(f"Desired LoadBalancer IP:\t{spec['loadBalancerIP']}")
    if spec.get("externalName"):
        lines.append(f"External Name:\t{spec['externalName']}")
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        lines.append(f"LoadBalancer Ingress:\t{_ingress(ingress)}")
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "")
        lines.append(f"Port:\t{name}\t{port.get('port', 0)}/{protocol}")
        lines.append(f"TargetPort:\t{port.get('targetPort', 0)}/{protocol}")
        if port.get("nodePort"):
            lines.append(f"NodePort:\t{name}\t{port['nodePort']}/{protocol}")
        lines.append(f"Endpoints:\t{slice_endpoints(slices, port.get('name') or '')}")
    lines.append(f"Session Affinity:\t{spec.get('sessionAffinity', '')}")
    if spec.get("externalTrafficPolicy"):
        lines.append(f"External Traffic Policy:\t{spec['externalTrafficPolicy']}")
    if spec.get("internalTrafficPolicy") is not None:
        lines.append(f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}")
    if spec.get("healthCheckNodePort"):
        lines.append(f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}")
    if spec.get("loadBalancerSourceRanges"):
        lines.append(f"LoadBalancer Source Ranges:\t{','.join(spec['loadBalancerSourceRanges'])}")
    inline, table = events_block(events, now)
    return layout(lines + inline) + layout(table)


def describe_endpoints(
    endpoints: JSON, events: list[JSON] | None, now: datetime, *, tz: tzinfo | None = None
) -> str:
    lines = [*_head(endpoints), "Subsets:"]
    for subset in endpoints.get("subsets") or []:
        ready = ",".join(a.get("ip", "") for a in subset.get("addresses") or [])
        not_ready = ",".join(a.get("ip", "") for a in subset.get("notReadyAddresses") or [])
        lines.append(f"  Addresses:\t{ready or '<none>'}")
        lines.append(f"  NotReadyAddresses:\t{not_ready or '<none>'}")
        if subset.get("ports"):
            lines += ["  Ports:", "    Name\tPort\tProtocol", "    ----\t----\t--------"]
            for port in subset["ports"]:
                name = port.get("name") or "<unset>"
                lines.append(f"    {name}\t{port.get('port', 0)}\t{port.get('protocol', '')}")
        lines.append("")
    inline, table = events_block(events, now)
    return layout(lines + inline) + layout(table)


def describe_endpoint_slice(
    item: JSON, events: list[JSON] | None, now: datetime, *, tz: tzinfo | None = None
) -> str:
    lines = _head(item)
    lines.append(f"AddressType:\t{item.get('addressType', '')}")
    ports = item.get("ports") or []
    if not ports:
        lines.append("Ports: <unset>")
    else:
        lines += ["Ports:", "  Name\tPort\tProtocol", "  ----\t----\t--------"]
        for port in ports:
            number = "<unset>" if port.get("port") is None else str(port["port"])
            name = port.get("name") or "<unset>"
            lines.append(f"  {name}\t{number}\t{port.get('protocol', '')}")
    endpoints = item.get("endpoints") or []
    if not endpoints:
        lines.append("Endpoints: <none>")
    else:
        lines.append("Endpoints:")
        for endpoint in endpoints:
            conditions = endpoint.get("conditions") or {}
            ready = conditions.get("ready")
            target = endpoint.get("targetRef")
            lines.append(
                f"  - Addresses:\t{', '.join(endpoint.get('addresses') or []) or '<none>'}"
            )
            lines.append("    Conditions:")
            lines.append(
                f"      Ready:\t{'<unset>' if ready is None else str(bool(ready)).lower()}"
            )
            lines.append(f"    Hostname:\t{endpoint.get('hostname') or '<unset>'}")
            if target:
                lines.append(f"    TargetRef:\t{target.get('kind', '')}/{target.get('name', '')}")
            lines.append(f"    NodeName:\t{endpoint.get('nodeName') or '<unset>'}")
            lines.append(f"    Zone:\t{endpoint.get('zone') or '<unset>'}")
    inline, table = events_block(events, now)
    return layout(lines + inline) + layout(table)


class ServiceDescriber:
    """The registry's describer for Services: kubectl's describe also reads the Service's
    EndpointSlices, which `related` names for the CLI to fetch (kind, label selector)."""

    def related(self, svc: JSON) -> tuple[str, str]:
        return "EndpointSlice", f"kubernetes.io/service-name={svc['metadata']['name']}"

    def __call__(
        self,
        svc: JSON,
        events: list[JSON] | None,
        now: datetime,
        *,
        tz: tzinfo | None = None,
        related: list[JSON] | None = None,
    ) -> str:
        return describe_service(svc, related or [], events, now)


DESCRIBE_SERVICE = ServiceDescriber()
