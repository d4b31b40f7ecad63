"""From a Container of the spec to the runtime's ContainerSpec: env, volumes, resources.

The kubelet's `generateContainerConfig`, for Docker: `$(VAR)` references expanded in env values,
command and args (`expansion.MappingFuncFor`), fieldRef values from the pod, emptyDir
directories under the agent's state dir, hostPath (its `type` checked by the volume manager,
`node/volumes.py`), `subPath` joined and created, limits as Docker memory/CPU limits and
requests as CPU shares.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minikubelet.api.models import Container, Pod
from minikubelet.api.quantity import Quantity
from minikubelet.node.envvars import EnvContext, EnvError, ObjectSource, expand, make_environment
from minikubelet.node.etc_hosts import host_network_hosts, managed_hosts
from minikubelet.node.ownership import set_volume_ownership
from minikubelet.node.projection import CONFIG_VOLUMES
from minikubelet.node.resolvconf import DOMAIN, pod_resolv_conf
from minikubelet.node.security import (
    SecurityError,
    container_security,
    fs_group_of,
    pod_namespaces,
)
from minikubelet.node.termination_message import (
    LABEL_MESSAGE_FILE,
    LABEL_MESSAGE_POLICY,
    message_file,
)
from minikubelet.runtime.types import LABEL_ATTEMPT, ContainerSpec, Mount
from minikubelet.services.envvars import service_env

__all__ = ["ConfigError", "PodContext", "container_spec", "expand", "pod_volume_dir"]


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
    objects: ObjectSource | None = None  # the ConfigMaps and Secrets env reads
    allocatable: Mapping[str, Quantity] | None = None
    services: Callable[[], list[dict[str, Any]]] | None = None  # every Service, for env
    cluster_dns: str = ""  # the kubelet's clusterDNS; empty: pods keep the engine's resolver
    # container name → its newest instance's id: an ephemeral container's --target
    container_ids: Mapping[str, str] | None = None
    apparmor: bool = False  # the host enforces AppArmor: profiles go to the engine


def pod_volume_dir(pods_dir: Path, uid: str, volume: str) -> Path:
    return pods_dir / uid / "volumes" / volume


def environment(pod: Pod, container: Container, ctx: PodContext) -> list[tuple[str, str]]:
    """The container's environment (`node/envvars.py`); a missing object is a ConfigError."""
    links = pod.spec.extra.get("enableServiceLinks")
    services = ctx.services() if ctx.services is not None else []
    env_ctx = EnvContext(
        ctx.objects or _NoObjects(),
        pod_ip=ctx.pod_ip,
        host_ip=ctx.host_ip,
        node_name=ctx.node_name,
        allocatable=ctx.allocatable,
        # the Services that exist as the container starts (getServiceEnvVarMap)
        service_env=service_env(services, pod.metadata.namespace or "", links is not False),
    )
    try:
        return make_environment(pod, container, env_ctx)
    except EnvError as exc:
        raise ConfigError(str(exc)) from None


class _NoObjects:
    def get_object(self, kind: str, namespace: str, name: str) -> None:
        return None


def _resolv_conf(pod: Pod, ctx: PodContext, taken: set[str]) -> list[Mount]:
    """The kubelet's resolv.conf for the pod (`node/resolvconf.py`), written in the pod's
    directory and bind-mounted at /etc/resolv.conf, unless the container mounts its own."""
    if "/etc/resolv.conf" in taken:
        return []
    try:
        host = Path("/etc/resolv.conf").read_text(errors="replace")
    except OSError:
        host = ""
    spec = {
        "dnsPolicy": pod.spec.dnsPolicy,
        "hostNetwork": pod.spec.hostNetwork,
        "dnsConfig": pod.spec.extra.get("dnsConfig"),
    }
    text = pod_resolv_conf(spec, pod.metadata.namespace or "", ctx.cluster_dns, host)
    if text is None:
        return []
    path = ctx.pods_dir / (pod.metadata.uid or "") / "resolv.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return [Mount(source=str(path), target="/etc/resolv.conf")]


def _etc_hosts(pod: Pod, ctx: PodContext, taken: set[str]) -> list[Mount]:
    """The kubelet-managed /etc/hosts (`node/etc_hosts.py`): written in the pod's directory,
    bind-mounted at /etc/hosts unless the container mounts its own or the pod has no IP."""
    if "/etc/hosts" in taken or not ctx.pod_ip:
        return []
    if pod.spec.hostNetwork:
        try:
            node_hosts = Path("/etc/hosts").read_text(errors="replace")
        except OSError:
            node_hosts = ""
        text = host_network_hosts(pod, node_hosts)
    else:
        text = managed_hosts(pod, [ctx.pod_ip], DOMAIN)
    path = ctx.pods_dir / (pod.metadata.uid or "") / "etc-hosts"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        path.chmod(0o644)
    return [Mount(source=str(path), target="/etc/hosts")]


def _empty_dir(source: str, fs_group: int | None) -> None:
    """The emptyDir's directory (0777), owned by the pod's fsGroup once, when made (the
    kubelet's emptyDir SetUp returns early once the volume is ready)."""
    if os.path.isdir(source):
        return
    os.makedirs(source, mode=0o777, exist_ok=True)
    os.chmod(source, 0o777)  # the umask
    if fs_group is not None:
        set_volume_ownership(source, fs_group, read_only=False)


def mounts(pod: Pod, container: Container, ctx: PodContext) -> list[Mount]:
    volumes = {v.name: v for v in pod.spec.volumes or []}
    targets = {m.mountPath for m in container.volumeMounts or []}
    out: list[Mount] = [*_resolv_conf(pod, ctx, targets), *_etc_hosts(pod, ctx, targets)]
    for mount in container.volumeMounts or []:
        volume = volumes[mount.name]  # validation guarantees the volume exists
        if volume.emptyDir is not None:
            source = str(pod_volume_dir(ctx.pods_dir, pod.metadata.uid or "", volume.name))
            _empty_dir(source, fs_group_of(pod))
        elif volume.hostPath is not None:
            # Its SetUp (the `type` check) ran in node/volumes.py before any container starts.
            source = volume.hostPath.path
        elif any(volume.extra.get(kind) is not None for kind in CONFIG_VOLUMES):
            # Written by node/volumes.py before any container starts; always read-only.
            source = str(pod_volume_dir(ctx.pods_dir, pod.metadata.uid or "", volume.name))
            if mount.subPath:  # the file itself, so later updates do not reach it
                source = os.path.realpath(os.path.join(source, mount.subPath))
            out.append(Mount(source=source, target=mount.mountPath, read_only=True))
            continue
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


def _pid_target(container: Container, ctx: PodContext) -> str | None:
    """An ephemeral container's `targetContainerName` as the id whose PID namespace it joins
    (`startSpec.getTargetID`: any status of that name, running or not)."""
    target = container.extra.get("targetContainerName")
    if not target:
        return None
    found = (ctx.container_ids or {}).get(str(target))
    if found is None:
        raise ConfigError(f"unable to find target container {target}")
    return found


def container_spec(
    pod: Pod, container: Container, attempt: int, ctx: PodContext, image_user: str = ""
) -> ContainerSpec:
    """The runtime spec of one container instance; raises ConfigError. `image_user`: the
    image's USER, read only when the security context needs it (`image_user_needed`)."""
    try:
        security = container_security(pod, container, image_user, apparmor=ctx.apparmor)
    except SecurityError as exc:
        raise ConfigError(str(exc)) from None
    env = environment(pod, container, ctx)
    lookup = dict(env)
    resources = container.resources
    limits = (resources.limits if resources else None) or {}
    requests = (resources.requests if resources else None) or {}
    cpu = requests.get("cpu") or limits.get("cpu")
    message = message_file(ctx.pods_dir, pod.metadata.uid or "", container)
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
        mounts=tuple([*mounts(pod, container, ctx), *([message] if message else [])]),
        memory_limit=limits["memory"].value() if "memory" in limits else None,
        nano_cpus=limits["cpu"].milli_value() * 1_000_000 if "cpu" in limits else None,
        cpu_shares=max(2, cpu.milli_value() * 1024 // 1000) if cpu is not None else 2,
        pid_target=_pid_target(container, ctx),
        security=security,
        namespaces=pod_namespaces(pod),
        stdin=bool(container.stdin),
        stdin_once=bool(container.stdinOnce),
        tty=bool(container.tty),
        labels={
            LABEL_ATTEMPT: str(attempt),
            "annotation.io.kubernetes.container.terminationMessagePath": (
                container.terminationMessagePath or ""
            ),
            LABEL_MESSAGE_POLICY: container.terminationMessagePolicy or "File",
            LABEL_MESSAGE_FILE: message.source if message else "",
            "annotation.io.kubernetes.pod.terminationGracePeriod": str(
                pod.spec.terminationGracePeriodSeconds or 30
            ),
        },
    )
