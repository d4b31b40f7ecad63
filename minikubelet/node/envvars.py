"""A container's environment as the kubelet makes it (`kubelet_pods.go` makeEnvironmentVariables).

`envFrom` first (each ConfigMap's `data`, each Secret's `data`, with `prefix`), then `env` in
order, each value replacing an earlier one of the same name: `value` with `$(VAR)` expanded
against what is defined so far, or `valueFrom` (fieldRef, resourceFieldRef, configMapKeyRef,
secretKeyRef). A missing object or key that is not `optional` is an error whose text is the
kubelet's, which the pod worker turns into `CreateContainerConfigError`; an optional one is
skipped without a word. In 1.32 envFrom keys are injected as they are: the
`InvalidEnvironmentVariableNames` event and the skipping went with KEP-4369 (1.30).

Objects are read through `ObjectSource`, the kubelet's ConfigMap and Secret managers; each is
read once per call, as the kubelet caches them for one makeEnvironmentVariables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from minikubelet.api.gobase64 import decode
from minikubelet.api.models import Container, Pod
from minikubelet.api.quantity import Quantity
from minikubelet.api.raw import JSON
from minikubelet.node.downward import DownwardError, field_value, resource_value

__all__ = [
    "EnvContext",
    "EnvError",
    "ObjectSource",
    "expand",
    "make_environment",
    "not_found",
]

_REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")
_KINDS = {"ConfigMap": "configmap", "Secret": "secret"}  # the managers' group-resource


class EnvError(Exception):
    """The environment cannot be made; str is the kubelet's message."""


class ObjectSource(Protocol):
    """The kubelet's ConfigMap and Secret managers: an object, or None when it does not exist."""

    def get_object(self, kind: str, namespace: str, name: str) -> JSON | None: ...


def not_found(kind: str, name: str) -> str:
    """The managers' NotFound: singular and lower-case (`configmap "x" not found`)."""
    return f'{_KINDS[kind]} "{name}" not found'


class EnvContext:
    """What a container's environment reads besides the spec."""

    def __init__(
        self,
        source: ObjectSource,
        *,
        pod_ip: str = "",
        host_ip: str = "",
        node_name: str = "",
        allocatable: Mapping[str, Quantity] | None = None,
        service_env: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self.pod_ip = pod_ip
        self.host_ip = host_ip
        self.node_name = node_name
        self.allocatable = allocatable or {}
        self.service_env = service_env or {}


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: known names replaced, `$$` escapes, unknown kept."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, text)


class _Reader:
    """One call's cache of objects, as makeEnvironmentVariables keeps its maps."""

    def __init__(self, pod: Pod, ctx: EnvContext) -> None:
        self.namespace = pod.metadata.namespace or "default"
        self.ctx = ctx
        self.cache: dict[tuple[str, str], JSON | None] = {}

    def get(self, kind: str, name: str, optional: bool) -> JSON | None:
        """The object; None for a missing optional one; EnvError for a missing required one."""
        if (kind, name) not in self.cache:
            self.cache[(kind, name)] = self.ctx.source.get_object(kind, self.namespace, name)
        found = self.cache[(kind, name)]
        if found is None and not optional:
            raise EnvError(not_found(kind, name))
        return found

    def values(self, obj: JSON, kind: str) -> dict[str, str]:
        data = obj.get("data") or {}
        if kind == "Secret":
            return {k: decode(v).decode(errors="replace") for k, v in data.items()}
        return {k: str(v) for k, v in data.items()}


def _from_ref(reader: _Reader, kind: str, ref: JSON) -> str | None:
    """configMapKeyRef / secretKeyRef: the value, or None when an optional one is missing."""
    name, key, optional = (
        str(ref.get("name") or ""),
        str(ref.get("key") or ""),
        bool(ref.get("optional")),
    )
    obj = reader.get(kind, name, optional)
    if obj is None:
        return None
    values = reader.values(obj, kind)
    if key not in values:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind} {reader.namespace}/{name}")
    return values[key]


def make_environment(pod: Pod, container: Container, ctx: EnvContext) -> list[tuple[str, str]]:
    """The container's environment: envFrom, then env, then service variables not set."""
    reader = _Reader(pod, ctx)
    env: dict[str, str] = {}
    for source in container.extra.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(field)
            if ref is None:
                continue
            obj = reader.get(kind, str(ref.get("name") or ""), bool(ref.get("optional")))
            if obj is not None:
                env.update({prefix + k: v for k, v in reader.values(obj, kind).items()})
    for var in container.env or []:
        value = _value(pod, container, var, reader, env)
        if value is not None:
            env[var.name] = value
    extra = [(k, v) for k, v in ctx.service_env.items() if k not in env]
    return [*env.items(), *extra]


def _value(
    pod: Pod, container: Container, var: Any, reader: _Reader, env: dict[str, str]
) -> str | None:
    ctx = reader.ctx
    if var.value:
        return expand(var.value, {**ctx.service_env, **env})
    source = var.valueFrom
    if source is None:
        return ""
    try:
        if source.fieldRef is not None:
            return field_value(
                pod,
                source.fieldRef.fieldPath,
                pod_ip=ctx.pod_ip,
                host_ip=ctx.host_ip,
                node_name=ctx.node_name,
            )
        if source.extra.get("resourceFieldRef") is not None:
            ref = source.extra["resourceFieldRef"]
            return resource_value(ref, pod, container, ctx.allocatable)
    except DownwardError as exc:
        raise EnvError(str(exc)) from None
    if source.extra.get("configMapKeyRef") is not None:
        return _from_ref(reader, "ConfigMap", source.extra["configMapKeyRef"])
    if source.extra.get("secretKeyRef") is not None:
        return _from_ref(reader, "Secret", source.extra["secretKeyRef"])
    return ""
