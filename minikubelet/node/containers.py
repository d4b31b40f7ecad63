"""From a Container of the spec to the runtime's ContainerSpec: env, volumes, resources.

The kubelet's `generateContainerConfig`, for Docker: `$(VAR)` references expanded in env values,
command and args (`expansion.MappingFuncFor`), fieldRef values from the pod, emptyDir
directories under the agent's state dir, hostPath with its `type` checks, `subPath` joined and
created, limits as Docker memory/CPU limits and requests as CPU shares.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from minikubelet.api.models import Container, Pod, Volume
from minikubelet.runtime.types import LABEL_ATTEMPT, ContainerSpec, Mount

__all__ = ["ConfigError", "PodContext", "container_spec", "expand", "pod_volume_dir"]

_REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")


class ConfigError(Exception):
    """The container cannot be configured (CreateContainerConfigError); str is the message."""


@dataclass(frozen=True)
class PodContext:
    """What the container config reads besides the spec."""

    node_name: str
    pod_ip: str
    host_ip: str
    sandbox_id: str
    pods_dir: Path


def pod_volume_dir(pods_dir: Path, uid: str, volume: str) -> Path:
    return pods_dir / uid / "volumes" / volume


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: known names replaced, `$$` escapes, unknown kept."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REFERENCE.sub(replace, text)


def _field_value(pod: Pod, path: str, ctx: PodContext) -> str:
    meta = pod.metadata
    subscript = re.fullmatch(r"metadata\.(labels|annotations)\['(.*)'\]", path)
    if subscript:
        table = (meta.labels if subscript.group(1) == "labels" else meta.annotations) or {}
        return table.get(subscript.group(2), "")
    values = {
        "metadata.name": meta.name or "",
        "metadata.namespace": meta.namespace or "",
        "metadata.uid": meta.uid or "",
        "spec.nodeName": pod.spec.nodeName or ctx.node_name,
        "spec.serviceAccountName": pod.spec.serviceAccountName or "",
        "status.podIP": ctx.pod_ip,
        "status.podIPs": ctx.pod_ip,
        "status.hostIP": ctx.host_ip,
        "status.hostIPs": ctx.host_ip,
    }
    return values.get(path, "")


def environment(pod: Pod, container: Container, ctx: PodContext) -> list[tuple[str, str]]:
    """The container's env in order; later values may reference earlier ones."""
    resolved: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    for var in container.env or []:
        if var.valueFrom is not None and var.valueFrom.fieldRef is not None:
            value = _field_value(pod, var.valueFrom.fieldRef.fieldPath, ctx)
        elif var.valueFrom is not None:
            raise ConfigError(f"env {var.name}: only fieldRef sources are supported by minikubelet")
        else:
            value = expand(var.value or "", resolved)
        resolved[var.name] = value
        out.append((var.name, value))
    return out


def _host_path(volume: Volume) -> str:
    assert volume.hostPath is not None
    path, kind = volume.hostPath.path, volume.hostPath.type or ""
    target = Path(path)
    if kind == "DirectoryOrCreate":
        target.mkdir(parents=True, exist_ok=True, mode=0o755)
    elif kind == "FileOrCreate" and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o644)
    checks = {
        "Directory": (target.is_dir, "is not a directory"),
        "File": (target.is_file, "is not a file"),
        "Socket": (target.is_socket, "is not a socket"),
        "CharDevice": (target.is_char_device, "is not a character device"),
        "BlockDevice": (target.is_block_device, "is not a block device"),
    }
    if kind in checks:
        check, problem = checks[kind]
        if not target.exists():
            raise ConfigError(f"hostPath type check failed: {path} does not exist")
        if not check():
            raise ConfigError(f"hostPath type check failed: {path} {problem}")
    return path


def mounts(pod: Pod, container: Container, ctx: PodContext) -> list[Mount]:
    volumes = {v.name: v for v in pod.spec.volumes or []}
    out: list[Mount] = []
    for mount in container.volumeMounts or []:
        volume = volumes[mount.name]  # validation guarantees the volume exists
        if volume.emptyDir is not None:
            source = str(pod_volume_dir(ctx.pods_dir, pod.metadata.uid or "", volume.name))
            os.makedirs(source, mode=0o777, exist_ok=True)
        elif volume.hostPath is not None:
            source = _host_path(volume)
        else:
            kind = next(iter(volume.extra), "unknown")
            raise ConfigError(
                f'volume "{volume.name}": {kind} volumes are not supported by minikubelet'
            )
        if mount.subPath:
            source = os.path.join(source, mount.subPath)
            os.makedirs(source, mode=0o777, exist_ok=True)
        out.append(Mount(source=source, target=mount.mountPath, read_only=bool(mount.readOnly)))
    return out


def container_spec(pod: Pod, container: Container, attempt: int, ctx: PodContext) -> ContainerSpec:
    """The runtime spec of one container instance; raises ConfigError."""
    env = environment(pod, container, ctx)
    lookup = dict(env)
    resources = container.resources
    limits = (resources.limits if resources else None) or {}
    requests = (resources.requests if resources else None) or {}
    cpu = requests.get("cpu") or limits.get("cpu")
    return ContainerSpec(
        pod_uid=pod.metadata.uid or "",
        pod_name=pod.name,
        namespace=pod.namespace,
        name=container.name,
        attempt=attempt,
        image=container.image or "",
        sandbox_id=ctx.sandbox_id,
        command=tuple(expand(c, lookup) for c in container.command) if container.command else None,
        args=tuple(expand(a, lookup) for a in container.args) if container.args else None,
        working_dir=container.workingDir,
        env=tuple(env),
        mounts=tuple(mounts(pod, container, ctx)),
        memory_limit=limits["memory"].value() if "memory" in limits else None,
        nano_cpus=limits["cpu"].milli_value() * 1_000_000 if "cpu" in limits else None,
        cpu_shares=max(2, cpu.milli_value() * 1024 // 1000) if cpu is not None else 2,
        labels={
            LABEL_ATTEMPT: str(attempt),
            "annotation.io.kubernetes.container.terminationMessagePath": (
                container.terminationMessagePath or ""
            ),
            "annotation.io.kubernetes.pod.terminationGracePeriod": str(
                pod.spec.terminationGracePeriodSeconds or 30
            ),
        },
    )
