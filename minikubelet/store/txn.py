"""One write transaction: read rows, put or remove objects, each write taking the next revision.

`Store` opens a `Txn` under `BEGIN IMMEDIATE` (the write lock, so the revision it reads cannot
move under it, even with a second opener), commits, and only then publishes `txn.changes`
to watchers: a watcher never sees a write that did not reach the disk.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from minikubelet.api.kinds import Kind, UnknownResource, by_kind
from minikubelet.api.raw import JSON
from minikubelet.errors import AlreadyExists, Conflict, NotFound
from minikubelet.store.events import index_columns, involved_uid
from minikubelet.store.watch import Change

__all__ = [
    "Row",
    "Txn",
    "encode",
    "is_namespaced",
    "namespace_of",
    "not_found",
    "resource",
    "stale_conflict",
    "uid_conflict",
]


def resource(kind: str) -> str:
    """The resource as API messages name it (`GroupResource.String()`: `pods`,
    `endpointslices.discovery.k8s.io`); ValueError for a kind the store does not keep."""
    entry = _entry(kind)
    return f"{entry.plural}.{entry.group}" if entry.group else entry.plural


def details(kind: str, name: str) -> dict[str, str]:
    """A Status's details for one object: its name, its group if any, its resource."""
    entry = _entry(kind)
    group = {"group": entry.group} if entry.group else {}
    return {"name": name, **group, "kind": entry.plural}


def _entry(kind: str) -> Kind:
    try:
        entry = by_kind(kind)
    except UnknownResource:
        entry = None
    if entry is None or not entry.stored:
        raise ValueError(f"the store does not keep {kind!r}")
    return entry


def is_namespaced(kind: str) -> bool:
    return _entry(kind).namespaced


def namespace_of(kind: str, namespace: str | None) -> str:
    """Cluster-scoped kinds live in namespace ""; whatever the caller passed is ignored."""
    return (namespace or "") if _entry(kind).namespaced else ""


def uid_conflict(kind: str, namespace: str, name: str, wanted: str, actual: str) -> Conflict:
    """The API server's words for a failed UID precondition (storage.NewInvalidObjError wrapped
    by InterpretDeleteError/InterpretUpdateError in NewConflict)."""
    entry = _entry(kind)
    plural, prefix = resource(kind), entry.etcd_prefix
    key = (
        f"/registry/{prefix}/{namespace}/{name}"
        if entry.namespaced
        else f"/registry/{prefix}/{name}"
    )
    return Conflict(
        f'Operation cannot be fulfilled on {plural} "{name}": StorageError: invalid object, '
        f"Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
        f"UID in precondition: {wanted}, UID in object meta: {actual}",
        details=details(kind, name),
    )


def stale_conflict(kind: str, name: str) -> Conflict:
    plural = resource(kind)
    return Conflict(
        f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        details=details(kind, name),
    )


def not_found(kind: str, name: str) -> NotFound:
    plural = resource(kind)
    return NotFound(f'{plural} "{name}" not found', details=details(kind, name))


@dataclass(frozen=True, slots=True)
class Row:
    """A stored object: its uid and revision as columns, its body as JSON text."""

    kind: str
    namespace: str
    name: str
    uid: str
    rv: int
    text: str

    def body(self) -> JSON:
        """A fresh dict each time, so callers may change it without touching the store."""
        body: JSON = json.loads(self.text)
        return body


def encode(body: JSON) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


class Txn:
    """The writes of one transaction; `revision` is the last revision handed out."""

    def __init__(self, conn: sqlite3.Connection, revision: int) -> None:
        self.conn = conn
        self.revision = revision
        self.changes: list[Change] = []

    def row(self, kind: str, namespace: str, name: str) -> Row | None:
        found = self.conn.execute(
            "SELECT uid, resource_version, body FROM objects "
            "WHERE kind = ? AND namespace = ? AND name = ?",
            (kind, namespace, name),
        ).fetchone()
        if found is None:
            return None
        return Row(kind, namespace, name, found[0], found[1], found[2])

    def put(self, kind: str, body: JSON, before: Row | None) -> JSON:
        """Insert (`before` None) or replace an object at the next revision; returns it."""
        meta = body["metadata"]
        namespace = namespace_of(kind, meta.get("namespace"))
        name = meta["name"]
        self.revision += 1
        meta["resourceVersion"] = str(self.revision)
        text = encode(body)
        columns = index_columns(kind, body)
        values = (meta.get("uid", ""), self.revision, text, *columns)
        if before is None:
            try:
                self.conn.execute(
                    "INSERT INTO objects (uid, resource_version, body, event_key, involved_uid,"
                    " last_seen, kind, namespace, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, kind, namespace, name),
                )
            except sqlite3.IntegrityError:
                plural = resource(kind)
                raise AlreadyExists(
                    f'{plural} "{name}" already exists', details=details(kind, name)
                ) from None
        else:
            self.conn.execute(
                "UPDATE objects SET uid = ?, resource_version = ?, body = ?, event_key = ?,"
                " involved_uid = ?, last_seen = ? WHERE kind = ? AND namespace = ? AND name = ?",
                (*values, kind, namespace, name),
            )
        kind_of_change = "ADDED" if before is None else "MODIFIED"
        prev = None if before is None else before.text
        change = Change(
            self.revision, kind, namespace, kind_of_change, text, prev, name, involved=columns[1]
        )
        self.changes.append(change)
        return body

    def remove(self, row: Row) -> None:
        """Delete a row; watchers get its last state at the deletion's own revision, so a
        consumer that resumes from the rv of a DELETED event misses nothing after it."""
        self.conn.execute(
            "DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?",
            (row.kind, row.namespace, row.name),
        )
        self.revision += 1
        last = row.body()
        last["metadata"]["resourceVersion"] = str(self.revision)
        change = Change(
            self.revision,
            row.kind,
            row.namespace,
            "DELETED",
            encode(last),
            row.text,
            row.name,
            involved=involved_uid(row.kind, last),
        )
        self.changes.append(change)
