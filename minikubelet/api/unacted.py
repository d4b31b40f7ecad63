"""Fields a Pod may carry that this node accepts and stores but does not act on.

The API server takes the whole core/v1 Pod, so a manifest that works on a cluster works here;
where a field would change how the pod runs there and does not here, `apply` and `create` say
so with a `Warning:` line, as kubectl prints an API server's warnings (DESIGN.md, "Decisions").
"""

from __future__ import annotations

from minikubelet.api.models import Container, Pod

__all__ = ["unacted_fields"]

# (the fields of the gates 1.32 keeps off never get here: `disabled.py` drops them)
_CONTAINER_FIELDS = ("volumeDevices",)
# securityContext fields the node does not act on (the rest: `node/security.py`)
_POD_SECURITY = ("seLinuxOptions",)
_CONTAINER_SECURITY = ("seLinuxOptions",)
# a persistentVolumeClaim is acted on: the scheduler finds no such claim (`node/scheduler.py`)
_SUPPORTED_VOLUMES = (
    "emptyDir",
    "hostPath",
    "configMap",
    "secret",
    "downwardAPI",
    "projected",
    "persistentVolumeClaim",
)
_SUPPORTED_PROJECTIONS = ("configMap", "secret", "downwardAPI")
_MESSAGE = "not acted on by minikubelet: the pod runs as if it were not set"


def unacted_fields(pod: Pod) -> list[str]:
    """One warning per field that is set but not acted on, with its path."""
    spec = pod.spec
    pod_sc = spec.extra.get("securityContext") or {}
    found = [f"spec.securityContext.{n}" for n in _POD_SECURITY if _set(pod_sc.get(n))]
    for group in ("initContainers", "containers"):
        for i, container in enumerate(getattr(spec, group) or []):
            found += _container(container, f"spec.{group}[{i}]")
    for i, volume in enumerate(spec.volumes or []):
        for source in volume.extra:
            if source not in _SUPPORTED_VOLUMES:
                found.append(f"spec.volumes[{i}].{source}")
        for j, item in enumerate((volume.extra.get("projected") or {}).get("sources") or []):
            found += [
                f"spec.volumes[{i}].projected.sources[{j}].{kind}"
                for kind in item
                if kind not in _SUPPORTED_PROJECTIONS
            ]
    return [f"{path}: {_MESSAGE}" for path in dict.fromkeys(found)]


def _container(container: Container, path: str) -> list[str]:
    found = [f"{path}.{name}" for name in _CONTAINER_FIELDS if _set(container.extra.get(name))]
    context = container.extra.get("securityContext") or {}
    found += [f"{path}.securityContext.{n}" for n in _CONTAINER_SECURITY if _set(context.get(n))]
    return found


def _set(value: object) -> bool:
    return value not in (None, {}, [], "", False)
