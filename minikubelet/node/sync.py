"""What one sync of a pod should do: a pure port of the kubelet's `computePodActions`.

`decide` reads the Pod, the observed sandbox and container instances, the probers' verdicts
and a read-only back-off view, and returns a `PodActions` value; the executor performs it
(`kuberuntime_manager.go` `SyncPod`) in this order: kill the pod (every container, then the
sandbox) when `kill_pod`; remove `containers_to_remove`; create the sandbox when
`create_sandbox`; kill `containers_to_kill`; start `containers_to_start` in order, calling the
crash back-off's `next` for each start that has `finished_at` (the kubelet's `doBackOff`).

Ported: `computePodActions` (`kuberuntime_manager.go`, ≈1.32) with its init-container half
`computeInitContainerActions` in `node/init_containers.py` (sidecars included),
`ShouldContainerBeRestarted` (`container/helpers.go`), `PodSandboxChanged`
(`kuberuntime/util`), `doBackOff`, `setTerminationGracePeriod`, and the container GC's "one
dead instance per container" rule, and ephemeral containers (started once, first, never
restarted). Not ported: in-place resize.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from minikubelet.api.gofmt import go_duration
from minikubelet.api.models import Pod
from minikubelet.node.actions import (
    MINIMUM_GRACE_PERIOD,
    NO_ACTION,
    BackoffRemaining,
    BackoffWait,
    KillAction,
    Plan,
    PodActions,
    ProbeView,
    StartAction,
    format_pod,
    grace_period,
    image_changed,
    start_action,
    unknown_kill,
)
from minikubelet.node.init_containers import init_actions
from minikubelet.runtime.types import ContainerInfo, InstanceState, SandboxInfo
from minikubelet.status.instances import (
    newest_first,
    restart_policy,
    should_container_be_restarted,
)

__all__ = [
    "MINIMUM_GRACE_PERIOD",
    "NO_ACTION",
    "BackoffRemaining",
    "BackoffWait",
    "KillAction",
    "PodActions",
    "ProbeView",
    "StartAction",
    "decide",
    "format_pod",
]


def _sandbox_changed(pod: Pod, sandbox: SandboxInfo | None) -> tuple[bool, int]:
    """`PodSandboxChanged`: a missing, stopped or IP-less sandbox needs a new one."""
    if sandbox is None:
        return True, 0
    if not sandbox.running or (not pod.spec.hostNetwork and not sandbox.ip):
        return True, sandbox.attempt + 1
    return False, sandbox.attempt


def _regular_actions(
    pod: Pod,
    groups: Mapping[str, list[ContainerInfo]],
    liveness_failed: Mapping[str, str],
    plan: Plan,
) -> int:
    """The regular-container half of `computePodActions`; returns how many are kept running."""
    keep = 0
    for spec in pod.spec.containers or []:
        instances = groups.get(spec.name, [])
        newest = instances[0] if instances else None
        if newest is None or newest.state is not InstanceState.RUNNING:
            if should_container_be_restarted(pod, newest):
                plan.starts.append(start_action(spec, instances, init=False))
                if newest is not None and newest.state is InstanceState.UNKNOWN:
                    plan.kills.append(unknown_kill(pod, spec, newest, init=False))
            continue
        restart = restart_policy(pod) != "Never"
        probe = liveness_failed.get(spec.name)
        if image_changed(spec, newest):
            message, restart, probe = f"Container {spec.name} definition changed", True, None
        elif probe in ("liveness", "startup"):
            message = f"Container {spec.name} failed {probe} probe"
        else:
            keep += 1
            continue
        if restart:
            message += ", will be restarted"
            plan.starts.append(start_action(spec, instances, init=False))
        grace = grace_period(pod, spec, probe)
        plan.kills.append(KillAction(newest.id, spec.name, message, grace, probe or ""))
    return keep


def _sandbox_plan(pod: Pod, groups: Mapping[str, list[ContainerInfo]]) -> tuple[Plan, bool]:
    """The `createPodSandbox` branch of `computePodActions` (SandboxChanged): everything is
    killed and init containers are purged, so they rerun from the first. Returns the plan and
    whether to create the sandbox at all.

    Under `Never` a pod whose containers already ran gets no new sandbox; the kubelet also
    requires sandbox attempt > 0, but a pod that lost its sandbox record while keeping its
    containers cannot arise there, and here it should not rerun `Never` containers either."""
    plan = Plan(kill_pod=True)
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
        plan.init_starts.append(StartAction(name=inits[0].name, init=True))  # purged: attempt 0
    else:
        plan.starts.extend(start_action(c, groups.get(c.name, []), init=False) for c in to_start)
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
    probes: ProbeView | None = None,
    deleting: bool = False,
) -> PodActions:
    """`computePodActions` for one pod: pure, so its table of cases needs no Docker.

    `containers` are this pod's instances (any state); `probes` holds the probers' verdicts
    on the running instances (failed liveness/startup, startup passed); `deleting` (or a
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
        plan = Plan()
        # computePodActions: ephemeral containers may start before initialization completes
        plan.ephemeral = [
            StartAction(name=c.name)
            for c in pod.spec.ephemeral_containers()
            if not groups.get(c.name)  # never restarted: one instance, ever
        ]
        seen = probes or ProbeView()
        initialized = init_actions(pod, groups, seen, plan)
        if not plan.kill_pod and initialized:
            keep = _regular_actions(pod, groups, seen.failed, plan)
            # No regular container left to keep or start: the pod is done, and its sidecars
            # are not restarted, so they cannot keep it alive.
            plan.kill_pod = keep == 0 and not plan.starts
    if plan.kill_pod and not create:
        plan.init_starts.clear()
        plan.starts.clear()
        plan.ephemeral.clear()
    # SyncPod starts ephemeral containers first (step 5), before init and regular ones
    starts, waits = _hold_back(pod, [*plan.ephemeral, *plan.init_starts, *plan.starts], backoff)
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
