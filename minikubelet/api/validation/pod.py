"""`ValidatePodCreate` for a defaulted Pod: metadata, pod annotations, spec, then create-only rules.

The order of the returned errors is the API server's (reference §2.10), because it is the order
of `causes` and of the aggregated message. Errors upstream produces while walking Go maps
(labels, annotations, nodeSelector) are sorted by key instead of random.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import ObjectMeta, Pod, PodSpec
from minikubelet.api.raw import go_objects
from minikubelet.api.validation.affinity import (
    validate_affinity,
    validate_topology_spread_constraints,
)
from minikubelet.api.validation.apparmor import validate_annotations as apparmor_annotations
from minikubelet.api.validation.apparmor import validate_fields_match as apparmor_fields_match
from minikubelet.api.validation.containers import (
    validate_containers,
    validate_ephemeral_containers,
    validate_image_whitespace,
    validate_init_containers,
)
from minikubelet.api.validation.field import (
    Bare,
    FieldError,
    Path,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from minikubelet.api.validation.names import (
    inclusive_range_error,
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
)
from minikubelet.api.validation.seccomp import validate_annotations as seccomp_annotations
from minikubelet.api.validation.seccomp import validate_fields_match as seccomp_fields_match
from minikubelet.api.validation.security import validate_pod_security
from minikubelet.api.validation.volumes import validate_volumes

__all__ = ["validate_labels", "validate_object_meta", "validate_pod", "validate_pod_annotations"]

_ANNOTATIONS_LIMIT = 256 * 1024
_MIRROR = "kubernetes.io/config.mirror"
_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_INT32 = 2**31 - 1
_NEGATIVE = "must be greater than or equal to 0"


def validate_labels(labels: dict[str, str] | None, path: Path) -> list[FieldError]:
    """Key errors then value errors per key, all at the map's path with no key index."""
    errs: list[FieldError] = []
    for key in sorted(labels or {}):
        errs += [invalid(path, key, m) for m in is_qualified_name(key)]
        value = (labels or {})[key]
        errs += [invalid(path, value, m) for m in is_valid_label_value(value)]
    return errs


def validate_annotations(annotations: dict[str, str] | None, path: Path) -> list[FieldError]:
    """Keys are checked lower-cased (BadValue is the original key); the total size is capped."""
    table = annotations or {}
    errs: list[FieldError] = []
    for key in sorted(table):
        errs += [invalid(path, key, m) for m in is_qualified_name(key.lower())]
    total = sum(len(k.encode()) + len(v.encode()) for k, v in table.items())
    if total > _ANNOTATIONS_LIMIT:
        errs.append(too_long(path, "", _ANNOTATIONS_LIMIT))
    return errs


def validate_object_meta(meta: ObjectMeta, path: Path) -> list[FieldError]:
    """`ValidateObjectMeta` with the pod name rule; a bad generateName also fails the name."""
    errs: list[FieldError] = []
    if meta.generateName:
        messages = name_is_dns_subdomain(meta.generateName, True)
        errs += [invalid(path.child("generateName"), meta.generateName, m) for m in messages]
    if not meta.name:
        errs.append(required(path.child("name"), "name or generateName is required"))
    else:
        messages = name_is_dns_subdomain(meta.name, False)
        errs += [invalid(path.child("name"), meta.name, m) for m in messages]
    if meta.namespace:
        messages = is_dns1123_label(meta.namespace)
        errs += [invalid(path.child("namespace"), meta.namespace, m) for m in messages]
    if meta.generation is not None and meta.generation < 0:
        errs.append(invalid(path.child("generation"), meta.generation, _NEGATIVE))
    errs += validate_labels(meta.labels, path.child("labels"))
    errs += validate_annotations(meta.annotations, path.child("annotations"))
    return errs


def _valid_deletion_cost(value: str) -> bool:
    """`GetDeletionCostFromPodAnnotations`: no `+`, no leading zeros, fits in int32."""
    if not value or not (value[0] == "-" or value == "0" or "1" <= value[0] <= "9"):
        return False
    try:
        number = int(value, 10)
    except ValueError:
        return False
    digits = value[1:] if value[0] == "-" else value
    return digits.isascii() and digits.isdigit() and -_INT32 - 1 <= number <= _INT32


def validate_pod_annotations(pod: Pod, path: Path) -> list[FieldError]:
    """`ValidatePodSpecificAnnotations`."""
    table = pod.metadata.annotations or {}
    errs: list[FieldError] = []
    if _MIRROR in table and not pod.spec.nodeName:
        detail = "must set spec.nodeName if mirror pod annotation is set"
        errs.append(invalid(path.key(_MIRROR), table[_MIRROR], detail))
    if _DELETION_COST in table and not _valid_deletion_cost(table[_DELETION_COST]):
        value = table[_DELETION_COST]
        errs.append(invalid(path.key(_DELETION_COST), value, "must be a 32bit integer"))
    errs += seccomp_annotations(table, path)
    errs += apparmor_annotations(pod, path)
    return errs


def _subdomain(value: str | None, path: Path) -> list[FieldError]:
    if not value:
        return []
    return [invalid(path, value, m) for m in name_is_dns_subdomain(value, False)]


def _label(value: str | None, path: Path) -> list[FieldError]:
    return [invalid(path, value, m) for m in is_dns1123_label(value)] if value else []


def _validate_toleration(item: dict[str, Any], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    key = item.get("key") or ""
    operator = item.get("operator") or ""
    value = item.get("value") or ""
    effect = item.get("effect") or ""
    if key:
        errs += [invalid(path.child("key"), key, m) for m in is_qualified_name(key)]
    if not key and operator != "Exists":
        detail = (
            "operator must be Exists when `key` is empty, "
            'which means "match all values and all keys"'
        )
        errs.append(invalid(path.child("operator"), operator, detail))
    if item.get("tolerationSeconds") is not None and effect != "NoExecute":
        detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
        errs.append(invalid(path.child("effect"), effect, detail))
    if operator in ("Equal", ""):
        messages = is_valid_label_value(value)
        if messages:
            errs.append(invalid(path.child("operator"), value, ";".join(messages)))
    elif operator == "Exists":
        if value:
            detail = "value must be empty when `operator` is 'Exists'"
            errs.append(invalid(path.child("operator"), _go_toleration(item), detail))
    else:
        errs.append(not_supported(path.child("operator"), operator, ("Equal", "Exists")))
    effects = ("NoSchedule", "PreferNoSchedule", "NoExecute")
    if effect and effect not in effects:
        errs.append(not_supported(path.child("effect"), effect, effects))
    return errs


def _go_toleration(item: dict[str, Any]) -> Any:
    """The whole toleration is the BadValue upstream, printed with %#v (a Go struct literal).

    A set tolerationSeconds prints a heap address upstream; a fixed placeholder stands in.
    """
    seconds = item.get("tolerationSeconds")
    pointer = "(*int64)(nil)" if seconds is None else "(*int64)(0xc000000000)"
    fields = ", ".join(
        f"{name}:{go_quote(str(item.get(key) or ''))}"
        for name, key in (
            ("Key", "key"),
            ("Operator", "operator"),
            ("Value", "value"),
            ("Effect", "effect"),
        )
    )
    return Bare(f"core.Toleration{{{fields}, TolerationSeconds:{pointer}}}")


def _validate_tolerations(items: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, item in enumerate(go_objects(items)):
        errs += _validate_toleration(item, path.index(i))
    return errs


def _validate_dns(spec: PodSpec, path: Path) -> list[FieldError]:
    policies = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
    errs: list[FieldError] = []
    if not spec.dnsPolicy:
        errs.append(required(path.child("dnsPolicy")))
    elif spec.dnsPolicy not in policies:
        errs.append(not_supported(path.child("dnsPolicy"), spec.dnsPolicy, policies))
    return errs


def _validate_dns_config(spec: PodSpec, path: Path) -> list[FieldError]:
    if spec.dnsPolicy != "None":
        return []
    config = spec.extra.get("dnsConfig")
    if config is None:
        return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
    if not (isinstance(config, dict) and config.get("nameservers")):
        detail = "must provide at least one DNS nameserver when `dnsPolicy` is None"
        return [required(path.child("nameservers"), detail)]
    return []


def _validate_host_network(spec: PodSpec, path: Path) -> list[FieldError]:
    if not spec.hostNetwork:
        return []
    errs: list[FieldError] = []
    detail = "must match `containerPort` when `hostNetwork` is true"
    for i, container in enumerate(spec.containers or []):
        for j, port in enumerate(container.ports or []):
            host = port.hostPort or 0
            if host != port.containerPort:
                errs.append(
                    invalid(path.index(i).child("ports").index(j).child("hostPort"), host, detail)
                )
    return errs


def _validate_spec(spec: PodSpec, path: Path, host_sysctls: bool = False) -> list[FieldError]:
    """`ValidatePodSpec`, in its order, for the fields minikubelet models or reads from extra.
    `host_sysctls`: `AllowNamespacedSysctlsForHostNetAndHostIPC`."""
    errs: list[FieldError] = []
    if spec.terminationGracePeriodSeconds is None:
        errs.append(required(path.child("terminationGracePeriodSeconds")))
    grace = spec.terminationGracePeriodSeconds
    grace = 30 if grace is None else grace
    known, volume_errs = validate_volumes(spec.volumes, path.child("volumes"))
    errs += volume_errs
    errs += validate_containers(spec.containers, known, grace, path.child("containers"))
    errs += validate_init_containers(
        spec.initContainers, spec.containers, known, grace, path.child("initContainers")
    )
    errs += validate_ephemeral_containers(
        spec.ephemeral_containers(),
        spec.containers,
        spec.initContainers,
        known,
        path.child("ephemeralContainers"),
    )
    errs += _validate_host_network(spec, path.child("containers"))
    restart = ("Always", "OnFailure", "Never")
    if not spec.restartPolicy:
        errs.append(required(path.child("restartPolicy")))
    elif spec.restartPolicy not in restart:
        errs.append(not_supported(path.child("restartPolicy"), spec.restartPolicy, restart))
    errs += _validate_dns(spec, path)
    errs += validate_labels(spec.nodeSelector, path.child("nodeSelector"))
    host_network = spec.hostNetwork is True
    errs += validate_pod_security(
        spec.extra, host_network, path.child("securityContext"), host_sysctls=host_sysctls
    )
    errs += validate_affinity(spec.extra.get("affinity"), path.child("affinity"))
    errs += _validate_dns_config(spec, path.child("dnsConfig"))
    spread = spec.extra.get("topologySpreadConstraints")
    errs += validate_topology_spread_constraints(spread, path.child("topologySpreadConstraints"))
    errs += _subdomain(spec.serviceAccountName, path.child("serviceAccountName"))
    errs += _subdomain(spec.nodeName, path.child("nodeName"))
    deadline = spec.activeDeadlineSeconds
    if deadline is not None and not 1 <= deadline <= _INT32:
        message = inclusive_range_error(1, _INT32)
        errs.append(invalid(path.child("activeDeadlineSeconds"), deadline, message))
    errs += _label(spec.hostname, path.child("hostname"))
    errs += _label(spec.subdomain, path.child("subdomain"))
    errs += _validate_tolerations(spec.extra.get("tolerations"), path.child("tolerations"))
    priority = spec.extra.get("priorityClassName")
    if isinstance(priority, str) and priority:
        messages = name_is_dns_subdomain(priority, False)
        if messages:
            errs.append(invalid(path.child("priorityClassName"), priority, ", ".join(messages)))
    return errs


def _validate_token_projections(spec: PodSpec, path: Path) -> list[FieldError]:
    """Without a serviceAccountName, projected serviceAccountToken sources are forbidden."""
    if spec.serviceAccountName:
        return []
    errs: list[FieldError] = []
    for i, volume in enumerate(spec.volumes or []):
        projected = volume.extra.get("projected")
        sources = projected.get("sources") if isinstance(projected, dict) else None
        for j, source in enumerate(sources if isinstance(sources, list) else []):
            if isinstance(source, dict) and source.get("serviceAccountToken") is not None:
                token_path = path.index(i).child("projected", "sources").index(j)
                detail = "must not be specified when serviceAccountName is not set"
                errs.append(forbidden(token_path.child("serviceAccountToken"), detail))
    return errs


def validate_pod(pod: Pod, *, create: bool = True, host_sysctls: bool = False) -> list[FieldError]:
    """All errors `ValidatePodCreate` reports for a defaulted Pod, in the API server's order
    (`create=False`: the spec and metadata checks an update repeats, which allow ephemeral
    containers; `host_sysctls`: an update of a pod stored with a network or IPC sysctl beside
    the host's namespace keeps it).

    Call it after name generation (a `generateName` pod must already carry its generated name,
    as upstream's BeforeCreate does), so a bad prefix fails both generateName and name.
    """
    meta_path, spec_path = Path("metadata"), Path("spec")
    errs = validate_object_meta(pod.metadata, meta_path)
    errs += validate_pod_annotations(pod, meta_path.child("annotations"))
    errs += _validate_spec(pod.spec, spec_path, host_sysctls)
    errs += _validate_token_projections(pod.spec, spec_path.child("volumes"))
    errs += validate_image_whitespace(pod.spec.containers, spec_path.child("containers"))
    errs += validate_image_whitespace(pod.spec.initContainers, spec_path.child("initContainers"))
    if create and pod.spec.extra.get("ephemeralContainers"):
        errs.append(forbidden(spec_path.child("ephemeralContainers"), "cannot be set on create"))
    if pod.spec.nodeName and pod.spec.extra.get("schedulingGates"):
        detail = "cannot be set until all schedulingGates have been cleared"
        errs.append(forbidden(spec_path.child("nodeName"), detail))
    if create:
        errs += seccomp_fields_match(pod, spec_path)
        errs += apparmor_fields_match(pod, spec_path)
    return errs
