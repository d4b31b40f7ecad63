"""The probe history: every probe attempt, container start/kill/exit and Ready change of a pod.

    history writer ──await write(rows)──▶ ProbeLog ── worker thread, its own connection ──┐
    tests, tools ──append(rows)──▶ ProbeLog ── the store's connection ───────────────────┤
                                      one transaction ──▶ probe_history (schema.py) ◀──────┘
                                      │ ring: newest `limit` per (pod uid, container, series)
                                      └─ after COMMIT, on the loop ──▶ subscribers (watch)

`write` never blocks the event loop: the batch is encoded and written in one worker thread
(a CapacityLimiter of 1: one flush at a time, so `seq` order is publish order) through a
second SQLite connection to the same file, which WAL lets commit beside the loop's readers.
The pod check is inside the flush's transaction, under SQLite's write lock, which the pod's
deletion (the store's connection) also holds: a flush commits wholly before the deletion,
whose `remove` then deletes its rows, or after it, and finds the pod gone.

The writer runs with synchronous=NORMAL: in WAL mode its commits are not fsynced, but the file
stays consistent on a power loss, which can only drop a suffix of the WAL; the store's flush
before each answered write (`barrier.py`) fsyncs the WAL up to itself, entries included, and a
checkpoint syncs the WAL first. So a machine crash loses at most the entries of the last
moments (debugging data, not an API object answered 201; those derived from the status come
back, by key), never a deletion the API answered, and cannot keep entries of a deleted pod
(any left by a crash between the two are pruned at open). A loop write that meets a flush
waits for the flush's transaction (a few ms, no fsync) in SQLite's busy handler, instead of
running it.

A row holds one history entry (`api/history.py` defines them) as JSON, as the API serves it;
the log adds `seq`, the order in which this store wrote them. An entry is written only while its
pod (by uid) exists, and `Store.delete` removes a pod's rows in the pod's own transaction, so
the history never outlives the pod nor reaches a new pod of the same name. Entries derived from
the pod's status or events carry a `key`: writing one twice (after an agent restart, or a status
seen again) is a no-op.

Not part of the revision and not in the watch ring of `watch.py`: this is node-local
debugging data, never a Kubernetes object.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from minikubelet.api.raw import JSON
from minikubelet.store.schema import BUSY_TIMEOUT_MS

__all__ = ["DEFAULT_RING", "ProbeLog", "Row", "RowLike", "series_of"]

DEFAULT_RING = 1_000  # entries kept per (pod, container, series)
_SUBSCRIBER_BUFFER = 10_000
_Ring = tuple[str, str, str]  # (uid, container, series)
_Params = tuple[str, str, str, str, str, str | None, str]  # the INSERT's parameters
_Insert = tuple[_Params, JSON]  # and the entry they store
_INSERT = (
    "INSERT OR IGNORE INTO probe_history (uid, namespace, pod, container, series, key, body)"
    " SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM objects WHERE kind = 'Pod'"
    " AND namespace = ?2 AND name = ?3 AND uid = ?1)"
)


class RowLike(Protocol):
    """What `append` reads of a row to write (the history writer's own tuples have these)."""

    @property
    def uid(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def pod(self) -> str: ...
    @property
    def entry(self) -> JSON: ...
    @property
    def key(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Row:
    """One row to write: its pod, the history entry (JSON), an optional dedup key."""

    uid: str
    namespace: str
    pod: str
    entry: JSON
    key: str | None = None


def series_of(entry: JSON) -> str:
    """The ring an entry belongs to: its probe kind, else "container" or "condition"."""
    return str(entry.get("probe") or entry.get("kind", "")).lower()


class ProbeLog:
    """The `probe_history` table of one store: reads, removal and the sync `append` on the
    store's connection (the loop's); the history writer's `write` on a connection of its own."""

    def __init__(
        self, conn: sqlite3.Connection, *, limit: int = DEFAULT_RING, path: Path | None = None
    ) -> None:
        if limit < 1:
            raise ValueError("the ring must keep at least one entry")
        self._conn = conn
        self._path = path  # None: `write` falls back to the store's connection, on the loop
        self.limit = limit
        self._counts: dict[_Ring, int] = {}  # rows per ring, as last committed
        self._lock = threading.Lock()  # `_counts`, shared by the writer thread and the loop
        self._writer: sqlite3.Connection | None = None  # opened, used and closed by `write`
        self._limiter: anyio.CapacityLimiter | None = None
        self._subs: dict[str, set[MemoryObjectSendStream[JSON]]] = {}
        self._senders: dict[int, MemoryObjectSendStream[JSON]] = {}  # id(receive) -> its sender

    def append(self, rows: Sequence[RowLike]) -> int:
        """Write a batch on the store's connection, trim the rings, notify; how many written."""
        written = self._commit(self._conn, _inserts(rows))
        self._publish_all(written)
        return len(written)

    async def write(self, rows: Sequence[RowLike]) -> int:
        """`append` without blocking the loop: the transaction runs in a worker thread on the
        writer connection; subscribers are told on the loop afterwards. A cancel waits for
        the thread (the batch is committed or not, never half)."""
        if not rows:
            return 0
        if self._path is None:
            written = self._commit(self._conn, _inserts(rows))
        else:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(1)
            batch = list(rows)  # the writer's own list; a copy costs nothing next to a write
            written = await anyio.to_thread.run_sync(self._write_rows, batch, limiter=self._limiter)
        self._publish_all(written)
        return len(written)

    def _write_rows(self, rows: list[RowLike]) -> list[tuple[str, JSON]]:
        """In the worker thread: encode (before the write lock is taken), then commit."""
        inserts = _inserts(rows)
        if self._writer is None:
            assert self._path is not None
            self._writer = _writer_connection(self._path)
        return self._commit(self._writer, inserts)

    def _commit(self, conn: sqlite3.Connection, rows: list[_Insert]) -> list[tuple[str, JSON]]:
        """One transaction: rows inserted while their pod exists (checked under the write lock,
        so a pod deleted by the other connection gets none), rings trimmed."""
        if not rows:
            return []
        written: list[tuple[str, JSON]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            with self._lock:
                added: dict[_Ring, int] = {}
                for params, entry in rows:
                    ring = (params[0], params[3], params[4])
                    if ring not in self._counts and ring not in added:
                        (count,) = conn.execute(
                            "SELECT COUNT(*) FROM probe_history"
                            " WHERE uid = ? AND container = ? AND series = ?",
                            ring,
                        ).fetchone()
                        added[ring] = int(count) - self._counts.get(ring, 0)
                    cursor = conn.execute(_INSERT, params)
                    if cursor.rowcount == 1:
                        added[ring] = added.get(ring, 0) + 1
                        written.append((params[0], {"seq": cursor.lastrowid, **entry}))
                    else:
                        added.setdefault(ring, 0)
                counts = {r: self._counts.get(r, 0) + n for r, n in added.items()}
                for ring, count in counts.items():
                    if count > self.limit:
                        self._trim(conn, ring, count - self.limit)
                        counts[ring] = self.limit
                conn.execute("COMMIT")
                for ring, count in counts.items():
                    if count:
                        self._counts[ring] = count
                    else:  # its pod is gone (or it never had a row): keep no entry for it
                        self._counts.pop(ring, None)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return written

    def _trim(self, conn: sqlite3.Connection, ring: _Ring, excess: int) -> None:
        conn.execute(
            "DELETE FROM probe_history WHERE seq IN (SELECT seq FROM probe_history"
            " WHERE uid = ? AND container = ? AND series = ? ORDER BY seq LIMIT ?)",
            (*ring, excess),
        )

    def _publish_all(self, written: list[tuple[str, JSON]]) -> None:
        for uid, stored in written:
            self._publish(uid, stored)

    def _publish(self, uid: str, entry: JSON) -> None:
        for send in list(self._subs.get(uid, ())):
            try:
                send.send_nowait(dict(entry))
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._drop(uid, send)  # too slow or gone: its stream ends, it may resume

    def list(self, uid: str, *, container: str | None = None, after: int = 0) -> list[JSON]:
        """The pod's entries in the order written (`seq`), those after `after` only."""
        query = "SELECT seq, body FROM probe_history WHERE uid = ? AND seq > ?"
        params: tuple[Any, ...] = (uid, after)
        if container:
            query, params = query + " AND container = ?", (*params, container)
        rows = self._conn.execute(query + " ORDER BY seq", params).fetchall()
        return [{"seq": seq, **json.loads(body)} for seq, body in rows]

    def last_seq(self) -> int:
        (seq,) = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM probe_history").fetchone()
        return int(seq)

    def remove(self, uid: str) -> None:
        """Delete a pod's rows; called inside the transaction that deletes the pod (which
        holds the write lock: a flush commits wholly before it or finds the pod gone)."""
        self._conn.execute("DELETE FROM probe_history WHERE uid = ?", (uid,))
        with self._lock:
            for ring in [r for r in self._counts if r[0] == uid]:
                del self._counts[ring]

    def removed(self, uid: str) -> None:
        """After the pod's deletion committed: end its watches."""
        for send in list(self._subs.get(uid, ())):
            self._drop(uid, send)

    def prune(self) -> int:
        """Delete rows whose pod is gone (a crash between the two); how many."""
        cursor = self._conn.execute(
            "DELETE FROM probe_history"
            " WHERE uid NOT IN (SELECT uid FROM objects WHERE kind = 'Pod')"
        )
        with self._lock:
            self._counts.clear()
        return cursor.rowcount

    def subscribe(self, uid: str) -> MemoryObjectReceiveStream[JSON]:
        """New entries of one pod as they are written; the stream ends when the pod is deleted
        or when the subscriber falls `_SUBSCRIBER_BUFFER` entries behind."""
        send, receive = anyio.create_memory_object_stream[JSON](_SUBSCRIBER_BUFFER)
        self._subs.setdefault(uid, set()).add(send)
        self._senders[id(receive)] = send
        return receive

    def unsubscribe(self, uid: str, receive: MemoryObjectReceiveStream[JSON]) -> None:
        send = self._senders.pop(id(receive), None)
        if send is not None:
            self._drop(uid, send)
        receive.close()

    def close(self) -> None:
        """End every watch and close the writer connection (no `write` may be running)."""
        for uid, sends in list(self._subs.items()):
            for send in list(sends):
                self._drop(uid, send)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _drop(self, uid: str, send: MemoryObjectSendStream[JSON]) -> None:
        sends = self._subs.get(uid)
        if sends is not None:
            sends.discard(send)
            if not sends:
                del self._subs[uid]
        send.close()


def _inserts(rows: Sequence[RowLike]) -> list[_Insert]:
    """The INSERT's parameters of each row (its entry without `seq`, encoded)."""
    inserts: list[_Insert] = []
    for row in rows:
        entry = {k: v for k, v in row.entry.items() if k != "seq"}
        body = json.dumps(entry, separators=(",", ":"))
        container, series = str(entry.get("container", "")), series_of(entry)
        params = (row.uid, row.namespace, row.pod, container, series, row.key, body)
        inserts.append((params, entry))
    return inserts


def _writer_connection(path: Path) -> sqlite3.Connection:
    """The history writer's own connection to the store's file (already migrated, already WAL):
    synchronous=NORMAL (see the module docstring); used by one worker thread at a time."""
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def rows_for(uid: str, namespace: str, pod: str, entries: Iterable[JSON]) -> list[Row]:
    """Rows of one pod without dedup keys (tests, benches)."""
    return [Row(uid, namespace, pod, entry) for entry in entries]
