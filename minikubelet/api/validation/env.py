"""`env` and `envFrom` (`ValidateEnv`, `validateEnvVarValueFrom`, `ValidateEnvFrom`).

Only `valueFrom.fieldRef` is typed; the other sources and all of `envFrom` are raw JSON. Names
follow the 1.32 default (RelaxedEnvironmentVariableValidation): printable ASCII except `=`.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import EnvVar, ObjectFieldSelector
from minikubelet.api.quantity import Quantity, QuantityError
from minikubelet.api.raw import go_objects
from minikubelet.api.validation.field import (
    FieldError,
    Path,
    invalid,
    not_supported,
    required,
)
from minikubelet.api.validation.names import (
    env_var_name,
    is_config_map_key,
    is_qualified_name,
    name_is_dns_subdomain,
)

__all__ = ["validate_env", "validate_env_from"]

_FIELD_LABELS = {
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
}
# sets.List order (sorted), as the NotSupported message prints them.
_ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_RESOURCE_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
_BYTE_DIVISORS = {"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}
_DIVISOR_RULES = {
    "cpu": ({"1m", "1"}, "only divisor's values 1m and 1 are supported with the cpu resource"),
    "memory": (
        _BYTE_DIVISORS,
        "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are "
        "supported with the memory resource",
    ),
    "ephemeral-storage": (
        _BYTE_DIVISORS,
        "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are "
        "supported with the local ephemeral storage resource",
    ),
}
_ONE_OF_VALUE = (
    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
)


def _split_subscript(path: str) -> tuple[str, str] | None:
    """`fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['k']` -> (path, k)."""
    if not path.endswith("']"):
        return None
    head, sep, sub = path[:-2].partition("['")
    return (head, sub) if sep and head else None


def _convert_field_label(api_version: str, label: str) -> str:
    """`ConvertDownwardAPIFieldLabel`; raises ValueError with upstream's error text."""
    if api_version != "v1":
        raise ValueError(f"unsupported pod version: {api_version}")
    split = _split_subscript(label)
    if split is not None:
        if split[0] in ("metadata.annotations", "metadata.labels"):
            return label
        raise ValueError(f"field label does not support subscript: {label}")
    if label == "spec.host":
        return "spec.nodeName"
    if label in _FIELD_LABELS:
        return label
    raise ValueError(f"field label not supported: {label}")


def _validate_field_ref(ref: ObjectFieldSelector, path: Path) -> list[FieldError]:
    if not ref.apiVersion:
        return [required(path.child("apiVersion"))]
    if not ref.fieldPath:
        return [required(path.child("fieldPath"))]
    try:
        internal = _convert_field_label(ref.apiVersion, ref.fieldPath)
    except ValueError as exc:
        detail = f"error converting fieldPath: {exc}"
        return [invalid(path.child("fieldPath"), ref.fieldPath, detail)]
    split = _split_subscript(internal)
    if split is not None:
        head, sub = split
        if head == "metadata.annotations":
            sub = sub.lower()
        return [invalid(path, sub, m) for m in is_qualified_name(sub)]
    if internal not in _ENV_FIELD_PATHS:
        return [not_supported(path.child("fieldPath"), internal, _ENV_FIELD_PATHS)]
    return []


def _validate_resource_ref(ref: dict[str, Any], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    resource = ref.get("resource") or ""
    hugepages = resource.startswith(("limits.hugepages-", "requests.hugepages-"))
    if not resource:
        errs.append(required(path.child("resource")))
    elif resource not in _RESOURCE_PATHS and not hugepages:
        errs.append(not_supported(path.child("resource"), resource, _RESOURCE_PATHS))
    divisor = ref.get("divisor")
    rule = _DIVISOR_RULES.get(resource.partition(".")[2])
    if divisor is None or rule is None:
        return errs
    try:
        quantity = Quantity.parse(divisor)
    except QuantityError:
        return errs
    if not quantity.is_zero and str(quantity) not in rule[0]:
        errs.append(invalid(path.child("divisor"), resource, rule[1]))
    return errs


def _validate_key_ref(ref: dict[str, Any], path: Path) -> list[FieldError]:
    """configMapKeyRef / secretKeyRef: an EMPTY name gets the regex message, not Required."""
    name = ref.get("name") or ""
    errs = [invalid(path.child("name"), name, m) for m in name_is_dns_subdomain(name, False)]
    key = ref.get("key") or ""
    if not key:
        errs.append(required(path.child("key")))
    else:
        errs += [invalid(path.child("key"), key, m) for m in is_config_map_key(key)]
    return errs


def _validate_value_from(env: EnvVar, path: Path) -> list[FieldError]:
    source = env.valueFrom
    if source is None:
        return []
    errs: list[FieldError] = []
    count = 0
    if source.fieldRef is not None:
        count += 1
        errs += _validate_field_ref(source.fieldRef, path.child("fieldRef"))
    for key, check in (
        ("resourceFieldRef", _validate_resource_ref),
        ("configMapKeyRef", _validate_key_ref),
        ("secretKeyRef", _validate_key_ref),
    ):
        ref = source.extra.get(key)
        if ref is not None:
            count += 1
            errs += check(ref if isinstance(ref, dict) else {}, path.child(key))
    if count == 0:
        errs.append(invalid(path, "", _ONE_OF_VALUE))
    elif env.value:
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def validate_env(env: list[EnvVar] | None, path: Path) -> list[FieldError]:
    """An empty name draws both `Required` and the relaxed rule's own non-empty message."""
    errs: list[FieldError] = []
    for i, var in enumerate(env or []):
        var_path = path.index(i)
        if not var.name:
            errs.append(required(var_path.child("name")))
        errs += [invalid(var_path.child("name"), var.name, m) for m in env_var_name(var.name)]
        errs += _validate_value_from(var, var_path.child("valueFrom"))
    return errs


def _validate_env_source(ref: Any, path: Path) -> list[FieldError]:
    """configMapRef / secretRef: names checked in PREFIX mode (maskTrailingDash), upstream's way."""
    name = ref.get("name") if isinstance(ref, dict) else None
    if not name:
        return [required(path.child("name"))]
    return [invalid(path.child("name"), name, m) for m in name_is_dns_subdomain(name, True)]


def validate_env_from(items: Any, path: Path) -> list[FieldError]:
    """The one-source errors sit at `envFrom` itself, without the index."""
    errs: list[FieldError] = []
    for i, item in enumerate(go_objects(items)):
        item_path = path.index(i)
        prefix = item.get("prefix") or ""
        if prefix:
            errs += [invalid(item_path.child("prefix"), prefix, m) for m in env_var_name(prefix)]
        count = 0
        for key in ("configMapRef", "secretRef"):
            if item.get(key) is not None:
                count += 1
                errs += _validate_env_source(item[key], item_path.child(key))
        if count == 0:
            detail = "must specify one of: `configMapRef` or `secretRef`"
            errs.append(invalid(path, "", detail))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs
