"""Security contexts, as the API server validates them (`ValidateSecurityContext`,
`validatePodSpecSecurityContext`, `validateSeccompProfileField`).

Names of capabilities are not checked here, as upstream does not: the engine refuses one it does
not know when the container is created (`CreateContainerError`).
"""

from __future__ import annotations

import re
from typing import Any

from minikubelet.api.sysctls import in_host_namespace, sysctl_namespace
from minikubelet.api.validation.field import (
    Bare,
    FieldError,
    Path,
    duplicate,
    invalid,
    not_supported,
    required,
    too_long,
)
from minikubelet.api.validation.names import inclusive_range_error

__all__ = ["host_namespaced_sysctls", "validate_container_security", "validate_pod_security"]

_MAX_ID = 2147483647
_SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
_CHANGE_POLICIES = ("OnRootMismatch", "Always")
_APPARMOR_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
_PROFILE_MAX = 4095  # PATH_MAX - 1
_SYSCTL_MAX = 253  # SysctlMaxLength
_SYSCTL_SEGMENT = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
SYSCTL_PATTERN = rf"^({_SYSCTL_SEGMENT}[\./])*{_SYSCTL_SEGMENT}$"  # sysctlContainSlashRegexp
_SYSCTL_NAME = re.compile(SYSCTL_PATTERN)


def _ids(context: dict[str, Any], names: tuple[str, ...], path: Path) -> list[FieldError]:
    """`IsValidUserID`/`IsValidGroupID`: 0 to 2^31-1."""
    errs: list[FieldError] = []
    for name in names:
        value = context.get(name)
        if isinstance(value, int) and not 0 <= value <= _MAX_ID:
            errs.append(invalid(path.child(name), value, inclusive_range_error(0, _MAX_ID)))
    return errs


def _seccomp(profile: Any, path: Path) -> list[FieldError]:
    if not isinstance(profile, dict):
        return []
    kind = profile.get("type") or ""
    errs: list[FieldError] = []
    if not kind:
        errs.append(required(path.child("type"), "type is required when seccompProfile is set"))
    elif kind not in _SECCOMP_TYPES:
        errs.append(not_supported(path.child("type"), kind, _SECCOMP_TYPES))
    if kind == "Localhost" and profile.get("localhostProfile") is None:
        detail = "must be set when seccomp type is Localhost"
        errs.append(required(path.child("localhostProfile"), detail))
    return errs


def _apparmor(profile: Any, path: Path) -> list[FieldError]:
    """`ValidateAppArmorProfileField`."""
    if not isinstance(profile, dict):
        return []
    kind = profile.get("type") or ""
    name = profile.get("localhostProfile")
    at = path.child("localhostProfile")
    detail = "must be set when AppArmor type is Localhost"
    if kind == "Localhost":
        if name is None:
            return [required(at, detail)]
        errs: list[FieldError] = []
        if name.strip() != name:
            errs.append(invalid(at, name, "must not be padded with whitespace"))
        elif not name:
            errs.append(required(at, detail))
        if len(name.encode()) > _PROFILE_MAX:
            errs.append(too_long(at, name, _PROFILE_MAX))
        return errs
    if kind in ("RuntimeDefault", "Unconfined"):
        if name is None:
            return []
        return [invalid(at, name, "can only be set when AppArmor type is Localhost")]
    if not kind:
        return [required(path.child("type"), "type is required when appArmorProfile is set")]
    return [not_supported(path.child("type"), kind, _APPARMOR_TYPES)]


def validate_pod_security(
    spec_extra: dict[str, Any], host_network: bool, path: Path, *, host_sysctls: bool = False
) -> list[FieldError]:
    """`spec.securityContext` with the host namespaces the internal type folds into it (so
    upstream's path for shareProcessNamespace is `spec.securityContext.shareProcessNamespace`)."""
    context = spec_extra.get("securityContext")
    if not isinstance(context, dict):
        return []
    errs = _ids(context, ("fsGroup", "runAsUser", "runAsGroup"), path)
    for i, gid in enumerate(context.get("supplementalGroups") or []):
        if isinstance(gid, int) and not 0 <= gid <= _MAX_ID:
            item = path.child("supplementalGroups").index(i)
            errs.append(invalid(item, gid, inclusive_range_error(0, _MAX_ID)))
    if spec_extra.get("shareProcessNamespace") is True and spec_extra.get("hostPID") is True:
        detail = "ShareProcessNamespace and HostPID cannot both be enabled"
        errs.append(invalid(path.child("shareProcessNamespace"), True, detail))
    if context.get("sysctls"):
        host_ipc = spec_extra.get("hostIPC") is True
        if host_sysctls:  # AllowNamespacedSysctlsForHostNetAndHostIPC
            host_network = host_ipc = False
        errs += _sysctls(context["sysctls"], host_network, host_ipc, path.child("sysctls"))
    policy = context.get("fsGroupChangePolicy")
    if isinstance(policy, str) and policy not in _CHANGE_POLICIES:
        errs.append(not_supported(path.child("fsGroupChangePolicy"), policy, _CHANGE_POLICIES))
    errs += _seccomp(context.get("seccompProfile"), path.child("seccompProfile"))
    errs += _apparmor(context.get("appArmorProfile"), path.child("appArmorProfile"))
    return errs


def host_namespaced_sysctls(spec_extra: dict[str, Any], host_network: bool) -> bool:
    """Whether a stored pod has a sysctl of a namespace it shares with the host (made before the
    API server refused them): its updates may keep it (`GetValidationOptionsFromPodSpecAndMeta`)."""
    context = spec_extra.get("securityContext") or {}
    host_ipc = spec_extra.get("hostIPC") is True
    for item in context.get("sysctls") or []:
        name = str((item or {}).get("name") or "")
        if in_host_namespace(sysctl_namespace(name), host_network, host_ipc):
            return True
    return False


def _sysctls(sysctls: Any, host_network: bool, host_ipc: bool, path: Path) -> list[FieldError]:
    """`validateSysctls`: each name present, well formed and unique; a sysctl of the network
    or IPC namespace not with the host's (`ValidateHostSysctl`: such a pod would change the
    node's own)."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(sysctls if isinstance(sysctls, list) else []):
        name = item.get("name") or "" if isinstance(item, dict) else ""
        at = path.index(i).child("name")
        if not name:
            errs.append(required(at))
        elif len(name) > _SYSCTL_MAX or not _SYSCTL_NAME.fullmatch(name):
            detail = f"must have at most {_SYSCTL_MAX} characters and match regex {SYSCTL_PATTERN}"
            errs.append(invalid(at, name, detail))
        elif name in seen:
            errs.append(duplicate(at, name))
        namespace = sysctl_namespace(name)
        if in_host_namespace(namespace, host_network, host_ipc):
            shared = "hostNetwork" if namespace == "net" else "hostIPC"
            errs.append(invalid(at, name, f"may not be specified when '{shared}' is true"))
        seen.add(name)
    return errs


# core.SecurityContext's fields in order, each a pointer (JSON name, Go name, Go type).
_SC_FIELDS = (
    ("capabilities", "Capabilities", "*core.Capabilities"),
    ("privileged", "Privileged", "*bool"),
    ("seLinuxOptions", "SELinuxOptions", "*core.SELinuxOptions"),
    ("windowsOptions", "WindowsOptions", "*core.WindowsSecurityContextOptions"),
    ("runAsUser", "RunAsUser", "*int64"),
    ("runAsGroup", "RunAsGroup", "*int64"),
    ("runAsNonRoot", "RunAsNonRoot", "*bool"),
    ("readOnlyRootFilesystem", "ReadOnlyRootFilesystem", "*bool"),
    ("allowPrivilegeEscalation", "AllowPrivilegeEscalation", "*bool"),
    ("procMount", "ProcMount", "*core.ProcMountType"),
    ("seccompProfile", "SeccompProfile", "*core.SeccompProfile"),
    ("appArmorProfile", "AppArmorProfile", "*core.AppArmorProfile"),
)


def _go_security_context(context: dict[str, Any]) -> Bare:
    """The BadValue upstream: the internal SecurityContext printed with %#v, its set pointers
    as heap addresses (a fixed placeholder stands in, as for tolerations)."""
    fields = ", ".join(
        f"{go}:({kind})({'nil' if context.get(key) is None else '0xc000000000'})"
        for key, go, kind in _SC_FIELDS
    )
    return Bare(f"core.SecurityContext{{{fields}}}")


def validate_container_security(context: Any, path: Path) -> list[FieldError]:
    """A container's `securityContext` (`ValidateSecurityContext`, in its order)."""
    if not isinstance(context, dict):
        return []
    errs = _ids(context, ("runAsUser", "runAsGroup"), path)
    errs += _seccomp(context.get("seccompProfile"), path.child("seccompProfile"))
    if context.get("allowPrivilegeEscalation") is False:
        value = _go_security_context(context)
        if context.get("privileged") is True:
            detail = "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            errs.append(invalid(path, value, detail))
        for added in (context.get("capabilities") or {}).get("add") or []:
            if added == "CAP_SYS_ADMIN":
                detail = (
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                    "CAP_SYS_ADMIN"
                )
                errs.append(invalid(path, value, detail))
    errs += _apparmor(context.get("appArmorProfile"), path.child("appArmorProfile"))
    return errs
