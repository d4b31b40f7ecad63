"""The prober manager (`prober_manager.go`): workers keyed by (pod uid, container, kind), the
results the pod worker reads, the `Unhealthy`/`ProbeWarning` events, and the wake-ups.

It implements the pod worker's `Probes` view (`node/worker.py`): `attach` hands it the pod
worker's own task group, where that pod's probe workers run (ending the pod worker ends them);
`update` is `AddPod` plus `UpdatePodStatus`'s readiness manual triggers, run on every pod sync;
the results are read at status time and compared with the container the pod worker sees now
(results are keyed by container ID, so a restarted container has none yet).

What it reads of the node comes through named interfaces: the statuses the pod workers last
wrote (`PodStatusProvider`, the node's status cache), the event recorder (`EventSink`) and
`wake(uid)`, which pokes the pod's worker (`handleProbeSync`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from anyio.abc import TaskGroup

from minikubelet.api.models import Container, Pod, PodStatus
from minikubelet.clock import Clock
from minikubelet.prober.outcome import ProbeResult
from minikubelet.prober.worker import Attempt, Kind, ProbeWorker, Result, Runner
from minikubelet.runtime.types import ContainerInfo, InstanceState

__all__ = ["EventSink", "PodStatusProvider", "ProbeManager"]

log = logging.getLogger("minikubelet.prober")


class PodStatusProvider(Protocol):
    """`status.PodStatusProvider`: the status a pod's worker last wrote (the node's status
    cache), None before its first."""

    def pod_status(self, uid: str) -> PodStatus | None: ...


class EventSink(Protocol):
    """Where `Unhealthy` and `ProbeWarning` events go: the node's event recorder."""

    def pod(
        self, pod: Pod, type_: str, reason: str, message: str, *, container: str = ""
    ) -> None: ...


AttemptObserver = Callable[[Pod, Attempt], None]


@dataclass
class _PodProbes:
    tasks: TaskGroup  # the pod worker's own: its probe workers run there
    pod: Pod | None = None
    workers: dict[tuple[str, Kind], ProbeWorker] = field(default_factory=dict)
    container_ids: dict[str, str] = field(default_factory=dict)


class ProbeManager:
    """The prober of one node; `observers` are told of every attempt (the probe history)."""

    def __init__(
        self,
        clock: Clock,
        runner: Runner,
        *,
        statuses: PodStatusProvider,
        events: EventSink,
        wake: Callable[[str], None],
    ) -> None:
        self.clock = clock
        self.runner = runner
        self.statuses = statuses
        self.events = events
        self.wake = wake
        self.observers: list[AttemptObserver] = []
        self.started_at = clock.monotonic()
        self.pods: dict[str, _PodProbes] = {}

    # -- the pod worker's view ------------------------------------------------------------

    def attach(self, uid: str, tasks: TaskGroup) -> None:
        """The pod's probe workers run in `tasks`, its pod worker's own task group."""
        self.pods[uid] = _PodProbes(tasks)

    def update(self, pod: Pod, containers: list[ContainerInfo]) -> None:
        uid = pod.metadata.uid or ""
        entry = self.pods[uid]  # attached by the pod worker before its first sync
        entry.pod = pod
        newest: dict[str, ContainerInfo] = {}
        for info in containers:
            if info.name not in newest or info.attempt > newest[info.name].attempt:
                newest[info.name] = info
        entry.container_ids = {name: f"docker://{info.id}" for name, info in newest.items()}
        if pod.metadata.deletionTimestamp is not None:
            self._stop(entry, {Kind.LIVENESS, Kind.STARTUP})  # StopLivenessAndStartup
        else:
            # AddPod: the regular containers and the sidecars (restartable init containers)
            sidecars = [c for c in pod.spec.initContainers or [] if c.restartPolicy == "Always"]
            for container in [*(pod.spec.containers or []), *sidecars]:
                self._add(entry, uid, container)
        running = {name for name, info in newest.items() if info.state is InstanceState.RUNNING}
        self._manual_triggers(entry, running)

    def forget(self, uid: str) -> None:
        entry = self.pods.pop(uid, None)
        if entry is not None:
            self._stop(entry, set(Kind))

    def readiness(self, uid: str) -> Mapping[str, bool]:
        return {n: r is Result.SUCCESS for n, r in self._results(uid, Kind.READINESS).items()}

    def startup_passed(self, uid: str) -> Mapping[str, bool]:
        return {n: r is Result.SUCCESS for n, r in self._results(uid, Kind.STARTUP).items()}

    def liveness_failed(self, uid: str) -> Mapping[str, str]:
        failed = {
            n: "startup" for n, r in self._results(uid, Kind.STARTUP).items() if r is Result.FAILURE
        }
        for name, result in self._results(uid, Kind.LIVENESS).items():
            if result is Result.FAILURE:
                failed[name] = "liveness"
        return failed

    # -- internals ------------------------------------------------------------------------

    def _results(self, uid: str, kind: Kind) -> dict[str, Result]:
        """Cached results of `kind` that belong to the container instance running now."""
        entry = self.pods.get(uid)
        if entry is None:
            return {}
        out = {}
        for (name, worker_kind), worker in entry.workers.items():
            state = worker.state
            current = entry.container_ids.get(name)
            if worker_kind is kind and state.result is not None and state.container_id == current:
                out[name] = state.result
        return out

    def _add(self, entry: _PodProbes, uid: str, container: Container) -> None:
        for kind in (Kind.STARTUP, Kind.READINESS, Kind.LIVENESS):
            key = (container.name, kind)
            if getattr(container, kind.field) is None or key in entry.workers:
                continue
            worker = ProbeWorker(
                uid,
                container,
                kind,
                self.clock,
                self.runner,
                self._read,
                self._notify,
                jitter=self.clock.monotonic() - self.started_at
                < float(getattr(container, kind.field).periodSeconds or 10),
            )
            entry.workers[key] = worker
            entry.tasks.start_soon(self._run, entry, key, worker)

    async def _run(self, entry: _PodProbes, key: tuple[str, Kind], worker: ProbeWorker) -> None:
        try:
            await worker.run()
        finally:
            if entry.workers.get(key) is worker:
                del entry.workers[key]

    def _stop(self, entry: _PodProbes, kinds: set[Kind]) -> None:
        for (_, kind), worker in list(entry.workers.items()):
            if kind in kinds:
                worker.stopped = True
                worker.manual_trigger()

    def _manual_triggers(self, entry: _PodProbes, running: set[str]) -> None:
        """`UpdatePodStatus`: a running, started container with a readiness worker and no
        cached `Success` gets an immediate readiness probe.

        Decided from the prober's own results and the containers seen in this sync, as the
        kubelet decides while it generates the new status: the status the pod worker last
        wrote predates this sync (a startup success would trigger nothing until a later one)."""
        for name in running:
            worker = entry.workers.get((name, Kind.READINESS))
            if worker is None or not self._started(entry, name):
                continue
            current = entry.container_ids.get(name)
            state = worker.state
            if not (state.container_id == current and state.result is Result.SUCCESS):
                worker.manual_trigger()

    def _started(self, entry: _PodProbes, name: str) -> bool:
        """`isContainerStarted` for a running container: startup's cached result is Success,
        or there is no startup worker."""
        worker = entry.workers.get((name, Kind.STARTUP))
        if worker is None:
            return True
        state = worker.state
        return state.container_id == entry.container_ids.get(name) and (
            state.result is Result.SUCCESS
        )

    def _read(self, uid: str) -> tuple[Pod | None, PodStatus | None]:
        entry = self.pods.get(uid)
        return (entry.pod if entry else None), self.statuses.pod_status(uid)

    def _notify(self, worker: ProbeWorker, attempt: Attempt | None, changed: bool) -> None:
        entry = self.pods.get(worker.uid)
        if entry is None or entry.pod is None:
            return
        if attempt is not None:
            self._events(entry.pod, worker, attempt)
            for observe in self.observers:
                observe(entry.pod, attempt)
        if changed and not (worker.kind is Kind.LIVENESS and worker.state.result is Result.SUCCESS):
            self.wake(worker.uid)  # handleProbeSync (liveness: only failures)

    def _events(self, pod: Pod, worker: ProbeWorker, attempt: Attempt) -> None:
        outcome, title = attempt.outcome, worker.kind.title
        if outcome.error is not None:
            state = outcome.result.value
            reason = "Unhealthy"
            message = f"{title} probe errored and resulted in {state} state: {outcome.error}"
        elif outcome.result is ProbeResult.FAILURE:
            reason, message = "Unhealthy", f"{title} probe failed: {outcome.output}"
        elif outcome.result is ProbeResult.WARNING:
            reason, message = "ProbeWarning", f"{title} probe warning: {outcome.output}"
        else:
            return
        self.events.pod(pod, "Warning", reason, message, container=worker.container.name)
