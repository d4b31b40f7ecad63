"""Docker host-config settings for a container's security context and a pod's namespaces
(dockershim's `modifyContainerConfig`/`modifyHostConfig` and `modifyPodSandboxHostConfig`
shapes; podman's compatibility API takes the same keys)."""

from __future__ import annotations

from typing import Any

from minikubelet.runtime.types import ContainerSpec, SandboxSpec

__all__ = ["container_host_config", "sandbox_host_config"]


def container_host_config(spec: ContainerSpec) -> dict[str, Any]:
    """Host-config keyword arguments (docker-py's `create_host_config`) for the container's
    namespaces and security settings; `user` goes in the container config instead."""
    security, ns = spec.security, spec.namespaces
    options = []
    if security.no_new_privs:
        options.append("no-new-privileges")
    if security.seccomp == "unconfined":  # runtime/default: the engine's own profile
        options.append("seccomp=unconfined")
    if security.apparmor:
        options.append(f"apparmor={security.apparmor}")
    if ns.host_pid:
        pid_mode: str | None = "host"
    elif ns.share_pid:
        pid_mode = f"container:{spec.sandbox_id}"  # the pod's namespace, even for a --target
    elif spec.pid_target:
        pid_mode = f"container:{spec.pid_target}"
    else:
        pid_mode = None
    return {
        "network_mode": f"container:{spec.sandbox_id}",
        "ipc_mode": "host" if ns.host_ipc else f"container:{spec.sandbox_id}",
        "pid_mode": pid_mode,
        "uts_mode": "host" if ns.host_network else None,
        "group_add": list(security.group_add) or None,
        "privileged": security.privileged,
        "read_only": security.read_only_rootfs,
        "cap_add": list(security.cap_add) or None,
        "cap_drop": list(security.cap_drop) or None,
        "security_opt": options or None,
    }


def sandbox_host_config(spec: SandboxSpec, network: str) -> dict[str, Any]:
    """The infra container's namespaces: the host's where the pod asks for them; IPC
    shareable otherwise (20.10 defaults to private IPC, which no one may join); the pod's
    sysctls, written in them when the sandbox starts."""
    ns = spec.namespaces
    return {
        "network_mode": "host" if ns.host_network else network,
        "ipc_mode": "host" if ns.host_ipc else "shareable",
        "pid_mode": "host" if ns.host_pid else None,
        "uts_mode": "host" if ns.host_network else None,
        "sysctls": dict(spec.sysctls) or None,
    }
