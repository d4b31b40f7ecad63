"""The kubelet's admission of a pod (`canAdmitPod`), for the handlers that can refuse one on this
node, in the kubelet's order: the sysctl allowlist (`pkg/kubelet/sysctl/allowlist.go`), then
AppArmor (`pkg/kubelet/lifecycle/handlers.go`, `pkg/security/apparmor/validate.go`).

A refused pod is failed as `rejectPod` fails it: a Warning event with the handler's reason and
message, and a status of only phase `Failed`, that reason, `Pod was rejected: <message>`, the
QoS class and a start time (the status manager's). No sandbox, container or volume is made.
The other handlers (eviction, resources, node affinity of a preset nodeName, node shutdown)
cannot refuse a pod here: the node has no eviction thresholds, no allocatable to exhaust, and
schedules its own pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from minikubelet.api.apparmor import ANNOTATION as APPARMOR_ANNOTATION
from minikubelet.api.gofmt import go_quote
from minikubelet.api.models import Pod, PodStatus
from minikubelet.api.qos import pod_qos_class
from minikubelet.api.sysctls import normalize, sysctl_namespace

__all__ = [
    "REJECTION_REASONS",
    "SAFE_SYSCTLS",
    "Rejection",
    "admit",
    "apparmor_enabled",
    "rejected_status",
    "rejection_of",
]

# `safe_sysctls.go` of 1.32: namespaced and isolated, so every pod may set them (the kubelet
# drops the ones the running kernel lacks; all are older than the kernels Docker 20.10 needs).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)
SYSCTL_REASON = "SysctlForbidden"  # sysctl.ForbiddenReason
APPARMOR_REASON = "AppArmor"  # lifecycle.AppArmorNotAdmittedReason
REJECTION_REASONS = frozenset({SYSCTL_REASON, APPARMOR_REASON})
REJECTED_PREFIX = "Pod was rejected: "
APPARMOR_DISABLED = "AppArmor is not enabled on the host"  # validateHost


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    message: str


def apparmor_enabled(root: Path = Path("/")) -> bool:
    """runc's `apparmor.IsEnabled`, which the kubelet's validator asks once at its start."""
    if not (root / "sys/kernel/security/apparmor").exists():
        return False
    try:
        return (root / "sys/module/apparmor/parameters/enabled").read_text().startswith("Y")
    except OSError:
        return False


def admit(pod: Pod, apparmor: bool) -> Rejection | None:
    """None when the pod may run here, else why not (the first handler that refuses it)."""
    return _sysctls(pod) or _apparmor(pod, apparmor)


def _sysctls(pod: Pod) -> Rejection | None:
    """`patternAllowlist.Admit` with the safe set only (no `--allowed-unsafe-sysctls` here)."""
    context = pod.spec.extra.get("securityContext") or {}
    for item in context.get("sysctls") or []:
        name = normalize(str(item.get("name") or ""))
        namespace = sysctl_namespace(name)
        if name not in SAFE_SYSCTLS:
            error = f"{go_quote(name)} not allowlisted"
        elif (namespace == "ipc" and pod.spec.extra.get("hostIPC") is True) or (
            namespace == "net" and pod.spec.hostNetwork is True
        ):
            error = f"{go_quote(name)} not allowed with host {namespace} enabled"
        else:
            continue
        return Rejection(SYSCTL_REASON, f"forbidden sysctl: {error}")
    return None


def _apparmor(pod: Pod, enabled: bool) -> Rejection | None:
    """`appArmorAdmitHandler`: a pod that asks for any profile but `Unconfined` (field or the
    deprecated annotation) cannot run where the kernel has no AppArmor."""
    if enabled or not _apparmor_required(pod):
        return None
    return Rejection(APPARMOR_REASON, f"Cannot enforce AppArmor: {APPARMOR_DISABLED}")


def _apparmor_required(pod: Pod) -> bool:
    contexts = [pod.spec.extra.get("securityContext")]
    every = [*pod.spec.all_containers(), *pod.spec.ephemeral_containers()]
    contexts += [c.extra.get("securityContext") for c in every]
    for context in contexts:
        profile = (context or {}).get("appArmorProfile") or {}
        if profile and profile.get("type") != "Unconfined":
            return True
    annotations = pod.metadata.annotations or {}
    return any(
        value != "unconfined"
        for key, value in annotations.items()
        if key.startswith(APPARMOR_ANNOTATION)
    )


def rejected_status(pod: Pod, rejection: Rejection, now: datetime) -> PodStatus:
    """`rejectPod`'s status as the status manager sends it: no conditions (it drops the
    kubelet-owned ones, PodScheduled among them), a start time (`updateStatusInternal`)."""
    old = pod.status or PodStatus()
    return PodStatus(
        phase="Failed",
        reason=rejection.reason,
        message=REJECTED_PREFIX + rejection.message,
        startTime=old.startTime or now,
        qosClass=old.qosClass or pod_qos_class(pod),
    )


def rejection_of(status: PodStatus | None) -> Rejection | None:
    """The rejection a stored status records (an agent restarted after it), or None."""
    if status is None or status.phase != "Failed" or status.reason not in REJECTION_REASONS:
        return None
    message = (status.message or "").removeprefix(REJECTED_PREFIX)
    return Rejection(status.reason, message)
