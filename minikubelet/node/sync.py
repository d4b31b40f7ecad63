"""What one sync of a pod should do: a pure port of the kubelet's `computePodActions`.

`decide` reads the Pod, the observed sandbox and container instances, the probers' kill reasons
and a read-only back-off view, and returns a `PodActions` value; the executor performs it
(`kuberuntime_manager.go` `SyncPod`) in this order: kill the pod (every container, then the
sandbox) when `kill_pod`; remove `containers_to_remove`; create the sandbox when
`create_sandbox`; kill `containers_to_kill`; start `containers_to_start` in order, calling the
crash back-off's `next` for each start that has `finished_at` (the kubelet's `doBackOff`).

Ported: `computePodActions` and `computeInitContainerActions` (`kuberuntime_manager.go`,
`kuberuntime_container.go`, ≈1.32), `ShouldContainerBeRestarted` (`container/helpers.go`),
`PodSandboxChanged` (`kuberuntime/util`), `doBackOff`, `setTerminationGracePeriod`, and the
container GC's "one dead instance per container" rule. Not ported: sidecars (init containers
with `restartPolicy: Always` are run as plain init containers), in-place resize, ephemeral
containers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from minikubelet.api.gofmt import go_duration
from minikubelet.api.models import Container, Pod
from minikubelet.runtime.types import ContainerInfo, InstanceState, SandboxInfo
from minikubelet.status.instances import (
    finish_time,
    newest_first,
    restart_policy,
    should_container_be_restarted,
)

__all__ = [
    "NO_ACTION",
    "BackoffRemaining",
    "BackoffWait",
    "KillAction",
    "PodActions",
    "StartAction",
    "decide",
    "format_pod",
]

MINIMUM_GRACE_PERIOD = 2  # kuberuntime `minimumGracePeriodInSeconds`

BackoffRemaining = Callable[[str, datetime | None], float | None]
"""(container name, finishedAt of its newest exited instance) → the back-off delay being
waited, or None when the container may start now (`node.backoff.CrashLoopView`)."""


@dataclass(frozen=True, slots=True)
class StartAction:
    """Start container `name`; `attempt` is its restartCount (newest instance + 1, else 0).
    `finished_at` is set when an exited instance exists: the executor then calls the crash
    back-off's `next` with it, as `doBackOff` does before a start."""

    name: str
    init: bool = False
    attempt: int = 0
    finished_at: datetime | None = None

    def __str__(self) -> str:
        return f"{'init:' if self.init else ''}{self.name}#{self.attempt}"


@dataclass(frozen=True, slots=True)
class KillAction:
    """Stop one container; `reason_message` is the `Killing` event's message."""

    container_id: str
    name: str
    reason_message: str
    grace: int | None = None

    def __str__(self) -> str:
        return f"{self.name}({self.container_id[:12]})"


@dataclass(frozen=True, slots=True)
class BackoffWait:
    """A start held back by CrashLoopBackOff; `message` is the waiting message."""

    name: str
    delay: float
    message: str
    init: bool = False
    # the back-off runs from this exit, so the worker waits until finished_at + delay
    finished_at: datetime | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.name} {go_duration(self.delay)}"


@dataclass(frozen=True, slots=True)
class PodActions:
    """The kubelet's `podActions`: everything one sync of a pod should do."""

    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_attempt: int = 0
    containers_to_start: tuple[StartAction, ...] = ()
    containers_to_kill: tuple[KillAction, ...] = ()
    backoff: tuple[BackoffWait, ...] = ()
    containers_to_remove: tuple[str, ...] = ()
    init_failed_never: bool = False

    def __str__(self) -> str:
        parts = [f"kill_pod={self.kill_pod}", f"create_sandbox={self.create_sandbox}"]
        if self.create_sandbox:
            parts.append(f"attempt={self.sandbox_attempt}")
        for label, items in (
            ("start", self.containers_to_start),
            ("kill", self.containers_to_kill),
            ("backoff", self.backoff),
        ):
            if items:
                parts.append(f"{label}=[{', '.join(str(i) for i in items)}]")
        if self.containers_to_remove:
            parts.append(f"remove={len(self.containers_to_remove)}")
        if self.init_failed_never:
            parts.append("init_failed_never")
        return f"PodActions({' '.join(parts)})"


NO_ACTION = PodActions()


def format_pod(pod: Pod) -> str:
    """`format.Pod`: `<name>_<namespace>(<uid>)`."""
    return f"{pod.name}_{pod.namespace}({pod.metadata.uid or ''})"


def _sandbox_changed(pod: Pod, sandbox: SandboxInfo | None) -> tuple[bool, int]:
    """`PodSandboxChanged`: a missing, stopped or IP-less sandbox needs a new one."""
    if sandbox is None:
        return True, 0
    if not sandbox.running or (not pod.spec.hostNetwork and not sandbox.ip):
        return True, sandbox.attempt + 1
    return False, sandbox.attempt


def _normalize_image(image: str) -> str:
    """`nginx`, `nginx:latest` and `docker.io/library/nginx:latest` name one image."""
    ref, _, digest = image.partition("@")
    if not digest and ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    ref = ref.removeprefix("docker.io/").removeprefix("library/")
    return f"{ref}@{digest}" if digest else ref


def _image_changed(spec: Container, info: ContainerInfo) -> bool:
    """`containerChanged`: since 1.31 the hash covers name and image only."""
    return _normalize_image(spec.image or "") != _normalize_image(info.image)


def _grace(pod: Pod, spec: Container, probe: str | None) -> int:
    """`setTerminationGracePeriod` with the 2 s floor of `killContainer`."""
    grace = MINIMUM_GRACE_PERIOD
    if pod.metadata.deletionGracePeriodSeconds is not None:
        grace = pod.metadata.deletionGracePeriodSeconds
    elif pod.spec.terminationGracePeriodSeconds is not None:
        grace = pod.spec.terminationGracePeriodSeconds
        found = {"liveness": spec.livenessProbe, "startup": spec.startupProbe}.get(probe or "")
        if found is not None and found.terminationGracePeriodSeconds is not None:
            grace = found.terminationGracePeriodSeconds
    return max(grace, MINIMUM_GRACE_PERIOD)


def _start(spec: Container, instances: Sequence[ContainerInfo], *, init: bool) -> StartAction:
    exited = next((c for c in instances if c.state is InstanceState.EXITED), None)
    return StartAction(
        name=spec.name,
        init=init,
        attempt=instances[0].attempt + 1 if instances else 0,
        finished_at=finish_time(exited) if exited else None,
    )


def _unknown_kill(pod: Pod, spec: Container, info: ContainerInfo, *, init: bool) -> KillAction:
    what = "Init container" if init else "Container"
    return KillAction(
        container_id=info.id,
        name=spec.name,
        reason_message=f'{what} is in "{info.state.value}" state, try killing it before restart',
        grace=_grace(pod, spec, None),
    )


@dataclass(slots=True)
class _Plan:
    """The mutable working copy of a `PodActions` while `decide` fills it in."""

    kill_pod: bool = False
    starts: list[StartAction] = field(default_factory=list)
    kills: list[KillAction] = field(default_factory=list)
    init_failed_never: bool = False


def _init_failed(info: ContainerInfo) -> bool:
    """`isInitContainerFailed`: OOMKilled (even with exit 0), a non-zero exit, or unknown."""
    return (
        info.oom_killed
        or (info.state is InstanceState.EXITED and info.exit_code != 0)
        or info.state is InstanceState.UNKNOWN
    )


def _init_actions(pod: Pod, groups: Mapping[str, list[ContainerInfo]], plan: _Plan) -> bool:
    """`computeInitContainerActions` for regular init containers; returns podHasInitialized.

    Walks the init list backwards to the last one with an instance, so init instances removed by GC
    do not make earlier ones rerun; at most one init container starts per sync."""
    inits = pod.spec.initContainers or []
    if not inits:
        return True
    initialized = any(
        groups.get(c.name) and groups[c.name][0].state in _LIVE for c in pod.spec.containers or []
    )
    previously = initialized
    restart = restart_policy(pod) != "Never"
    for i in range(len(inits) - 1, -1, -1):
        spec, instances = inits[i], groups.get(inits[i].name, [])
        if not instances or previously:
            continue
        newest = instances[0]
        if newest.state is InstanceState.CREATED:
            plan.starts.append(_start(spec, instances, init=True))
        elif newest.state is InstanceState.EXITED and not _init_failed(newest):
            if i == len(inits) - 1:
                initialized = True
            else:
                after = inits[i + 1]
                plan.starts.append(_start(after, groups.get(after.name, []), init=True))
        elif newest.state is not InstanceState.RUNNING:  # failed: exit≠0, OOM or unknown
            if not restart:
                plan.kill_pod, plan.init_failed_never = True, True
                plan.starts.clear()
                return False
            if newest.state is InstanceState.UNKNOWN:
                plan.kills.append(_unknown_kill(pod, spec, newest, init=True))
            plan.starts.append(_start(spec, instances, init=True))
        previously = True
    if not previously:
        plan.starts.append(_start(inits[0], groups.get(inits[0].name, []), init=True))
    return initialized


_LIVE = (InstanceState.CREATED, InstanceState.RUNNING)


def _regular_actions(
    pod: Pod,
    groups: Mapping[str, list[ContainerInfo]],
    liveness_failed: Mapping[str, str],
    plan: _Plan,
) -> int:
    """The regular-container half of `computePodActions`; returns how many are kept running."""
    keep = 0
    for spec in pod.spec.containers or []:
        instances = groups.get(spec.name, [])
        newest = instances[0] if instances else None
        if newest is None or newest.state is not InstanceState.RUNNING:
            if should_container_be_restarted(pod, newest):
                plan.starts.append(_start(spec, instances, init=False))
                if newest is not None and newest.state is InstanceState.UNKNOWN:
                    plan.kills.append(_unknown_kill(pod, spec, newest, init=False))
            continue
        restart = restart_policy(pod) != "Never"
        probe = liveness_failed.get(spec.name)
        if _image_changed(spec, newest):
            message, restart, probe = f"Container {spec.name} definition changed", True, None
        elif probe in ("liveness", "startup"):
            message = f"Container {spec.name} failed {probe} probe"
        else:
            keep += 1
            continue
        if restart:
            message += ", will be restarted"
            plan.starts.append(_start(spec, instances, init=False))
        plan.kills.append(KillAction(newest.id, spec.name, message, _grace(pod, spec, probe)))
    return keep


def _sandbox_plan(pod: Pod, groups: Mapping[str, list[ContainerInfo]]) -> tuple[_Plan, bool]:
    """The `createPodSandbox` branch of `computePodActions` (SandboxChanged): everything is
    killed and init containers are purged, so they rerun from the first. Returns the plan and
    whether to create the sandbox at all.

    Under `Never` a pod whose containers already ran gets no new sandbox; the kubelet also
    requires sandbox attempt > 0, but a pod that lost its sandbox instance while keeping its
    containers cannot arise there, and here it should not rerun `Never` containers either."""
    plan = _Plan(kill_pod=True)
    if restart_policy(pod) == "Never" and groups:
        return plan, False
    to_start = [
        c
        for c in pod.spec.containers or []
        if not (restart_policy(pod) == "OnFailure" and _succeeded(groups.get(c.name, [])))
    ]
    if not to_start:
        return plan, False
    inits = pod.spec.initContainers or []
    if inits:
        plan.starts.append(StartAction(name=inits[0].name, init=True))  # purged: attempt 0
    else:
        plan.starts.extend(_start(c, groups.get(c.name, []), init=False) for c in to_start)
    return plan, True


def _succeeded(instances: Sequence[ContainerInfo]) -> bool:
    """`containerSucceeded`: the newest instance is not running and its exit code is 0."""
    return bool(instances) and (
        instances[0].state is not InstanceState.RUNNING and instances[0].exit_code == 0
    )


def _garbage(
    pod: Pod, groups: Mapping[str, list[ContainerInfo]], *, purge_init: bool
) -> tuple[str, ...]:
    """Container GC (`--maximum-dead-containers-per-container=1`): every dead instance but the
    newest per name; with `purge_init` (`purgeInitContainers` on a new sandbox) every init one."""
    init_names = {c.name for c in pod.spec.initContainers or []}
    remove: list[str] = []
    for name, instances in groups.items():
        if purge_init and name in init_names:
            remove.extend(c.id for c in instances)
            continue
        dead = [c for c in instances if c.state is not InstanceState.RUNNING]
        remove.extend(c.id for c in dead[1:])
    return tuple(remove)


def _hold_back(
    pod: Pod, starts: Sequence[StartAction], backoff: BackoffRemaining
) -> tuple[tuple[StartAction, ...], tuple[BackoffWait, ...]]:
    """`doBackOff`: a start whose newest exited instance finished less than the current delay
    ago waits, with the CrashLoopBackOff message; the rest go ahead."""
    go: list[StartAction] = []
    waits: list[BackoffWait] = []
    for start in starts:
        delay = None if start.finished_at is None else backoff(start.name, start.finished_at)
        if delay is None:
            go.append(start)
            continue
        message = (
            f"back-off {go_duration(delay)} restarting failed container={start.name} "
            f"pod={format_pod(pod)}"
        )
        waits.append(
            BackoffWait(start.name, delay, message, init=start.init, finished_at=start.finished_at)
        )
    return tuple(go), tuple(waits)


def decide(
    pod: Pod,
    sandbox: SandboxInfo | None,
    containers: Sequence[ContainerInfo],
    *,
    now: float,
    backoff: BackoffRemaining,
    liveness_failed: Mapping[str, str] | None = None,
    deleting: bool = False,
) -> PodActions:
    """`computePodActions` for one pod: pure, so its table of cases needs no Docker.

    `containers` are this pod's instances (any state); `liveness_failed` maps a running
    container to the probe that failed it ("liveness" or "startup"); `deleting` (or a
    deletionTimestamp) means the pod worker is terminating the pod. `now` is the monotonic
    reading of this sync; every timed rule reaches `decide` through `backoff`.
    When the pod is killed, per-container kills are dropped: `killPodWithSyncResult` stops
    everything with the plain `Stopping container <c>` message."""
    del now  # kept in the signature: the decision is "as of" this time
    groups = newest_first(containers)
    if deleting or pod.metadata.deletionTimestamp is not None:
        remove = _garbage(pod, groups, purge_init=False)
        return PodActions(kill_pod=True, containers_to_remove=remove)
    changed, attempt = _sandbox_changed(pod, sandbox)
    create = False
    if changed:
        plan, create = _sandbox_plan(pod, groups)
    else:
        plan = _Plan()
        initialized = _init_actions(pod, groups, plan)
        if not plan.kill_pod and initialized:
            keep = _regular_actions(pod, groups, liveness_failed or {}, plan)
            plan.kill_pod = keep == 0 and not plan.starts
    if plan.kill_pod and not create:
        plan.starts.clear()
    starts, waits = _hold_back(pod, plan.starts, backoff)
    return PodActions(
        kill_pod=plan.kill_pod,
        create_sandbox=create,
        sandbox_attempt=attempt if create else 0,
        containers_to_start=starts,
        containers_to_kill=() if plan.kill_pod else tuple(plan.kills),
        backoff=waits,
        containers_to_remove=_garbage(pod, groups, purge_init=create),
        init_failed_never=plan.init_failed_never,
    )
