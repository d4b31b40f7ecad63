"""Pod phase: a port of the 1.32 `kubelet_pods.go` `getPhase` (sidecars: init containers with
`restartPolicy: Always`, counted apart from the regular init containers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minikubelet.api.models import Container, ContainerStatus, Pod

__all__ = ["TERMINAL", "get_phase", "has_any_regular_container_started", "is_sidecar"]

TERMINAL = ("Succeeded", "Failed")


def has_any_regular_container_started(pod: Pod, statuses: Sequence[ContainerStatus]) -> bool:
    """`HasAnyRegularContainerStarted`: some regular container is running or terminated."""
    names = {c.name for c in pod.spec.containers or []}
    return any(
        s.name in names and s.state is not None and (s.state.running or s.state.terminated)
        for s in statuses
    )


def is_sidecar(container: Container) -> bool:
    """`IsRestartableInitContainer`: an init container with `restartPolicy: Always`."""
    return container.restartPolicy == "Always"


def _init_counts(pod: Pod, by_name: dict[str, ContainerStatus]) -> tuple[int, int]:
    """(pending, failed) regular init containers, as `getPhase` counts them."""
    pending = failed = 0
    for spec in pod.spec.initContainers or []:
        if is_sidecar(spec):
            continue
        status = by_name.get(spec.name)
        state = status.state if status else None
        last = status.lastState.terminated if status and status.lastState else None
        if state is None or state.running is not None:
            pending += 1
        elif state.terminated is not None:
            failed += state.terminated.exitCode != 0
        elif state.waiting is not None and last is not None:
            failed += last.exitCode != 0
        else:
            pending += 1
    return pending, failed


@dataclass(slots=True)
class _Counts:
    pending: int = 0
    unknown: int = 0
    running: int = 0
    waiting: int = 0


def _sidecar_counts(pod: Pod, by_name: dict[str, ContainerStatus]) -> _Counts:
    """`getPhase`'s restartable init containers: running ones count as running (and pending
    until started); terminated ones, and waiting ones that ran before, are ignored."""
    counts = _Counts()
    for spec in pod.spec.initContainers or []:
        if not is_sidecar(spec):
            continue
        status = by_name.get(spec.name)
        if status is None:
            counts.unknown += 1
            continue
        state = status.state
        last = status.lastState.terminated if status.lastState else None
        if state is not None and state.running is not None:
            counts.running += 1
            counts.pending += not status.started
        elif state is not None and state.terminated is not None:
            pass
        elif state is not None and state.waiting is not None:
            if last is None:
                counts.pending += 1
                counts.waiting += 1
        else:
            counts.pending += 1
            counts.unknown += 1
    return counts


def get_phase(pod: Pod, statuses: Sequence[ContainerStatus], terminal: bool) -> str:
    """`getPhase` over all API statuses (init and regular); `terminal` is `podIsTerminal`
    (the kubelet is terminating the pod: deleted, evicted or already terminal)."""
    by_name = {s.name: s for s in statuses}
    pending_init, failed_init = _init_counts(pod, by_name)
    stopped = succeeded = 0
    sidecars = _sidecar_counts(pod, by_name)
    pending_init += sidecars.pending
    unknown, running, waiting = sidecars.unknown, sidecars.running, sidecars.waiting
    for spec in pod.spec.containers or []:
        status = by_name.get(spec.name)
        state = status.state if status else None
        if status is None or state is None:
            unknown += 1
        elif state.running is not None:
            running += 1
        elif state.terminated is not None:
            stopped += 1
            succeeded += state.terminated.exitCode == 0
        elif state.waiting is not None:
            has_last = status.lastState is not None and status.lastState.terminated is not None
            stopped += has_last
            waiting += not has_last
        else:
            unknown += 1
    policy = pod.spec.restartPolicy or "Always"
    if failed_init > 0 and policy == "Never":
        return "Failed"
    if (pending_init > 0 and not has_any_regular_container_started(pod, statuses)) or waiting:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"
