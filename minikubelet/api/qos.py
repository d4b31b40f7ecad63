"""A pod's QoS class, the API server's `ComputePodQOS` (`pkg/apis/core/helper/qos`), written
once: for the status a create sets (over the model, `api/create.py`) and for `describe` when
a status has none (over the JSON it reads, `printers/describe_fields.py`).

Light on purpose (the CLI's describe imports it): the model and the quantity parser only for
type checking or on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

    from minikubelet.api.models import Pod
    from minikubelet.api.quantity import Quantity

__all__ = ["json_amounts", "pod_qos_class", "qos_class"]

_QOS_RESOURCES = ("cpu", "memory")
Amounts = Mapping[str, "Decimal"]  # cpu and memory above zero: all QoS looks at


def qos_class(containers: Iterable[tuple[Amounts, Amounts]]) -> str:
    """BestEffort, Burstable or Guaranteed from each container's (requests, limits), regular
    and init: sums per resource; Guaranteed needs cpu and memory limits in every container
    and the summed requests equal to the summed limits."""
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for wanted, capped in containers:
        for name, amount in wanted.items():
            requests[name] = requests.get(name, 0) + amount
        for name, amount in capped.items():
            limits[name] = limits.get(name, 0) + amount
        guaranteed = guaranteed and set(capped) == set(_QOS_RESOURCES)
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed and requests == limits else "Burstable"


def _amounts(table: Mapping[str, Quantity] | None) -> dict[str, Decimal]:
    return {k: v.amount for k, v in (table or {}).items() if k in _QOS_RESOURCES and v.sign > 0}


def pod_qos_class(pod: Pod) -> str:
    """The class of a pod of the model."""
    resources = [c.resources for c in pod.spec.all_containers()]
    return qos_class(
        (_amounts(r.requests if r else None), _amounts(r.limits if r else None)) for r in resources
    )


def json_amounts(resources: dict[str, Any], kind: str) -> dict[str, Decimal]:
    """`requests` or `limits` of a container's JSON resources; unparsable quantities skipped."""
    found: dict[str, Decimal] = {}
    for name in _QOS_RESOURCES:
        raw = (resources.get(kind) or {}).get(name)
        if raw is None:
            continue
        from minikubelet.api.quantity import Quantity  # on first use: see the docstring

        try:
            amount = Quantity.parse(raw).amount
        except ValueError:
            continue
        if amount > 0:
            found[name] = amount
    return found
