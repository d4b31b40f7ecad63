"""The whole PodStatus the node writes: a port of `kubelet_pods.go` `generateAPIPodStatus`
with the status manager's touches (`mergePodStatus`, `updateLastTransitionTime`, startTime,
`normalizeStatus`), and the scheduler's verdict for a pod whose nodeSelector does not match.

Pure: the runtime snapshot, the probers' results, the reasonCache and the time are arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from minikubelet.api.codec import from_dict, to_dict
from minikubelet.api.models import ContainerStatus, Pod, PodCondition, PodIP, PodStatus
from minikubelet.runtime.types import ContainerInfo, InstanceState, SandboxInfo
from minikubelet.status.conditions import (
    KUBELET_CONDITIONS,
    containers_ready_condition,
    initialized_condition,
    ready_condition,
    stamp_transitions,
    terminal_ready_condition,
)
from minikubelet.status.containers import convert_statuses
from minikubelet.status.deadline import DEADLINE_MESSAGE, DEADLINE_REASON, past_active_deadline
from minikubelet.status.instances import newest_first
from minikubelet.status.phase import TERMINAL, get_phase

__all__ = [
    "generate_status",
    "ready_to_start_containers",
    "unschedulable_status",
]


def ready_to_start_containers(pod: Pod, sandbox: SandboxInfo | None) -> bool:
    """`GeneratePodReadyToStartContainersCondition`: True iff `PodSandboxChanged` needs no new
    sandbox (it is running and has an IP, unless hostNetwork)."""
    return sandbox is not None and sandbox.running and bool(pod.spec.hostNetwork or sandbox.ip)


def _conditions(
    pod: Pod,
    old: PodStatus,
    sandbox: SandboxInfo | None,
    statuses: Sequence[ContainerStatus],
    phase: str,
    now: datetime,
) -> list[PodCondition]:
    """Kept (not kubelet-owned) conditions first, then the five in the 1.32 order. The kept
    ones are the API's (`generateAPIPodStatus` preserves `pod.Status.Conditions` not owned by
    the kubelet): a readiness gate's condition set with `kubectl patch --subresource=status`
    counts at once."""
    previous = (pod.status.conditions if pod.status is not None else old.conditions) or []
    kept = [c for c in previous if c.type not in KUBELET_CONDITIONS]
    ready_to_start = "True" if ready_to_start_containers(pod, sandbox) else "False"
    made = [
        PodCondition(type="PodReadyToStartContainers", status=ready_to_start),
        initialized_condition(pod, statuses, phase),
        ready_condition(pod, kept, statuses, phase),
        containers_ready_condition(pod, statuses, phase),
        PodCondition(type="PodScheduled", status="True"),
    ]
    return [*kept, *made]


def _merge_terminal(status: PodStatus, old: PodStatus, could_run: bool) -> None:
    """`mergePodStatus`: no terminal phase while containers could still run; once terminal,
    Ready and ContainersReady read PodCompleted/PodFailed."""
    if could_run and status.phase in TERMINAL:
        status.phase, status.reason, status.message = (
            old.phase or "Pending",
            old.reason,
            old.message,
        )
    if status.phase not in TERMINAL:
        return
    conditions = status.conditions or []
    if any(c.type in ("Ready", "ContainersReady") and c.status == "True" for c in conditions):
        for i, cond in enumerate(conditions):
            if cond.type in ("Ready", "ContainersReady"):
                conditions[i] = terminal_ready_condition(cond.type, status.phase or "")


def generate_status(
    pod: Pod,
    sandbox: SandboxInfo | None,
    containers: Sequence[ContainerInfo],
    *,
    previous: PodStatus | None,
    now: datetime,
    host_ip: str,
    readiness: Mapping[str, bool],
    startup_passed: Mapping[str, bool],
    waiting: Mapping[str, tuple[str, str]],
) -> PodStatus:
    """`generateAPIPodStatus` + status-manager merge for one pod.

    `previous` is the last status written (the status manager's cache; `pod.status` when None);
    `readiness`/`startup_passed` are the probers' last results by container name (absent = no
    result yet); `waiting` is the reasonCache (name → (reason, message)). A pod being deleted
    is terminal (`podIsTerminal`). Unscheduled pods get `unschedulable_status` instead."""
    old = previous or pod.status or PodStatus()
    terminal = pod.metadata.deletionTimestamp is not None
    groups = newest_first(containers)
    convert = functools.partial(
        convert_statuses,
        pod,
        groups=groups,
        waiting=waiting,
        readiness=readiness,
        startup_passed=startup_passed,
    )
    inits = convert(
        pod.spec.initContainers or [], previous=old.initContainerStatuses or [], init=True
    )
    regular = convert(pod.spec.containers or [], previous=old.containerStatuses or [], init=False)
    every = [*inits, *regular]
    phase = get_phase(pod, every, terminal)
    if phase not in TERMINAL and old.phase in TERMINAL:
        phase = old.phase or phase  # a terminal phase is sticky
    # ShouldEvict of the active-deadline handler: Failed, with its reason and message
    evicted = old.phase not in TERMINAL and past_active_deadline(pod, old, now)
    if evicted:
        phase = "Failed"
    status = PodStatus(
        phase=phase,
        conditions=_conditions(pod, old, sandbox, every, phase, now),
        hostIP=host_ip,
        startTime=(old.startTime or now).replace(microsecond=0),
        initContainerStatuses=inits or None,
        containerStatuses=regular,
        qosClass=old.qosClass,
        extra={"hostIPs": [{"ip": host_ip}]},
    )
    ephemeral = _ephemeral_statuses(pod, old, convert)
    if ephemeral:
        status.extra["ephemeralContainerStatuses"] = ephemeral
    if evicted:
        status.reason, status.message = DEADLINE_REASON, DEADLINE_MESSAGE
    elif phase == old.phase:
        status.reason, status.message = old.reason, old.message
    could_run = (sandbox is not None and sandbox.running) or any(
        c.state is InstanceState.RUNNING for c in containers
    )
    _merge_terminal(status, old, could_run)
    stamp_transitions(status.conditions or [], old.conditions or [], now)
    _set_pod_ips(status, old, sandbox)
    return status


def _ephemeral_statuses(
    pod: Pod, old: PodStatus, convert: Callable[..., list[ContainerStatus]]
) -> list[dict[str, Any]]:
    """`ephemeralContainerStatuses`, converted as the regular ones (`convertStatusToAPIStatus`)
    but never ready: the prober's `UpdatePodStatus` sets Ready and Started only for init and
    regular containers. Kept as JSON in `extra`, where the model keeps the field."""
    specs = pod.spec.ephemeral_containers()
    if not specs:
        return []
    previous = [
        from_dict(ContainerStatus, s) for s in old.extra.get("ephemeralContainerStatuses") or []
    ]
    out = []
    for status in convert(specs, previous=previous, init=False):
        status.ready, status.started = False, None
        out.append(to_dict(status))
    return out


def _set_pod_ips(status: PodStatus, old: PodStatus, sandbox: SandboxInfo | None) -> None:
    """podIP/podIPs from the running sandbox; once it stops, the last IPs stay (as on a real
    node, where a Completed pod still shows its IP)."""
    if sandbox is not None and sandbox.running and sandbox.ip:
        status.podIP, status.podIPs = sandbox.ip, [PodIP(ip=sandbox.ip)]
    else:
        status.podIP, status.podIPs = old.podIP, old.podIPs


def unschedulable_status(
    pod: Pod, message: str, now: datetime, previous: PodStatus | None
) -> PodStatus:
    """What the scheduler writes for a pod no node fits: phase Pending and
    `PodScheduled=False/Unschedulable` with the full message; no container statuses."""
    old = previous or pod.status or PodStatus()
    condition = PodCondition(
        type="PodScheduled", status="False", reason="Unschedulable", message=message
    )
    stamp_transitions([condition], old.conditions or [], now)
    return PodStatus(phase="Pending", conditions=[condition], qosClass=old.qosClass)
