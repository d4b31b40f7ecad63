"""One pod worker: observe → decide → act → report, whenever something about its pod changes.

A worker is a task per pod uid (`pkg/kubelet/pod_workers.go`). It wakes when the pod changes in
the store, when one of its containers changes in the engine, when a back-off ends, and at least
every resync period. `sync` is the kubelet's `SyncPod` for one pod; the decision is
`node.sync.decide`, the status `status.generate_status`, both pure.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import anyio
from anyio.abc import TaskGroup

from minikubelet.api.codec import from_dict, to_dict
from minikubelet.api.models import Pod, PodStatus
from minikubelet.api.raw import JSON
from minikubelet.clock import sleep_or_wake
from minikubelet.errors import Conflict, NotFound, RuntimeFailure
from minikubelet.node.admission import Admission, Rejection, rejected_status, rejection_of
from minikubelet.node.backoff import CrashLoopView
from minikubelet.node.events import NORMAL, WARNING
from minikubelet.node.executor import Executor, Fingerprint, Observed, SyncResult
from minikubelet.node.status_cache import StatusCache
from minikubelet.node.sync import NO_ACTION, BackoffWait, PodActions, ProbeView, decide
from minikubelet.node.volumes import ConfigVolumes
from minikubelet.runtime.types import ContainerInfo
from minikubelet.status.deadline import (
    DEADLINE_MESSAGE,
    DEADLINE_REASON,
    deadline_in,
    past_active_deadline,
)
from minikubelet.status.generate import generate_status
from minikubelet.status.instances import newest_first

__all__ = ["PodWorker", "Probes"]

log = logging.getLogger("minikubelet.node")
ENGINE_RETRY = 2.0  # seconds before a sync the engine failed is tried again
# `pod_workers.go` `completeWork`: a sync that returned an error is retried after
# `wait.Jitter(backOffPeriod, workerBackOffPeriodJitterFactor)`, 10 s plus up to half again.
SYNC_ERROR_BACKOFF = 10.0
SYNC_ERROR_JITTER = 0.5
# The back-off failures that do not requeue at 10-15 s here: a crash-loop restart happens when
# its window ends (README, "Deliberate differences"), as 1.35 requeues it (PR #133066).
_WAITS_FOR_ITS_WINDOW = {"CrashLoopBackOff"}


def sync_error_retry(rand: float) -> float:
    """`wait.Jitter(10s, 0.5)` for `rand` in [0, 1): 10 s to 15 s."""
    return SYNC_ERROR_BACKOFF * (1 + rand * SYNC_ERROR_JITTER)


def sync_failed(result: SyncResult) -> bool:
    """Whether 1.32's `SyncPod` returns an error for this sync: any action that failed. Its
    attempt to let back-off failures pass (`kubelet.go`) never works, as a result without an
    error is always there (issue #123602), so ImagePullBackOff is retried at 10-15 s too."""
    return any(r.error is not None and r.error not in _WAITS_FOR_ITS_WINDOW for r in result.results)


class Probes(Protocol):
    """The prober as the pod worker sees it (`prober.manager.ProbeManager`)."""

    def attach(self, uid: str, tasks: TaskGroup) -> None:
        """The pod's probe workers run in `tasks`, its worker's own task group."""

    def update(self, pod: Pod, containers: list[ContainerInfo]) -> None:
        """Start and stop probe workers for the containers now running."""

    def forget(self, uid: str) -> None: ...

    def readiness(self, uid: str) -> Mapping[str, bool]: ...

    def startup_passed(self, uid: str) -> Mapping[str, bool]: ...

    def liveness_failed(self, uid: str) -> Mapping[str, str]: ...


class NodeView(Protocol):
    """What a worker needs of its node."""

    name: str
    host_ip: str
    admission: Admission
    executor: Executor
    statuses: StatusCache
    volumes: ConfigVolumes

    @property
    def probes(self) -> Probes: ...

    def read_pod(self, namespace: str, name: str, uid: str) -> Pod | None: ...

    async def observe(self, uid: str) -> Observed: ...

    def write_status(self, pod: Pod, status: PodStatus) -> None: ...

    def remove_pod(self, pod: Pod) -> None: ...

    def schedule(self, pod: Pod) -> bool: ...

    def node_object(self) -> JSON: ...

    def admitted_before(self, pod: Pod) -> list[JSON]: ...


@dataclass
class PodWorker:
    uid: str
    namespace: str
    name: str
    node: NodeView
    resync: float = 60.0
    wake: anyio.Event = field(default_factory=anyio.Event)
    updated: anyio.Event = field(default_factory=anyio.Event)  # as `wake`; read during a kill
    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)
    last_pod: Pod | None = None
    synced_runtime: Fingerprint = frozenset()  # the runtime state its last sync ended with
    last_observed: Observed | None = None  # what its last sync saw
    admitted: bool = False  # passed the kubelet's admission (node/admission.py)

    def poke(self) -> None:
        self.wake.set()
        self.updated.set()

    def probe_changed(self) -> None:
        """A probe result changed (`handleProbeSync`): the status goes out at once, from what the
        last sync saw, as the kubelet's status manager takes a readiness change
        (SetContainerReadiness) without asking the runtime; then the pod syncs. A sync busy
        with a kill's grace period (a liveness restart, or the pod's deletion) does not hold
        the change back either: a pod being deleted reads 0/1 once its readiness fails."""
        observed = self.last_observed
        if observed is not None:
            pod = self.node.read_pod(self.namespace, self.name, self.uid)
            if pod is not None and pod.spec.nodeName:
                self._report(pod, observed)
        self.poke()

    async def run(self) -> None:
        """Sync until the pod is gone and its containers are removed. The pod's probe workers
        run in this worker's own task group: ending the worker ends them (one cancel)."""
        async with anyio.create_task_group() as probers:
            self.node.probes.attach(self.uid, probers)
            try:
                await self._sync_until_done()
            finally:
                self.node.probes.forget(self.uid)
                probers.cancel_scope.cancel()

    async def _sync_until_done(self) -> None:
        while True:
            try:
                delay = await self.sync()
            except (NotFound, Conflict):
                delay = 0.5  # the pod changed under us: read it again soon
            except RuntimeFailure as exc:
                # The engine failed or went away: the pod is kept as it is and synced again,
                # as the kubelet's pod worker retries a failed sync.
                log.warning("pod %s/%s: sync failed: %s", self.namespace, self.name, exc)
                delay = ENGINE_RETRY
            if delay is None:
                return
            await self._wait(delay)
            self.wake = anyio.Event()

    async def _wait(self, delay: float) -> None:
        """Until poked, or `delay` seconds on the node's clock (so tests run in virtual time)."""
        await sleep_or_wake(self.node.executor.clock, delay, self.wake)

    async def sync(self) -> float | None:
        """One SyncPod; the seconds until the next one, or None when the worker is done."""
        node = self.node
        pod = node.read_pod(self.namespace, self.name, self.uid)
        if pod is None:
            return await self._finish_removed()
        self.last_pod = pod
        if not pod.spec.nodeName:
            node.schedule(pod)
            return self.resync
        observed = None
        if not self.admitted:
            if self._admit(pod) is None:
                self.admitted = True
            else:
                observed = await node.observe(self.uid)
                if observed.sandbox is None and not observed.containers:
                    return self._hold_rejected(pod, observed)
                # Rejected with something of it running (the agent restarted, and the pod's
                # sysctls are not allowed any more): its Failed phase stops it below, as the
                # kubelet's pod worker stops a pod whose phase is terminal.
        terminal = pod.metadata.deletionTimestamp is not None
        observed = observed or await node.observe(self.uid)
        # Status before work (SyncPod's generateAPIPodStatus + SetPodStatus, and the same at the
        # start of SyncTerminatingPod): during a sandbox's creation, a slow pull or a volume
        # that cannot be set up yet the pod already reads ContainerCreating, with its
        # startTime and conditions, before any FailedMount event says why.
        self._report(pod, observed)
        if not terminal and not await node.volumes.set_up(pod):
            # WaitForAttachAndMount failed: nothing starts; FailedMount says why.
            return min(self.resync, node.volumes.retry_in(self.uid) or self.resync)
        self.last_observed = observed
        executor = node.executor
        past_deadline = self._check_deadline(pod)
        view = CrashLoopView(
            executor.backoff, pod, executor.clock.monotonic(), executor.clock.utcnow()
        )
        actions = decide(
            pod,
            observed.sandbox,
            observed.containers,
            now=executor.clock.monotonic(),
            backoff=view,
            probes=self._probe_view(),
            # A pod whose phase is terminal only has its containers stopped (the kubelet's
            # SyncPod returns before computePodActions): its sidecars are not restarted.
            deleting=self._phase_terminal(pod) or past_deadline,
        )
        failed = False
        if actions != NO_ACTION:
            log.info("pod %s/%s: %s", self.namespace, self.name, actions)
            if terminal:
                # SyncTerminatingPod: StopLivenessAndStartup before killPod, so no liveness
                # probe runs (or fails) during the grace period; readiness goes on.
                node.probes.update(pod, observed.containers)
                result = await self._kill_following_grace(pod, actions, observed)
            else:
                result = await executor.execute(pod, actions, observed)
            failed = sync_failed(result)
            for start in result.starts():  # the reason cache (`reasonCache.Update`)
                if start.error is None:
                    self.reasons.pop(start.target, None)
                else:
                    self.reasons[start.target] = (start.error, start.message)
            observed = await node.observe(self.uid)
        self.synced_runtime = observed.fingerprint()
        self.last_observed = observed
        node.probes.update(pod, observed.containers)
        self._report(pod, observed)
        if terminal and not observed.running:
            await self._remove(pod, observed)
            node.remove_pod(pod)
            return None
        waits = [self._remaining(w) for w in actions.backoff]
        if failed:  # completeWork: an error requeues after 10-15 s
            resync = sync_error_retry(random.random())
        else:
            resync = self.resync * (1 + random.random() * 0.5)  # wait.Jitter(syncFrequency, 0.5)
        left = deadline_in(pod, node.statuses.pod_status(self.uid), executor.clock.utcnow())
        deadline = [left + 0.001] if left is not None and left > 0 else []
        return min([resync, *waits, *deadline])

    def _admit(self, pod: Pod) -> Rejection | None:
        """`HandlePodAdditions`' admission, before the pod's first sync on this agent: a
        rejection the store holds stands (the agent restarted after it); a pod already
        terminal or being deleted is not admitted again (`IsPodTerminationRequested`, a
        terminal phase)."""
        status = pod.status
        if (earlier := rejection_of(status)) is not None:
            return earlier
        phase = status.phase if status is not None else None
        if pod.metadata.deletionTimestamp is not None or phase in ("Succeeded", "Failed"):
            return None
        node = self.node
        rejection = node.admission.admit(
            pod,
            pending=phase in (None, "Pending"),
            node=node.node_object(),
            others=node.admitted_before(pod),
        )
        if rejection is not None:  # rejectPod
            log.info("pod %s/%s rejected: %s", self.namespace, self.name, rejection.message)
            node.executor.recorder.pod(pod, WARNING, rejection.reason, rejection.message)
            rejected = rejected_status(pod, rejection, node.executor.clock.utcnow())
            node.write_status(pod, rejected)
            node.statuses.set(self.uid, rejected)
        return rejection

    def _hold_rejected(self, pod: Pod, observed: Observed) -> float | None:
        """A rejected pod of which nothing runs waits for its deletion, then goes at once: it
        is terminal (the API server gives such a pod no grace period anyway)."""
        self.synced_runtime = observed.fingerprint()
        if pod.metadata.deletionTimestamp is not None:
            self.node.remove_pod(pod)
            return None
        return self.resync

    async def _kill_following_grace(
        self, pod: Pod, actions: PodActions, observed: Observed
    ) -> SyncResult:
        """The kill of a pod being deleted, shortened when a later delete shortens its grace
        period (`calculateEffectiveGracePeriod`: a shorter one cancels the running
        SyncTerminatingPod, whose new killPod stops the containers with it)."""
        executor = self.node.executor
        done: list[SyncResult] = []
        async with anyio.create_task_group() as tg:

            async def follow() -> None:
                while True:
                    await self.updated.wait()
                    self.updated = anyio.Event()
                    current = self.node.read_pod(self.namespace, self.name, self.uid)
                    if current is not None:
                        executor.shorten_kill(current)

            self.updated = anyio.Event()
            tg.start_soon(follow)
            done.append(await executor.execute(pod, actions, observed))
            tg.cancel_scope.cancel()
        return done[0]

    def _check_deadline(self, pod: Pod) -> bool:
        """The active-deadline handler: past it, a `DeadlineExceeded` event each sync until the
        pod is terminal, and the pod is killed (its status then reads Failed)."""
        status = self.node.statuses.pod_status(self.uid) or pod.status
        now = self.node.executor.clock.utcnow()
        if not past_active_deadline(pod, status, now):
            return False
        if not self._phase_terminal(pod):
            self.node.executor.recorder.pod(pod, NORMAL, DEADLINE_REASON, DEADLINE_MESSAGE)
        return True

    def _phase_terminal(self, pod: Pod) -> bool:
        status = self.node.statuses.pod_status(self.uid) or pod.status
        return status is not None and status.phase in ("Succeeded", "Failed")

    def _probe_view(self) -> ProbeView:
        probes = self.node.probes
        started = probes.startup_passed(self.uid)
        return ProbeView(
            failed=dict(probes.liveness_failed(self.uid)),
            started=frozenset(name for name, passed in started.items() if passed),
        )

    def _remaining(self, wait: BackoffWait) -> float:
        """Seconds until a crash back-off ends: it runs from the exit, not from this sync.
        A millisecond more, as datetimes keep microseconds and the back-off reads floats."""
        if wait.finished_at is None:
            return wait.delay
        elapsed = (self.node.executor.clock.utcnow() - wait.finished_at).total_seconds()
        return max(0.0, min(wait.delay, wait.delay - elapsed)) + 0.001

    def _report(self, pod: Pod, observed: Observed) -> None:
        node = self.node
        previous = node.statuses.pod_status(self.uid)
        status = generate_status(
            pod,
            observed.sandbox,
            observed.containers,
            previous=previous,
            now=node.executor.clock.utcnow(),
            host_ip=node.host_ip,
            readiness=node.probes.readiness(self.uid),
            startup_passed=node.probes.startup_passed(self.uid),
            waiting=self.reasons,
        )
        written = to_dict(status)
        # also when the API holds another status than this node's last (a client overwrote
        # it): the status manager's reconcile writes it again (`needsReconcile`)
        stored = to_dict(pod.status or PodStatus())
        if previous is None or written != to_dict(previous) or written != stored:
            node.write_status(pod, status)
        node.statuses.set(self.uid, status)

    async def _finish_removed(self) -> float | None:
        """The pod left the store (force delete): stop and remove whatever still runs."""
        observed = await self.node.observe(self.uid)
        pod = self.last_pod or from_dict(Pod, {"metadata": {"uid": self.uid, "name": self.name}})
        await self.node.executor.kill_pod(pod, observed)
        await self._remove(pod, observed)
        return None

    async def _remove(self, pod: Pod, observed: Observed) -> None:
        runtime = self.node.executor.runtime
        # Oldest first: the newest instance of each container carries its restartCount and
        # lastState, so an agent killed midway comes back to the same counts (never lower).
        for instances in newest_first(observed.containers).values():
            for info in reversed(instances):
                await self.node.executor.remove_container(info.id)
        for sandbox in [observed.sandbox, *observed.stale_sandboxes]:
            if sandbox is not None:
                await runtime.remove_sandbox(sandbox.id)
        self.node.probes.forget(self.uid)
        self.node.volumes.forget(self.uid)
        volumes = self.node.executor.pods_dir / self.uid
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(volumes, ignore_errors=True))
