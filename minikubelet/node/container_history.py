"""The container part of the probe history: starts, exits and kills of container instances and
changes of the pod's Ready and ContainersReady conditions, beside the prober's attempts.

    store pods watch ───▶ status_entries(pod) ───────────▶ HistoryWriter.add (prober/history.py)
    store events watch (Killing) ─▶ kill_entry(event) ───▶ HistoryWriter.add

Starts, exits and condition changes are read from the status the pod workers wrote, kills from
the kubelet's own `Killing` events (`node/events.py`); each carries a `key`, so seeing one again
(a status written again, an agent restart that lists everything anew) writes nothing. The store
is reached only through the injected watch factories.

Each kill, restart and Ready change gets its cause (`node/causes.py`) from the probe runs the
writer saw cross a threshold; a fresh exit first has the container's last lines read (`tail`,
bounded in time, in a task of its own), so its entry and the restart's keep them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
from anyio.abc import TaskGroup

from minikubelet.api.codec import parse_time
from minikubelet.api.history import ConditionEntry, ContainerEntry, micro_time
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.errors import MinikubeletError
from minikubelet.node.causes import kill_cause, ready_cause, restart_cause
from minikubelet.prober.history import HistoryWriter, Pending

__all__ = ["ContainerHistory", "kill_entry", "status_entries"]

log = logging.getLogger("minikubelet.node.history")

Watch = Callable[[], AsyncIterator[tuple[str, JSON]]]
Tail = Callable[[str], Awaitable[list[str]]]  # container ID -> the last lines it logged
_CONDITIONS = ("Ready", "ContainersReady")
FRESH_EXIT = timedelta(seconds=60)  # older exits (an agent restart's relist) get no log lines


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


def _drop(table: dict[Any, Any], uid: str) -> None:
    """Remove a pod's keys (tuples that start with its uid)."""
    for key in [k for k in table if k[0] == uid]:
        del table[key]


class ContainerHistory:
    """Follows the store's pods and events and hands their entries to the history writer."""

    def __init__(self, writer: HistoryWriter, clock: Clock, tail: Tail | None = None) -> None:
        self.writer = writer
        self.clock = clock
        self.tail = tail
        self._restarts: dict[tuple[str, str], int] = {}  # (uid, container) → restartCount
        self._kills: dict[tuple[str, str, int], JSON] = {}  # (uid, container, instance) → cause
        self._logs: dict[tuple[str, str], list[str]] = {}  # (uid, container ID) → last lines
        self._reading: set[tuple[str, str | None]] = set()  # keys waiting for log lines
        self._tg: TaskGroup | None = None

    def pod_changed(self, pod: JSON) -> None:
        uid = str(pod["metadata"].get("uid", ""))
        for item in (pod.get("status") or {}).get("containerStatuses") or []:
            self._restarts[(uid, str(item.get("name", "")))] = int(item.get("restartCount") or 0)
        fresh = [
            p
            for p in status_entries(pod)
            if (p.uid, p.key) not in self._reading
            and (p.key is None or not self.writer.queued(p.uid, p.key))
        ]
        exits = [str(p.entry.get("containerID")) for p in fresh if self._fresh_exit(p.entry)]
        if exits and self.tail is not None and self._tg is not None:
            self._reading.update((p.uid, p.key) for p in fresh)
            self._tg.start_soon(self._add_after_logs, pod, fresh, exits)
        else:
            self._add(pod, fresh)

    def _fresh_exit(self, entry: JSON) -> bool:
        if entry.get("event") != "Exited" or not entry.get("time"):
            return False
        return self.clock.utcnow() - parse_time(entry["time"]) < FRESH_EXIT

    async def _add_after_logs(self, pod: JSON, fresh: list[Pending], exits: list[str]) -> None:
        uid = str(pod["metadata"].get("uid", ""))
        assert self.tail is not None
        try:
            for ident in exits:
                with anyio.move_on_after(3):
                    self._logs[(uid, ident)] = await self.tail(ident)
        except MinikubeletError as exc:
            log.info("no last log lines for the history (%s): %s", uid, exc)
        finally:
            self._reading.difference_update((p.uid, p.key) for p in fresh)
            self._add(pod, fresh)

    def _add(self, pod: JSON, fresh: list[Pending]) -> None:
        """Queue the entries of a status, each with its cause or last lines."""
        uid = str(pod["metadata"].get("uid", ""))
        status = pod.get("status") or {}
        items = {i.get("name"): i for i in status.get("containerStatuses") or []}

        def crossed(container: str, probe: str) -> list[JSON]:
            return self.writer.runs.crossed(uid, container, probe)

        for pending in fresh:
            entry, item = pending.entry, items.get(pending.entry.get("container"))
            if entry.get("event") == "Exited":
                logs = self._logs.get((uid, str(entry.get("containerID"))))
                entry = {**entry, "logs": logs} if logs else entry
            elif entry.get("event") == "Started" and item and entry.get("instance"):
                if entry["instance"] == int(item.get("restartCount") or 0):
                    previous = (item.get("lastState") or {}).get("terminated") or {}
                    logs = self._logs.get((uid, str(previous.get("containerID"))))
                    kill = self._kills.get((uid, item["name"], entry["instance"] - 1))
                    entry = {**entry, "cause": restart_cause(item, kill, logs)}
            elif entry.get("kind") == "Condition" and entry.get("condition") == "Ready":
                entry = {**entry, "cause": ready_cause(pod, str(entry.get("status")), crossed)}
            self.writer.add(pending._replace(entry=entry))

    def event(self, event: JSON) -> None:
        involved = event.get("involvedObject") or {}
        path = str(involved.get("fieldPath", ""))
        name = path[path.find("{") + 1 : -1] if "{" in path else ""
        uid = str(involved.get("uid", ""))
        instance = self._restarts.get((uid, name), 0)
        pending = kill_entry(event, instance, self.clock.utcnow())
        if pending is None or (pending.key and self.writer.queued(uid, pending.key)):
            return
        cause = kill_cause(
            name,
            str(event.get("message", "")),
            lambda container, probe: self.writer.runs.crossed(uid, container, probe),
        )
        if cause is not None:
            self._kills[(uid, name, instance)] = cause
            pending = pending._replace(entry={**pending.entry, "cause": cause})
        self.writer.add(pending)

    async def run(self, pods: Watch, events: Watch) -> None:
        """Follow both watches until cancelled."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._follow, pods, self._on_pod)
            tg.start_soon(self._follow, events, self._on_event)

    def _on_pod(self, type_: str, obj: JSON) -> None:
        if type_ in ("ADDED", "MODIFIED"):
            self.pod_changed(obj)
        elif type_ == "DELETED":
            uid = str(obj.get("metadata", {}).get("uid", ""))
            for table in (self._restarts, self._kills, self._logs):
                _drop(table, uid)
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
