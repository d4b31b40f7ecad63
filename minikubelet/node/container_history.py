"""The container part of the probe history: starts, exits and kills of container instances and
changes of the pod's Ready and ContainersReady conditions, beside the prober's attempts.

    store pods watch ───▶ status_entries(pod) ───────────▶ HistoryWriter.add (prober/history.py)
    store events watch (Killing) ─▶ kill_entry(event) ───▶ HistoryWriter.add

Starts, exits and condition changes are read from the status the pod workers wrote, kills from
the kubelet's own `Killing` events (`node/events.py`); each carries a `key`, so seeing one again
(a status written again, an agent restart that lists everything anew) writes nothing. The store
is reached only through the injected watch factories.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio

from minikubelet.api.codec import parse_time
from minikubelet.api.history import ConditionEntry, ContainerEntry, micro_time
from minikubelet.clock import Clock
from minikubelet.prober.history import HistoryWriter, Pending

__all__ = ["ContainerHistory", "kill_entry", "status_entries"]

JSON = dict[str, Any]
Watch = Callable[[], AsyncIterator[tuple[str, JSON]]]
_CONDITIONS = ("Ready", "ContainersReady")


def _container_entries(status: JSON) -> list[tuple[ContainerEntry, str]]:
    out: list[tuple[ContainerEntry, str]] = []
    name, count = str(status.get("name", "")), int(status.get("restartCount") or 0)
    for where, instance in (("lastState", count - 1), ("state", count)):
        state = status.get(where) or {}
        running, done = state.get("running") or {}, state.get("terminated") or {}
        ident = str(done.get("containerID") or status.get("containerID") or f"{name}/{instance}")
        started = running.get("startedAt") or done.get("startedAt")
        instance = max(instance, 0)
        if started:
            entry = ContainerEntry(
                container=name, instance=instance, event="Started", time=started, containerID=ident
            )
            out.append((entry, f"start/{ident}"))
        if done.get("finishedAt"):
            entry = ContainerEntry(
                container=name,
                instance=instance,
                event="Exited",
                time=done["finishedAt"],
                containerID=ident,
                reason=str(done.get("reason") or ""),
                exitCode=int(done.get("exitCode") or 0),
            )
            out.append((entry, f"exit/{ident}"))
    return out


def status_entries(pod: JSON) -> list[Pending]:
    """Container starts and exits and Ready/ContainersReady changes the pod's status shows."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    uid, ns, name = str(meta.get("uid", "")), str(meta.get("namespace", "")), str(meta["name"])
    out: list[Pending] = []
    for group in ("initContainerStatuses", "containerStatuses"):
        for item in status.get(group) or []:
            out += [Pending(uid, ns, name, e.to_json(), k) for e, k in _container_entries(item)]
    for condition in status.get("conditions") or []:
        kind, since = condition.get("type"), condition.get("lastTransitionTime")
        if kind not in _CONDITIONS or not since:
            continue
        value = str(condition.get("status", "Unknown"))
        entry = ConditionEntry(
            condition=kind, status=value, time=since, reason=condition.get("reason") or None
        )
        out.append(Pending(uid, ns, name, entry.to_json(), f"cond/{kind}/{value}/{since}"))
    return out


def kill_entry(event: JSON, instance: int, now: datetime) -> Pending | None:
    """A `Killing` event as an entry; its time is `now` when the event is fresh (events keep
    whole seconds), else the event's own."""
    involved = event.get("involvedObject") or {}
    path = str(involved.get("fieldPath", ""))
    if event.get("reason") != "Killing" or involved.get("kind") != "Pod" or "{" not in path:
        return None
    container = path[path.index("{") + 1 : -1]
    stamp = event.get("lastTimestamp") or event.get("firstTimestamp")
    stamped = parse_time(stamp) if stamp else now
    at = now if timedelta(0) <= now - stamped < timedelta(seconds=2) else stamped
    entry = ContainerEntry(
        container=container,
        instance=instance,
        event="Killed",
        time=micro_time(at),
        reason="Killing",
        message=str(event.get("message", "")),
    )
    key = f"kill/{event.get('metadata', {}).get('uid', '')}/{event.get('count', 1)}"
    uid, ns = str(involved.get("uid", "")), str(involved.get("namespace", ""))
    return Pending(uid, ns, str(involved.get("name", "")), entry.to_json(), key)


class ContainerHistory:
    """Follows the store's pods and events and hands their entries to the history writer."""

    def __init__(self, writer: HistoryWriter, clock: Clock) -> None:
        self.writer = writer
        self.clock = clock
        self._restarts: dict[tuple[str, str], int] = {}  # (uid, container) → restartCount

    def pod_changed(self, pod: JSON) -> None:
        for item in (pod.get("status") or {}).get("containerStatuses") or []:
            key = (str(pod["metadata"].get("uid", "")), str(item.get("name", "")))
            self._restarts[key] = int(item.get("restartCount") or 0)
        for pending in status_entries(pod):
            self.writer.add(pending)

    def event(self, event: JSON) -> None:
        involved = event.get("involvedObject") or {}
        path = str(involved.get("fieldPath", ""))
        name = path[path.find("{") + 1 : -1] if "{" in path else ""
        instance = self._restarts.get((str(involved.get("uid", "")), name), 0)
        pending = kill_entry(event, instance, self.clock.utcnow())
        if pending is not None:
            self.writer.add(pending)

    async def run(self, pods: Watch, events: Watch) -> None:
        """Follow both watches until cancelled."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._follow, pods, self._on_pod)
            tg.start_soon(self._follow, events, self._on_event)

    def _on_pod(self, type_: str, obj: JSON) -> None:
        if type_ in ("ADDED", "MODIFIED"):
            self.pod_changed(obj)
        elif type_ == "DELETED":
            uid = str(obj.get("metadata", {}).get("uid", ""))
            for key in [k for k in self._restarts if k[0] == uid]:
                del self._restarts[key]
            self.writer.forget(uid)

    def _on_event(self, type_: str, obj: JSON) -> None:
        if type_ in ("ADDED", "MODIFIED"):
            self.event(obj)

    async def _follow(self, watch: Watch, handle: Callable[[str, JSON], None]) -> None:
        """Follow a watch for good: a watch cut off (too slow) starts again from a list,
        which the entries' keys make harmless."""
        while True:
            stream = watch()
            try:
                async for type_, obj in stream:
                    handle(type_, obj)
            finally:
                close = getattr(stream, "aclose", None)
                if close is not None:
                    with anyio.CancelScope(shield=True):
                        await close()
            await self.clock.sleep(0.1)
