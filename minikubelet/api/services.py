"""The API server's create and update of a Service: decoding, defaulting, allocation, validation.

The order is the API server's (`registry/generic/registry/store.go` `create`, the Service store's
`beginCreate`/`beginUpdate`, `svcStrategy`):

    strict decoding → SetDefaults_Service → system metadata (uid, creationTimestamp, a generated
    name) → normalize clusterIP/clusterIPs → initIPFamilyFields (ValidateServiceClusterIPs-
    RelatedFields first) → allocate ClusterIPs → allocate NodePorts → namespace checks →
    PrepareForCreate (status reset) → ValidateService

so an allocation error (a taken nodePort, an IP out of range) is reported alone, before the rest
of validation. The node is a single-stack IPv4 cluster: IPv6 families and dual-stack policies are
refused as such a cluster refuses them.

What is taken is passed in (`Taken`): the Services in the store are the allocation state.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from minikubelet.api.codec import format_time
from minikubelet.api.create import generate_name
from minikubelet.api.ipalloc import AllocationError, IPRange, PortRange, RangeFull
from minikubelet.api.raw import JSON, MAX_OBJECT_BYTES
from minikubelet.api.schema import check_object
from minikubelet.api.validation.field import FieldError, Path, invalid, invalid_error
from minikubelet.api.validation.service import (
    go_strings,
    is_headless,
    validate_cluster_ips,
    validate_service,
    validate_service_update,
)
from minikubelet.errors import BadRequest, InternalError, RequestEntityTooLarge, StatusError

__all__ = [
    "Allocation",
    "Taken",
    "decode_service",
    "default_service",
    "prepare_service_create",
    "prepare_service_update",
    "taken_by",
]

DEFAULT_AFFINITY_SECONDS = 10800


@dataclass(frozen=True, slots=True)
class Taken:
    """ClusterIPs and NodePorts held by other Services (of every namespace)."""

    ips: frozenset[str] = frozenset()
    node_ports: frozenset[int] = frozenset()


def taken_by(services: list[JSON], *, besides: tuple[str, str] | None = None) -> Taken:
    """What `services` hold, leaving out the one named `besides` (namespace, name)."""
    ips: set[str] = set()
    ports: set[int] = set()
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        if besides is not None and (meta.get("namespace"), meta.get("name")) == besides:
            continue
        ips.update(ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None")
        ports.update(int(p["nodePort"]) for p in spec.get("ports") or [] if p.get("nodePort"))
        if spec.get("healthCheckNodePort"):
            ports.add(int(spec["healthCheckNodePort"]))
    return Taken(frozenset(ips), frozenset(ports))


@dataclass(slots=True)
class Allocation:
    """The ranges and the random source of the allocators."""

    ips: IPRange = field(default_factory=IPRange)
    ports: PortRange = field(default_factory=PortRange)
    rng: random.Random = field(default_factory=random.Random)


def decode_service(body: JSON) -> JSON:
    """Strict decoding, then `SetDefaults_Service`; returns a new dict."""
    if len(json.dumps(body, separators=(",", ":"))) > MAX_OBJECT_BYTES:
        raise RequestEntityTooLarge(f"Request entity too large: limit is {MAX_OBJECT_BYTES}")
    problem = check_object(body, "Service").message()
    if problem is not None:
        raise BadRequest(f'Service in version "v1" cannot be handled as a Service: {problem}')
    return default_service(copy.deepcopy(body))


def _externally_accessible(spec: JSON) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def default_service(svc: JSON) -> JSON:
    """`SetDefaults_Service` in place; returns `svc`."""
    spec = svc.setdefault("spec", {})
    spec["sessionAffinity"] = spec.get("sessionAffinity") or "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    if spec["sessionAffinity"] == "ClientIP":
        client = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
        if client.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": DEFAULT_AFFINITY_SECONDS}
            }
    spec["type"] = spec.get("type") or "ClusterIP"
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        port["protocol"] = port.get("protocol") or "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port", 0)
    if _externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and spec["type"] != "ExternalName":
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    return svc


def _fail(svc: JSON, errors: list[FieldError]) -> StatusError:
    return invalid_error("Service", str((svc.get("metadata") or {}).get("name") or ""), errors)


def _init_families(svc: JSON) -> None:
    """`initIPFamilyFields` on a single-stack IPv4 cluster."""
    spec = svc["spec"]
    if spec.get("type") == "ExternalName":
        spec.pop("ipFamilies", None)
        spec.pop("ipFamilyPolicy", None)
        return
    errors = validate_cluster_ips(spec)
    if errors:
        raise _fail(svc, errors)
    families: list[str] = list(spec.get("ipFamilies") or [])
    ips: list[str] = list(spec.get("clusterIPs") or [])
    for i, ip in enumerate(ips):
        if ip == "None":
            break
        family = "IPv6" if ":" in ip else "IPv4"
        if i >= len(families):
            if family != "IPv4":
                detail = f"{family} is not configured on this cluster"
                errors.append(invalid(Path("spec.clusterIPs").index(i), go_strings(ips), detail))
            else:
                families.append(family)
    if errors:
        raise _fail(svc, errors)
    headless_selectorless = is_headless(spec) and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        spec["ipFamilyPolicy"] = "RequireDualStack" if headless_selectorless else "SingleStack"
    policy = spec["ipFamilyPolicy"]
    if policy == "SingleStack" and len(families) > 1:
        detail = "must be at most one IP family when `ipFamilyPolicy` is 'SingleStack'"
        errors.append(invalid(Path("spec.ipFamilies"), go_strings(families), detail))
    for i, family in enumerate(families):
        if family != "IPv4":
            detail = f"{family} is not configured on this cluster"
            errors.append(invalid(Path("spec.ipFamilies").index(i), family, detail))
    if policy == "RequireDualStack" and not headless_selectorless:
        detail = "this cluster is not configured for dual-stack services"
        errors.append(invalid(Path("spec.ipFamilyPolicy"), policy, detail))
    if errors:
        raise _fail(svc, errors)
    families = families or ["IPv4"]
    if policy != "SingleStack" and headless_selectorless and len(families) == 1:
        families.append("IPv6")
    spec["ipFamilies"] = families


def _alloc_cluster_ip(svc: JSON, taken: Taken, alloc: Allocation) -> None:
    """`txnAllocClusterIPs`: none for headless and ExternalName Services."""
    spec = svc["spec"]
    if spec.get("type") == "ExternalName" or is_headless(spec):
        return
    ips: list[str] = list(spec.get("clusterIPs") or [])
    if ips:
        try:
            alloc.ips.check(ips[0], taken.ips)
        except AllocationError as exc:
            detail = f"failed to allocate IP {ips[0]}: {exc}"
            raise _fail(svc, [invalid(Path("spec.clusterIPs"), go_strings(ips), detail)]) from None
    else:
        try:
            ips = [alloc.ips.allocate(taken.ips, alloc.rng)]
        except RangeFull as exc:
            raise InternalError(f"failed to allocate a serviceIP: {exc}") from None
    spec["clusterIPs"] = ips
    spec["clusterIP"] = ips[0]


def _alloc_node_ports(svc: JSON, taken: Taken, alloc: Allocation) -> None:
    """`initNodePorts`: ports with the same `port` share one nodePort; a requested one is used
    for every entry with that port; each is checked against what is taken, this Service's own
    earlier picks included."""
    spec = svc["spec"]
    kind = spec.get("type")
    if kind not in ("NodePort", "LoadBalancer"):
        return
    allocate_new = kind == "NodePort" or bool(spec.get("allocateLoadBalancerNodePorts"))
    used = set(taken.node_ports)
    by_port: dict[int, int] = {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    for i, port in enumerate(ports):
        requested = int(port.get("nodePort") or 0)
        if not requested and not allocate_new:
            continue
        number = int(port.get("port") or 0)
        path = Path("spec.ports").index(i).child("nodePort")
        known = by_port.get(number, 0)
        if not known:
            wanted = requested or next(
                (
                    int(p.get("nodePort") or 0)
                    for p in ports[i:]
                    if p.get("port") == number and p.get("nodePort")
                ),
                0,
            )
            if wanted:
                try:
                    alloc.ports.check(wanted, used)
                except AllocationError as exc:
                    raise _fail(svc, [invalid(path, wanted, str(exc))]) from None
            else:
                try:
                    wanted = alloc.ports.allocate(used, alloc.rng)
                except RangeFull as exc:
                    raise InternalError(f"failed to allocate a nodePort: {exc}") from None
            used.add(wanted)
            by_port[number] = wanted
            port["nodePort"] = wanted
        elif requested != known:
            if not requested:
                port["nodePort"] = known
            else:
                try:
                    alloc.ports.check(requested, used)
                except AllocationError as exc:
                    raise _fail(svc, [invalid(path, requested, str(exc))]) from None
                used.add(requested)
    if kind == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local":
        if not spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = alloc.ports.allocate(used, alloc.rng)


def _check_namespace(meta: JSON, namespace: str) -> None:
    sent = meta.get("namespace")
    if sent and namespace and sent != namespace:
        raise BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


def prepare_service_create(
    body: JSON,
    namespace: str,
    now: datetime,
    taken: Taken,
    alloc: Allocation | None = None,
    new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> JSON:
    """The Service the API server stores for a create; raises its StatusError."""
    alloc = alloc or Allocation()
    svc = decode_service(body)
    svc["apiVersion"], svc["kind"] = "v1", "Service"
    meta = svc.setdefault("metadata", {})
    if meta.get("resourceVersion"):
        raise StatusError("resourceVersion should not be set on objects to be created")
    meta["uid"] = new_uid()
    meta["creationTimestamp"] = format_time(now.replace(microsecond=0))
    for system in ("deletionTimestamp", "deletionGracePeriodSeconds"):
        meta.pop(system, None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = generate_name(str(meta["generateName"]))
    spec = svc["spec"]
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    _init_families(svc)
    _alloc_cluster_ip(svc, taken, alloc)
    _alloc_node_ports(svc, taken, alloc)
    _check_namespace(meta, namespace)
    meta["namespace"] = meta.get("namespace") or namespace
    svc["status"] = {"loadBalancer": {}}
    errors = validate_service(svc)
    if errors:
        raise _fail(svc, errors)
    return svc


def _patch_allocated(new: JSON, old: JSON) -> None:
    """`normalizeClusterIPs` and `patchAllocatedValues` of an update: what the client left out
    (an older client, a PUT of a hand-written manifest) is kept from the stored object."""
    nspec, ospec = new["spec"], old.get("spec") or {}
    both_ip = "ExternalName" not in (nspec.get("type"), ospec.get("type"))
    if both_ip:
        if not nspec.get("clusterIP"):
            nspec["clusterIP"] = ospec.get("clusterIP", "")
            if not nspec.get("clusterIPs") and ospec.get("clusterIPs"):
                nspec["clusterIPs"] = list(ospec["clusterIPs"])
        elif not nspec.get("clusterIPs"):
            old_ips = list(ospec.get("clusterIPs") or [])
            same = old_ips and old_ips[0] == nspec["clusterIP"]
            nspec["clusterIPs"] = old_ips if same else [nspec["clusterIP"]]
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if nspec.get(key) is None and ospec.get(key) is not None:
                nspec[key] = copy.deepcopy(ospec[key])
        if not nspec.get("clusterIP"):
            nspec.pop("clusterIP", None)
    node = ("NodePort", "LoadBalancer")
    if nspec.get("type") in node and ospec.get("type") in node:
        in_new = {int(p.get("nodePort") or 0) for p in nspec.get("ports") or []}
        in_old = {int(p.get("nodePort") or 0) for p in ospec.get("ports") or []}
        used = in_new & in_old
        by_name = {p.get("name", ""): int(p.get("nodePort") or 0) for p in ospec.get("ports") or []}
        for port in nspec.get("ports") or []:
            if not port.get("nodePort"):
                value = by_name.get(port.get("name", ""), 0)
                if value and value not in used:
                    port["nodePort"] = value


def prepare_service_update(
    old: JSON, body: JSON, now: datetime, taken: Taken, alloc: Allocation | None = None
) -> JSON:
    """The Service stored for a PUT (or a patched body) over `old`; `taken` leaves `old` out."""
    alloc = alloc or Allocation()
    new = decode_service(body)
    new["apiVersion"], new["kind"] = "v1", "Service"
    meta = new.setdefault("metadata", {})
    for system in ("uid", "creationTimestamp", "deletionTimestamp", "namespace"):
        if not meta.get(system) and old["metadata"].get(system):
            meta[system] = old["metadata"][system]
    meta["resourceVersion"] = old["metadata"].get("resourceVersion")
    _patch_allocated(new, old)
    _init_families(new)
    _alloc_cluster_ip(new, taken, alloc)
    _alloc_node_ports(new, taken, alloc)
    new["status"] = copy.deepcopy(old.get("status") or {"loadBalancer": {}})
    errors: list[FieldError] = []
    for name in ("uid", "creationTimestamp"):
        if meta.get(name) != old["metadata"].get(name):
            errors.append(
                invalid(Path("metadata").child(name), meta.get(name), "field is immutable")
            )
    errors += validate_service_update(new, old)
    if errors:
        raise _fail(new, errors)
    return new
