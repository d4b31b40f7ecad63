"""Opening the SQLite file: pragmas, the schema version, migrations, and refusing bad files.

Tables (schema 1, then 2 and 3):

    revision                      one row: the global resourceVersion counter (etcd's revision)
    ┌────┬───────┐
    │ id │ value │                 id is always 1; value is the last revision handed out
    └────┴───────┘

    objects                 one row per stored object; PRIMARY KEY (kind, namespace, name)
    ┌──────┬───────────┬──────┬─────┬──────────────────┬──────┬───────────┬──────────────┬─────────┐
    │ kind │ namespace │ name │ uid │ resource_version │ body │ event_key │ involved_uid │last_seen│
    └──────┴───────────┴──────┴─────┴──────────────────┴──────┴───────────┴──────────────┴─────────┘
      Pod | Event | Node; namespace "" for cluster-scoped Nodes; body = the object's JSON with
      metadata.resourceVersion included. The last three columns are set for Events only, each
      with a partial index: client-go's dedup key, the involved object's uid, lastTimestamp.

Schema 2 adds the probe history (`probes.py`), outside the revision: it is not an API object.
Schema 3 renames its table from probe_records to probe_history ("record" was the Events' word).

    probe_history           one row per history entry (`api/history.py`): probe attempt,
                            container start/kill/exit, condition change
    ┌─────┬─────┬───────────┬─────┬───────────┬────────┬──────┬──────┐
    │ seq │ uid │ namespace │ pod │ container │ series │ key  │ body │
    └─────┴─────┴───────────┴─────┴───────────┴────────┴──────┴──────┘
      seq orders the rows of one store; series is the probe kind, "container" or "condition"
      (the ring of the newest N is kept per (uid, container, series)); key, set for entries
      derived from the pod's status or events, makes re-deriving them after a restart a no-op.

The schema version lives in `PRAGMA user_version`. A file from a newer minikubelet is refused
rather than "migrated" downwards; a file that is not a database is refused with its path, so
the agent stops with one clear message instead of crash-looping.

Durability: WAL journal. WAL with `synchronous=NORMAL` already survives the process being
killed, but may lose the last commits if the machine loses power; etcd fsyncs before the API
server answers, so an answer to a write must wait for its commit to be on disk. A connection
opened with `durable_commits` (the default: the CLI, tools, tests) runs `synchronous=FULL`, one
fsync of the WAL per commit. The agent's own connection runs NORMAL and makes its commits
durable in groups, off the event loop (`barrier.py`): under a node's disk load (the engine
writing layers for a pod ramp) one fsync took tens of milliseconds, every status and event
write paid one on the loop, and every pod worker and probe waited for it.
The history writer's own connection (`probes.py`) runs NORMAL too: node-local debugging
entries, never answered to a client.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from minikubelet.errors import MinikubeletError

__all__ = ["BUSY_TIMEOUT_MS", "SCHEMA_VERSION", "StoreError", "connect"]

# A second opener (a CLI debugging aid, a test) waits this long for the writer's lock instead
# of failing at once; the agent's own transactions hold it for well under a millisecond.
BUSY_TIMEOUT_MS = 5000

_MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1
    """
    CREATE TABLE revision (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    );
    INSERT INTO revision (id, value) VALUES (1, 0);
    CREATE TABLE objects (
        kind             TEXT NOT NULL,
        namespace        TEXT NOT NULL,
        name             TEXT NOT NULL,
        uid              TEXT NOT NULL,
        resource_version INTEGER NOT NULL,
        body             TEXT NOT NULL,
        event_key        TEXT,
        involved_uid     TEXT,
        last_seen        TEXT,
        PRIMARY KEY (kind, namespace, name)
    ) WITHOUT ROWID;
    CREATE INDEX objects_event_key ON objects (event_key) WHERE event_key IS NOT NULL;
    CREATE INDEX objects_involved_uid ON objects (involved_uid) WHERE involved_uid IS NOT NULL;
    CREATE INDEX objects_last_seen ON objects (last_seen) WHERE last_seen IS NOT NULL;
    """,
    # 1 -> 2
    """
    CREATE TABLE probe_records (
        seq       INTEGER PRIMARY KEY,
        uid       TEXT NOT NULL,
        namespace TEXT NOT NULL,
        pod       TEXT NOT NULL,
        container TEXT NOT NULL,
        series    TEXT NOT NULL,
        key       TEXT,
        body      TEXT NOT NULL
    );
    CREATE INDEX probe_records_ring ON probe_records (uid, container, series, seq);
    CREATE UNIQUE INDEX probe_records_key ON probe_records (uid, key) WHERE key IS NOT NULL;
    """,
    # 2 -> 3: the history's own word; SQLite renames no index, so they are made again
    """
    ALTER TABLE probe_records RENAME TO probe_history;
    DROP INDEX probe_records_ring;
    DROP INDEX probe_records_key;
    CREATE INDEX probe_history_ring ON probe_history (uid, container, series, seq);
    CREATE UNIQUE INDEX probe_history_key ON probe_history (uid, key) WHERE key IS NOT NULL;
    """,
)

SCHEMA_VERSION = len(_MIGRATIONS)


class StoreError(MinikubeletError):
    """The state store cannot be used: unreadable, corrupt, or written by a newer minikubelet.

    Lives here rather than in `errors.py` because only the store raises it; the agent reports it
    and exits instead of restarting into the same failure.
    """


def connect(path: Path, *, durable_commits: bool = True) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the store at `path`; StoreError if it cannot be.
    Without `durable_commits` a commit is not fsynced (see Durability above)."""
    try:
        # One thread uses the store at a time (the agent's event loop); it need not be the
        # thread that opened it (an ASGI test client runs the app in a thread of its own).
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StoreError(f"state store {path} cannot be opened: {exc}") from exc
    try:
        _prepare(conn, path, "FULL" if durable_commits else "NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, synchronous: str) -> None:
    try:
        # The first read of the file header: "file is not a database" surfaces here.
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"state store {path} was written by a newer minikubelet "
                f"(schema {version} > {SCHEMA_VERSION})"
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        _migrate(conn, version)
        (check,) = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"state store {path} is unreadable or corrupt: {exc}") from exc
    if check != "ok":
        raise StoreError(f"state store {path} is corrupt: {check}")


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply the missing migrations in one transaction, so a crash leaves the old version."""
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the lock: a second opener may have migrated in the meantime.
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        for number in range(version, SCHEMA_VERSION):
            for statement in _MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
