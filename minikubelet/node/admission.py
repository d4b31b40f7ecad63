"""The kubelet's admission of a pod (`canAdmitPod`), for the handlers that can refuse one on this
node, in the kubelet's order: the sysctl allowlist (`pkg/kubelet/sysctl/allowlist.go`), the
predicates (`pkg/kubelet/lifecycle/predicate.go`: the scheduler's `AdmissionCheck`, for pods
that name the node themselves), then AppArmor (`pkg/kubelet/lifecycle/handlers.go`,
`pkg/security/apparmor/validate.go`).

A refused pod is failed as `rejectPod` fails it: a Warning event with the handler's reason and
message, and a status of only phase `Failed`, that reason, `Pod was rejected: <message>`, the
QoS class and a start time (the status manager's). No sandbox, container or volume is made;
what already runs (a pod admitted again after an agent restart) is stopped by the phase.
The other handlers (eviction, node shutdown) cannot refuse a pod here: the node evicts
nothing and does not shut down under its pods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from minikubelet.api.apparmor import ANNOTATION as APPARMOR_ANNOTATION
from minikubelet.api.apparmor import UNCONFINED, all_containers, container_profile, profile_of
from minikubelet.api.codec import to_dict
from minikubelet.api.models import Pod, PodStatus
from minikubelet.api.qos import pod_qos_class
from minikubelet.api.raw import JSON
from minikubelet.api.sysctls import SysctlAllowlist, safe_sysctls
from minikubelet.node.scheduler import (
    node_affinity_matches,
    objects,
    port_conflict,
    shortages,
    tolerated,
)

__all__ = [
    "REJECTION_REASONS",
    "Admission",
    "Rejection",
    "apparmor_enabled",
    "predicates",
    "rejected_status",
    "rejection_of",
]

SYSCTL_REASON = "SysctlForbidden"  # sysctl.ForbiddenReason
APPARMOR_REASON = "AppArmor"  # lifecycle.AppArmorNotAdmittedReason
OS_SELECTOR = (
    "PodOSSelectorNodeLabelDoesNotMatch",
    "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
)
OS_FIELD = ("PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS")
# the predicates' reasons; a resource's is `OutOf<resource>` (`OutOfcpu`, `OutOfpods`...)
PREDICATE_REASONS = frozenset(
    {"NodeAffinity", "NodePorts", "TaintToleration", OS_SELECTOR[0], OS_FIELD[0]}
)
REJECTION_REASONS = frozenset({SYSCTL_REASON, APPARMOR_REASON, *PREDICATE_REASONS})
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


@dataclass(frozen=True, slots=True)
class Admission:
    """The node's admit handlers that can refuse a pod, set up once at the agent's start."""

    apparmor: bool = False  # the host enforces AppArmor
    sysctls: SysctlAllowlist = field(default_factory=lambda: SysctlAllowlist.build(safe_sysctls()))

    def admit(
        self,
        pod: Pod,
        *,
        pending: bool = True,
        node: JSON | None = None,
        others: Sequence[JSON] = (),
    ) -> Rejection | None:
        """None when the pod may run here, else why not (the first handler that refuses it).
        `pending`: the pod's phase is Pending; AppArmor checks only those (a running pod's
        profile was enforced when it started), the sysctl allowlist every pod. With the
        `node`, the predicates run too, beside `others`, the pods admitted before."""
        return (
            self._sysctls(pod)
            or (predicates(to_dict(pod), node, others) if node is not None else None)
            or (self._apparmor(pod) if pending else None)
        )

    def _sysctls(self, pod: Pod) -> Rejection | None:
        context = pod.spec.extra.get("securityContext") or {}
        host_network = pod.spec.hostNetwork is True
        host_ipc = pod.spec.extra.get("hostIPC") is True
        for item in context.get("sysctls") or []:
            name = str(item.get("name") or "") if isinstance(item, dict) else ""
            refusal = self.sysctls.refusal(name, host_network, host_ipc)
            if refusal is not None:
                return Rejection(SYSCTL_REASON, f"forbidden sysctl: {refusal}")
        return None

    def _apparmor(self, pod: Pod) -> Rejection | None:
        """`appArmorAdmitHandler` with `validator.Validate`: a pod that asks for any profile
        but Unconfined cannot run where the kernel has no AppArmor; where it has, a Localhost
        profile needs a name."""
        if not _apparmor_required(pod):
            return None
        if not self.apparmor:
            return Rejection(APPARMOR_REASON, f"Cannot enforce AppArmor: {APPARMOR_DISABLED}")
        for container in all_containers(pod):
            profile = container_profile(pod, container) or {}
            if (
                profile.get("type") == "Localhost"
                and not str(profile.get("localhostProfile") or "").strip()
            ):
                # upstream prints the profile pointer with %q; its address stands fixed here
                message = (
                    "Cannot enforce AppArmor: invalid empty AppArmor profile name: "
                    '&{"Localhost" %!q(*string=0xc000000000)}'
                )
                return Rejection(APPARMOR_REASON, message)
        return None


def predicates(pod: JSON, node: JSON, others: Sequence[JSON]) -> Rejection | None:
    """`predicateAdmitHandler` with `generalFilter`: the first of the scheduler's
    `AdmissionCheck` failures (resources, node affinity, host ports), then a NoExecute taint
    the pod does not tolerate. A pod the node scheduled itself passes them all; one that named
    the node in `spec.nodeName` may not. First the two checks no preemption could help: the
    pod's `kubernetes.io/os` label and its `spec.os` (this node runs Linux); and extended
    resources the node does not have are left out (`removeMissingExtendedResources`)."""
    if (pod.get("metadata") or {}).get("labels", {}).get(OS_LABEL, "linux") != "linux":
        return Rejection(*OS_SELECTOR)
    if ((pod.get("spec") or {}).get("os") or {}).get("name", "linux") != "linux":
        return Rejection(*OS_FIELD)
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    for shortage in shortages(_without_missing_extended(pod, allocatable), node, others):
        message = (
            f"Node didn't have enough resource: {shortage.resource}, requested: "
            f"{shortage.requested}, used: {shortage.used}, capacity: {shortage.capacity}"
        )
        return Rejection(f"OutOf{shortage.resource}", message)
    spec = pod.get("spec") or {}
    if not node_affinity_matches(spec, node):
        reason = "node(s) didn't match Pod's node affinity/selector"
        return Rejection("NodeAffinity", f"Predicate NodeAffinity failed: {reason}")
    if port_conflict(spec, others):
        reason = "node(s) didn't have free ports for the requested pod ports"
        return Rejection("NodePorts", f"Predicate NodePorts failed: {reason}")
    tolerations = objects(spec.get("tolerations"))
    for taint in objects((node.get("spec") or {}).get("taints")):
        if taint.get("effect") == "NoExecute" and not tolerated(tolerations, taint):
            reason = "node(s) had taints that the pod didn't tolerate"
            return Rejection("TaintToleration", f"Predicate TaintToleration failed: {reason}")
    return None


OS_LABEL = "kubernetes.io/os"


def _without_missing_extended(pod: JSON, allocatable: JSON) -> JSON:
    """The pod with the requests for extended resources the node lacks taken out: the
    kubelet admits such a pod where a device plugin would provide them."""

    def kept(name: str) -> bool:
        native = "/" not in name or name.startswith("kubernetes.io/")
        return native or name.startswith("hugepages-") or name in allocatable

    spec = dict(pod.get("spec") or {})
    for group in ("initContainers", "containers"):
        containers = []
        for container in spec.get(group) or []:
            resources = dict(container.get("resources") or {})
            requests = resources.get("requests") or {}
            resources["requests"] = {k: v for k, v in requests.items() if kept(str(k))}
            containers.append({**container, "resources": resources})
        if group in spec:
            spec[group] = containers
    return {**pod, "spec": spec}


def _apparmor_required(pod: Pod) -> bool:
    """`isRequired`: any profile but Unconfined, in a field or the deprecated annotation."""
    contexts = [pod.spec.extra.get("securityContext")]
    contexts += [c.extra.get("securityContext") for c in all_containers(pod)]
    for context in contexts:
        profile = profile_of(context)
        if profile and profile.get("type") != "Unconfined":
            return True
    annotations = pod.metadata.annotations or {}
    return any(
        value != UNCONFINED
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
    if status is None or status.phase != "Failed":
        return None
    reason = status.reason or ""
    if reason not in REJECTION_REASONS and not reason.startswith("OutOf"):
        return None
    message = (status.message or "").removeprefix(REJECTED_PREFIX)
    return Rejection(reason, message)
