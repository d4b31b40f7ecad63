"""The probe history writer: every probe attempt, and what `node/container_history.py` adds
(container starts, kills, exits, Ready changes), batched into the store.

    ProbeManager ─observer(pod, Attempt)─▶ HistoryWriter.attempt ─▶ [pending] (O(1), never waits)
    ContainerHistory ─add(Pending)─────────────────────────────────▶ [pending]
                                          flusher: every `interval` s or `batch` entries
                                          └─▶ await write(batch)  (the store's ProbeLog.write:
                                              a worker thread, the writer's own connection)

The prober never waits for the store: `attempt` appends to a bounded queue and returns; when
the queue is full the oldest pending entries are dropped and counted. The flush itself never
runs on the event loop either: `write` is awaited, and the store's does its transaction and
commit in a worker thread, so probes due during a flush run on time. The store is reached only
through the injected `write` (the prober layer does not import the store). Entries with a `key`
are queued once per pod (`forget` clears a deleted pod's keys), so seeing a status again
queues nothing.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import anyio
from anyio.abc import TaskStatus

from minikubelet.api.history import ProbeEntry, micro_time
from minikubelet.api.models import Pod
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.prober.runs import ProbeRuns
from minikubelet.prober.worker import Attempt, Result

__all__ = ["HistoryWriter", "Pending", "probe_entry"]

log = logging.getLogger("minikubelet.prober.history")

_RESULTS = {Result.SUCCESS: "success", Result.FAILURE: "failure", None: "unknown"}


class Pending(NamedTuple):
    """One entry for the store: its pod, the entry (its JSON), an optional dedup key."""

    uid: str
    namespace: str
    pod: str
    entry: JSON
    key: str | None = None


def probe_entry(attempt: Attempt, wall: Callable[[float], datetime]) -> ProbeEntry:
    """The entry of one probe attempt; `wall` turns the clock's monotonic reading to UTC."""
    outcome = attempt.outcome
    return ProbeEntry(
        probe=attempt.kind.name.lower(),
        container=attempt.container,
        instance=attempt.attempt,
        containerID=attempt.container_id,
        scheduled=micro_time(wall(attempt.scheduled)),
        time=micro_time(wall(attempt.started)),
        durationMs=round(attempt.duration * 1000, 3),
        result=_RESULTS[attempt.result],
        message=outcome.error if outcome.error is not None else outcome.output,
        changed=attempt.changed,
        count=attempt.count or None,
        detail=dict(outcome.detail) if outcome.detail else None,
    )


@dataclass
class WriterStats:
    written: int = 0
    dropped: int = 0
    flushes: int = 0
    failures: int = 0


@dataclass
class HistoryWriter:
    """Batches entries to `write`; `attempt` is an observer of the ProbeManager."""

    write: Callable[[Sequence[Pending]], Awaitable[int]]
    clock: Clock
    interval: float = 0.5
    batch: int = 500
    capacity: int = 50_000
    stats: WriterStats = field(default_factory=WriterStats)
    runs: ProbeRuns = field(default_factory=ProbeRuns)  # what kills and Ready changes blame
    _pending: deque[Pending] = field(default_factory=deque)
    _wake: anyio.Event | None = None  # the flusher waits on it: a tick or a full batch
    _due: bool = False  # a tick came since the last flush
    _keys: set[tuple[str, str]] = field(default_factory=set)  # (uid, key) already queued
    _writing: anyio.Event | None = None  # set when the flush under way ends

    def add(self, pending: Pending) -> None:
        if pending.key is not None:
            if (pending.uid, pending.key) in self._keys:
                return
            self._keys.add((pending.uid, pending.key))
        if len(self._pending) >= self.capacity:
            self._pending.popleft()
            self.stats.dropped += 1
        self._pending.append(pending)
        if len(self._pending) >= self.batch and self._wake is not None:
            self._wake.set()

    def queued(self, uid: str, key: str) -> bool:
        """Whether the entry of `key` was queued already (it would be dropped)."""
        return (uid, key) in self._keys

    def forget(self, uid: str) -> None:
        """The pod is gone: its keys may be queued again (by a new pod of the same uid)."""
        self._keys = {k for k in self._keys if k[0] != uid}
        self.runs.forget(uid)

    def attempt(self, pod: Pod, attempt: Attempt) -> None:
        now_mono, now = self.clock.monotonic(), self.clock.utcnow()
        entry = probe_entry(attempt, lambda t: now - timedelta(seconds=now_mono - t)).to_json()
        meta = pod.metadata
        self.add(Pending(meta.uid or "", meta.namespace or "", meta.name or "", entry))
        self.runs.note(meta.uid or "", entry)

    @property
    def pending(self) -> int:
        """Entries queued and not yet handed to `write`."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write what is pending, in one call; a failing store loses the batch, not the agent.
        Entries added meanwhile wait for the next flush."""
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
            log.exception("probe history: %d entries could not be written", len(batch))
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

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Flush until cancelled (a last flush on the way out)."""
        try:
            async with anyio.create_task_group() as tg:
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
