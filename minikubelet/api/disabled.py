"""The fields a 1.32 API server drops because their feature gate is off by default
(`pkg/api/pod/util.go`: `dropDisabledFields` and the functions it calls).

A manifest may carry them; a 1.32 cluster stores the pod without them, silently (no warning),
unless the pod it updates already used them. With the 1.32 defaults that is:

    UserNamespacesSupport (beta, off)       spec.hostUsers
    SupplementalGroupsPolicy (alpha)        spec.securityContext.supplementalGroupsPolicy
    SELinuxChangePolicy (alpha)             spec.securityContext.seLinuxChangePolicy
    PodLevelResources (alpha)               spec.resources
    DynamicResourceAllocation (beta, off)   spec.resourceClaims, containers' resources.claims
    ClusterTrustBundleProjection (alpha)    projected sources' clusterTrustBundle
    InPlacePodVerticalScaling (alpha)       containers' resizePolicy
    ImageVolume (alpha)                     image volumes, with their volumeMounts
    ProcMountType (beta, off)               containers' securityContext.procMount: "Default"

The containers are the init, app and ephemeral ones alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minikubelet.api.models import Container, Pod

__all__ = ["drop_disabled_fields"]


def _modelled(pod: Pod) -> list[Container]:
    """The init and app containers (the models know them)."""
    return [*(pod.spec.initContainers or []), *(pod.spec.containers or [])]


def _ephemeral(pod: Pod) -> Iterator[dict[str, Any]]:
    """The ephemeral containers, raw (the models keep them in the spec's `extra`)."""
    for raw in pod.spec.extra.get("ephemeralContainers") or []:
        if isinstance(raw, dict):
            yield raw


def _containers(pod: Pod | None) -> Iterator[dict[str, Any]]:
    """Each container's own JSON-shaped fields: the models' `extra`, ephemeral ones raw."""
    if pod is None:
        return
    for container in _modelled(pod):
        yield container.extra
    yield from _ephemeral(pod)


def _context(holder: dict[str, Any]) -> dict[str, Any]:
    found = holder.get("securityContext")
    return found if isinstance(found, dict) else {}


def _volumes(pod: Pod | None) -> list[dict[str, Any]]:
    return [v.extra for v in (pod.spec.volumes or [])] if pod is not None else []


def _trust_bundles(volume: dict[str, Any]) -> bool:
    sources = (volume.get("projected") or {}).get("sources") or []
    return any(isinstance(s, dict) and "clusterTrustBundle" in s for s in sources)


def drop_disabled_fields(pod: Pod, old: Pod | None = None) -> None:
    """Drop from `pod` what the 1.32 defaults disable, keeping what `old` (the stored pod of
    an update) already used."""
    spec = pod.spec.extra
    before = old.spec.extra if old is not None else {}
    if before.get("hostUsers") is None:
        spec.pop("hostUsers", None)
    context, old_context = _context(spec), _context(before)
    for name in ("supplementalGroupsPolicy", "seLinuxChangePolicy"):
        if old_context.get(name) is None:
            context.pop(name, None)
    old_resources = before.get("resources") or {}
    if not (old_resources.get("requests") or old_resources.get("limits")):
        spec.pop("resources", None)
    if not before.get("resourceClaims"):
        spec.pop("resourceClaims", None)
        for container in _modelled(pod):
            if container.resources is not None:
                container.resources.extra.pop("claims", None)
        for raw in _ephemeral(pod):
            (raw.get("resources") or {}).pop("claims", None)
    if not any(_trust_bundles(v) for v in _volumes(old)):
        for volume in _volumes(pod):
            projected = volume.get("projected")
            if isinstance(projected, dict) and isinstance(projected.get("sources"), list):
                projected["sources"] = [
                    s
                    for s in projected["sources"]
                    if not (isinstance(s, dict) and "clusterTrustBundle" in s)
                ]
    if not any("resizePolicy" in c for c in _containers(old)):
        for fields in _containers(pod):
            fields.pop("resizePolicy", None)
    if not any("image" in v for v in _volumes(old)):
        _drop_image_volumes(pod)
    if not any(_context(c).get("procMount") not in (None, "Default") for c in _containers(old)):
        for fields in _containers(pod):
            if _context(fields).get("procMount") is not None:
                fields["securityContext"]["procMount"] = "Default"


def _drop_image_volumes(pod: Pod) -> None:
    """`dropDisabledFields`' ImageVolume part: the volumes and the mounts that name them."""
    images = {v.name for v in pod.spec.volumes or [] if "image" in v.extra}
    if not images:
        return
    pod.spec.volumes = [v for v in pod.spec.volumes or [] if v.name not in images] or None
    for container in _modelled(pod):
        if container.volumeMounts:
            kept = [m for m in container.volumeMounts if m.name not in images]
            container.volumeMounts = kept or None
    for raw in _ephemeral(pod):
        if isinstance(raw.get("volumeMounts"), list):
            raw["volumeMounts"] = [
                m
                for m in raw["volumeMounts"]
                if not (isinstance(m, dict) and m.get("name") in images)
            ]
