"""The probe history: every probe attempt, container start/kill/exit and Ready change of a pod.

    recorder ──append(batch)──▶ ProbeLog ──one transaction──▶ probe_records (schema.py)
                                  │ ring: newest `limit` per (pod uid, container, series)
                                  └─ after COMMIT ──▶ subscribers of that pod (watch)

Records are JSON objects as the API serves them (`server/timeline.py` draws their shape); the
log adds `seq`, the order in which this store wrote them. A record is written only while its pod
(by uid) exists, and `Store.delete` removes a pod's records in the pod's own transaction, so
the history never outlives the pod nor reaches a new pod of the same name. Records derived from
the pod's status or events carry a `key`: writing one twice (after an agent restart, or a status
seen again) is a no-op.

Not part of the revision and not in the watch ring of `watch.py`: this is node-local
debugging data, never a Kubernetes object.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["DEFAULT_RING", "Entry", "EntryLike", "ProbeLog", "series_of"]

JSON = dict[str, Any]
DEFAULT_RING = 1_000  # records kept per (pod, container, series)
_SUBSCRIBER_BUFFER = 10_000


class EntryLike(Protocol):
    """What `append` reads of an entry (the recorder's own tuples have these fields)."""

    @property
    def uid(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def pod(self) -> str: ...
    @property
    def record(self) -> JSON: ...
    @property
    def key(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Entry:
    """One record to write: its pod, an optional dedup key, and the record itself."""

    uid: str
    namespace: str
    pod: str
    record: JSON
    key: str | None = None


def series_of(record: JSON) -> str:
    """The ring a record belongs to: its probe kind, else "container" or "condition"."""
    return str(record.get("probe") or record.get("kind", "")).lower()


class ProbeLog:
    """The `probe_records` table of one store (its connection, used from the agent's loop)."""

    def __init__(self, conn: sqlite3.Connection, *, limit: int = DEFAULT_RING) -> None:
        if limit < 1:
            raise ValueError("the ring must keep at least one record")
        self._conn = conn
        self.limit = limit
        self._counts: dict[tuple[str, str, str], int] = {}
        self._subs: dict[str, set[MemoryObjectSendStream[JSON]]] = {}
        self._senders: dict[int, MemoryObjectSendStream[JSON]] = {}  # id(receive) -> its sender

    def append(self, entries: Sequence[EntryLike]) -> int:
        """Write a batch in one transaction, trim the rings, notify; how many were written."""
        if not entries:
            return 0
        written: list[tuple[str, JSON]] = []
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            touched: set[tuple[str, str, str]] = set()
            for entry in entries:
                ring, stored = self._insert(entry)
                if stored is not None:
                    written.append((entry.uid, stored))
                    touched.add(ring)
            for ring in touched:
                self._trim(ring)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._counts.clear()  # they may count rows that were rolled back
            raise
        for uid, stored in written:
            self._publish(uid, stored)
        return len(written)

    def _insert(self, entry: EntryLike) -> tuple[tuple[str, str, str], JSON | None]:
        record = {k: v for k, v in entry.record.items() if k != "seq"}
        container, series = str(record.get("container", "")), series_of(record)
        ring = (entry.uid, container, series)
        if ring not in self._counts:
            (count,) = self._conn.execute(
                "SELECT COUNT(*) FROM probe_records WHERE uid = ? AND container = ? AND series = ?",
                ring,
            ).fetchone()
            self._counts[ring] = int(count)
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO probe_records"
            " (uid, namespace, pod, container, series, key, body)"
            " SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM objects WHERE kind = 'Pod'"
            " AND namespace = ? AND name = ? AND uid = ?)",
            (
                entry.uid,
                entry.namespace,
                entry.pod,
                container,
                series,
                entry.key,
                json.dumps(record, separators=(",", ":")),
                entry.namespace,
                entry.pod,
                entry.uid,
            ),
        )
        if cursor.rowcount != 1:
            return ring, None
        self._counts[ring] += 1
        return ring, {"seq": cursor.lastrowid, **record}

    def _trim(self, ring: tuple[str, str, str]) -> None:
        excess = self._counts[ring] - self.limit
        if excess <= 0:
            return
        self._conn.execute(
            "DELETE FROM probe_records WHERE seq IN (SELECT seq FROM probe_records"
            " WHERE uid = ? AND container = ? AND series = ? ORDER BY seq LIMIT ?)",
            (*ring, excess),
        )
        self._counts[ring] = self.limit

    def _publish(self, uid: str, record: JSON) -> None:
        for send in list(self._subs.get(uid, ())):
            try:
                send.send_nowait(dict(record))
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._drop(uid, send)  # too slow or gone: its stream ends, it may resume

    def list(self, uid: str, *, container: str | None = None, after: int = 0) -> list[JSON]:
        """The pod's records in the order written (`seq`), those after `after` only."""
        query = "SELECT seq, body FROM probe_records WHERE uid = ? AND seq > ?"
        params: tuple[Any, ...] = (uid, after)
        if container:
            query, params = query + " AND container = ?", (*params, container)
        rows = self._conn.execute(query + " ORDER BY seq", params).fetchall()
        return [{"seq": seq, **json.loads(body)} for seq, body in rows]

    def last_seq(self) -> int:
        (seq,) = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM probe_records").fetchone()
        return int(seq)

    def remove(self, uid: str) -> None:
        """Delete a pod's records; called inside the transaction that deletes the pod."""
        self._conn.execute("DELETE FROM probe_records WHERE uid = ?", (uid,))
        for ring in [r for r in self._counts if r[0] == uid]:
            del self._counts[ring]

    def removed(self, uid: str) -> None:
        """After the pod's deletion committed: end its watches."""
        for send in list(self._subs.get(uid, ())):
            self._drop(uid, send)

    def prune(self) -> int:
        """Delete records whose pod is gone (a crash between the two); how many."""
        cursor = self._conn.execute(
            "DELETE FROM probe_records"
            " WHERE uid NOT IN (SELECT uid FROM objects WHERE kind = 'Pod')"
        )
        self._counts.clear()
        return cursor.rowcount

    def subscribe(self, uid: str) -> MemoryObjectReceiveStream[JSON]:
        """New records of one pod as they are written; the stream ends when the pod is deleted
        or when the subscriber falls `_SUBSCRIBER_BUFFER` records behind."""
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
        for uid, sends in list(self._subs.items()):
            for send in list(sends):
                self._drop(uid, send)

    def _drop(self, uid: str, send: MemoryObjectSendStream[JSON]) -> None:
        sends = self._subs.get(uid)
        if sends is not None:
            sends.discard(send)
            if not sends:
                del self._subs[uid]
        send.close()


def entries_for(uid: str, namespace: str, pod: str, records: Iterable[JSON]) -> list[Entry]:
    """Entries of one pod without dedup keys (tests, benches)."""
    return [Entry(uid, namespace, pod, record) for record in records]
