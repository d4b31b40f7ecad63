"""Watch fan-out: a ring of recent changes for resuming, and one bounded stream per watcher.

    write txn ──commit──▶ WatchHub.publish(changes)      (synchronous, in revision order)
                            ├─ ring: the last `window` changes, for `watch(since_rv=N)`
                            └─ send_nowait ──▶ [buffer] ──▶ Watcher (async iterator) ──▶ consumer

Writers never wait for watchers. A watcher whose buffer is full is cut off: its stream ends
after it has drained what was buffered, exactly as the API server's watch cache closes an
unresponsive watcher ("Forcing watcher close due to unresponsiveness"). Its consumer resumes
with `since_rv = watcher.resource_version`; if that revision has left the ring in the meantime,
the new watch answers ERROR 410 Expired, and the consumer lists again. No ERROR is sent on
overflow itself: the prefix the watcher received is consistent, and resuming usually works.

Bodies travel as JSON text and are decoded per watcher, so no two consumers share a dict.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from minikubelet.api.raw import JSON
from minikubelet.errors import StatusError
from minikubelet.store.selectors import Fields

__all__ = [
    "Change",
    "Expired",
    "Scope",
    "Selection",
    "WatchEvent",
    "WatchHub",
    "Watcher",
    "expired_event",
]

WatchEvent = tuple[str, JSON]
Filter = Callable[[JSON], bool]


class Expired(StatusError):
    """410: the resourceVersion a watch asked to resume from is older than the ring keeps.

    Not in `errors.py` because it never travels as an exception: a watch yields it as an ERROR
    event (`Expired(...).status()`), which is what the API server sends on the open stream.
    """

    reason = "Expired"
    code = 410


@dataclass(frozen=True, slots=True)
class Change:
    """One committed write: its revision, the object's key, and its JSON before and after."""

    rv: int
    kind: str
    namespace: str
    type: str  # ADDED | MODIFIED | DELETED
    body: str
    prev: str | None = None
    name: str = ""
    involved: str | None = None  # an Event's involvedObject.uid


@dataclass(frozen=True, slots=True)
class Scope:
    """Which changes a watch reads, from the change's key alone (no JSON decoded): a kind, and
    optionally a namespace, an object's name (a `metadata.name` field selector) and, for
    Events, the involved object's uid (`involvedObject.uid`). A watch of one pod among many
    decodes that pod's changes only."""

    kind: str
    namespace: str | None = None
    name: str | None = None
    involved: str | None = None

    @classmethod
    def of(cls, kind: str, namespace: str | None, fields: Fields | None) -> Scope:
        fields = fields or {}
        involved = fields.get("involvedObject.uid") if kind == "Event" else None
        return cls(kind, namespace, fields.get("metadata.name"), involved)

    def wants(self, change: Change) -> bool:
        return (
            change.kind == self.kind
            and self.namespace in (None, change.namespace)
            and self.name in (None, change.name)
            and self.involved in (None, change.involved)
        )


@dataclass(eq=False, slots=True)
class _Subscription:
    scope: Scope
    send: MemoryObjectSendStream[Change]


class WatchHub:
    """The ring of recent changes and the set of live subscriptions, for one store."""

    def __init__(self, revision: int, window: int) -> None:
        if window < 1:
            raise ValueError("the watch window must keep at least one change")
        self._ring: deque[Change] = deque(maxlen=window)
        self._floor = revision  # every change with rv > floor is in the ring
        self._subs: set[_Subscription] = set()

    def publish(self, changes: Iterable[Change]) -> None:
        """Record and fan out committed changes; never blocks, never raises to the writer."""
        for change in changes:
            if len(self._ring) == self._ring.maxlen and self._ring:
                self._floor = self._ring[0].rv
            self._ring.append(change)
            for sub in [s for s in self._subs if s.scope.wants(change)]:
                try:
                    sub.send.send_nowait(change)
                except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self._drop(sub)  # overflowed or gone: end its stream, keep writing

    def forget_before(self, revision: int) -> None:
        """Someone else wrote the file: changes up to `revision` were never seen here."""
        self._ring.clear()
        self._floor = revision

    def since(self, rv: int) -> list[Change] | None:
        """Every change after `rv`, or None when some of them have left the ring."""
        if rv < self._floor:
            return None
        return [c for c in self._ring if c.rv > rv]

    @property
    def floor(self) -> int:
        return self._floor

    def subscribe(self, scope: Scope, buffer: int) -> _Receive:
        send, receive = anyio.create_memory_object_stream[Change](max_buffer_size=buffer)
        sub = _Subscription(scope, send)
        self._subs.add(sub)
        return _Receive(receive, lambda: self._drop(sub))

    def close(self) -> None:
        """End every watch (the store is closing)."""
        for sub in list(self._subs):
            self._drop(sub)

    def _drop(self, sub: _Subscription) -> None:
        self._subs.discard(sub)
        sub.send.close()


@dataclass(slots=True)
class _Receive:
    stream: MemoryObjectReceiveStream[Change]
    unsubscribe: Callable[[], None]


@dataclass(slots=True)
class Selection:
    """The filters of one watch; `transform` rewrites a change as the API server's cacher does."""

    matches: Filter | None = None

    def transform(self, change: Change) -> WatchEvent | None:
        obj: JSON = json.loads(change.body)
        if self.matches is None:
            return change.type, obj
        now = self.matches(obj)
        before = change.prev is not None and self.matches(json.loads(change.prev))
        if change.type == "MODIFIED":
            if now and not before:
                return "ADDED", obj
            if before and not now:
                return "DELETED", obj
        return (change.type, obj) if now else None


@dataclass(eq=False)
class Watcher:
    """An async iterator of (type, object); `aclose()` or `async with` ends it.

    The subscription is made before the initial list or replay is taken, and both happen in
    the same synchronous step, so nothing is lost between them; changes at or below the last
    revision already delivered are skipped, so nothing is delivered twice.
    """

    _pending: deque[WatchEvent | Change]
    _receive: _Receive | None
    resource_version: int
    _selection: Selection = field(default_factory=Selection)

    def __aiter__(self) -> Watcher:
        return self

    async def __anext__(self) -> WatchEvent:
        while True:
            if self._pending:
                item = self._pending.popleft()
                if not isinstance(item, Change):
                    return item
                change = item
            elif self._receive is None:
                raise StopAsyncIteration
            else:
                try:
                    change = await self._receive.stream.receive()
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    await self.aclose()
                    raise StopAsyncIteration from None
            if change.rv <= self.resource_version:
                continue
            self.resource_version = change.rv
            event = self._selection.transform(change)
            if event is not None:
                return event

    async def aclose(self) -> None:
        """Stop watching; idempotent."""
        self._pending.clear()
        if self._receive is not None:
            self._receive.unsubscribe()
            self._receive.stream.close()
            self._receive = None

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def expired_event(requested: int, floor: int) -> WatchEvent:
    """The one ERROR event a too-old watch gets (watch_cache.go: `oldest-1` in parentheses)."""
    status = Expired(f"too old resource version: {requested} ({floor})").status()
    return "ERROR", status
