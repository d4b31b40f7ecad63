"""Pod phase: a port of `kubelet_pods.go` `getPhase` and the terminal stickiness of
`generateAPIPodStatus` (regular init containers only; sidecars are not modelled)."""

from __future__ import annotations

from collections.abc import Sequence

from minikubelet.api.models import ContainerStatus, Pod

__all__ = ["TERMINAL", "get_phase", "has_any_regular_container_started"]

TERMINAL = ("Succeeded", "Failed")


def has_any_regular_container_started(pod: Pod, statuses: Sequence[ContainerStatus]) -> bool:
    """`HasAnyRegularContainerStarted`: some regular container is running or terminated."""
    names = {c.name for c in pod.spec.containers or []}
    return any(
        s.name in names and s.state is not None and (s.state.running or s.state.terminated)
        for s in statuses
    )


def _init_counts(pod: Pod, by_name: dict[str, ContainerStatus]) -> tuple[int, int]:
    """(pending, failed) regular init containers, as `getPhase` counts them."""
    pending = failed = 0
    for spec in pod.spec.initContainers or []:
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


def get_phase(pod: Pod, statuses: Sequence[ContainerStatus], terminal: bool) -> str:
    """`getPhase` over all API statuses (init and regular); `terminal` is `podIsTerminal`
    (the kubelet is terminating the pod: deleted, evicted or already terminal)."""
    by_name = {s.name: s for s in statuses}
    pending_init, failed_init = _init_counts(pod, by_name)
    unknown = running = waiting = stopped = succeeded = 0
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
