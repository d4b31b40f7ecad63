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
    "field_for",
    "profile_of",
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


def field_for(annotation: str) -> dict[str, Any] | None:
    """`apparmorFieldForAnnotation`; None for a value no valid field comes from."""
    if annotation == UNCONFINED:
        return {"type": "Unconfined"}
    if annotation == RUNTIME_DEFAULT:
        return {"type": "RuntimeDefault"}
    name = annotation.removeprefix(LOCALHOST)
    if annotation.startswith(LOCALHOST) and name and name.strip() == name:
        return {"type": "Localhost", "localhostProfile": name}
    return None


def apply_version_skew(pod: Pod) -> list[str]:
    """Sync the pod's annotations and fields (PrepareForCreate); the warnings to send."""
    warnings: list[str] = []
    pod_profile = profile_of(pod.spec.extra.get("securityContext"))
    annotations = dict(pod.metadata.annotations or {})
    ephemeral = pod.spec.extra.get("ephemeralContainers") or []
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
        if field is not None and field != pod_profile:
            context = dict(context) if isinstance(context, dict) else {}
            context["appArmorProfile"] = field
            container.extra["securityContext"] = context
            for raw in ephemeral:  # ephemeral containers live as JSON in the spec's extra
                if isinstance(raw, dict) and raw.get("name") == container.name:
                    raw["securityContext"] = context
        if field is None or field != pod_profile:
            warnings.append(f"metadata.annotations[{key}]: {_DEPRECATED}")
    if annotations:
        pod.metadata.annotations = annotations
    return warnings
