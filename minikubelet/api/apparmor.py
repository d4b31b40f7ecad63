"""AppArmor's deprecated annotations beside the 1.30 fields, as the 1.32 API server keeps them
(`pkg/registry/core/pod/strategy.go` `applyAppArmorVersionSkew`).

On create each container's annotation `container.apparmor.security.beta.kubernetes.io/NAME`
and its profile (the container's field, else the pod's) are synced both ways: a field without
an annotation gets one, an annotation without a field gets the field (with a deprecation
warning), unless it equals the pod's profile. The validation of the annotations is in
`validation/apparmor.py`.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.models import Container, Pod

__all__ = [
    "ANNOTATION",
    "LOCALHOST",
    "RUNTIME_DEFAULT",
    "UNCONFINED",
    "all_containers",
    "annotation_for",
    "apply_version_skew",
    "container_profile",
    "field_for",
    "from_annotation",
    "profile_of",
    "windows",
]

ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
RUNTIME_DEFAULT, UNCONFINED, LOCALHOST = "runtime/default", "unconfined", "localhost/"
_DEPRECATED = 'deprecated since v1.30; use the "appArmorProfile" field instead'


def all_containers(pod: Pod) -> list[Container]:
    """`AllFeatureEnabledContainers`: init, regular, ephemeral."""
    return [*pod.spec.all_containers(), *pod.spec.ephemeral_containers()]


def profile_of(context: Any) -> dict[str, Any] | None:
    profile = (context or {}).get("appArmorProfile") if isinstance(context, dict) else None
    return profile if isinstance(profile, dict) else None


def annotation_for(profile: dict[str, Any]) -> str:
    kind = profile.get("type")
    if kind == "Unconfined":
        return UNCONFINED
    if kind == "RuntimeDefault":
        return RUNTIME_DEFAULT
    if kind == "Localhost" and profile.get("localhostProfile") is not None:
        return LOCALHOST + str(profile["localhostProfile"])
    return ""


def from_annotation(annotation: str | None) -> dict[str, Any] | None:
    """The kubelet's `getProfileFromPodAnnotations`: any `localhost/` value is a Localhost
    profile, even an empty or padded name (admission refuses an empty one); None for another
    value."""
    if annotation == UNCONFINED:
        return {"type": "Unconfined"}
    if annotation == RUNTIME_DEFAULT:
        return {"type": "RuntimeDefault"}
    if annotation is not None and annotation.startswith(LOCALHOST):
        return {"type": "Localhost", "localhostProfile": annotation.removeprefix(LOCALHOST)}
    return None


def field_for(annotation: str) -> dict[str, Any] | None:
    """The API server's `apparmorFieldForAnnotation`, kept only when the field it makes is
    valid (`ValidateAppArmorProfileField`: a name, unpadded, at most 4095 bytes)."""
    field = from_annotation(annotation)
    name = (field or {}).get("localhostProfile")
    if name is not None and (not name or name.strip() != name or len(name.encode()) > 4095):
        return None
    return field


def container_profile(pod: Pod, container: Container) -> dict[str, Any] | None:
    """The kubelet's `apparmor.GetProfile`: the container's field, else its annotation (a
    static pod's may not be synced), else the pod's field."""
    return (
        profile_of(container.extra.get("securityContext"))
        or from_annotation((pod.metadata.annotations or {}).get(ANNOTATION + container.name))
        or profile_of(pod.spec.extra.get("securityContext"))
    )


def windows(pod: Pod) -> bool:
    """`spec.os.name: windows`: AppArmor's skew and agreement checks skip such a pod."""
    return ((pod.spec.extra.get("os") or {}).get("name")) == "windows"


def _same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """`apiequality.Semantic.DeepEqual` of two profiles: a null field is an unset pointer."""

    def set_fields(profile: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if profile is None else {k: v for k, v in profile.items() if v is not None}

    return set_fields(a) == set_fields(b)


def apply_version_skew(pod: Pod) -> list[str]:
    """Sync the pod's annotations and fields (PrepareForCreate); the warnings to send."""
    warnings: list[str] = []
    if windows(pod):
        return warnings
    pod_profile = profile_of(pod.spec.extra.get("securityContext"))
    annotations = dict(pod.metadata.annotations or {})
    for container in all_containers(pod):
        key = ANNOTATION + container.name
        context = container.extra.get("securityContext")
        profile = profile_of(context)
        if key not in annotations:
            value = annotation_for(profile or pod_profile or {})
            if value:
                annotations[key] = value
            continue
        if profile is not None:
            continue
        field = field_for(annotations[key])
        if field is not None and not _same(field, pod_profile):
            context = dict(context) if isinstance(context, dict) else {}
            context["appArmorProfile"] = field
            # (an ephemeral container's copy goes nowhere: a create carrying one is refused)
            container.extra["securityContext"] = context
        if field is None or not _same(field, pod_profile):
            warnings.append(f"metadata.annotations[{key}]: {_DEPRECATED}")
    if annotations:
        pod.metadata.annotations = annotations
    return warnings
