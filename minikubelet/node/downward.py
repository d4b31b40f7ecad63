"""The downward API's values: what a `fieldRef` or `resourceFieldRef` reads of the pod.

`fieldpath.ExtractFieldPathAsString` (volumes and env), `podFieldSelectorRuntimeValue` (env's
status fields), and `resource.ExtractContainerResourceValue` with the kubelet's
`defaultPodLimitsForDownwardAPI`: a limit the container does not set reads the node's
allocatable amount. Pure functions of the pod and what the node knows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Container, Pod
from minikubelet.api.quantity import Quantity, QuantityError

__all__ = ["DownwardError", "field_value", "format_map", "resource_value"]

_SUBSCRIPT = re.compile(r"(metadata\.(?:labels|annotations))\['(.*)'\]")
_ONE = Quantity.parse("1")


class DownwardError(Exception):
    """A value the kubelet cannot extract; str is its error text."""


def format_map(table: Mapping[str, str] | None) -> str:
    """`fieldpath.FormatMap`: sorted `key="value"` lines (Go's %q), no final newline."""
    items = sorted((table or {}).items())
    return "\n".join(f"{key}={go_quote(value)}" for key, value in items)


def field_value(
    pod: Pod, path: str, *, pod_ip: str = "", host_ip: str = "", node_name: str = ""
) -> str:
    """The value of a pod `fieldRef`; status fields are the kubelet's (env only)."""
    meta = pod.metadata
    subscript = _SUBSCRIPT.fullmatch(path)
    if subscript:
        table = meta.labels if subscript.group(1) == "metadata.labels" else meta.annotations
        return (table or {}).get(subscript.group(2), "")
    values = {
        "metadata.name": meta.name or "",
        "metadata.namespace": meta.namespace or "",
        "metadata.uid": meta.uid or "",
        "metadata.labels": format_map(meta.labels),
        "metadata.annotations": format_map(meta.annotations),
        "spec.nodeName": pod.spec.nodeName or node_name,
        "spec.serviceAccountName": pod.spec.serviceAccountName or "",
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path not in values:
        raise DownwardError(f"unsupported fieldPath: {path}")
    return values[path]


def _quantity(text: Any) -> Quantity:
    if isinstance(text, Quantity):
        return text
    try:
        return Quantity.parse(text) if text not in (None, "") else _ONE
    except QuantityError:
        return _ONE


def resource_value(
    ref: Mapping[str, Any],
    pod: Pod,
    container: Container | None,
    allocatable: Mapping[str, Quantity],
) -> str:
    """A `resourceFieldRef`: the named (or given) container's request or limit over the divisor,
    rounded up; limits default to the node's allocatable amount."""
    name = ref.get("containerName") or ""
    if name:
        found = [c for c in pod.spec.all_containers() if c.name == name]
        if not found:
            raise DownwardError(f"container {name} not found")
        container = found[0]
    if container is None:
        raise DownwardError("no container")
    resource = str(ref.get("resource") or "")
    which, _, kind = resource.partition(".")
    if which not in ("limits", "requests") or not (
        kind in ("cpu", "memory", "ephemeral-storage") or kind.startswith("hugepages-")
    ):
        raise DownwardError(f"unsupported container resource : {resource}")
    table = getattr(container.resources, which, None) if container.resources else None
    amount = (table or {}).get(kind)
    if amount is None and which == "limits":
        amount = allocatable.get(kind)
    divisor = _quantity(ref.get("divisor"))
    if divisor.is_zero:
        divisor = _ONE
    if amount is None:
        return "0"
    if kind == "cpu":
        return str(math.ceil(amount.milli_value() / divisor.milli_value()))
    return str(math.ceil(amount.value() / divisor.value()))
