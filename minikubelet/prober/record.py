"""The probe recorder: every attempt, container start/kill/exit and Ready change, batched.

    ProbeManager ─record(pod, Attempt)─▶ ProbeRecorder.attempt ─▶ [pending] (O(1), never waits)
    store pods watch ──▶ status_records(pod) ─────────────────────▶ [pending]
    store events watch (Killing) ──▶ kill_record(event) ──────────▶ [pending]
                                          flusher: every `interval` s or `batch` records
                                          └─▶ await write(batch)  (the store's ProbeLog.write:
                                              a worker thread, the recorder's own connection)

The prober never waits for the store: `attempt` appends to a bounded queue and returns; when
the queue is full the oldest pending records are dropped and counted. The flush itself never
runs on the event loop either: `write` is awaited, and the store's does its transaction and
commit in a worker thread, so probes due during a flush run on time. The store is reached only
through the injected `write` and watch factories (the prober layer does not import the store).
Container starts, exits and condition changes are read from the pod's status, kills from the
kubelet's own `Killing` events; they carry a `key`, so seeing them again writes nothing.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import anyio
from anyio.abc import TaskStatus

from minikubelet.api.codec import parse_time
from minikubelet.api.models import Pod
from minikubelet.clock import Clock
from minikubelet.prober.worker import Attempt, Result

__all__ = [
    "ProbeRecorder",
    "Recorded",
    "attempt_record",
    "kill_record",
    "micro_time",
    "status_records",
]

log = logging.getLogger("minikubelet.prober.record")

JSON = dict[str, Any]
Watch = Callable[[], AsyncIterator[tuple[str, JSON]]]
_RESULTS = {Result.SUCCESS: "success", Result.FAILURE: "failure", None: "unknown"}
_CONDITIONS = ("Ready", "ContainersReady")


class Recorded(NamedTuple):
    """One record for the store: its pod, the record (API JSON), an optional dedup key."""

    uid: str
    namespace: str
    pod: str
    record: JSON
    key: str | None = None


def micro_time(value: datetime) -> str:
    """RFC 3339 with microseconds (metav1.MicroTime)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def attempt_record(attempt: Attempt, wall: Callable[[float], datetime]) -> JSON:
    """The record of one probe attempt; `wall` turns the clock's monotonic reading to UTC."""
    outcome = attempt.outcome
    return {
        "kind": "Probe",
        "probe": attempt.kind.name.lower(),
        "container": attempt.container,
        "instance": attempt.attempt,
        "containerID": attempt.container_id,
        "scheduled": micro_time(wall(attempt.scheduled)),
        "time": micro_time(wall(attempt.started)),
        "durationMs": round(attempt.duration * 1000, 3),
        "result": _RESULTS[attempt.result],
        "message": outcome.error if outcome.error is not None else outcome.output,
        "changed": attempt.changed,
    }


def _container_records(status: JSON) -> list[tuple[JSON, str]]:
    out: list[tuple[JSON, str]] = []
    name, count = str(status.get("name", "")), int(status.get("restartCount") or 0)
    for where, instance in (("lastState", count - 1), ("state", count)):
        state = status.get(where) or {}
        running, done = state.get("running") or {}, state.get("terminated") or {}
        ident = str(done.get("containerID") or status.get("containerID") or f"{name}/{instance}")
        started = running.get("startedAt") or done.get("startedAt")
        base = {"kind": "Container", "container": name, "instance": max(instance, 0)}
        if started:
            record = {**base, "event": "Started", "time": started, "containerID": ident}
            out.append((record, f"start/{ident}"))
        if done.get("finishedAt"):
            record = {
                **base,
                "event": "Exited",
                "time": done["finishedAt"],
                "containerID": ident,
                "reason": str(done.get("reason") or ""),
                "exitCode": int(done.get("exitCode") or 0),
            }
            out.append((record, f"exit/{ident}"))
    return out


def status_records(pod: JSON) -> list[Recorded]:
    """Container starts and exits and Ready/ContainersReady changes the pod's status shows."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    uid, ns, name = str(meta.get("uid", "")), str(meta.get("namespace", "")), str(meta["name"])
    out: list[Recorded] = []
    for group in ("initContainerStatuses", "containerStatuses"):
        for item in status.get(group) or []:
            out += [Recorded(uid, ns, name, r, k) for r, k in _container_records(item)]
    for condition in status.get("conditions") or []:
        kind, since = condition.get("type"), condition.get("lastTransitionTime")
        if kind not in _CONDITIONS or not since:
            continue
        record = {
            "kind": "Condition",
            "condition": kind,
            "status": condition.get("status", "Unknown"),
            "time": since,
            "container": "",
        }
        if condition.get("reason"):
            record["reason"] = condition["reason"]
        out.append(Recorded(uid, ns, name, record, f"cond/{kind}/{record['status']}/{since}"))
    return out


def kill_record(event: JSON, instance: int, now: datetime) -> Recorded | None:
    """A `Killing` event as a record; its time is `now` when the event is fresh (events keep
    whole seconds), else the event's own."""
    involved = event.get("involvedObject") or {}
    path = str(involved.get("fieldPath", ""))
    if event.get("reason") != "Killing" or involved.get("kind") != "Pod" or "{" not in path:
        return None
    container = path[path.index("{") + 1 : -1]
    stamp = event.get("lastTimestamp") or event.get("firstTimestamp")
    seen = parse_time(stamp) if stamp else now
    at = now if timedelta(0) <= now - seen < timedelta(seconds=2) else seen
    record = {
        "kind": "Container",
        "event": "Killed",
        "container": container,
        "instance": instance,
        "time": micro_time(at),
        "reason": "Killing",
        "message": str(event.get("message", "")),
    }
    key = f"kill/{event.get('metadata', {}).get('uid', '')}/{event.get('count', 1)}"
    uid, ns = str(involved.get("uid", "")), str(involved.get("namespace", ""))
    return Recorded(uid, ns, str(involved.get("name", "")), record, key)


@dataclass
class RecorderStats:
    written: int = 0
    dropped: int = 0
    flushes: int = 0
    failures: int = 0


@dataclass
class ProbeRecorder:
    """Batches records to `write`; `attempt` is the ProbeManager's `record` callback."""

    write: Callable[[Sequence[Recorded]], Awaitable[int]]
    clock: Clock
    interval: float = 0.5
    batch: int = 500
    capacity: int = 50_000
    stats: RecorderStats = field(default_factory=RecorderStats)
    _pending: deque[Recorded] = field(default_factory=deque)
    _wake: anyio.Event | None = None  # the flusher waits on it: a tick or a full batch
    _due: bool = False  # a tick came since the last flush
    _restarts: dict[tuple[str, str], int] = field(default_factory=dict)
    _keys: set[tuple[str, str]] = field(default_factory=set)  # (uid, key) already queued
    _writing: anyio.Event | None = None  # set when the flush under way ends

    def add(self, recorded: Recorded) -> None:
        if recorded.key is not None:
            if (recorded.uid, recorded.key) in self._keys:
                return
            self._keys.add((recorded.uid, recorded.key))
        if len(self._pending) >= self.capacity:
            self._pending.popleft()
            self.stats.dropped += 1
        self._pending.append(recorded)
        if len(self._pending) >= self.batch and self._wake is not None:
            self._wake.set()

    def attempt(self, pod: Pod, attempt: Attempt) -> None:
        now_mono, now = self.clock.monotonic(), self.clock.utcnow()
        record = attempt_record(attempt, lambda t: now - timedelta(seconds=now_mono - t))
        meta = pod.metadata
        self.add(Recorded(meta.uid or "", meta.namespace or "", meta.name or "", record))

    def pod_changed(self, pod: JSON) -> None:
        for item in (pod.get("status") or {}).get("containerStatuses") or []:
            key = (str(pod["metadata"].get("uid", "")), str(item.get("name", "")))
            self._restarts[key] = int(item.get("restartCount") or 0)
        for recorded in status_records(pod):
            self.add(recorded)

    def event(self, event: JSON) -> None:
        involved = event.get("involvedObject") or {}
        path = str(involved.get("fieldPath", ""))
        name = path[path.find("{") + 1 : -1] if "{" in path else ""
        instance = self._restarts.get((str(involved.get("uid", "")), name), 0)
        recorded = kill_record(event, instance, self.clock.utcnow())
        if recorded is not None:
            self.add(recorded)

    @property
    def pending(self) -> int:
        """Records queued and not yet handed to `write`."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write what is pending, in one call; a failing store loses the batch, not the agent.
        Records added meanwhile wait for the next flush."""
        await self.idle()
        if not self._pending:
            return 0
        batch = list(self._pending)
        self._pending.clear()
        self.stats.flushes += 1
        self._writing = done = anyio.Event()
        try:
            written = await self.write(batch)
        except Exception:
            self.stats.failures += 1
            log.exception("probe history: %d records could not be written", len(batch))
            return 0
        finally:
            self._writing = None
            done.set()
        self.stats.written += written
        return written

    async def idle(self) -> None:
        """Return once no flush is under way (tests in virtual time: the write's thread runs
        in real time)."""
        while self._writing is not None:
            await self._writing.wait()

    async def run(
        self,
        pods: Watch | None = None,
        events: Watch | None = None,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Flush until cancelled (a last flush on the way out), following pods and events."""
        try:
            async with anyio.create_task_group() as tg:
                if pods is not None:
                    tg.start_soon(self._follow, pods, self._on_pod)
                if events is not None:
                    tg.start_soon(self._follow, events, self._on_event)
                tg.start_soon(self._tick)
                task_status.started()
                while True:
                    if len(self._pending) < self.batch and not self._due:
                        self._wake = anyio.Event()
                        await self._wake.wait()
                    self._due = False
                    await self.flush()
        finally:
            with anyio.CancelScope(shield=True):
                await self.flush()

    async def _tick(self) -> None:
        """Every `interval` on the clock, whatever the flushes took: the flush is due."""
        while True:
            await self.clock.sleep(self.interval)
            self._due = True
            if self._wake is not None:
                self._wake.set()

    def _on_pod(self, type_: str, obj: JSON) -> None:
        if type_ in ("ADDED", "MODIFIED"):
            self.pod_changed(obj)
        elif type_ == "DELETED":
            uid = str(obj.get("metadata", {}).get("uid", ""))
            for key in [k for k in self._restarts if k[0] == uid]:
                del self._restarts[key]
            self._keys = {k for k in self._keys if k[0] != uid}

    def _on_event(self, type_: str, obj: JSON) -> None:
        if type_ in ("ADDED", "MODIFIED"):
            self.event(obj)

    async def _follow(self, watch: Watch, handle: Callable[[str, JSON], None]) -> None:
        """Follow a watch for good: a watch cut off (too slow) starts again from a list,
        which the records' keys make harmless."""
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
