"""The node: pod workers, the two event sources that wake them, housekeeping, the Node object.

    Node.run
      ├─ the probe history            every probe attempt, start, kill, Ready change, batched
      ├─ follow the store's pods      ADDED/MODIFIED/DELETED → the pod's worker wakes
      ├─ follow the engine's events   a container died/started → its pod's worker wakes
      ├─ housekeeping (every 2 s)     back-off GC, orphans removed, every worker resynced
      └─ one PodWorker per pod uid    observe → decide → act → report
           └─ its probe workers       in the pod worker's own task group

The node owns its prober (`ProbeManager`): it reads the statuses the pod workers last wrote
through the node's status cache (`status_cache.py`), reports through the node's event
recorder and wakes pod workers through `Node.wake`.

The scheduler's part is here too, as one node needs it: a pod without `nodeName` is bound to
this node when it fits (`scheduler.py`: nodeSelector and node affinity, taints, host ports,
requests, topology spread, pod affinity), else it stays Pending with the scheduler's
FailedScheduling event, and is tried again as the scheduler's queue would try it.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from anyio.abc import TaskGroup, TaskStatus

from minikubelet.api.codec import format_time, from_dict, to_dict
from minikubelet.api.models import Pod, PodStatus
from minikubelet.api.raw import JSON
from minikubelet.api.sysctls import SysctlAllowlist, safe_sysctls
from minikubelet.clock import Clock
from minikubelet.errors import NotFound, RuntimeFailure, StatusError
from minikubelet.node.admission import Admission, apparmor_enabled
from minikubelet.node.container_history import ContainerHistory
from minikubelet.node.containers import PodContext
from minikubelet.node.events import WARNING, EventRecorder
from minikubelet.node.executor import Executor, Observed, listed_fingerprint
from minikubelet.node.logs import last_lines, open_logs
from minikubelet.node.node_status import (
    LEASE_RENEW,
    machine_capacity,
    node_allocatable,
    register_node,
    renew_lease,
    set_node_ready,
)
from minikubelet.node.sandbox_pool import SandboxPool, spares_of
from minikubelet.node.scheduler import Attempt, filter_node, slim
from minikubelet.node.status_cache import StatusCache
from minikubelet.node.termination_message import TerminationMessages
from minikubelet.node.volumes import ConfigVolumes, StoreObjects, allocatable_quantities
from minikubelet.node.worker import PodWorker
from minikubelet.prober.history import HistoryWriter
from minikubelet.prober.manager import ProbeManager
from minikubelet.prober.once import run_once
from minikubelet.prober.runner import engine_runner
from minikubelet.runtime.types import CALLER_RANK, ExecStream, Instance, InstanceState, Runtime
from minikubelet.status.conditions import KUBELET_CONDITIONS
from minikubelet.status.generate import unschedulable_status
from minikubelet.store import Store

__all__ = ["Node", "NodeConfig", "node_name_default"]

DEFAULT_SCHEDULER = "default-scheduler"
_OWN_WRITES = 8  # a pod's status writes remembered, more than its events can lag behind

log = logging.getLogger("minikubelet.node")
HOUSEKEEPING = 2.0


def node_name_default() -> str:
    """The hostname, lowercased and cut to an RFC 1123 label (DESIGN.md "The node")."""
    name = re.sub(r"[^a-z0-9.-]", "-", socket.gethostname().lower()).strip("-.")
    return name[:63] or "minikubelet"


@dataclass(frozen=True)
class NodeConfig:
    name: str
    pods_dir: Path
    # The kubelet resyncs every pod every 1-1.5 min (syncFrequency, jittered); engine events
    # and the 2 s relist bring every change sooner, and back-offs wake their pods on time.
    resync: float = 60.0
    cluster_dns: str = ""  # the kubelet's clusterDNS: the pods' nameserver for ClusterFirst
    sandbox_pool: int = 0  # warm sandboxes kept ready (node/sandbox_pool.py); 0: none
    apparmor: bool | None = None  # whether the host enforces AppArmor; None: ask the kernel
    allowed_unsafe_sysctls: tuple[str, ...] = ()  # the kubelet's --allowed-unsafe-sysctls


class Node:
    """Keeps the pods in the store running on the runtime, as the kubelet does."""

    def __init__(
        self,
        store: Store,
        runtime: Runtime,
        clock: Clock,
        config: NodeConfig,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.clock = clock
        self.config = config
        self.name = config.name
        self.host_ip = ""
        self.admission = Admission(
            apparmor=apparmor_enabled() if config.apparmor is None else config.apparmor,
            sysctls=SysctlAllowlist.build([*safe_sysctls(), *config.allowed_unsafe_sysctls]),
        )
        self.statuses = StatusCache()
        self.recorder = EventRecorder(store, config.name)
        self.capacity = machine_capacity(config.pods_dir)
        self.volumes = ConfigVolumes(
            StoreObjects(store),
            self.recorder,
            clock,
            config.pods_dir,
            allocatable_quantities(node_allocatable(self.capacity)),
        )
        self.history = HistoryWriter(store.probes.write, clock)  # writes off the loop
        self.probes = ProbeManager(
            clock,
            engine_runner(runtime, self.statuses),
            statuses=self.statuses,
            events=self.recorder,
            wake=self.probe_changed,
        )
        self.probes.observers.append(self.history.attempt)
        self.scheduler = EventRecorder(store, config.name, component="default-scheduler")
        spares = spares_of(runtime) if config.sandbox_pool > 0 else None
        self.pool = SandboxPool(spares, config.sandbox_pool, clock) if spares else None
        self.executor = Executor(runtime, clock, self.recorder, config.pods_dir, self.pool)
        self.executor.images.objects = self.volumes.source  # the pods' pull Secrets
        self.messages = TerminationMessages(runtime)
        self.workers: dict[str, PodWorker] = {}
        self._taken = 0  # pods taken so far: the rank of the next pod worker's engine calls
        self.engine_up = True
        # pod uid → its fingerprint (`_fingerprint`: metadata, spec, conditions) at its last event
        self._pod_fingerprints: dict[str, str] = {}
        # pod uid → the fingerprints of the statuses this node wrote last (`write_status`)
        self._own_writes: dict[str, list[str]] = {}
        # pod uid → its last failed scheduling attempt (`scheduler.Attempt`), and the count
        # of pod events seen, which tells an attempt whether anything changed since
        self._attempts: dict[str, Attempt] = {}
        self._pod_events = 0
        self._tg: TaskGroup | None = None

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve the node; an engine that is away at start leaves the node NotReady until it
        answers (the API keeps serving meanwhile)."""
        version = await self._connect()
        self.engine_up = version is not None
        self.recorder.node("Starting", "Starting kubelet.")
        changed = register_node(
            self.store, self.name, self.host_ip, version, self.clock.utcnow(), self.capacity
        )
        ready = [r for r in changed if r in ("NodeReady", "NodeNotReady")]
        for reason in changed:
            if reason not in ready:
                self.recorder.node_status(reason)
        self.recorder.node("NodeAllocatableEnforced", "Updated Node Allocatable limit across pods")
        for reason in ready:
            self.recorder.node_status(reason)
        async with anyio.create_task_group() as tg:
            self._tg = tg
            watches = (
                lambda: self.store.watch("Pod", None, None),
                lambda: self.store.watch("Event", None, None),
            )
            await tg.start(self.history.run)
            tail = functools.partial(last_lines, self.runtime)
            tg.start_soon(ContainerHistory(self.history, self.clock, tail).run, *watches)
            tg.start_soon(self._follow_pods)
            tg.start_soon(self._follow_runtime)
            tg.start_soon(self._housekeeping)
            tg.start_soon(self._lease)
            tg.start_soon(self.volumes.follow, self.store, self.wake)
            if self.pool is not None:
                tg.start_soon(self.pool.run)
            task_status.started()

    async def _connect(self) -> str | None:
        """The engine's version and the node's hostIP, or None while the engine is away."""
        try:
            version = await self.runtime.version()
            self.host_ip = await self.runtime.host_ip()
        except RuntimeFailure as exc:
            log.warning("the container engine does not answer: %s", exc)
            return None
        self.executor.node_context = PodContext(
            self.name,
            "",
            self.host_ip,
            "",
            self.config.pods_dir,
            objects=self.volumes.source,
            allocatable=self.volumes.allocatable,
            services=lambda: self.store.list("Service", None)[0],
            cluster_dns=self.config.cluster_dns,
            apparmor=self.admission.apparmor,
        )
        return version

    # -- what workers and the prober ask of the node -----------------------------------------

    def wake(self, uid: str) -> None:
        """Poke the pod's worker (a probe result changed), if it still runs."""
        worker = self.workers.get(uid)
        if worker is not None:
            worker.poke()

    def probe_changed(self, uid: str) -> None:
        """A probe result changed: the pod's status now, then its worker syncs."""
        worker = self.workers.get(uid)
        if worker is not None:
            worker.probe_changed()

    def read_pod(self, namespace: str, name: str, uid: str) -> Pod | None:
        try:
            body = self.store.get("Pod", namespace, name)
        except NotFound:
            return None
        if body.get("metadata", {}).get("uid") != uid:
            return None
        return from_dict(Pod, body)

    def deletions_under_way(self) -> list[PodWorker]:
        """Pod workers finishing a deletion: their pod is marked for deletion, or gone from the
        store (a force delete) while its containers are still being stopped and removed."""
        found = []
        for worker in list(self.workers.values()):
            pod = self.read_pod(worker.namespace, worker.name, worker.uid)
            if pod is None or pod.metadata.deletionTimestamp is not None:
                found.append(worker)
        return found

    async def finish_deletions(self, limit: float) -> bool:
        """Let the deletions under way end (the node is being stopped: `daemon stop` keeps
        running pods running, but a pod deleted just before must not be left running with no
        agent to remove it). At most `limit` seconds on the node's clock; True when none is
        left."""
        deadline = self.clock.monotonic() + limit
        while under_way := self.deletions_under_way():
            if self.clock.monotonic() >= deadline:
                log.warning("stopping with %d pod deletions unfinished", len(under_way))
                return False
            for worker in under_way:
                worker.poke()
            await self.clock.sleep(0.2)
        return True

    async def observe(self, uid: str) -> Observed:
        sandboxes = sorted(
            await self.runtime.list_sandboxes(uid), key=lambda s: s.attempt, reverse=True
        )
        containers = await self.messages.enrich(await self.runtime.list_containers(uid))
        newest = sandboxes[0] if sandboxes else None
        return Observed(newest, sandboxes[1:], containers)

    def write_status(self, pod: Pod, status: PodStatus) -> None:
        """The status manager's write (`mergePodStatus`): the conditions the kubelet does not
        own are those the API holds now (a readiness gate's, set or removed by someone else
        since the sync read the pod), first, then the kubelet's own. The pod's fingerprint
        takes this write, so only someone else's change of the status wakes its worker."""
        body = to_dict(status)
        try:
            stored = self.store.get("Pod", pod.namespace, pod.name).get("status") or {}
            conditions = [
                *_conditions(stored.get("conditions"), kubelet=False),
                *_conditions(body.get("conditions"), kubelet=True),
            ]
            body.pop("conditions", None)
            if conditions:
                body["conditions"] = conditions
            written = self.store.update_status("Pod", pod.namespace, pod.name, body)
        except NotFound:
            return
        uid = str((written.get("metadata") or {}).get("uid") or "")
        own = self._own_writes.setdefault(uid, [])
        own.append(_fingerprint(written))
        del own[:-_OWN_WRITES]

    def remove_pod(self, pod: Pod) -> None:
        """The last step of a graceful delete: the API object goes, with a uid precondition."""
        try:
            self.store.delete("Pod", pod.namespace, pod.name, uid=pod.metadata.uid)
        except StatusError:
            pass

    def schedule(self, pod: Pod) -> bool:
        """The scheduler's turn for a pod without a node: bind it here when it fits
        (`scheduler.filter_node`), else say why (FailedScheduling, PodScheduled False). A pod
        that did not fit is tried again when its queue lets it (`scheduler.Attempt.due`)."""
        uid = pod.metadata.uid or ""
        if pod.spec.extra.get("schedulingGates"):
            return False  # PreEnqueue's SchedulingGates: not even queued
        if (pod.spec.extra.get("schedulerName") or DEFAULT_SCHEDULER) != DEFAULT_SCHEDULER:
            return False  # another scheduler's pod: `responsibleForPod`
        try:
            raw = self.store.get("Pod", pod.namespace, pod.name)
        except NotFound:
            return False
        node = self.store.get("Node", "", self.name)
        now = self.clock.monotonic()
        # what the hints would compare has not changed: no pod event, the same node
        marker = (self._pod_events, node["metadata"].get("resourceVersion"))
        last = self._attempts.get(uid)
        if last is not None and last.waiting(now, marker):
            return False
        others = self.bound_pods(exclude=uid)
        if last is not None and not last.due(raw, node, others, now):
            self._attempts[uid] = replace(last, marker=marker)
            return False
        unfit = filter_node(raw, node, others)
        if unfit is not None:
            message = unfit.message()
            self.scheduler.pod(pod, WARNING, "FailedScheduling", message)
            previous = pod.status or PodStatus(phase="Pending")
            written = unschedulable_status(pod, message, self.clock.utcnow(), previous)
            if written != pod.status:  # updatePod writes only a changed condition
                self.write_status(pod, written)
            count = last.count + 1 if last is not None else 1
            seen = {str(o["metadata"].get("uid")): slim(o) for o in others}
            self._attempts[uid] = Attempt(now, count, unfit, raw, node, seen, marker)
            return False
        self._attempts.pop(uid, None)
        raw["spec"]["nodeName"] = self.name
        self.store.update("Pod", raw, expected_rv=raw["metadata"]["resourceVersion"])
        message = f"Successfully assigned {pod.namespace}/{pod.name} to {self.name}"
        self.scheduler.pod(pod, "Normal", "Scheduled", message)
        return True

    def node_object(self) -> JSON:
        return self.store.get("Node", "", self.name)

    def admitted_before(self, pod: Pod) -> list[JSON]:
        """The pods the kubelet's admission counts beside `pod` (`OtherPods`): those bound
        here, not finished, and created before it, as the kubelet admits its pods in the
        order of their creation (`HandlePodAdditions`), at its start as at any other time."""
        stamp = pod.metadata.creationTimestamp
        mine = (format_time(stamp) if stamp else "", pod.name)

        def older(other: JSON) -> bool:
            meta = other["metadata"]
            return (str(meta.get("creationTimestamp") or ""), str(meta.get("name"))) < mine

        return [p for p in self.bound_pods(pod.metadata.uid or "") if older(p)]

    def bound_pods(self, exclude: str = "") -> list[JSON]:
        """The pods bound to this node and not finished, as the scheduler's cache holds them
        (its informer reads `status.phase!=Succeeded,status.phase!=Failed`)."""
        pods, _ = self.store.list("Pod", None)
        return [
            p
            for p in pods
            if (p.get("spec") or {}).get("nodeName") == self.name
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and p["metadata"].get("uid") != exclude
        ]

    async def pod_logs(
        self, pod: dict[str, Any], container: str, options: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        return await open_logs(
            self.runtime, self.clock.utcnow(), from_dict(Pod, pod), container, options
        )

    async def probe_once(self, pod: dict[str, Any], container: str, kind: str) -> dict[str, Any]:
        """Run one probe by hand, counted by nobody (`prober/once.py`)."""
        model = from_dict(Pod, pod)
        status = self.statuses.pod_status(model.metadata.uid or "") or model.status
        return await run_once(self.probes.runner, self.clock, model, status, container, kind)

    def _last_observed(self, pod: dict[str, Any]) -> Observed | None:
        worker = self.workers.get((pod.get("metadata") or {}).get("uid") or "")
        return worker.last_observed if worker is not None else None

    async def running_container(self, pod: dict[str, Any], container: str) -> str | None:
        """As the kubelet's `findContainer`: among running containers only. What the pod's
        worker last saw answers first (it follows the engine's events, as the kubelet's pod
        cache follows PLEG), which spares every exec a list and an inspect on the engine; a
        container it does not show running is looked for on the engine, so one started since
        its last sync is found. One that died since then fails at the exec's create."""
        observed = self._last_observed(pod)
        for info in observed.running if observed is not None else []:
            if info.name == container:
                return info.id
        uid = (pod.get("metadata") or {}).get("uid")
        for info in await self.runtime.list_containers(uid):
            if info.name == container and info.state is InstanceState.RUNNING:
                return info.id
        return None

    def exec_stream(
        self, container_id: str, argv: list[str], *, stdin: bool, tty: bool
    ) -> AbstractAsyncContextManager[ExecStream]:
        return self.runtime.exec_stream(container_id, argv, stdin=stdin, tty=tty)

    def attach_stream(
        self, container_id: str, *, stdin: bool, tty: bool
    ) -> AbstractAsyncContextManager[ExecStream]:
        return self.runtime.attach(container_id, stdin=stdin, tty=tty)

    async def pod_sandbox(self, pod: dict[str, Any]) -> str | None:
        """The running sandbox, from the worker's last sync when it saw one (as above)."""
        observed = self._last_observed(pod)
        if observed is not None and observed.sandbox is not None and observed.sandbox.running:
            return observed.sandbox.id
        uid = (pod.get("metadata") or {}).get("uid")
        running = [s for s in await self.runtime.list_sandboxes(uid) if s.running]
        return max(running, key=lambda s: s.attempt).id if running else None

    async def dial(self, sandbox_id: str, port: int) -> anyio.abc.ByteStream:
        return await self.runtime.dial(sandbox_id, port)

    # -- the loops ----------------------------------------------------------------------------

    def _worker(self, obj: dict[str, Any]) -> PodWorker | None:
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if not uid:
            return None
        worker = self.workers.get(uid)
        if worker is None and self._tg is not None:
            worker = PodWorker(uid, meta["namespace"], meta["name"], self, self.config.resync)
            self.workers[uid] = worker
            self._tg.start_soon(self._run_worker, worker)
        return worker

    async def _run_worker(self, worker: PodWorker) -> None:
        # The order the node took its pods in ranks their engine calls (runtime/order.py); set
        # in this task, it ranks the pod worker's calls and its probes'.
        self._taken += 1
        CALLER_RANK.set(self._taken)
        try:
            await worker.run()
        finally:
            self.workers.pop(worker.uid, None)
            self.statuses.forget(worker.uid)
            self._pod_fingerprints.pop(worker.uid, None)
            self._own_writes.pop(worker.uid, None)
            self._attempts.pop(worker.uid, None)

    async def _follow_pods(self) -> None:
        since: str | None = None
        while True:  # a watch ends when it falls behind; resume, or relist when too far behind
            async with self.store.watch("Pod", None, since) as watcher:
                since = None
                async for event_type, obj in watcher:
                    if event_type == "ERROR":
                        break
                    self._pod_events += 1
                    worker = self._worker(obj)
                    if worker is not None and self._changed(event_type, obj):
                        worker.poke()
                    since = str(watcher.resource_version)

    def _changed(self, event_type: str, obj: dict[str, Any]) -> bool:
        """Whether a pod event is news to its worker: the status the worker itself wrote is
        not (the kubelet's status manager does not trigger syncs), or each status write would
        sync the pod again at once, repeating its BackOff events."""
        meta = obj.get("metadata") or {}
        uid = str(meta.get("uid") or "")
        if event_type == "DELETED":
            self._pod_fingerprints.pop(uid, None)
            self._own_writes.pop(uid, None)
            return True
        current = _fingerprint(obj)
        if self._pod_fingerprints.get(uid) == current:
            return False
        self._pod_fingerprints[uid] = current
        # a status this node wrote is no news, even when its event comes after a later write
        return current not in self._own_writes.get(uid, ())

    async def _follow_runtime(self) -> None:
        """Engine events wake the pods they concern; a lost stream is reopened, at most every
        5 s while the engine is away (the relist covers the gap), and said once."""
        failing = False
        while True:
            try:
                async for event in self.runtime.events():
                    failing = False
                    if event.action == "destroy":
                        continue  # `isSyncPodWorthy`: a removal alone (our GC) is no news
                    worker = self.workers.get(event.pod_uid)
                    if worker is not None:
                        worker.poke()
            except RuntimeFailure as exc:
                if not failing:
                    log.warning("engine events: %s; reconnecting", exc)
                failing = True
            await self.clock.sleep(5.0 if failing else 1.0)

    def _ready_changed(self, reason: str | None) -> None:
        if reason is not None:
            self.recorder.node_status(reason)

    async def _lease(self) -> None:
        """The node's lease, renewed every 10 s while the agent runs (the kubelet's
        `nodelease` controller): `kubectl describe node` reads it. The same beat notices a
        cordon or an uncordon (`recordNodeSchedulableEvent`)."""
        schedulable = True  # `lastNodeUnschedulable` starts false
        while True:
            renew_lease(self.store, self.name, self.clock.utcnow())
            spec = self.store.get("Node", "", self.name).get("spec") or {}
            now_schedulable = not spec.get("unschedulable")
            if now_schedulable != schedulable:
                self.recorder.node_status(
                    "NodeSchedulable" if now_schedulable else "NodeNotSchedulable"
                )
            schedulable = now_schedulable
            await self.clock.sleep(LEASE_RENEW)

    async def _housekeeping(self) -> None:
        """Every 2 s: back-off GC, the relist (PLEG) that wakes the pods whose containers
        changed, orphans removed, the node's Ready following the engine."""
        while True:
            await self.clock.sleep(HOUSEKEEPING)
            now = self.clock.monotonic()
            self.executor.backoff.gc(now)
            self.executor.images.backoff.gc(now)
            try:
                await self._relist()
            except RuntimeFailure as exc:
                if self.engine_up:
                    log.warning("the container engine went away: %s", exc)
                    self.engine_up = False
                    self._ready_changed(
                        set_node_ready(self.store, self.name, False, self.clock.utcnow())
                    )
            else:
                if not self.engine_up:
                    version = await self._connect()
                    self.engine_up = version is not None
                    self._ready_changed(
                        set_node_ready(
                            self.store, self.name, self.engine_up, self.clock.utcnow(), version
                        )
                    )
            for worker in list(self.workers.values()):
                if not worker.last_pod or not worker.last_pod.spec.nodeName:
                    worker.poke()  # unscheduled pods: node labels may have changed

    async def _relist(self) -> None:
        """List what runs, wake the workers whose pods changed since their last sync (the
        kubelet's PLEG relist: a missed engine event costs 2 s, not a resync), and remove
        what belongs to no pod this node knows. One list call, no inspect, as PLEG's
        `GetPods` reads CRI's List calls only; a pod that changed is inspected by its own
        worker's sync (`GetPodStatus`), so the relist costs the engine the same at 1 pod or
        110."""
        listed = [i for i in await self.runtime.list_instances() if i.pod_uid or not i.sandbox]
        by_pod: dict[str, list[Instance]] = {}
        for instance in listed:
            by_pod.setdefault(instance.pod_uid, []).append(instance)
        for uid, worker in list(self.workers.items()):
            mine = listed_fingerprint(by_pod.get(uid, []))
            if worker.last_pod is not None and mine != worker.synced_runtime:
                worker.poke()
        known = set(self.workers)
        orphans = [i for i in listed if i.pod_uid not in known]
        for instance in [i for i in orphans if not i.sandbox]:
            log.info("removing orphan container %s (pod uid %s)", instance.id, instance.pod_uid)
            await self.executor.remove_container(instance.id)
        for instance in [i for i in orphans if i.sandbox]:
            await self.runtime.remove_sandbox(instance.id)


def _conditions(conditions: Any, *, kubelet: bool) -> list[dict[str, Any]]:
    """The pod conditions (JSON) the kubelet owns, or those it does not."""
    return [
        c
        for c in conditions or []
        if isinstance(c, dict) and (c.get("type") in KUBELET_CONDITIONS) == kubelet
    ]


def _fingerprint(obj: dict[str, Any]) -> str:
    """What wakes a pod's worker when it changes: metadata (not the resourceVersion), spec
    and the status's conditions; a client's condition (a readiness gate's) syncs the pod at
    once (`NeedToReconcilePodReadiness`), and so does a client that overwrote the kubelet's."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    conditions = (obj.get("status") or {}).get("conditions")
    return json.dumps([meta, obj.get("spec"), conditions], sort_keys=True)
