"""The API server's checks of seccomp's deprecated annotations (`pkg/apis/core/validation`:
`ValidateSeccompPodAnnotations`, `validateSeccompAnnotationsAndFields`). Since 1.27 they do
nothing (the fields are read; `GetWarningsForPod` says so), but their values are still checked,
and on create they must agree with the fields."""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import Pod
from minikubelet.api.validation.containers import containers_with_path
from minikubelet.api.validation.field import FieldError, Path, forbidden, invalid
from minikubelet.api.validation.volumes import local_descending

__all__ = [
    "CONTAINER_ANNOTATION",
    "POD_ANNOTATION",
    "validate_annotations",
    "validate_fields_match",
]

POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"
_LOCALHOST = "localhost/"


def _profile(value: str, path: Path) -> list[FieldError]:
    """`ValidateSeccompProfile`."""
    if value in ("runtime/default", "docker/default", "unconfined"):
        return []
    if value.startswith(_LOCALHOST):
        return local_descending(value.removeprefix(_LOCALHOST), path)
    return [invalid(path, value, "must be a valid seccomp profile")]


def validate_annotations(annotations: dict[str, str], path: Path) -> list[FieldError]:
    """The pod's annotation, then each container's; upstream names them with `Child`, so the
    path reads `metadata.annotations.seccomp.security.alpha.kubernetes.io/pod`."""
    errs: list[FieldError] = []
    if POD_ANNOTATION in annotations:
        errs += _profile(annotations[POD_ANNOTATION], path.child(POD_ANNOTATION))
    for key, value in annotations.items():
        if key.startswith(CONTAINER_ANNOTATION):
            errs += _profile(value, path.child(key))
    return errs


def _match(annotation: str, profile: dict[str, Any], path: Path) -> list[FieldError]:
    """`validateSeccompAnnotationsAndFieldsMatch`."""
    kind = profile.get("type")
    differ = "seccomp type in annotation and field must match"
    if kind == "Unconfined" and annotation != "unconfined":
        return [forbidden(path.child("type"), differ)]
    if kind == "RuntimeDefault" and annotation not in ("runtime/default", "docker/default"):
        return [forbidden(path.child("type"), differ)]
    if kind == "Localhost":
        if not annotation.startswith(_LOCALHOST):
            return [forbidden(path.child("type"), differ)]
        if annotation.removeprefix(_LOCALHOST) != profile.get("localhostProfile"):
            detail = "seccomp profile in annotation and field must match"
            return [forbidden(path.child("localhostProfile"), detail)]
    return []


def validate_fields_match(pod: Pod, spec_path: Path) -> list[FieldError]:
    """On create: the pod's annotation against the pod's field, each container's against its
    own field (not the pod's)."""
    annotations = pod.metadata.annotations or {}
    errs: list[FieldError] = []
    context = pod.spec.extra.get("securityContext") or {}
    profile = context.get("seccompProfile")
    if isinstance(profile, dict) and POD_ANNOTATION in annotations:
        at = spec_path.child("securityContext").child("seccompProfile")
        errs += _match(annotations[POD_ANNOTATION], profile, at)
    for container, path in containers_with_path(pod.spec, spec_path):
        own = (container.extra.get("securityContext") or {}).get("seccompProfile")
        key = CONTAINER_ANNOTATION + container.name
        if isinstance(own, dict) and key in annotations:
            at = path.child("securityContext").child("seccompProfile")
            errs += _match(annotations[key], own, at)
    return errs
