"""Helpers over the container instances the runtime reports, shared by `status` and `node.sync`.

They live here (not in `node`) because the layers point one way: `node` uses `status`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from minikubelet.api.models import Pod
from minikubelet.runtime.types import ContainerInfo, InstanceState

__all__ = [
    "cannot_run",
    "finish_time",
    "is_zero_time",
    "newest_first",
    "restart_policy",
    "should_container_be_restarted",
]


def is_zero_time(at: datetime | None) -> bool:
    """Docker reports a time that never happened as `0001-01-01T00:00:00Z`."""
    return at is None or at.year <= 1


def cannot_run(info: ContainerInfo) -> bool:
    """dockershim's "case 2": exited without a finish time but with an exit code, i.e. Docker
    failed to start it (`ContainerCannotRun`, `docker_container.go` `ContainerStatus`)."""
    return info.state is InstanceState.EXITED and (
        (is_zero_time(info.finished_at) and info.exit_code != 0)
        or (bool(info.error) and is_zero_time(info.started_at))
    )


def finish_time(info: ContainerInfo) -> datetime | None:
    """finishedAt as the kubelet sees it: dockershim moves it to createdAt on a failed start."""
    if cannot_run(info) or is_zero_time(info.finished_at):
        return info.created_at
    return info.finished_at


def _age_key(info: ContainerInfo) -> tuple[float, int]:
    created = info.created_at.timestamp() if info.created_at else float("-inf")
    return created, info.attempt


def newest_first(containers: Sequence[ContainerInfo]) -> dict[str, list[ContainerInfo]]:
    """Instances grouped by container name, newest first: `SortContainerStatusesByCreationTime`
    reversed, the attempt breaking ties and standing in for a missing creation time."""
    groups: dict[str, list[ContainerInfo]] = {}
    for info in containers:
        groups.setdefault(info.name, []).append(info)
    for items in groups.values():
        items.sort(key=_age_key, reverse=True)
    return groups


def restart_policy(pod: Pod) -> str:
    return pod.spec.restartPolicy or "Always"


def should_container_be_restarted(pod: Pod, newest: ContainerInfo | None) -> bool:
    """`ShouldContainerBeRestarted` (`pkg/kubelet/container/helpers.go`) on the newest
    instance of one container."""
    if pod.metadata.deletionTimestamp is not None:
        return False
    if newest is None:
        return True
    if newest.state is InstanceState.RUNNING:
        return False
    if newest.state in (InstanceState.UNKNOWN, InstanceState.CREATED):
        return True
    policy = restart_policy(pod)
    if policy == "Never":
        return False
    return not (policy == "OnFailure" and newest.exit_code == 0)
