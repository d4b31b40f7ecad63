"""The API server's checks of AppArmor's deprecated annotations (`pkg/apis/core/validation`:
`ValidateAppArmorPodAnnotations`, `validateAppArmorAnnotationsAndFieldsMatchOnCreate`,
`ValidatePodSpecificAnnotationUpdates`): an annotation names a container and a valid profile,
agrees with the container's field, and may not be added, changed or removed on update (nor may
the mirror-pod annotation)."""

from __future__ import annotations

from minikubelet.api.apparmor import (
    ANNOTATION,
    LOCALHOST,
    RUNTIME_DEFAULT,
    UNCONFINED,
    all_containers,
    annotation_for,
    profile_of,
    windows,
)
from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Pod
from minikubelet.api.validation.containers import containers_with_path
from minikubelet.api.validation.field import FieldError, Path, forbidden, invalid

__all__ = ["validate_annotation_updates", "validate_annotations", "validate_fields_match"]

_MIRROR = "kubernetes.io/config.mirror"
_TYPES_DIFFER = "apparmor type in annotation and field must match"


def validate_annotations(pod: Pod, path: Path) -> list[FieldError]:
    """`ValidateAppArmorPodAnnotations`: each annotation names a container of the pod and a
    profile of the annotation's own syntax."""
    names = {c.name for c in all_containers(pod)}
    errs: list[FieldError] = []
    for key, value in (pod.metadata.annotations or {}).items():
        if not key.startswith(ANNOTATION):
            continue
        name = key.removeprefix(ANNOTATION)
        if name not in names:
            errs.append(invalid(path.key(key), name, "container not found"))
        if value not in ("", RUNTIME_DEFAULT, UNCONFINED) and not value.startswith(LOCALHOST):
            detail = f"invalid AppArmor profile name: {go_quote(value)}"
            errs.append(invalid(path.key(key), value, detail))
    return errs


def validate_fields_match(pod: Pod, spec_path: Path) -> list[FieldError]:
    """`validateAppArmorAnnotationsAndFieldsMatchOnCreate`: where a container has both, its
    annotation and its profile (its own, else the pod's) agree."""
    if windows(pod):
        return []
    pod_profile = profile_of(pod.spec.extra.get("securityContext"))
    annotations = pod.metadata.annotations or {}
    errs: list[FieldError] = []
    for container, path in containers_with_path(pod.spec, spec_path):
        profile = profile_of(container.extra.get("securityContext")) or pod_profile
        annotation = annotations.get(ANNOTATION + container.name)
        if profile is None or annotation is None:
            continue
        at = path.child("securityContext").child("appArmorProfile")
        kind = profile.get("type")
        if kind in ("Unconfined", "RuntimeDefault"):
            if annotation != annotation_for(profile):
                errs.append(forbidden(at.child("type"), _TYPES_DIFFER))
        elif kind == "Localhost":
            if not annotation.startswith(LOCALHOST):
                errs.append(forbidden(at.child("type"), _TYPES_DIFFER))
            elif annotation.removeprefix(LOCALHOST) != profile.get("localhostProfile"):
                detail = "apparmor profile in annotation and field must match"
                errs.append(forbidden(at.child("localhostProfile"), detail))
    return errs


def validate_annotation_updates(new: Pod, old: Pod, path: Path) -> list[FieldError]:
    """`ValidatePodSpecificAnnotationUpdates`: AppArmor and mirror-pod annotations are fixed
    at create."""
    before, after = old.metadata.annotations or {}, new.metadata.annotations or {}
    errs: list[FieldError] = []
    for key, value in before.items():
        if key in after and after[key] == value:
            continue
        if key.startswith(ANNOTATION):
            errs.append(forbidden(path.key(key), "may not remove or update AppArmor annotations"))
        if key == _MIRROR:
            errs.append(forbidden(path.key(key), "may not remove or update mirror pod annotation"))
    for key in after:
        if key in before:
            continue
        if key.startswith(ANNOTATION):
            errs.append(forbidden(path.key(key), "may not add AppArmor annotations"))
        if key == _MIRROR:
            errs.append(forbidden(path.key(key), "may not add mirror pod annotation"))
    return errs
