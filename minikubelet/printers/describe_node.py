"""`kubectl describe node`, as kubectl 1.32 prints it (`staging/src/k8s.io/kubectl/pkg/describe/
describe.go`: `describeNode`, `describeNodeLease`, `describeNodeResource`,
`getPodsTotalRequestsAndLimits`; `pkg/util/resource/resource.go`: `PodRequestsAndLimits`).

A pure function of the node, its events, its Lease and the pods bound to it, which `lookups`
names for the CLI to fetch. Requests and limits are summed as Go's `Quantity.Add` sums them (the
sum keeps the first addend's format), and the percentages are Go's: a float64 quotient times
100, truncated by `int64()`, so 580m of 2 cpus reads 28%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON
from minikubelet.errors import StatusError
from minikubelet.printers.describe_fields import (
    annotation_lines,
    go_bool,
    go_time,
    label_lines,
    quantity_text,
    since,
)
from minikubelet.printers.describe_sections import events_block, layout

__all__ = ["DESCRIBE_NODE", "Lookup", "NodeDescriber", "describe_node", "pod_requests_and_limits"]

NODE_LEASE_NAMESPACE = "kube-node-lease"
_ROLE_PREFIX = "node-role.kubernetes.io/"  # LabelNodeRolePrefix
_ROLE_LABEL = "kubernetes.io/role"  # NodeLabelRole
# IsStandardContainerResourceName, hugepages aside: the rows Allocated resources always has
_STANDARD = ("cpu", "memory", "ephemeral-storage")
_HUGE_PAGES = "hugepages-"
_INT64_MIN = -(2**63)
_ZERO = Quantity.parse("0")  # a missing resource: Go's zero Quantity, printed "0"
_SYSTEM_INFO = (
    ("Machine ID", "machineID"),
    ("System UUID", "systemUUID"),
    ("Boot ID", "bootID"),
    ("Kernel Version", "kernelVersion"),
    ("OS Image", "osImage"),
    ("Operating System", "operatingSystem"),
    ("Architecture", "architecture"),
    ("Container Runtime Version", "containerRuntimeVersion"),
    ("Kubelet Version", "kubeletVersion"),
    ("Kube-Proxy Version", "kubeProxyVersion"),
)

Resources = dict[str, Quantity]


class Lookup(NamedTuple):
    """One more read a describer needs: `kind`'s object `name` in `namespace`, or (no name) its
    list there, `None` meaning every namespace, filtered by `field_selector`."""

    kind: str
    namespace: str | None
    name: str | None = None
    field_selector: str | None = None


def describe_node(
    node: JSON,
    events: list[JSON] | None,
    now: datetime,
    *,
    tz: tzinfo | None = None,
    pods: list[JSON] | None = None,
    lease: JSON | StatusError | None = None,
) -> str:
    """The whole text. `events=None` leaves Events out (`--show-events=false`); `pods=None` is
    kubectl's `Pods: not authorized`; `lease=None` leaves the Lease out (not looked up), an
    error prints as kubectl's `Failed to get lease`; `tz` is the zone times print in."""
    meta, spec = node.get("metadata") or {}, node.get("spec") or {}
    status = node.get("status") or {}
    lines = [f"Name:\t{meta.get('name', '')}", f"Roles:\t{','.join(_roles(meta)) or '<none>'}"]
    lines += label_lines("Labels", meta.get("labels"))
    lines += annotation_lines(meta.get("annotations"))
    lines.append(f"CreationTimestamp:\t{go_time(meta.get('creationTimestamp'), tz)}")
    lines += _taint_lines(spec.get("taints"))
    lines.append(f"Unschedulable:\t{go_bool(spec.get('unschedulable'))}")
    lines += _lease_lines(lease, tz)
    lines += _condition_lines(status.get("conditions"), tz)
    lines.append("Addresses:")
    lines += [
        f"  {a.get('type', '')}:\t{a.get('address', '')}" for a in status.get("addresses") or []
    ]
    for key, title in (("capacity", "Capacity"), ("allocatable", "Allocatable")):
        if status.get(key):
            lines.append(f"{title}:")
            lines += [f"  {n}:\t{quantity_text(status[key][n])}" for n in sorted(status[key])]
    info = status.get("nodeInfo") or {}
    lines.append("System Info:")
    lines += [f"  {title}:\t{info.get(key) or ''}" for title, key in _SYSTEM_INFO]
    if spec.get("podCIDR"):
        lines.append(f"PodCIDR:\t{spec['podCIDR']}")
    if spec.get("podCIDRs"):
        lines.append(f"PodCIDRs:\t{','.join(spec['podCIDRs'])}")
    if spec.get("providerID"):
        lines.append(f"ProviderID:\t{spec['providerID']}")
    if pods is None:
        lines.append("Pods:\tnot authorized")
    else:
        allocatable = _quantities(status.get("allocatable") or status.get("capacity"))
        lines += _pod_lines(pods, allocatable, now)
        lines += _allocated_lines(pods, allocatable)
    inline, table = events_block(events, now)
    return layout(lines + inline) + layout(table)


def _roles(meta: JSON) -> list[str]:
    """`findNodeRoles`: `node-role.kubernetes.io/<role>` keys and a `kubernetes.io/role`
    value, sorted and without repeats."""
    roles = set()
    for key, value in (meta.get("labels") or {}).items():
        if key.startswith(_ROLE_PREFIX) and key != _ROLE_PREFIX:
            roles.add(key.removeprefix(_ROLE_PREFIX))
        elif key == _ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _taint_lines(taints: list[JSON] | None) -> list[str]:
    """`printNodeTaintsMultiline`: sorted by `effect,key`, each `key[=value]:effect`."""
    if not taints:
        return ["Taints:\t<none>"]
    ordered = sorted(taints, key=lambda t: f"{t.get('effect', '')},{t.get('key', '')}")
    lines = []
    for i, taint in enumerate(ordered):
        value = f"={taint['value']}" if taint.get("value") else ""
        text = f"{taint.get('key', '')}{value}:{taint.get('effect', '')}"
        lines.append(("Taints:\t" if i == 0 else "\t") + text)
    return lines


def _lease_lines(lease: JSON | StatusError | None, tz: tzinfo | None) -> list[str]:
    """`describeNodeLease`, or the error the Lease's GET met."""
    if lease is None:
        return []
    if isinstance(lease, StatusError):
        return [f"Lease:\tFailed to get lease: {lease.message}"]
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity")
    lines = ["Lease:", f"  HolderIdentity:\t{'<unset>' if holder is None else holder}"]
    for key, title in (("acquireTime", "AcquireTime"), ("renewTime", "RenewTime")):
        shown = go_time(spec[key], tz) if spec.get(key) else "<unset>"
        lines.append(f"  {title}:\t{shown}")
    return lines


def _condition_lines(conditions: list[JSON] | None, tz: tzinfo | None) -> list[str]:
    """The Conditions table, with kubectl's space before each tab."""
    if not conditions:
        return []
    lines = [
        "Conditions:",
        "  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage",
        "  ----\t------\t-----------------\t------------------\t------\t-------",
    ]
    for c in conditions:
        lines.append(
            f"  {c.get('type', '')} \t{c.get('status', '')} "
            f"\t{go_time(c.get('lastHeartbeatTime'), tz)} "
            f"\t{go_time(c.get('lastTransitionTime'), tz)} "
            f"\t{c.get('reason') or ''} \t{c.get('message') or ''}"
        )
    return lines


# Requests and limits (kubectl's util/resource)


def _quantities(table: Mapping[str, Any] | None) -> Resources:
    return {name: Quantity.parse(value) for name, value in (table or {}).items()}


def _sum(a: Quantity, b: Quantity) -> Quantity:
    """Go's `a.Add(b)`: the sum in a's format, or in b's when a is zero."""
    return Quantity(a.amount + b.amount, b.format if a.is_zero else a.format)


def _add(total: Resources, more: Resources) -> None:
    """`addResourceList`."""
    for name, quantity in more.items():
        total[name] = _sum(total[name], quantity) if name in total else quantity


def _max(total: Resources, more: Resources) -> None:
    """`maxResourceList`: the larger of the two; the first kept on a tie."""
    for name, quantity in more.items():
        if name not in total or quantity > total[name]:
            total[name] = quantity


def _spec_or_status(spec: Resources, status: Resources) -> Resources:
    """resource.go's `max(a, b)`: per name the status's unless the spec's is larger."""
    found = {n: status[n] if n in status and q <= status[n] else q for n, q in spec.items()}
    return found | {n: q for n, q in status.items() if n not in found}


def _pod_side(pod: JSON, side: str) -> Resources:
    """`podRequests` (`side="requests"`) or `podLimits`: app containers summed (a request
    raised to a larger one the container's status reports), then the largest init container
    with the sidecars started before it, sidecars added; overhead last."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reported = {s.get("name"): s.get("resources") for s in status.get("containerStatuses") or []}
    total: Resources = {}
    for container in spec.get("containers") or []:
        own = _quantities((container.get("resources") or {}).get(side))
        seen = reported.get(container.get("name"))
        if side == "requests" and seen is not None:
            known = _quantities(seen.get("requests"))
            own = known if status.get("resize") == "Infeasible" else _spec_or_status(own, known)
        _add(total, own)
    sidecars: Resources = {}
    inits: Resources = {}
    for container in spec.get("initContainers") or []:
        own = _quantities((container.get("resources") or {}).get(side))
        if container.get("restartPolicy") == "Always":
            _add(total, own)
            _add(sidecars, own)
            own = sidecars
        else:
            own = dict(own)
            _add(own, sidecars)
        _max(inits, own)
    _max(total, inits)
    overhead = _quantities(spec.get("overhead"))
    if side == "requests":
        _add(total, overhead)
    else:
        for name, quantity in overhead.items():
            if name in total and not total[name].is_zero:
                total[name] = _sum(total[name], quantity)
    return total


def pod_requests_and_limits(pod: JSON) -> tuple[Resources, Resources]:
    """kubectl's `PodRequestsAndLimits` (not the scheduler's: the quantities keep their
    formats, for printing)."""
    return _pod_side(pod, "requests"), _pod_side(pod, "limits")


def _percent(part: int, whole: int) -> int:
    """`int64(float64(part) / float64(whole) * 100)`; a zero `whole` (±Inf, NaN) or a result
    beyond int64 converts to amd64's "integer indefinite", the smallest int64."""
    if whole == 0:
        return _INT64_MIN
    fraction = float(part) / float(whole) * 100
    if not math.isfinite(fraction) or not _INT64_MIN <= fraction < -_INT64_MIN:
        return _INT64_MIN
    return int(fraction)


def _share(name: str, used: Quantity, allocatable: Quantity) -> str:
    """`100m (5%)`: cpu compared in millicores, the others in units."""
    if name == "cpu":
        return f"{used} ({_percent(used.milli_value(), allocatable.milli_value())}%)"
    return f"{used} ({_percent(used.value(), allocatable.value())}%)"


def _pod_lines(pods: list[JSON], allocatable: Resources, now: datetime) -> list[str]:
    """The Non-terminated Pods table (its empty third column is kubectl's)."""
    lines = [
        f"Non-terminated Pods:\t({len(pods)} in total)",
        "  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge",
        "  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---",
    ]
    for pod in pods:
        meta = pod.get("metadata") or {}
        requests, limits = pod_requests_and_limits(pod)
        shares = [
            _share(name, side.get(name) or _ZERO, allocatable.get(name) or _ZERO)
            for name in ("cpu", "memory")
            for side in (requests, limits)
        ]
        age = since(meta.get("creationTimestamp"), now)
        lines.append(
            "  " + "\t".join([meta.get("namespace", ""), meta.get("name", ""), "", *shares, age])
        )
    return lines


def _allocated_lines(pods: list[JSON], allocatable: Resources) -> list[str]:
    """Allocated resources: cpu, memory, ephemeral-storage, then each huge page size (a
    percentage of what the node has, 0% when it has none), then extended resources."""
    requests: Resources = {}
    limits: Resources = {}
    for pod in pods:
        wanted, capped = pod_requests_and_limits(pod)
        _add(requests, wanted)
        _add(limits, capped)
    lines = [
        "Allocated resources:",
        "  (Total limits may be over 100 percent, i.e., overcommitted.)",
        "  Resource\tRequests\tLimits",
        "  --------\t--------\t------",
    ]
    pages = sorted(n for n in allocatable if n.startswith(_HUGE_PAGES))
    for name in [*_STANDARD, *pages]:
        have = allocatable.get(name) or _ZERO
        cells = []
        for side in (requests, limits):
            used = side.get(name) or _ZERO
            cells.append(_share(name, used, have) if have.sign else f"{used} (0%)")
        lines.append(f"  {name}\t{cells[0]}\t{cells[1]}")
    extended = sorted(
        n for n in allocatable if n not in _STANDARD and n != "pods" and n not in pages
    )
    for name in extended:
        lines.append(f"  {name}\t{requests.get(name) or _ZERO}\t{limits.get(name) or _ZERO}")
    return lines


class NodeDescriber:
    """The registry's describer for Nodes: kubectl also reads the node's Lease and the pods
    bound to it that have not ended, which `lookups` names for the CLI to fetch."""

    def lookups(self, node: JSON) -> dict[str, Lookup]:
        name = str(node["metadata"]["name"])
        selector = f"spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed"
        return {
            "pods": Lookup("Pod", None, field_selector=selector),
            "lease": Lookup("Lease", NODE_LEASE_NAMESPACE, name),
        }

    __call__ = staticmethod(describe_node)


DESCRIBE_NODE = NodeDescriber()
