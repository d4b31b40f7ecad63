"""The security context a container runs with, as the kubelet derives it.

- `effective_context`: `securitycontext.DetermineEffectiveSecurityContext` — the pod's
  runAsUser, runAsGroup, runAsNonRoot, seccompProfile (and SELinux, AppArmor, Windows options)
  as defaults; each field the container sets wins.
- `verify_run_as_non_root`: `verifyRunAsNonRoot` (`security_context_others.go`), with its
  messages; the image's user is what `getImageUser` reads (`uid[:gid]` or `name[:group]`, the
  group ignored; none is uid 0).
- `container_security`: `determineEffectiveSecurityContext` for Docker: the user and group
  (`runAsGroup` without `runAsUser` keeps the image's user), supplemental groups (`fsGroup`
  first, then `supplementalGroups`), privileged, capabilities, a read-only root filesystem,
  no_new_privs when `allowPrivilegeEscalation` is false (`AddNoNewPrivileges`), the seccomp
  profile (`getSeccompProfile`: the container's, else the pod's, else Unconfined as a kubelet
  without `--seccomp-default` runs it) and the pod's host namespaces.

A `Localhost` seccomp profile is refused (`CreateContainerConfigError`): this node keeps no
profile directory, and running the container without the profile it names would ignore it.
"""

from __future__ import annotations

from typing import Any

from minikubelet.api.apparmor import container_profile
from minikubelet.api.models import Container, Pod
from minikubelet.api.sysctls import normalize
from minikubelet.runtime.types import ContainerSecurity, PodNamespaces

__all__ = [
    "SecurityError",
    "container_security",
    "effective_context",
    "fs_group_of",
    "image_user_needed",
    "pod_namespaces",
    "verify_run_as_non_root",
]

_MAX_ID = 2147483647
# the pod-level fields a container inherits (securityContextFromPodSecurityContext)
_FROM_POD = (
    "seLinuxOptions",
    "windowsOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seccompProfile",
    "appArmorProfile",
)


class SecurityError(Exception):
    """The container cannot be configured as its security context asks; str is the message."""


def fs_group_of(pod: Pod) -> int | None:
    """The pod's `fsGroup`, which volume ownership and the supplemental groups use."""
    value = (_context(pod.spec.extra.get("securityContext")) or {}).get("fsGroup")
    return value if isinstance(value, int) else None


def pod_namespaces(pod: Pod) -> PodNamespaces:
    extra = pod.spec.extra
    return PodNamespaces(
        host_network=bool(pod.spec.hostNetwork),
        host_pid=extra.get("hostPID") is True,
        host_ipc=extra.get("hostIPC") is True,
        share_pid=extra.get("shareProcessNamespace") is True,
    )


def pod_sysctls(pod: Pod) -> tuple[tuple[str, str], ...]:
    """The pod's sysctls for its sandbox (`LinuxPodSandboxConfig.Sysctls`), dotted: set in the
    namespaces the sandbox holds, which the pod's containers join. Admission let only the
    safe ones through (`node/admission.py`)."""
    context = _context(pod.spec.extra.get("securityContext")) or {}
    return tuple(
        (normalize(str(item.get("name") or "")), str(item.get("value") or ""))
        for item in context.get("sysctls") or []
        if isinstance(item, dict)
    )


def _context(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def effective_context(pod: Pod, container: Container) -> dict[str, Any] | None:
    """`DetermineEffectiveSecurityContext`: None when neither the pod nor the container has
    one (the API server defaults the pod's to `{}`, so in practice it is never None)."""
    pod_sc = _context(pod.spec.extra.get("securityContext"))
    container_sc = _context(container.extra.get("securityContext"))
    if pod_sc is None and container_sc is None:
        return None
    merged = {k: pod_sc[k] for k in _FROM_POD if pod_sc and pod_sc.get(k) is not None}
    merged.update({k: v for k, v in (container_sc or {}).items() if v is not None})
    return merged


def format_pod(pod: Pod) -> str:
    """`format.Pod`: `name_namespace(uid)`."""
    return f"{pod.name}_{pod.namespace}({pod.metadata.uid or ''})"


def _image_uid(image_user: str) -> tuple[int | None, str]:
    """`getImageUser`: (uid, "") for a numeric user, (None, name) for a name, (0, "") for none."""
    user = image_user.split(":", 1)[0]
    if not user:
        return 0, ""
    if user.isdigit():
        return int(user), ""
    return None, user


def image_user_needed(pod: Pod, container: Container) -> bool:
    """Whether the image's user must be read: runAsNonRoot to verify without a runAsUser, or a
    runAsGroup to pair with the image's user."""
    sc = effective_context(pod, container) or {}
    if sc.get("runAsUser") is not None:
        return False
    return sc.get("runAsNonRoot") is True or sc.get("runAsGroup") is not None


def verify_run_as_non_root(pod: Pod, container: Container, image_user: str) -> str | None:
    """The kubelet's error text, or None when the container may run."""
    sc = effective_context(pod, container)
    if not sc or sc.get("runAsNonRoot") is not True:
        return None
    where = f'(pod: "{format_pod(pod)}", container: {container.name})'
    if sc.get("runAsUser") is not None:
        if sc["runAsUser"] == 0:
            return f"container's runAsUser breaks non-root policy {where}"
        return None
    uid, name = _image_uid(image_user)
    if uid is None:
        return (
            f"container has runAsNonRoot and image has non-numeric user ({name}), "
            f"cannot verify user is non-root {where}"
        )
    if uid == 0:
        return f"container has runAsNonRoot and image will run as root {where}"
    if uid > _MAX_ID:
        detail = f"must be between 0 and {_MAX_ID}, inclusive"
        return (
            f"container has runAsNonRoot and image has an invalid user id ({uid}). "
            f"(Must be 1-({_MAX_ID})): {detail} {where}"
        )
    return None


def _user(sc: dict[str, Any], image_user: str) -> str | None:
    uid, gid = sc.get("runAsUser"), sc.get("runAsGroup")
    if uid is not None:
        return f"{uid}:{gid}" if gid is not None else str(uid)
    if gid is None:
        return None  # the image's USER, as the engine reads it
    image_uid, name = _image_uid(image_user)
    return f"{name or image_uid}:{gid}"


def _apparmor(pod: Pod, container: Container) -> str:
    """`getAppArmorProfile` for Docker (`apparmor.GetProfile`): RuntimeDefault is the engine's
    own profile (docker-default), so only Unconfined and Localhost are named."""
    profile = container_profile(pod, container) or {}
    if profile.get("type") == "Unconfined":
        return "unconfined"
    if profile.get("type") == "Localhost":
        return str(profile.get("localhostProfile") or "")
    return ""


def _seccomp(profile: Any) -> str:
    """`fieldSeccompProfile`; Localhost refused (see the module's docstring)."""
    kind = profile.get("type") if isinstance(profile, dict) else None
    if kind == "RuntimeDefault":
        return "runtime/default"
    if kind == "Localhost":
        name = str(profile.get("localhostProfile") or "")
        raise SecurityError(
            f'seccomp profile type Localhost ("{name}") is not supported by minikubelet: '
            "it keeps no seccomp profile directory; use RuntimeDefault or Unconfined"
        )
    return "unconfined"


def container_security(
    pod: Pod, container: Container, image_user: str = "", *, apparmor: bool = False
) -> ContainerSecurity:
    """The engine's settings for the container; raises SecurityError (the kubelet's
    `CreateContainerConfigError`) for runAsNonRoot violations and what cannot be done.
    `apparmor`: the host enforces AppArmor (else admission let only Unconfined through)."""
    problem = verify_run_as_non_root(pod, container, image_user)
    if problem is not None:
        raise SecurityError(problem)
    sc = effective_context(pod, container) or {}
    pod_sc = _context(pod.spec.extra.get("securityContext")) or {}
    groups: list[str] = []
    if pod_sc.get("fsGroup") is not None:
        groups.append(str(pod_sc["fsGroup"]))
    groups += [str(g) for g in pod_sc.get("supplementalGroups") or []]
    capabilities = _context(sc.get("capabilities")) or {}
    return ContainerSecurity(
        user=_user(sc, image_user),
        group_add=tuple(dict.fromkeys(groups)),
        privileged=sc.get("privileged") is True,
        read_only_rootfs=sc.get("readOnlyRootFilesystem") is True,
        cap_add=tuple(str(c) for c in capabilities.get("add") or []),
        cap_drop=tuple(str(c) for c in capabilities.get("drop") or []),
        no_new_privs=sc.get("allowPrivilegeEscalation") is False,
        seccomp=_seccomp(sc.get("seccompProfile")),
        apparmor=_apparmor(pod, container) if apparmor else "",
    )
