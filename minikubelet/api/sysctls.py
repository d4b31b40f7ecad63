"""Sysctl names as Kubernetes reads them: the kernel namespace a sysctl lives in, the dotted
form of a name written with slashes, and the kubelet's allowlist (its safe set for the running
kernel, and the patterns of `--allowed-unsafe-sysctls`).

Upstream: `k8s.io/component-helpers/node/util/sysctl` (`NormalizeName`, `GetNamespace`), used
by the API server (`ValidateHostSysctl`) and, as `NamespacedBy`, by the kubelet's allowlist
(`pkg/kubelet/sysctl`). Only these sysctls are namespaced: one set per pod, invisible to
the host and the other pods.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from minikubelet.api.gofmt import go_quote
from minikubelet.errors import MinikubeletError

__all__ = [
    "Namespace",
    "SysctlAllowlist",
    "normalize",
    "in_host_namespace",
    "safe_sysctls",
    "sysctl_namespace",
    "unsafe_sysctl_patterns",
]

Namespace = Literal["ipc", "net", ""]

_EXACT: dict[str, Namespace] = {"kernel.sem": "ipc"}
_PREFIXES: tuple[tuple[str, Namespace], ...] = (
    ("kernel.shm", "ipc"),
    ("kernel.msg", "ipc"),
    ("fs.mqueue.", "ipc"),
    ("net.", "net"),
)


def normalize(name: str) -> str:
    """`NormalizeName`: a name whose first separator is `/` has its slashes and dots swapped
    (`net/ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`)."""
    first = next((c for c in name if c in "./"), "")
    if first != "/":
        return name
    return name.translate(str.maketrans("./", "/."))


def sysctl_namespace(name: str) -> Namespace:
    """The kernel namespace of a sysctl, or "" when it is not known to be namespaced."""
    name = normalize(name)
    if name in _EXACT:
        return _EXACT[name]
    return next((ns for prefix, ns in _PREFIXES if name.startswith(prefix)), "")


def in_host_namespace(namespace: Namespace, host_network: bool, host_ipc: bool) -> bool:
    """Whether a sysctl of `namespace` would be set in a namespace the pod shares with the
    node (`ValidateHostSysctl`, and the allowlist's own check): the node's own value."""
    return (namespace == "net" and host_network) or (namespace == "ipc" and host_ipc)


# `safe_sysctls.go` of 1.32: namespaced and isolated, so every pod may set them; the kernel
# release each needs (the kubelet drops those the running kernel lacks).
_SAFE_SYSCTLS = (
    ("kernel.shm_rmid_forced", (0, 0)),
    ("net.ipv4.ip_local_port_range", (0, 0)),
    ("net.ipv4.tcp_syncookies", (0, 0)),
    ("net.ipv4.ping_group_range", (0, 0)),
    ("net.ipv4.ip_unprivileged_port_start", (0, 0)),
    ("net.ipv4.ip_local_reserved_ports", (3, 16)),
    ("net.ipv4.tcp_keepalive_time", (4, 5)),
    ("net.ipv4.tcp_fin_timeout", (4, 6)),
    ("net.ipv4.tcp_keepalive_intvl", (4, 5)),
    ("net.ipv4.tcp_keepalive_probes", (4, 5)),
    ("net.ipv4.tcp_rmem", (4, 15)),
    ("net.ipv4.tcp_wmem", (4, 15)),
)
# policy validation's SysctlContainSlashPatternFmt: a sysctl name whose last segment may end in *
_PATTERN = r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]"


def safe_sysctls(release: str | None = None) -> list[str]:
    """`SafeSysctlAllowlist` for the running kernel (`uname -r`), or all when it cannot be
    read (the kubelet then logs an error and drops those that need a version)."""
    found = re.match(r"(\d+)\.(\d+)", release if release is not None else os.uname().release)
    kernel = (int(found[1]), int(found[2])) if found else None
    return [
        name
        for name, needs in _SAFE_SYSCTLS
        if needs == (0, 0) or (kernel is not None and kernel >= needs)
    ]


@dataclass(frozen=True, slots=True)
class SysctlAllowlist:
    """`patternAllowlist`: names, and prefixes from patterns ending in `*`, each with the
    kernel namespace it is known to be in."""

    names: dict[str, Namespace]
    prefixes: dict[str, Namespace]

    @classmethod
    def build(cls, patterns: Iterable[str]) -> SysctlAllowlist:
        """`NewAllowlist`; raises ValueError in the kubelet's words for a pattern that is not
        one, or not known to be namespaced (what `--allowed-unsafe-sysctls` may hold)."""
        names: dict[str, Namespace] = {}
        prefixes: dict[str, Namespace] = {}
        for pattern in patterns:
            if len(pattern) > 253 or not re.fullmatch(_PATTERN, pattern):
                raise ValueError(
                    f"sysctl {go_quote(pattern)} must have at most 253 characters and match "
                    f"regex {_PATTERN}"
                )
            pattern = normalize(pattern)
            if pattern.endswith("*"):
                namespace = sysctl_namespace(pattern[:-1])
                if not namespace:
                    raise ValueError(
                        f"the sysctls {go_quote(pattern)} are not known to be namespaced"
                    )
                prefixes[pattern[:-1]] = namespace
            else:
                namespace = sysctl_namespace(pattern)
                if not namespace:
                    raise ValueError(
                        f"the sysctl {go_quote(pattern)} are not known to be namespaced"
                    )
                names[pattern] = namespace
        return cls(names, prefixes)

    def refusal(self, name: str, host_network: bool, host_ipc: bool) -> str | None:
        """`validateSysctl`: why the sysctl may not be set, or None."""
        name = normalize(name)
        namespace = self.names.get(name)
        if namespace is None:
            namespace = next((ns for p, ns in self.prefixes.items() if name.startswith(p)), None)
        if namespace is None:
            return f"{go_quote(name)} not allowlisted"
        if in_host_namespace(namespace, host_network, host_ipc):
            return f"{go_quote(name)} not allowed with host {namespace} enabled"
        return None


def unsafe_sysctl_patterns(text: str | None) -> tuple[str, ...]:
    """`--allowed-unsafe-sysctls`: comma-separated names and `prefix*` patterns, each known to
    be namespaced; raises MinikubeletError with the kubelet's reason."""
    patterns = tuple(p.strip() for p in (text or "").split(",") if p.strip())
    try:
        SysctlAllowlist.build(patterns)
    except ValueError as exc:
        raise MinikubeletError(f"invalid --allowed-unsafe-sysctls: {exc}") from None
    return patterns
