"""Container resources (`validateResourceRequirements`, `validateContainerResourceName`).

Upstream walks Go maps, so its order is random; keys are sorted here to keep output stable.
Negative quantities print as a quoted canonical string, non-integers of extended resources as
the bare Quantity: the two BadValue types upstream passes.
"""

from __future__ import annotations

from minikubelet.api.models import ResourceRequirements
from minikubelet.api.quantity import Quantity, QuantityError
from minikubelet.api.validation.field import FieldError, Path, forbidden, invalid, required
from minikubelet.api.validation.names import is_qualified_name

__all__ = ["validate_resources"]

_STANDARD = {
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
    "requests.storage",
}
_HUGEPAGES = "hugepages-"


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended(name: str) -> bool:
    if _is_native(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native(name) and not name.startswith(_HUGEPAGES)


def _validate_name(name: str, path: Path) -> list[FieldError]:
    """`validateResourceName` then the container-specific rules; `gpu` gets two errors."""
    errs = [invalid(path, name, m) for m in is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name:
        standard = name in _STANDARD or name.startswith((_HUGEPAGES, "requests." + _HUGEPAGES))
        if not standard:
            errs.append(invalid(path, name, "must be a standard resource type or fully qualified"))
        if name not in ("cpu", "memory", "ephemeral-storage") and not name.startswith(_HUGEPAGES):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native(name) and not _is_extended(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def _hugepage_error(name: str, quantity: Quantity) -> str | None:
    try:
        page = Quantity.parse(name[len(_HUGEPAGES) :])
    except QuantityError:
        page = None
    if page is not None and page.sign > 0 and page.milli_value() % 1000 == 0:
        if quantity.value() % page.value() == 0:
            return None
    return f"{quantity} is not positive integer multiple of {name}"


def _validate_quantity(name: str, quantity: Quantity, path: Path) -> list[FieldError]:
    errs = []
    if quantity.sign < 0:
        errs.append(invalid(path, str(quantity), "must be greater than or equal to 0"))
    if _is_extended(name) and quantity.milli_value() % 1000 != 0:
        errs.append(invalid(path, quantity, "must be an integer"))
    return errs


def _validate_hugepage(name: str, quantity: Quantity, path: Path) -> list[FieldError]:
    message = _hugepage_error(name, quantity) if name.startswith(_HUGEPAGES) else None
    return [] if message is None else [invalid(path, str(quantity), message)]


def validate_resources(resources: ResourceRequirements | None, path: Path) -> list[FieldError]:
    """Limits, then requests (with request <= limit reported at `resources.requests`)."""
    limits = (resources.limits if resources else None) or {}
    requests = (resources.requests if resources else None) or {}
    lim_path, req_path = path.child("limits"), path.child("requests")
    errs: list[FieldError] = []
    for name in sorted(limits):
        errs += _validate_name(name, lim_path.key(name))
        errs += _validate_quantity(name, limits[name], lim_path.key(name))
        errs += _validate_hugepage(name, limits[name], lim_path.key(name))
    for name in sorted(requests):
        quantity = requests[name]
        errs += _validate_name(name, req_path.key(name))
        errs += _validate_quantity(name, quantity, req_path.key(name))
        limit = limits.get(name)
        if limit is not None:
            if quantity != limit and not _overcommit_allowed(name):
                detail = f"must be equal to {name} limit of {limit}"
                errs.append(invalid(req_path, str(quantity), detail))
            elif quantity > limit:
                detail = f"must be less than or equal to {name} limit of {limit}"
                errs.append(invalid(req_path, str(quantity), detail))
        elif not _overcommit_allowed(name):
            detail = "Limit must be set for non overcommitable resources"
            errs.append(required(lim_path, detail))
        errs += _validate_hugepage(name, quantity, req_path.key(name))
    names = set(limits) | set(requests)
    if any(n.startswith(_HUGEPAGES) for n in names) and not names & {"cpu", "memory"}:
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    return errs
