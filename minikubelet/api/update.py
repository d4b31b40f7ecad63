"""The API server's update pipeline for a Pod (PUT): `PrepareForUpdate`, `ValidatePodUpdate`.

A Pod's spec is all but immutable: only container and init-container images,
`activeDeadlineSeconds` (never growing), added tolerations and a negative grace period raised
to 1 may change. Metadata keeps its system fields; status is the old one (use /status).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikubelet.api.codec import from_dict, to_dict
from minikubelet.api.create import decode_pod
from minikubelet.api.disabled import drop_disabled_fields
from minikubelet.api.models import Pod
from minikubelet.api.validation import FieldError, Path, invalid_error, validate_pod
from minikubelet.api.validation.apparmor import validate_annotation_updates
from minikubelet.api.validation.field import forbidden, invalid
from minikubelet.api.validation.names import is_qualified_name
from minikubelet.api.validation.pod import validate_pod_annotations
from minikubelet.api.validation.security import host_namespaced_sysctls

__all__ = ["prepare_update", "validate_pod_update"]

_SYSTEM = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
_IMMUTABLE = ("name", "namespace", *_SYSTEM)
SPEC_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def prepare_update(old_body: dict[str, Any], body: dict[str, Any]) -> Pod:
    """The Pod to store for a PUT of `body` over `old_body`; raises the API server's errors."""
    new = decode_pod(copy.deepcopy(body))
    old = from_dict(Pod, old_body)
    for name in _SYSTEM:  # unset system fields are taken from the stored object
        if getattr(new.metadata, name) is None:
            setattr(new.metadata, name, getattr(old.metadata, name))
    new.metadata.namespace = new.metadata.namespace or old.metadata.namespace
    new.metadata.resourceVersion = old.metadata.resourceVersion
    drop_disabled_fields(new, old)
    for key in ("priority", "preemptionPolicy"):  # the Priority plugin's part of an update
        if new.spec.extra.get(key) is None and old.spec.extra.get(key) is not None:
            new.spec.extra[key] = old.spec.extra[key]
    new.status = old.status
    errors = validate_pod_update(new, old)
    if errors:
        raise invalid_error("Pod", new.metadata.name or "", errors)
    return new


def validate_pod_update(new: Pod, old: Pod) -> list[FieldError]:
    """Metadata immutability, full validation, then the spec rules, in the server's order."""
    errors: list[FieldError] = []
    meta = Path("metadata")
    new_meta, old_meta = to_dict(new.metadata), to_dict(old.metadata)
    for name in _IMMUTABLE:
        if new_meta.get(name) != old_meta.get(name):
            errors.append(invalid(meta.child(name), new_meta.get(name), "field is immutable"))
    kept = host_namespaced_sysctls(old.spec.extra, old.spec.hostNetwork is True)
    errors += validate_pod(new, create=False, host_sysctls=kept)
    # ValidatePodSpecificAnnotationUpdates, which validates the new annotations once more
    errors += validate_annotation_updates(new, old, meta.child("annotations"))
    errors += validate_pod_annotations(new, meta.child("annotations"))
    spec = Path("spec")
    for field in ("containers", "initContainers"):
        if len(getattr(new.spec, field) or []) != len(getattr(old.spec, field) or []):
            detail = "pod updates may not add or remove containers"
            return [*errors, forbidden(spec.child(field), detail)]
    errors += _deadline_errors(new, old)
    errors += _gates_errors(new, old)
    if _mutable_stripped(new) != _mutable_stripped(old):
        errors.append(forbidden(spec, SPEC_FORBIDDEN + "\n" + _spec_diff(old, new)))
    return errors


def _gates_errors(new: Pod, old: Pod) -> list[FieldError]:
    """`validateOnlyDeletedSchedulingGates`: a scheduling gate may go, none may come."""
    path = Path("spec").child("schedulingGates")
    before = {
        str(g.get("name"))
        for g in old.spec.extra.get("schedulingGates") or []
        if isinstance(g, dict)
    }
    errors = []
    for i, gate in enumerate(new.spec.extra.get("schedulingGates") or []):
        name = str(gate.get("name") if isinstance(gate, dict) else "")
        if name not in before:
            detail = f"only deletion is allowed, but found new scheduling gate '{name}'"
            errors.append(forbidden(path.index(i).child("name"), detail))
    return errors


def _deadline_errors(new: Pod, old: Pod) -> list[FieldError]:
    path = Path("spec").child("activeDeadlineSeconds")
    before, after = old.spec.activeDeadlineSeconds, new.spec.activeDeadlineSeconds
    if after is None:
        return (
            [invalid(path, None, "must not update from a positive integer to nil value")]
            if before
            else []
        )
    if not 0 <= after <= 2147483647:
        return [invalid(path, after, "must be between 0 and 2147483647, inclusive")]
    if before is not None and after > before:
        return [invalid(path, after, "must be less than or equal to previous value")]
    return []


def _mutable_stripped(pod: Pod) -> dict[str, Any]:
    """The spec with the fields an update may change blanked out."""
    spec = to_dict(pod.spec)
    for field in ("containers", "initContainers"):
        for container in spec.get(field) or []:
            container.pop("image", None)
    spec.pop("activeDeadlineSeconds", None)
    spec.pop("tolerations", None)
    spec.pop("schedulingGates", None)  # only removals: `_gates_errors`
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        spec["terminationGracePeriodSeconds"] = 1
    return spec


def _spec_diff(old: Pod, new: Pod) -> str:
    """A short diff of the changed top-level spec fields (the server prints a go-cmp diff)."""
    before, after = to_dict(old.spec), to_dict(new.spec)
    lines = ["  core.PodSpec{"]
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            lines.append(f"-  {key}: {json.dumps(before.get(key), sort_keys=True)},")
            lines.append(f"+  {key}: {json.dumps(after.get(key), sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines)


_SYSTEM_CONDITIONS = ("PodScheduled", "Ready", "Initialized")


def validate_status_update(new: Pod) -> list[FieldError]:
    """`validatePodConditions`, the part of `ValidatePodStatusUpdate` a client's status write
    can get wrong here (only the status is stored; the object's metadata and spec stay):
    condition types are qualified names but the system ones (upstream's path is
    `metadata.conditions[i].Type`)."""
    errors: list[FieldError] = []
    for i, condition in enumerate((new.status.conditions if new.status else None) or []):
        if condition.type in _SYSTEM_CONDITIONS:
            continue
        at = Path("metadata").child("conditions").index(i).child("Type")
        errors += [invalid(at, condition.type, m) for m in is_qualified_name(condition.type)]
    return errors
