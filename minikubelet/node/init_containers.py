"""The init-container half of a sync: a pure port of the 1.32 kubelet's
`computeInitContainerActions` (`kuberuntime_container.go`, the SidecarContainers path, on by
default since 1.29), sidecars (init containers with `restartPolicy: Always`) included.

Init containers start strictly in spec order. After a regular init container the next waits
for its exit 0; after a sidecar, until it is started (running, and its startup probe passed if
it has one: the postStart hook returned before the sync that started it ended). A sidecar is
restarted whenever it is not running, whatever the pod's restartPolicy, and killed when its
startup or liveness probe fails or its image changes; regular init containers never rerun
once a regular container was created or is running.
"""

from __future__ import annotations

from collections.abc import Mapping

from minikubelet.api.models import Container, Pod
from minikubelet.node.actions import (
    LIVE,
    KillAction,
    Plan,
    ProbeView,
    grace_period,
    image_changed,
    init_failed,
    is_sidecar,
    start_action,
    unknown_kill,
)
from minikubelet.runtime.types import ContainerInfo, InstanceState
from minikubelet.status.instances import restart_policy

__all__ = ["init_actions"]


def _has_initialized(pod: Pod, groups: Mapping[str, list[ContainerInfo]]) -> bool:
    """A regular container created or running means the init containers ran at some point,
    even if their records are gone (an exited one does not: it may predate a new sandbox)."""
    return any(
        groups.get(c.name) and groups[c.name][0].state in LIVE for c in pod.spec.containers or []
    )


class _Walk:
    """One backwards walk over `spec.initContainers`; `starts` are indexes, in walk order."""

    def __init__(self, pod: Pod, groups: Mapping[str, list[ContainerInfo]], probes: ProbeView):
        self.pod, self.groups, self.probes = pod, groups, probes
        self.inits = pod.spec.initContainers or []
        self.initialized = _has_initialized(pod, groups)
        self.previously = self.initialized
        self.starts: list[int] = []
        self.kills: list[KillAction] = []

    def kill(self, spec: Container, info: ContainerInfo, message: str, probe: str = "") -> None:
        grace = grace_period(self.pod, spec, probe or None)
        self.kills.append(KillAction(info.id, spec.name, message, grace, probe))

    def running_sidecar(self, i: int, spec: Container, newest: ContainerInfo) -> None:
        """The `ContainerStateRunning` branch for a restartable init container."""
        if spec.startupProbe is not None and spec.name not in self.probes.started:
            if self.probes.failed.get(spec.name) == "startup":
                self.kill(
                    spec, newest, f"Init container {spec.name} failed startup probe", "startup"
                )
                self.starts.append(i)
            return  # not started yet: the next init container waits
        if i == len(self.inits) - 1:
            self.initialized = True
        elif not self.previously:
            self.starts.append(i + 1)  # started for the first time: start the next one
        if image_changed(spec, newest):
            self.kill(spec, newest, f"Init container {spec.name} definition changed")
            self.starts.append(i)
        elif self.probes.failed.get(spec.name) == "liveness":
            self.kill(spec, newest, f"Init container {spec.name} failed liveness probe", "liveness")
            self.starts.append(i)

    def exited_regular(self, i: int, newest: ContainerInfo) -> bool:
        """A regular init container that exited; False when the pod fails (Never)."""
        if init_failed(newest):
            if restart_policy(self.pod) == "Never":
                return False
            self.starts.append(i)
        elif i == len(self.inits) - 1:
            self.initialized = True
        else:
            self.starts.append(i + 1)
        return True

    def step(self, i: int) -> bool:
        """One init container; False when the pod fails."""
        spec = self.inits[i]
        sidecar = is_sidecar(spec)
        instances = self.groups.get(spec.name, [])
        if not instances:
            if self.previously and sidecar:  # its records are gone: keep it running
                self.starts.append(i)
            return True
        if self.previously and not sidecar:
            return True  # after initialization only sidecars are kept running
        newest = instances[0]
        if newest.state is InstanceState.CREATED:
            self.starts.append(i)  # the runtime failed to start it: start it again
        elif newest.state is InstanceState.RUNNING:
            if sidecar:
                self.running_sidecar(i, spec, newest)
        elif newest.state is InstanceState.EXITED:
            if sidecar:
                self.starts.append(i)
            elif not self.exited_regular(i, newest):
                return False
        else:  # unknown: kill it, then start it again
            if not sidecar and restart_policy(self.pod) == "Never":
                return False
            self.kills.append(unknown_kill(self.pod, spec, newest, init=True))
            self.starts.append(i)
        self.previously = True
        return True


def init_actions(
    pod: Pod, groups: Mapping[str, list[ContainerInfo]], probes: ProbeView, plan: Plan
) -> bool:
    """`computeInitContainerActions`: fills `plan.init_starts` (spec order) and `plan.kills`;
    returns podHasInitialized. A failed regular init container under `Never` sets
    `plan.kill_pod` and `init_failed_never` and starts nothing."""
    inits = pod.spec.initContainers or []
    if not inits:
        return True
    walk = _Walk(pod, groups, probes)
    for i in range(len(inits) - 1, -1, -1):
        if not walk.step(i):
            plan.kill_pod, plan.init_failed_never = True, True
            plan.init_starts.clear()
            return False
    if not walk.previously:
        walk.starts.append(0)  # nothing started yet: the first one
    plan.kills.extend(walk.kills)
    for i in reversed(walk.starts):
        spec = inits[i]
        plan.init_starts.append(start_action(spec, groups.get(spec.name, []), init=True))
    return walk.initialized
