"""API-server defaulting of a Pod (`pkg/apis/core/v1/defaults.go`, `SetObjectDefaults_Pod`).

A field is defaulted only when absent. The order is the API server's: pod, spec, volumes, init
containers, containers. Fields kept in `extra` (enableServiceLinks, schedulerName, lifecycle
handlers, projected sources) are defaulted in place as plain JSON.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.codec import to_dict
from minikubelet.api.models import (
    Container,
    EmptyDirVolumeSource,
    EnvVar,
    Pod,
    Probe,
    ResourceRequirements,
    Volume,
)

__all__ = ["default_pod", "default_pull_policy"]

# Volume sources whose defaultMode the API server sets to 0644 (420 in JSON).
_MODE_SOURCES = ("secret", "configMap", "downwardAPI", "projected")


def default_pod(pod: Pod) -> Pod:
    """Apply the API server's defaults to `pod` in place and return it."""
    spec = pod.spec
    spec.extra.setdefault("enableServiceLinks", True)
    spec.dnsPolicy = spec.dnsPolicy or "ClusterFirst"
    spec.restartPolicy = spec.restartPolicy or "Always"
    spec.extra.setdefault("schedulerName", "default-scheduler")
    if spec.extra.get("securityContext") is None:
        spec.extra["securityContext"] = {}
    if spec.terminationGracePeriodSeconds is None:
        spec.terminationGracePeriodSeconds = 30
    for volume in spec.volumes or []:
        _default_volume(volume)
    for container in spec.all_containers():
        _default_container(container, host_network=bool(spec.hostNetwork))
    if spec.extra.get("ephemeralContainers"):  # SetDefaults_EphemeralContainer
        ephemeral = spec.ephemeral_containers()
        for container in ephemeral:
            _default_container(container, host_network=bool(spec.hostNetwork))
        spec.extra["ephemeralContainers"] = [to_dict(c) for c in ephemeral]
    return pod


def default_pull_policy(image: str) -> str:
    """`Always` for tag `latest` or no tag and no digest, else `IfNotPresent`.

    The tag decides, not a digest (`nginx:latest@sha256:...` is Always); an image that does not
    parse as a reference (empty, blank, an upper-case repository) gets IfNotPresent, because the
    API server ignores the parse error.
    """
    name, _, digest = image.partition("@")
    head, _, last = name.rpartition("/")
    repository, _, tag = last.partition(":")
    path = f"{head}/{repository}".split("/", 1)[-1] if head else repository
    if not repository or path != path.lower() or any(c.isspace() for c in image):
        return "IfNotPresent"
    if tag:
        return "Always" if tag == "latest" else "IfNotPresent"
    return "IfNotPresent" if digest else "Always"


def _default_container(container: Container, *, host_network: bool) -> None:
    if not container.imagePullPolicy:
        container.imagePullPolicy = default_pull_policy(container.image or "")
    container.terminationMessagePath = container.terminationMessagePath or "/dev/termination-log"
    container.terminationMessagePolicy = container.terminationMessagePolicy or "File"
    for port in container.ports or []:
        port.protocol = port.protocol or "TCP"
        if host_network and not port.hostPort:
            port.hostPort = port.containerPort
    for env in container.env or []:
        _default_env(env)
    container.resources = _default_resources(container.resources or ResourceRequirements())
    for probe in container.probes().values():
        _default_probe(probe)
    lifecycle = container.extra.get("lifecycle")
    if isinstance(lifecycle, dict):
        for handler in lifecycle.values():
            if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
                _default_http_get(handler["httpGet"])


def _default_env(env: EnvVar) -> None:
    ref = env.valueFrom.fieldRef if env.valueFrom else None
    if ref is not None and not ref.apiVersion:
        ref.apiVersion = "v1"


def _default_resources(resources: ResourceRequirements) -> ResourceRequirements:
    """Requests copy missing keys from limits, then every quantity rounds up to milli."""
    if resources.limits:
        requests = dict(resources.requests or {})
        for key, limit in resources.limits.items():
            requests.setdefault(key, limit)
        resources.requests = requests
    for table in (resources.limits, resources.requests):
        if table:
            for key, quantity in table.items():
                table[key] = quantity.round_up_milli()
    return resources


def _default_probe(probe: Probe) -> None:
    probe.timeoutSeconds = probe.timeoutSeconds or 1
    probe.periodSeconds = probe.periodSeconds or 10
    probe.successThreshold = probe.successThreshold or 1
    probe.failureThreshold = probe.failureThreshold or 3
    if probe.httpGet is not None:
        probe.httpGet.path = probe.httpGet.path or "/"
        probe.httpGet.scheme = probe.httpGet.scheme or "HTTP"
    if probe.grpc is not None and probe.grpc.service is None:
        probe.grpc.service = ""


def _default_http_get(action: dict[str, Any]) -> None:
    action["path"] = action.get("path") or "/"
    action["scheme"] = action.get("scheme") or "HTTP"


def _default_volume(volume: Volume) -> None:
    if volume.emptyDir is None and volume.hostPath is None and not volume.extra:
        volume.emptyDir = EmptyDirVolumeSource()
    if volume.hostPath is not None and volume.hostPath.type is None:
        volume.hostPath.type = ""
    for source in _MODE_SOURCES:
        body = volume.extra.get(source)
        if isinstance(body, dict) and body.get("defaultMode") is None:
            body["defaultMode"] = 420
    _default_field_refs(volume.extra)


def _default_field_refs(node: Any) -> None:
    """downwardAPI items (also inside projected sources) get `fieldRef.apiVersion: v1`."""
    if isinstance(node, dict):
        ref = node.get("fieldRef")
        if isinstance(ref, dict) and not ref.get("apiVersion"):
            ref["apiVersion"] = "v1"
        for value in node.values():
            _default_field_refs(value)
    elif isinstance(node, list):
        for item in node:
            _default_field_refs(item)
