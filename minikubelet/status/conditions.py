"""The five kubelet-owned pod conditions, a port of `pkg/kubelet/status/generate.go` plus
`status_manager.go` `updateLastTransitionTime` and the terminal-phase override of
`mergePodStatus`. Order (1.32): PodReadyToStartContainers, Initialized, Ready, ContainersReady,
PodScheduled, after the conditions the kubelet does not own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from minikubelet.api.models import ContainerStatus, Pod, PodCondition
from minikubelet.status.phase import has_any_regular_container_started, is_sidecar

__all__ = [
    "KUBELET_CONDITIONS",
    "containers_ready_condition",
    "go_list",
    "initialized_condition",
    "ready_condition",
    "stamp_transitions",
    "terminal_ready_condition",
]

KUBELET_CONDITIONS = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
    "PodHasNetwork",
)


def go_list(items: Sequence[str]) -> str:
    """Go's `%s` of a `[]string`: `[a b]`."""
    return f"[{' '.join(items)}]"


def _messages(**groups: list[str]) -> str:
    """`containers with unknown status: [a], containers with unready status: [b]`."""
    return ", ".join(
        f"containers with {kind} status: {go_list(names)}"
        for kind, names in groups.items()
        if names
    )


def terminal_ready_condition(kind: str, phase: str) -> PodCondition:
    """`generateContainersReadyConditionForTerminalPhase` and its Ready twin."""
    reason = "PodCompleted" if phase == "Succeeded" else "PodFailed"
    return PodCondition(type=kind, status="False", reason=reason)


def containers_ready_condition(
    pod: Pod, statuses: Sequence[ContainerStatus], phase: str
) -> PodCondition:
    """`GenerateContainersReadyCondition`: the sidecars (in init order), then the regular
    containers."""
    by_name = {s.name: s for s in statuses}
    sidecars = [c for c in pod.spec.initContainers or [] if is_sidecar(c)]
    specs = [*sidecars, *(pod.spec.containers or [])]
    unknown = [c.name for c in specs if c.name not in by_name]
    unready = [c.name for c in specs if c.name in by_name and not by_name[c.name].ready]
    if (phase == "Succeeded" and not unknown) or phase == "Failed":
        return terminal_ready_condition("ContainersReady", phase)
    message = _messages(unknown=unknown, unready=unready)
    if message:
        return PodCondition(
            type="ContainersReady", status="False", reason="ContainersNotReady", message=message
        )
    return PodCondition(type="ContainersReady", status="True")


def ready_condition(
    pod: Pod, kept: Sequence[PodCondition], statuses: Sequence[ContainerStatus], phase: str
) -> PodCondition:
    """`GeneratePodReadyCondition`: ContainersReady, then the readiness gates."""
    ready = containers_ready_condition(pod, statuses, phase)
    if ready.status != "True":
        return PodCondition(
            type="Ready", status=ready.status, reason=ready.reason, message=ready.message
        )
    found = {c.type: c for c in kept}
    problems: list[str] = []
    for gate in pod.spec.extra.get("readinessGates") or []:
        kind = str(gate.get("conditionType", ""))
        cond = found.get(kind)
        if cond is None:
            problems.append(
                f'corresponding condition of pod readiness gate "{kind}" does not exist.'
            )
        elif cond.status != "True":
            problems.append(
                f'the status of pod readiness gate "{kind}" is not "True", but {cond.status}'
            )
    if problems:
        return PodCondition(
            type="Ready",
            status="False",
            reason="ReadinessGatesNotReady",
            message=", ".join(problems),
        )
    return PodCondition(type="Ready", status="True")


def initialized_condition(
    pod: Pod, statuses: Sequence[ContainerStatus], phase: str
) -> PodCondition:
    """`GeneratePodInitializedCondition`: a regular init container is done when `ready`
    (exited 0), a sidecar when `started`."""
    by_name = {s.name: s for s in statuses}
    specs = pod.spec.initContainers or []
    unknown = [c.name for c in specs if c.name not in by_name]
    incomplete = [
        c.name
        for c in specs
        if c.name in by_name
        and not (by_name[c.name].started if is_sidecar(c) else by_name[c.name].ready)
    ]
    if phase == "Succeeded" and not unknown:
        return PodCondition(type="Initialized", status="True", reason="PodCompleted")
    if has_any_regular_container_started(pod, statuses):
        return PodCondition(type="Initialized", status="True")
    message = _messages(unknown=unknown, incomplete=incomplete)
    if message:
        return PodCondition(
            type="Initialized", status="False", reason="ContainersNotInitialized", message=message
        )
    return PodCondition(type="Initialized", status="True")


def stamp_transitions(
    conditions: Sequence[PodCondition], previous: Sequence[PodCondition], now: datetime
) -> None:
    """`updateLastTransitionTime`: now when the condition is new or its status flipped;
    otherwise the old time (a reason or message change alone does not move it)."""
    old = {c.type: c for c in previous}
    for cond in conditions:
        before = old.get(cond.type)
        if before is not None and before.status == cond.status and before.lastTransitionTime:
            cond.lastTransitionTime = before.lastTransitionTime
        else:
            cond.lastTransitionTime = now.replace(microsecond=0)
