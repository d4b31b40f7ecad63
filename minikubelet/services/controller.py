"""The endpoints and endpoint-slice controllers of one node, in the agent, fed by store watches.

    watch Pods ──┐                 ┌─ Endpoints      (create / update / delete)
                 ├─ dirty namespaces ─ sync(ns) ─┤
    watch Services ┘                 └─ EndpointSlices (create / update / delete)

Every pod or Service change marks its namespace dirty; one loop syncs dirty namespaces, so a
burst of status writes collapses into one sync. A sync reads the namespace's Services, pods,
Endpoints and slices, computes what the controllers would write (`endpoints.py`, pure) and
writes only the differences, stamped with `endpoints.kubernetes.io/last-change-trigger-time`.
A deleted Service's Endpoints and slices go with it (the Endpoints controller's delete and the
garbage collector's, via the slices' ownerReferences).

`on_change` is called after each sync that wrote something, with the namespace: the proxy and
DNS rebuild from the store then.

Each write that moves a pod in or out of a Service's Endpoints (`addresses`, `notReadyAddresses`,
neither) also goes into that pod's history (`api/history.py`'s `EndpointEntry`), so `timeline`
shows when a readiness change reached the traffic; written after the sync, off the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskStatus

from minikubelet.api.history import EndpointEntry, micro_time
from minikubelet.api.raw import JSON
from minikubelet.api.service_strategy import ENDPOINT_SLICE_STRATEGY, ENDPOINTS_STRATEGY
from minikubelet.clock import Clock
from minikubelet.errors import StatusError
from minikubelet.services.endpoints import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    TRIGGER_ANNOTATION,
    desired_endpoints,
    desired_slices,
    rfc3339_nano,
)
from minikubelet.store import Store
from minikubelet.store.probes import Row

__all__ = ["EndpointsController"]

log = logging.getLogger("minikubelet.services")
_PodKey = tuple[str, str]  # (uid, name)


def pod_states(endpoints: JSON | None) -> dict[_PodKey, tuple[str, str]]:
    """Each pod an Endpoints object lists: (uid, name) -> (its IP, `ready` when it is in some
    subset's `addresses`, else `notReady`)."""
    states: dict[_PodKey, tuple[str, str]] = {}
    for subset in (endpoints or {}).get("subsets") or []:
        for field, state in (("notReadyAddresses", "notReady"), ("addresses", "ready")):
            for address in subset.get(field) or []:
                ref = address.get("targetRef") or {}
                if ref.get("kind", "Pod") != "Pod" or not ref.get("uid"):
                    continue
                key = (str(ref["uid"]), str(ref.get("name", "")))
                if states.get(key, ("", ""))[1] != "ready":
                    states[key] = (str(address.get("ip", "")), state)
    return states


def membership_changes(
    service: str, before: JSON | None, after: JSON | None, time: str
) -> list[tuple[_PodKey, EndpointEntry]]:
    """The history entries of a write of a Service's Endpoints from `before` to `after`."""
    old, new = pod_states(before), pod_states(after)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) == new.get(key):
            continue
        address, state = new.get(key) or (old[key][0], "removed")
        entry = EndpointEntry(service=service, state=state, time=time, address=address)
        changes.append((key, entry))
    return changes


def _without_trigger(obj: JSON | None) -> JSON | None:
    """The parts of an Endpoints object that decide whether it needs a write."""
    if obj is None:
        return None
    meta = obj.get("metadata") or {}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k != TRIGGER_ANNOTATION
    }
    return {
        "labels": meta.get("labels") or {},
        "annotations": annotations,
        "subsets": obj.get("subsets") or [],
    }


class EndpointsController:
    """Keeps every selector Service's Endpoints and EndpointSlices from the pods in the store."""

    def __init__(
        self, store: Store, clock: Clock, on_change: Callable[[str], None] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_change = on_change or (lambda namespace: None)
        self._dirty: set[str] = set()
        self._wake = anyio.Event()
        self.syncs = 0  # how many namespace syncs ran (tests and the bench read it)
        self._moves: list[Row] = []  # the sync's pods moved in or out of Endpoints

    def mark(self, namespace: str) -> None:
        self._dirty.add(namespace)
        self._wake.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Watch pods and Services; sync what they touch. The first events of each watch are
        the current objects, so a restarted agent resyncs everything it finds."""
        async with anyio.create_task_group() as tg:
            for kind in ("Pod", "Service"):
                watcher = self._store.watch(kind, None, None)
                tg.start_soon(self._follow, watcher)
            task_status.started()
            while True:
                await self._wake.wait()
                self._wake = anyio.Event()
                while self._dirty:
                    namespace = self._dirty.pop()
                    self.sync(namespace)
                    # Off the loop (the history's own writer, no fsync of its own): an fsync
                    # here would hold back the Endpoints event the sync just published.
                    moves, self._moves = self._moves, []
                    await self._store.probes.write(moves)

    async def _follow(self, watcher: Any) -> None:
        async with watcher:
            async for _type, obj in watcher:
                self.mark((obj.get("metadata") or {}).get("namespace", ""))

    def sync(self, namespace: str) -> bool:
        """Bring the namespace's Endpoints and slices to what its Services and pods say;
        True when something was written."""
        self.syncs += 1
        services, _ = self._store.list("Service", namespace)
        pods, _ = self._store.list("Pod", namespace)
        endpoints = {e["metadata"]["name"]: e for e in self._store.list("Endpoints", namespace)[0]}
        selector = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
        slices: dict[str, list[JSON]] = {}
        for item in self._store.list("EndpointSlice", namespace, selector)[0]:
            owner = (item["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL, "")
            slices.setdefault(owner, []).append(item)
        trigger = rfc3339_nano(self._clock.utcnow())
        wrote = False
        names = {s["metadata"]["name"] for s in services}
        for service in services:
            name = service["metadata"]["name"]
            try:
                wrote |= self._sync_endpoints(
                    namespace, service, pods, endpoints.get(name), trigger
                )
                wrote |= self._sync_slices(namespace, service, pods, slices.pop(name, []), trigger)
            except StatusError as exc:  # a conflict or a race with a user's write: next event
                log.warning("syncing the endpoints of %s/%s: %s", namespace, name, exc)
        for name, existing in endpoints.items():
            if name not in names and self._managed_endpoints(existing):
                self._store.delete("Endpoints", namespace, name)
                self._moved(namespace, name, existing, None)
                wrote = True
        for owner, leftovers in slices.items():
            if owner not in names:
                for item in leftovers:
                    self._store.delete("EndpointSlice", namespace, item["metadata"]["name"])
                    wrote = True
        if wrote:
            self._on_change(namespace)
        return wrote

    def write_history(self) -> int:
        """Write the moves of the syncs so far on the store's connection (`run` writes them
        off the loop after each sync); how many entries were written."""
        moves, self._moves = self._moves, []
        return self._store.probes.append(moves)

    def _moved(self, namespace: str, service: str, before: JSON | None, after: JSON | None) -> None:
        time = micro_time(self._clock.utcnow())
        for (uid, pod), entry in membership_changes(service, before, after, time):
            self._moves.append(Row(uid, namespace, pod, entry.to_json()))

    def _managed_endpoints(self, endpoints: JSON) -> bool:
        """Endpoints of a gone Service that the controller wrote (`checkLeftoverEndpoints`:
        they carry its trigger-time annotation); a user's own Endpoints stay."""
        return TRIGGER_ANNOTATION in (endpoints["metadata"].get("annotations") or {})

    def _sync_endpoints(
        self, namespace: str, service: JSON, pods: list[JSON], existing: JSON | None, trigger: str
    ) -> bool:
        wanted = desired_endpoints(service, pods, trigger)
        if wanted is None:
            return False  # a selector-less Service's Endpoints are the user's
        if existing is not None and _without_trigger(existing) == _without_trigger(wanted):
            return False
        now = self._clock.utcnow()
        if existing is None:
            body, _ = ENDPOINTS_STRATEGY.create(wanted, namespace, now)
            self._store.create("Endpoints", body)
            self._moved(namespace, service["metadata"]["name"], None, wanted)
            return True
        meta = {**existing["metadata"], "annotations": wanted["metadata"]["annotations"]}
        meta.pop("labels", None)
        if wanted["metadata"].get("labels"):
            meta["labels"] = wanted["metadata"]["labels"]
        updated = {**existing, "metadata": meta}
        updated.pop("subsets", None)
        if wanted.get("subsets"):
            updated["subsets"] = wanted["subsets"]
        rv = existing["metadata"].get("resourceVersion")
        self._store.update("Endpoints", updated, expected_rv=rv)
        self._moved(namespace, service["metadata"]["name"], existing, wanted)
        return True

    def _sync_slices(
        self, namespace: str, service: JSON, pods: list[JSON], existing: list[JSON], trigger: str
    ) -> bool:
        changes = desired_slices(service, pods, existing, trigger)
        now = self._clock.utcnow()
        for item in changes.create:
            body, _ = ENDPOINT_SLICE_STRATEGY.create(item, namespace, now)
            self._store.create("EndpointSlice", body)
        for item in changes.update:
            rv = item["metadata"].get("resourceVersion")
            self._store.update("EndpointSlice", item, expected_rv=rv)
        for name in changes.delete:
            self._store.delete("EndpointSlice", namespace, name)
        return bool(changes)
