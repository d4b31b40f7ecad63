"""What the endpoints and endpoint-slice controllers would write for a Service: pure functions of
(Service, pods), so the rules are tested as tables and the controller only compares and stores.

Sources (1.32): `pkg/controller/endpoint/endpoints_controller.go` (`syncService`,
`addEndpointSubset`), `pkg/api/v1/endpoints/util.go` (`RepackSubsets`), the endpointslice
library's `reconciler.go`/`utils.go` (`podToEndpoint`, `getEndpointPorts`, `newEndpointSlice`)
and `util/controller_utils.go` (`ShouldPodBeInEndpoints`, `ShouldSetHostname`), `podutil.FindPort`.

- Endpoints: a pod is in `addresses` when its Ready condition is True or the Service publishes
  not-ready addresses, else in `notReadyAddresses`; terminating pods are dropped unless the Service
  publishes not-ready addresses.
- EndpointSlices keep terminating pods: `serving` = Ready, `terminating` = deletionTimestamp set,
  `ready` = publishNotReadyAddresses or (serving and not terminating).
- A named targetPort is looked up in the pod's containers by name and protocol; a pod where it
  does not resolve leaves out that port only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime

from minikubelet.api.raw import JSON

__all__ = [
    "HEADLESS_LABEL",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "MAX_ENDPOINTS_PER_SLICE",
    "SERVICE_NAME_LABEL",
    "TRIGGER_ANNOTATION",
    "SliceChanges",
    "desired_endpoints",
    "desired_slices",
    "find_port",
    "is_pod_ready",
    "pod_in_endpoints",
    "rfc3339_nano",
    "selects",
]

_PortKey = tuple[str, int, str]  # (name, number, protocol)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
MAX_ENDPOINTS_PER_SLICE = 100
_RESERVED = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)


def rfc3339_nano(moment: datetime) -> str:
    """Go's RFC3339Nano in UTC: the fraction without trailing zeros, none when zero."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def is_pod_ready(pod: JSON) -> bool:
    """`podutil.IsPodReady`: the Ready condition is True."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def pod_in_endpoints(pod: JSON, include_terminating: bool) -> bool:
    """`ShouldPodBeInEndpoints`: not terminal, has an IP, terminating only when asked."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    return include_terminating or not (pod.get("metadata") or {}).get("deletionTimestamp")


def selects(service: JSON, pod: JSON) -> bool:
    """The Service's selector matches the pod, in the Service's namespace. A Service without a
    selector (nil or empty) is managed by hand: the controllers select nothing for it."""
    selector = (service.get("spec") or {}).get("selector") or {}
    meta, pod_meta = service.get("metadata") or {}, pod.get("metadata") or {}
    if not selector or pod_meta.get("namespace") != meta.get("namespace"):
        return False
    labels = pod_meta.get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def managed(service: JSON) -> bool:
    """The controllers skip selector-less and ExternalName Services."""
    spec = service.get("spec") or {}
    return spec.get("selector") is not None and spec.get("type") != "ExternalName"


def find_port(pod: JSON, port: JSON) -> int | None:
    """`podutil.FindPort`: a number as is; a name in the regular containers' ports by name and
    protocol."""
    target = port.get("targetPort")
    if isinstance(target, int):
        return target
    protocol = port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for item in container.get("ports") or []:
            if item.get("name") == target and (item.get("protocol") or "TCP") == protocol:
                return int(item["containerPort"])
    return None


def _has_ip(spec: JSON) -> bool:
    """`helper.IsServiceIPSet`: a clusterIP that is neither empty nor None."""
    return spec.get("clusterIP") not in (None, "", "None")


def _labels(service: JSON) -> dict[str, str]:
    labels = dict((service.get("metadata") or {}).get("labels") or {})
    if _has_ip(service.get("spec") or {}):
        labels.pop(HEADLESS_LABEL, None)
    else:
        labels[HEADLESS_LABEL] = ""
    return labels


def _pod_ipv4(pod: JSON) -> str | None:
    status = pod.get("status") or {}
    candidates = [status.get("podIP")] + [p.get("ip") for p in status.get("podIPs") or []]
    for ip in candidates:
        try:
            if ip and ipaddress.ip_address(ip).version == 4:
                return str(ip)
        except ValueError:
            continue
    return None


def _hostname(pod: JSON, service: JSON) -> str | None:
    """`ShouldSetHostname`: spec.hostname with spec.subdomain naming this Service."""
    spec = pod.get("spec") or {}
    same_ns = (pod.get("metadata") or {}).get("namespace") == (service.get("metadata") or {}).get(
        "namespace"
    )
    name = (service.get("metadata") or {}).get("name")
    if spec.get("hostname") and spec.get("subdomain") == name and same_ns:
        return str(spec["hostname"])
    return None


def _target_ref(pod: JSON) -> JSON:
    meta = pod.get("metadata") or {}
    return {
        "kind": "Pod",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
    }


def _address(pod: JSON, service: JSON, ip: str) -> JSON:
    address: JSON = {"ip": ip}
    hostname = _hostname(pod, service)
    if hostname:
        address["hostname"] = hostname
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        address["nodeName"] = node
    address["targetRef"] = _target_ref(pod)
    return address


def _ip_key(address: JSON) -> tuple[str, str]:
    """`LessEndpointAddress`: bytewise by IP string, then by targetRef uid."""
    return (address["ip"], (address.get("targetRef") or {}).get("uid", ""))


def desired_endpoints(service: JSON, pods: list[JSON], trigger: str | None = None) -> JSON | None:
    """The Endpoints object (name, namespace, labels, annotations, subsets) the endpoints
    controller keeps for `service`; None when it keeps none (no selector, ExternalName)."""
    if not managed(service):
        return None
    meta, spec = service.get("metadata") or {}, service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    # (port name, number, protocol) -> {address key: (address, ready)}
    groups: dict[_PortKey, dict[tuple[str, str], tuple[JSON, bool]]] = {}
    for pod in pods:
        ip = _pod_ipv4(pod)
        if not selects(service, pod) or not pod_in_endpoints(pod, publish) or ip is None:
            continue
        address = _address(pod, service, ip)
        ready = publish or is_pod_ready(pod)
        if not ports:
            if spec.get("clusterIP") == "None":
                groups.setdefault(("", -1, ""), {})[_ip_key(address)] = (address, ready)
            continue
        for port in ports:
            number = find_port(pod, port)
            if number is None:
                continue
            key = (port.get("name") or "", number, port.get("protocol") or "TCP")
            groups.setdefault(key, {})[_ip_key(address)] = (address, ready)
    subsets = _repack(groups, ports)
    endpoints: JSON = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": meta.get("name", ""), "namespace": meta.get("namespace", "")},
    }
    labels = _labels(service)
    if labels:
        endpoints["metadata"]["labels"] = labels
    if trigger:
        endpoints["metadata"]["annotations"] = {TRIGGER_ANNOTATION: trigger}
    if subsets:
        endpoints["subsets"] = subsets
    return endpoints


def _repack(
    groups: dict[_PortKey, dict[tuple[str, str], tuple[JSON, bool]]], ports: list[JSON]
) -> list[JSON]:
    """`RepackSubsets`: addresses grouped by the exact set of ports they serve; addresses sorted
    by IP string, subsets by their first address."""
    app = {p.get("name") or "": p.get("appProtocol") for p in ports}
    per_address: dict[tuple[str, str], tuple[JSON, bool, set[_PortKey]]] = {}
    for port_key, addresses in groups.items():
        for ip_key, (address, ready) in addresses.items():
            entry = per_address.setdefault(ip_key, (address, ready, set()))
            if port_key[1] >= 0:  # the sentinel of a headless Service without ports
                entry[2].add(port_key)
    members: dict[tuple[_PortKey, ...], list[tuple[JSON, bool]]] = {}
    for address, ready, port_set in per_address.values():
        members.setdefault(tuple(sorted(port_set)), []).append((address, ready))
    subsets = []
    for signature, entries in members.items():
        subset: JSON = {}
        ready_list = sorted((a for a, r in entries if r), key=_ip_key)
        not_ready = sorted((a for a, r in entries if not r), key=_ip_key)
        if ready_list:
            subset["addresses"] = ready_list
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        port_list = []
        for name, number, protocol in signature:
            item: JSON = {"name": name} if name else {}
            item |= {"port": number, "protocol": protocol}
            if app.get(name) is not None:
                item["appProtocol"] = app[name]
            port_list.append(item)
        if port_list:
            subset["ports"] = port_list
        subsets.append(subset)
    return sorted(
        subsets,
        key=lambda sub: min(
            _ip_key(a) for a in sub.get("addresses", []) + sub.get("notReadyAddresses", [])
        ),
    )


@dataclass(frozen=True, slots=True)
class SliceChanges:
    """What the endpoint-slice reconciler does: slices to create (with `generateName`), to
    update (existing names, new contents) and to delete (names)."""

    create: list[JSON] = field(default_factory=list)
    update: list[JSON] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.create or self.update or self.delete)


def _endpoint(pod: JSON, service: JSON, ip: str) -> JSON:
    """`podToEndpoint`."""
    serving = is_pod_ready(pod)
    terminating = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    endpoint: JSON = {
        "addresses": [ip],
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
    }
    hostname = _hostname(pod, service)
    if hostname:
        endpoint["hostname"] = hostname
    endpoint["targetRef"] = _target_ref(pod)
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        endpoint["nodeName"] = node
    return endpoint


def _slice_ports(pod: JSON, service: JSON) -> list[JSON]:
    """`getEndpointPorts`: one per Service port that resolves on this pod."""
    found = []
    for port in (service.get("spec") or {}).get("ports") or []:
        number = find_port(pod, port)
        if number is None:
            continue
        item: JSON = {"name": port.get("name") or "", "port": number}
        item["protocol"] = port.get("protocol") or "TCP"
        if port.get("appProtocol") is not None:
            item["appProtocol"] = port["appProtocol"]
        found.append(item)
    return found


def _ports_key(ports: list[JSON] | None) -> tuple[tuple[str, int, str], ...]:
    return tuple(
        sorted(
            (p.get("name") or "", int(p.get("port") or 0), p.get("protocol") or "")
            for p in ports or []
        )
    )


def _new_slice(
    service: JSON, ports: list[JSON], endpoints: list[JSON], trigger: str | None
) -> JSON:
    meta = service.get("metadata") or {}
    name = str(meta.get("name", ""))
    labels = {k: v for k, v in _labels(service).items() if k not in _RESERVED[:2]}
    labels[SERVICE_NAME_LABEL] = name
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    slice_meta: JSON = {
        "generateName": f"{name}-",
        "namespace": meta.get("namespace", ""),
        "labels": labels,
        "ownerReferences": [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "name": name,
                "uid": meta.get("uid", ""),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if trigger:
        slice_meta["annotations"] = {TRIGGER_ANNOTATION: trigger}
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": slice_meta,
        "addressType": "IPv4",
        "endpoints": endpoints or None,  # an empty list is stored and served as null
        "ports": ports or None,
    }


def _same(existing: JSON, wanted: JSON) -> bool:
    keys = ("addressType", "endpoints", "ports")
    if any((existing.get(k) or None) != (wanted.get(k) or None) for k in keys):
        return False
    have, want = existing.get("metadata") or {}, wanted["metadata"]
    same_labels: bool = (have.get("labels") or {}) == want["labels"]
    return same_labels and (have.get("ownerReferences") or []) == want["ownerReferences"]


def desired_slices(
    service: JSON, pods: list[JSON], existing: list[JSON], trigger: str | None = None
) -> SliceChanges:
    """Reconcile the Service's slices (`existing`: those labelled with its name and managed by
    the controller) with its pods: one set of slices per distinct port set, at most
    `MAX_ENDPOINTS_PER_SLICE` endpoints each, existing slices reused for the same port set; one
    placeholder slice (no ports, no endpoints) when nothing is selected."""
    if not managed(service):
        return SliceChanges(delete=[s["metadata"]["name"] for s in existing])
    groups: dict[tuple[tuple[str, int, str], ...], tuple[list[JSON], list[JSON]]] = {}
    ordered = sorted(pods, key=lambda p: (p.get("metadata") or {}).get("name", ""))
    for pod in ordered:
        ip = _pod_ipv4(pod)
        if not selects(service, pod) or not pod_in_endpoints(pod, True) or ip is None:
            continue
        ports = _slice_ports(pod, service)
        groups.setdefault(_ports_key(ports), (ports, []))[1].append(_endpoint(pod, service, ip))
    wanted: list[JSON] = []
    for ports, endpoints in groups.values():
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            chunk = endpoints[start : start + MAX_ENDPOINTS_PER_SLICE]
            wanted.append(_new_slice(service, ports, chunk, trigger))
    if not wanted:
        wanted.append(_new_slice(service, [], [], trigger))
    return _match(wanted, existing)


def _match(wanted: list[JSON], existing: list[JSON]) -> SliceChanges:
    changes = SliceChanges()
    spare = sorted(existing, key=lambda s: s["metadata"]["name"])
    for item in wanted:
        key = _ports_key(item.get("ports"))
        reuse = next((s for s in spare if _ports_key(s.get("ports")) == key), None)
        if reuse is None:
            changes.create.append(item)
            continue
        spare.remove(reuse)
        if _same(reuse, item):
            continue
        updated = {**reuse, **{k: item[k] for k in ("addressType", "endpoints", "ports")}}
        meta = dict(reuse["metadata"])
        meta["labels"] = item["metadata"]["labels"]
        meta["ownerReferences"] = item["metadata"]["ownerReferences"]
        if item["metadata"].get("annotations"):
            meta["annotations"] = {
                **(meta.get("annotations") or {}),
                **item["metadata"]["annotations"],
            }
        updated["metadata"] = meta
        changes.update.append(updated)
    changes.delete.extend(s["metadata"]["name"] for s in spare)
    return changes
