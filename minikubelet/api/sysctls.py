"""Sysctl names as Kubernetes reads them: the kernel namespace a sysctl lives in, and the
dotted form of a name written with slashes.

Upstream: `k8s.io/component-helpers/node/util/sysctl` (`NormalizeName`, `GetNamespace`), used
by the API server (`ValidateHostSysctl`) and, as `NamespacedBy`, by the kubelet's allowlist
(`pkg/kubelet/sysctl`). Only these sysctls are namespaced: one set per pod, invisible to
the host and the other pods.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Namespace", "normalize", "sysctl_namespace"]

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
