"""`Store`: the node agent's only state, in one SQLite file, with watch.

    Store ── connect() ─────────── schema.py   pragmas, user_version, migrations, bad files
      │ ── _write(): Txn ───────── txn.py      BEGIN IMMEDIATE, one revision per object written
      │ ── record_event() ──────── events.py   client-go dedup (count, first/lastTimestamp)
      │ ── list(selectors) ─────── selectors.py
      │ ── publish after COMMIT ── watch.py    ring of recent changes + bounded fan-out
      └─ .probes ──────────────── probes.py   probe history per pod, removed with the pod

Objects are raw Kubernetes JSON dicts keyed by (kind, namespace, name); every write of any
object takes the next value of one global revision, its resourceVersion (etcd's model), and is
one transaction. Every dict returned is a fresh copy.

The methods are synchronous on purpose. The agent calls them on its event loop: a transaction
here is a few indexed row reads and writes, well under the time a thread hand-off would add,
and staying on the loop means watchers are notified in commit order with no locking. The one
slow part, the fsync that makes a commit survive a power loss, is not on the loop in the
agent: it opens the store without `durable_commits`, and `flush` (in a worker thread, through
`barrier.CommitBarrier`) makes every commit so far durable before the API answers a write.
Only the agent writes; a second opener is safe (SQLite's locks; the revision is always read
under the write lock) but its writes reach this process's watchers only as a 410 Expired for
watches that resume from before them.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from minikubelet.api.codec import format_time
from minikubelet.api.raw import JSON
from minikubelet.clock import Clock
from minikubelet.errors import BadRequest
from minikubelet.store.events import dedup_key, event_name, new_event, repeat_event, unix_nanos
from minikubelet.store.probes import ProbeLog
from minikubelet.store.schema import StoreError, connect
from minikubelet.store.selectors import Fields, matches_fields, parse_label_selector
from minikubelet.store.txn import (
    Row,
    Txn,
    is_namespaced,
    namespace_of,
    not_found,
    stale_conflict,
    uid_conflict,
)
from minikubelet.store.watch import (
    Change,
    Scope,
    Selection,
    Watcher,
    WatchEvent,
    WatchHub,
    expired_event,
)

__all__ = ["Store"]

_Items = list[JSON]

DEFAULT_WATCH_WINDOW = 10_000  # recent writes kept for resuming watches
DEFAULT_WATCH_BUFFER = 1_000  # undelivered events a watcher may lag before it is cut off


class Store:
    """Objects, events and the revision counter of one agent; see the module docstring."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        clock: Clock,
        *,
        window: int,
        buffer: int,
        durable_commits: bool = True,
    ) -> None:
        self._conn = conn
        self._path = path
        self.durable_commits = durable_commits
        self._clock = clock
        self._buffer = buffer
        self._revision = _read_revision(conn)
        self._hub = WatchHub(self._revision, window)
        self.probes = ProbeLog(conn, path=path)  # its writer: a connection of its own
        self.probes.prune()

    @classmethod
    def open(
        cls,
        path: Path,
        clock: Clock,
        *,
        watch_window: int = DEFAULT_WATCH_WINDOW,
        watch_buffer: int = DEFAULT_WATCH_BUFFER,
        durable_commits: bool = True,
    ) -> Store:
        """Open or create the store at `path`; StoreError if it is unusable. Without
        `durable_commits`, a commit is on disk only after a `flush` (the agent's API waits
        for one before it answers a write)."""
        conn = connect(path, durable_commits=durable_commits)
        try:
            store = cls(
                conn,
                path,
                clock,
                window=watch_window,
                buffer=watch_buffer,
                durable_commits=durable_commits,
            )
            store.flush()  # what an agent killed before its flush left in the page cache
            return store
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        """End every watch and close the file; idempotent."""
        self._hub.close()
        self.probes.close()
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def revision(self) -> str:
        """The last revision this store wrote or saw, as the decimal string clients get."""
        return str(self._revision)

    @property
    def committed(self) -> int:
        """The last revision committed through this store."""
        return self._revision

    def flush(self) -> None:
        """fsync the WAL: every commit made so far survives a power loss. Safe from a worker
        thread while the loop commits (it only reads the file's path); the checkpoints that
        move the WAL into the database file sync both files themselves."""
        try:
            fd = os.open(f"{self._path}-wal", os.O_RDONLY)
        except FileNotFoundError:  # no WAL: everything is in the database file, synced
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- objects -----------------------------------------------------------------------------

    def create(self, kind: str, obj: Mapping[str, Any]) -> JSON:
        """Store a new object (uid and creationTimestamp set by the caller); AlreadyExists."""
        body = copy.deepcopy(dict(obj))
        meta = body.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name") or not meta.get("uid"):
            raise ValueError("create needs metadata.name and metadata.uid")
        if is_namespaced(kind) and not meta.get("namespace"):
            raise ValueError(f"a {kind} needs metadata.namespace")
        with self._write() as txn:
            return txn.put(kind, body, None)

    def get(self, kind: str, namespace: str, name: str) -> JSON:
        """The stored object; NotFound (`pods "web" not found`)."""
        namespace = namespace_of(kind, namespace)
        with self._read() as conn:
            found = conn.execute(
                "SELECT body FROM objects WHERE kind = ? AND namespace = ? AND name = ?",
                (kind, namespace, name),
            ).fetchone()
        if found is None:
            raise not_found(kind, name)
        body: JSON = json.loads(found[0])
        return body

    def list(
        self,
        kind: str,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: Fields | None = None,
    ) -> tuple[_Items, str]:
        """Objects sorted by namespace then name, and the revision they were read at."""
        selector = parse_label_selector(label_selector)
        scoped = namespace is not None and is_namespaced(kind)
        query = "SELECT body FROM objects WHERE kind = ?"
        params: tuple[str, ...] = (kind,)
        if scoped:
            query, params = query + " AND namespace = ?", (*params, namespace or "")
        # what the key columns answer, so only those rows are decoded (a pod among many)
        scope = Scope.of(kind, namespace, field_selector)
        if scope.name is not None:
            query, params = query + " AND name = ?", (*params, scope.name)
        if scope.involved is not None:
            query, params = query + " AND involved_uid = ?", (*params, scope.involved)
        with self._read() as conn:
            revision = _read_revision(conn)
            texts = conn.execute(query + " ORDER BY namespace, name", params).fetchall()
        self._notice(revision)
        items = [json.loads(text) for (text,) in texts]
        kept = [
            o for o in items if selector.matches_object(o) and matches_fields(o, field_selector)
        ]
        return kept, str(revision)

    def update(self, kind: str, obj: Mapping[str, Any], *, expected_rv: str | None) -> JSON:
        """Replace an object. `expected_rv` None is unconditional; a stale one is a Conflict.

        A uid in the body is a precondition (the API server's `Preconditions()` of an update),
        checked first; an update that changes nothing is not written and keeps its revision.
        """
        body = copy.deepcopy(dict(obj))
        meta = body["metadata"]
        namespace, name = namespace_of(kind, meta.get("namespace")), meta["name"]
        with self._write() as txn:
            before = txn.row(kind, namespace, name)
            if before is None:
                raise not_found(kind, name)
            uid = meta.get("uid")
            if uid and uid != before.uid:
                raise uid_conflict(kind, namespace, name, uid, before.uid)
            if expected_rv is not None and expected_rv != str(before.rv):
                raise stale_conflict(kind, name)
            meta["uid"] = before.uid
            meta["resourceVersion"] = str(before.rv)
            if _unchanged(body, before):
                return body
            return txn.put(kind, body, before)

    def update_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        expected_rv: str | None = None,
    ) -> JSON:
        """Replace only `.status` (the status subresource); no write when it is unchanged.
        `expected_rv`: the resourceVersion the writer read, a precondition (Conflict)."""
        namespace = namespace_of(kind, namespace)
        with self._write() as txn:
            before = txn.row(kind, namespace, name)
            if before is None:
                raise not_found(kind, name)
            body = before.body()
            if expected_rv is not None and expected_rv != str(before.rv):
                raise stale_conflict(kind, name)
            if body.get("status") == status:
                return body
            body["status"] = copy.deepcopy(dict(status))
            return txn.put(kind, body, before)

    def delete(self, kind: str, namespace: str, name: str, *, uid: str | None = None) -> JSON:
        """Remove an object and return its last state; `uid` is a precondition (Conflict).

        Graceful deletion (deletionTimestamp) is an `update`; this is the final removal.
        """
        namespace = namespace_of(kind, namespace)
        with self._write() as txn:
            row = txn.row(kind, namespace, name)
            if row is None:
                raise not_found(kind, name)
            if uid is not None and uid != row.uid:
                raise uid_conflict(kind, namespace, name, uid, row.uid)
            txn.remove(row)
            if kind == "Pod":
                self.probes.remove(row.uid)  # the pod's probe history goes with it
        if kind == "Pod":
            self.probes.removed(row.uid)
        return row.body()

    # -- events ------------------------------------------------------------------------------

    def record_event(
        self,
        namespace: str,
        involved: Mapping[str, Any],
        type_: str,
        reason: str,
        message: str,
        source: Mapping[str, Any],
    ) -> JSON:
        """Record a core/v1 Event, or count a repeat of an identical one (client-go dedup)."""
        now = self._clock.utcnow()
        event = new_event(
            name="",
            namespace=namespace,
            uid=str(uuid.uuid4()),
            involved=dict(involved),
            type_=type_,
            reason=reason,
            message=message,
            source=dict(source),
            now=now,
        )
        with self._write() as txn:
            found = txn.conn.execute(
                "SELECT name FROM objects WHERE event_key = ? AND kind = 'Event' AND namespace = ?"
                " ORDER BY last_seen DESC LIMIT 1",
                (dedup_key(event), namespace),
            ).fetchone()
            before = None if found is None else txn.row("Event", namespace, found[0])
            if before is not None:
                return txn.put("Event", repeat_event(before.body(), now), before)
            nanos = unix_nanos(now)
            # Two different events in the same instant (a fake clock) must not share a name.
            while txn.row("Event", namespace, event_name(involved["name"], nanos)) is not None:
                nanos += 1
            event["metadata"]["name"] = event_name(involved["name"], nanos)
            return txn.put("Event", event, None)

    def delete_events_for(self, uid: str) -> int:
        """Delete every Event about the object with this uid; returns how many."""
        return self._delete_events("involved_uid = ?", (uid,))

    def expire_events(self, older_than: datetime) -> int:
        """Delete Events last seen before `older_than` (the API server's 1 h event TTL)."""
        return self._delete_events("last_seen < ?", (format_time(older_than),))

    def _delete_events(self, where: str, params: tuple[str, ...]) -> int:
        with self._write() as txn:
            names = txn.conn.execute(
                f"SELECT namespace, name FROM objects WHERE kind = 'Event' AND {where}", params
            ).fetchall()
            for namespace, name in names:
                row = txn.row("Event", namespace, name)
                if row is not None:
                    txn.remove(row)
            return len(names)

    # -- watch -------------------------------------------------------------------------------

    def watch(
        self,
        kind: str,
        namespace: str | None,
        since_rv: str | None,
        *,
        label_selector: str | None = None,
        field_selector: Fields | None = None,
        buffer: int | None = None,
    ) -> Watcher:
        """Watch `kind` (in `namespace`, or all): see `watch.py` for the guarantees.

        `since_rv` None or "0": an ADDED for every current object, then changes. "N": every
        change after N (a future N waits for it); too old: one ERROR 410 Expired, then the end.
        With selectors, an object that starts or stops matching arrives as ADDED or DELETED.
        """
        selector = parse_label_selector(label_selector)
        since = _parse_since(since_rv)
        ns = None if namespace is None else namespace_of(kind, namespace)
        with self._read() as conn:
            self._notice(_read_revision(conn))
        replay = [] if since is None else self._hub.since(since)
        if since is not None and replay is None:
            return Watcher(deque([expired_event(since, self._hub.floor)]), None, since)
        selection = Selection()
        if label_selector or field_selector:
            selection = Selection(
                lambda o: selector.matches_object(o) and matches_fields(o, field_selector)
            )
        scope = Scope.of(kind, ns, field_selector)
        receive = self._hub.subscribe(scope, buffer or self._buffer)
        pending: deque[WatchEvent | Change]
        try:
            if since is None:
                items, revision = self.list(kind, namespace, label_selector, field_selector)
                pending, start = deque(("ADDED", item) for item in items), int(revision)
            else:
                wanted = (c for c in replay or () if scope.wants(c))
                pending, start = deque(wanted), since
        except BaseException:
            receive.unsubscribe()
            receive.stream.close()
            raise
        return Watcher(pending, receive, start, selection)

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Txn]:
        """One write transaction; watchers hear of its changes only after COMMIT."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            revision = _read_revision(conn)
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc
        self._notice(revision)
        txn = Txn(conn, revision)
        try:
            yield txn
            if txn.changes:
                conn.execute("UPDATE revision SET value = ? WHERE id = 1", (txn.revision,))
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._failure(exc) from exc
            raise
        self._revision = txn.revision
        self._hub.publish(txn.changes)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so the revision and the rows come from one snapshot."""
        try:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    def _notice(self, revision: int) -> None:
        """A revision other than ours in the file means another opener wrote."""
        if revision != self._revision:
            self._hub.forget_before(revision)
            self._revision = revision

    def _failure(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"state store {self._path}: {exc}")


def _unchanged(body: JSON, before: Row) -> bool:
    """True when `body` (carrying the stored resourceVersion) is what is already stored."""
    stored: JSON = json.loads(before.text)
    return stored == body


def _read_revision(conn: sqlite3.Connection) -> int:
    (value,) = conn.execute("SELECT value FROM revision WHERE id = 1").fetchone()
    return int(value)


def _parse_since(since_rv: str | None) -> int | None:
    """None for "from the current state" (unset or "0"); BadRequest for non-numbers."""
    if since_rv is None or since_rv in ("", "0"):
        return None
    if not since_rv.isdigit():
        raise BadRequest(f'invalid resource version: "{since_rv}"')
    return int(since_rv)
