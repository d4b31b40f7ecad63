"""containerStatuses and initContainerStatuses from the spec, container instances and old status.

A port of `kubelet_pods.go` `convertToAPIContainerStatuses` (defaults, seeding from the old
status, vanished containers, newest two instances → state/lastState, the reasonCache waiting
overlay) followed by `prober_manager.go` `UpdatePodStatus` (`started`, `ready`), with Docker's
terminated reasons as dockershim/cri-dockerd report them (`docker_container.go`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime

from minikubelet.api.models import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    Pod,
)
from minikubelet.runtime.types import ContainerInfo, InstanceState
from minikubelet.status.instances import cannot_run, should_container_be_restarted

__all__ = ["container_id", "convert_statuses", "image_id", "seconds"]

UNKNOWN_AFTER_RUNNING = "The container could not be located when the pod was terminated"
VANISHED = (
    "The container could not be located when the pod was deleted.  The container used to be Running"
)


def seconds(at: datetime | None) -> datetime | None:
    """`normalizeStatus`: API times are whole seconds."""
    return at.replace(microsecond=0) if at is not None else None


def container_id(info: ContainerInfo) -> str:
    return f"docker://{info.id}"


def image_id(raw: str) -> str:
    """dockershim `toPullableImageID`: `docker-pullable://<repo>@sha256:…` when the image has a
    repo digest, else `docker://sha256:<image id>` (locally built or imported images)."""
    if not raw or "://" in raw:
        return raw
    return f"docker-pullable://{raw}" if "@" in raw else f"docker://{raw}"


def _terminated(info: ContainerInfo) -> ContainerStateTerminated:
    """Docker's exited container: OOMKilled / Completed / Error, or ContainerCannotRun with
    startedAt = finishedAt = createdAt; the message is Docker's `State.Error`."""
    if cannot_run(info):
        reason, started, finished = "ContainerCannotRun", info.created_at, info.created_at
    else:
        reason = "OOMKilled" if info.oom_killed else "Completed" if info.exit_code == 0 else "Error"
        started, finished = info.started_at, info.finished_at
    # the runtime's message, then what the container left (joined with ": ", as ≈1.33 does)
    message = ": ".join(m for m in (info.error, info.termination_message) if m)
    return ContainerStateTerminated(
        exitCode=info.exit_code,
        reason=reason,
        message=message or None,
        startedAt=seconds(started),
        finishedAt=seconds(finished),
        containerID=container_id(info),
    )


def _convert(info: ContainerInfo, spec: Container, old: ContainerStatus | None) -> ContainerStatus:
    """`convertContainerStatus`: one container instance as an API status."""
    status = ContainerStatus(
        name=spec.name,
        restartCount=info.attempt,
        image=spec.image or "",
        imageID=image_id(info.image_id),
        containerID=container_id(info),
        state=ContainerState(),
        lastState=ContainerState(),
    )
    assert status.state is not None
    if info.state is InstanceState.RUNNING:
        status.state.running = ContainerStateRunning(startedAt=seconds(info.started_at))
    elif info.state is InstanceState.EXITED:
        status.state.terminated = _terminated(info)
    elif (
        info.state is InstanceState.UNKNOWN and old is not None and old.state and old.state.running
    ):  # it ran and is gone: not "never ran", so not waiting
        status.state.terminated = ContainerStateTerminated(
            exitCode=137, reason="ContainerStatusUnknown", message=UNKNOWN_AFTER_RUNNING
        )
        status.restartCount = old.restartCount + 1
    else:  # created, or any other unknown: waiting with an empty reason
        status.state.waiting = ContainerStateWaiting()
    return status


def _default(spec: Container, old: ContainerStatus | None, reason: str) -> ContainerStatus:
    """The default waiting status, seeded from the old one (a terminated one is reused whole)."""
    if old is not None and old.state is not None and old.state.terminated is not None:
        return copy.deepcopy(old)
    status = ContainerStatus(
        name=spec.name,
        image=spec.image or "",
        state=ContainerState(waiting=ContainerStateWaiting(reason=reason)),
        lastState=ContainerState(),
    )
    if old is not None:
        status.restartCount = old.restartCount
        status.lastState = copy.deepcopy(old.lastState) or ContainerState()
    return status


def _mark_vanished(pod: Pod, status: ContainerStatus, old: ContainerStatus, reason: str) -> None:
    """A container that was running and has no instance left stopped; say so in lastState so the
    pod does not fall back to Pending."""
    waiting = status.state.waiting if status.state else None
    if not (old.state and old.state.running) or waiting is None or waiting.reason != reason:
        return
    if status.lastState is not None and status.lastState.terminated is not None:
        return
    status.lastState = ContainerState(
        terminated=ContainerStateTerminated(
            exitCode=137, reason="ContainerStatusUnknown", message=VANISHED
        )
    )
    if pod.metadata.deletionTimestamp is None:
        status.restartCount += 1


def _overlay(status: ContainerStatus, reason: tuple[str, str]) -> None:
    """The reasonCache overlay: the last start failure shows as `waiting`; a current
    `terminated` moves to `lastState` (CrashLoopBackOff over Error)."""
    if status.state is not None and status.state.terminated is not None:
        status.lastState = status.state
    status.state = ContainerState(
        waiting=ContainerStateWaiting(reason=reason[0], message=reason[1])
    )


def _probe_flags(
    spec: Container,
    status: ContainerStatus,
    *,
    init: bool,
    readiness: Mapping[str, bool],
    startup_passed: Mapping[str, bool],
) -> None:
    """`UpdatePodStatus`: started = running and startup passed (or none); ready = started and
    readiness Success (or no readiness probe); a regular init container is ready once exited 0,
    a sidecar is ready as a regular container is."""
    running = status.state is not None and status.state.running is not None
    started = running and (spec.startupProbe is None or startup_passed.get(spec.name, False))
    status.started = started
    if init and spec.restartPolicy != "Always":  # a sidecar's flags are a container's
        term = status.state.terminated if status.state else None
        status.ready = term is not None and term.exitCode == 0
        return
    if not started:
        status.ready = False
        return
    status.ready = spec.readinessProbe is None or readiness.get(spec.name, False)


def convert_statuses(
    pod: Pod,
    specs: Sequence[Container],
    groups: Mapping[str, list[ContainerInfo]],
    previous: Sequence[ContainerStatus],
    *,
    init: bool,
    waiting: Mapping[str, tuple[str, str]],
    readiness: Mapping[str, bool],
    startup_passed: Mapping[str, bool],
) -> list[ContainerStatus]:
    """`convertToAPIContainerStatuses` + `UpdatePodStatus` for one list (regular or init);
    regular statuses come sorted by name, init ones in spec order."""
    default = "PodInitializing" if pod.spec.initContainers else "ContainerCreating"
    olds = {s.name: s for s in previous}
    out: dict[str, ContainerStatus] = {}
    for spec in specs:
        old = olds.get(spec.name)
        status = _default(spec, old, default)
        instances = groups.get(spec.name, [])
        if not instances and old is not None and not (old.state and old.state.terminated):
            _mark_vanished(pod, status, old, default)
        if instances:
            status = _convert(instances[0], spec, old)
        if len(instances) > 1:
            status.lastState = _convert(instances[1], spec, old).state
        newest = instances[0] if instances else None
        done_init = init and newest is not None and newest.state is InstanceState.EXITED
        done_init = done_init and newest is not None and newest.exit_code == 0
        reason = waiting.get(spec.name)
        if reason and not done_init and should_container_be_restarted(pod, newest):
            _overlay(status, reason)
        _probe_flags(spec, status, init=init, readiness=readiness, startup_passed=startup_passed)
        out[spec.name] = status
    if init:
        return [out[s.name] for s in specs]
    return [out[name] for name in sorted(out)]
