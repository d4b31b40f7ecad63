"""The pods' Table stream (`/api/pods`): the whole Table once, then only the rows that changed.

    connect ── store.list ──────────────────────────▶ event `table`: kubectl's Table
    Pod watch ── by namespace/name, the last wins ──▶ event `rows`:
                 {"rows": {"NS/NAME": row, ...}, "deleted": ["NS/NAME", ...]}
    a gap the watch cannot bridge (410 Expired) ────▶ store.list again, event `table`

Changes within BATCH of the first are one `rows` event, and while changes keep coming there is
one every TABLE_INTERVAL; when nothing changes, nothing is sent but a keep-alive comment
(every KEEPALIVE seconds). Rows
are made by printers/tables.py as for `get`, and each also carries `since`: the instants (epoch
seconds) its clock-dependent cells count from (`Age`: creation, `Restarts`: the last restart),
so the page moves AGE and "(5m ago)" on each second itself, with HumanDuration, and the agent
rebuilds no row because time passed (bench/README.md, the probe bench with the view open: the
whole Table rebuilt once a second cost about 2 ms of CPU per probe at 200 pods).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import anyio
from anyio.abc import ObjectSendStream

from minikubelet.api.codec import parse_time
from minikubelet.api.raw import JSON
from minikubelet.printers.pods import pod_status_reason
from minikubelet.printers.tables import row_for, table
from minikubelet.server.dashboard.feeds import Listed, keepalive, list_and_watch, sse
from minikubelet.server.deps import ApiDeps

__all__ = ["BATCH", "INLINE_ROWS", "TABLE_INTERVAL", "Offload", "pod_row", "pods_stream"]

BATCH = 0.2  # changes this close together are one event
TABLE_INTERVAL = 1.0  # and events at most this often while changes keep coming
INLINE_ROWS = 8  # a batch of more rows is made in a worker thread, a smaller one on the loop

Offload = Callable[[Callable[[], bytes]], Awaitable[bytes]]


def _key(pod: JSON) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _order(pod: JSON) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def pod_row(pod: JSON, now: datetime) -> JSON:
    """The Table's row of `pod` (printers/tables.py), and `since`: the instants AGE and
    RESTARTS count from, for the page to move them on."""
    row = row_for("Pod", pod, now)
    since: JSON = {}
    created = (pod.get("metadata") or {}).get("creationTimestamp")
    if isinstance(created, str) and created:
        since["Age"] = parse_time(created).timestamp()
    status = pod.get("status") or {}
    statuses = [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]
    if any(s.get("restartCount") for s in statuses):  # else there is no "(5m ago)": skip the walk
        _, _, _, restarts, last = pod_status_reason(pod)
        if restarts and last is not None:
            since["Restarts"] = last.timestamp()
    row["since"] = since
    return row


def pod_table(pods: list[JSON], now: datetime) -> JSON:
    """kubectl's Table of `pods` (sorted as `get` lists them), each row with its `since`."""
    made = table("Pod", [], now)
    made["rows"] = [pod_row(pod, now) for pod in sorted(pods, key=_order)]
    return made


@dataclass
class _Batch:
    """What the next event carries: a whole list (after `Listed`, the changes since applied to
    it), or else the changed pods by key (None: deleted, the last change wins)."""

    listed: dict[str, JSON] | None = None
    changed: dict[str, JSON | None] = field(default_factory=dict)
    wake: anyio.Event = field(default_factory=anyio.Event)

    def add(self, change: Listed | tuple[str, JSON]) -> None:
        if isinstance(change, Listed):
            self.listed, self.changed = {_key(pod): pod for pod in change.items}, {}
        else:
            type_, pod = change
            key = _key(pod)
            if self.listed is None:
                self.changed[key] = None if type_ == "DELETED" else pod
            elif type_ == "DELETED":
                self.listed.pop(key, None)
            else:
                self.listed[key] = pod
        self.wake.set()

    def size(self) -> int:
        return len(self.listed if self.listed is not None else self.changed)

    def take(self, now: datetime) -> Callable[[], bytes] | None:
        """The function that makes the next event (None: nothing to send); the batch empties."""
        listed, changed = self.listed, self.changed
        self.listed, self.changed, self.wake = None, {}, anyio.Event()
        if listed is not None:
            return lambda: sse("table", pod_table(list(listed.values()), now))
        if not changed:
            return None

        def rows() -> bytes:
            made = {key: pod_row(pod, now) for key, pod in changed.items() if pod is not None}
            gone = [key for key, pod in changed.items() if pod is None]
            return sse("rows", {"rows": made, "deleted": gone})

        return rows


async def pods_stream(deps: ApiDeps, offload: Offload) -> AsyncIterator[bytes]:
    """The Table at once, then the changed rows (module docstring). The watch decodes each
    changed pod on the loop; a large batch's rows and JSON (the Table, a node starting many pods)
    are made by `offload` (a worker thread) from objects nobody else holds, a small one inline."""
    batch = _Batch()
    clock = deps.clock
    send, frames = anyio.create_memory_object_stream[bytes](4)

    async def follow() -> None:
        async for change in list_and_watch(deps.store, "Pod", None):
            batch.add(change)

    async def batches(send: ObjectSendStream[bytes]) -> None:
        async with send:
            sent: float | None = None
            while True:
                await batch.wake.wait()
                if sent is not None:  # the first Table goes at once
                    await clock.sleep(max(BATCH, TABLE_INTERVAL - (clock.monotonic() - sent)))
                large = batch.size() > INLINE_ROWS
                build = batch.take(clock.utcnow())
                sent = clock.monotonic()
                if build is not None:
                    await send.send(await offload(build) if large else build())

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        tg.start_soon(batches, send.clone())
        tg.start_soon(keepalive, clock, send)
        try:
            async for frame in frames:
                yield frame
        finally:
            frames.close()
            tg.cancel_scope.cancel()
