"""The probe history in the store: the ring per (pod, container, series), removal with the pod,
nothing for a pod that is gone, keys that make re-derived entries no-ops, watch, migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.clock import FakeClock
from minikubelet.store import SCHEMA_VERSION, Store
from minikubelet.store.probes import ProbeLog, Row


def _pod(store: Store, name: str = "web", uid: str = "u1") -> None:
    store.create(
        "Pod",
        {
            "metadata": {"name": name, "namespace": "default", "uid": uid},
            "spec": {"containers": [{"name": "app", "image": "a"}]},
        },
    )


def _attempt(n: int, probe: str = "liveness", container: str = "app") -> dict[str, Any]:
    return {"kind": "Probe", "probe": probe, "container": container, "n": n, "result": "success"}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(tmp_path / "state.db", FakeClock()) as opened:
        opened.probes.limit = 5
        yield opened


def test_ring_keeps_the_newest_per_container_and_kind(store: Store) -> None:
    _pod(store)
    batch = [Row("u1", "default", "web", _attempt(n)) for n in range(8)]
    batch += [Row("u1", "default", "web", _attempt(n, "readiness")) for n in range(3)]
    assert store.probes.append(batch[:4]) == 4
    assert store.probes.append(batch[4:]) == 7
    kept = store.probes.list("u1")
    assert [r["n"] for r in kept if r["probe"] == "liveness"] == [3, 4, 5, 6, 7]
    assert [r["n"] for r in kept if r["probe"] == "readiness"] == [0, 1, 2]
    assert [r["seq"] for r in kept] == sorted(r["seq"] for r in kept)


def test_ring_survives_reopening(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        _pod(store)
        store.probes.append([Row("u1", "default", "web", _attempt(n)) for n in range(3)])
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        store.probes.limit = 4
        store.probes.append([Row("u1", "default", "web", _attempt(n)) for n in range(3, 6)])
        assert [r["n"] for r in store.probes.list("u1")] == [2, 3, 4, 5]


def test_removed_with_the_pod_and_never_written_for_a_gone_pod(store: Store) -> None:
    _pod(store)
    _pod(store, "other", "u2")
    store.probes.append(
        [Row("u1", "default", "web", _attempt(1)), Row("u2", "default", "other", _attempt(1))]
    )
    store.delete("Pod", "default", "web")
    assert store.probes.list("u1") == []
    assert len(store.probes.list("u2")) == 1
    assert store.probes.append([Row("u1", "default", "web", _attempt(2))]) == 0
    _pod(store, "web", "u3")  # a new pod of the same name starts with no history
    assert store.probes.append([Row("u1", "default", "web", _attempt(3))]) == 0
    assert store.probes.list("u3") == []


def test_keyed_entries_are_written_once(store: Store) -> None:
    _pod(store)
    started = {"kind": "Container", "event": "Started", "container": "app", "time": "t"}
    entry = Row("u1", "default", "web", started, key="start/c1")
    assert store.probes.append([entry, entry]) == 1
    assert store.probes.append([entry]) == 0


def test_orphans_pruned_at_open(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        _pod(store)
        store.probes.append([Row("u1", "default", "web", _attempt(1))])
        store._conn.execute("DELETE FROM objects WHERE kind = 'Pod'")  # a crash in between
    with Store.open(tmp_path / "s.db", FakeClock()) as store:
        assert store.probes.list("u1") == []


def test_a_schema_1_store_opens_and_gains_the_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path, FakeClock()) as store:
        _pod(store)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE probe_history")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store.open(path, FakeClock()) as store:
        assert store.get("Pod", "default", "web")["metadata"]["uid"] == "u1"
        assert store.probes.append([Row("u1", "default", "web", _attempt(1))]) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()


def test_a_schema_2_store_keeps_its_history_under_the_new_table_name(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path, FakeClock()) as store:
        _pod(store)
        store.probes.append([Row("u1", "default", "web", _attempt(n)) for n in range(2)])
        store.probes.append([Row("u1", "default", "web", _attempt(9), key="k")])
    conn = sqlite3.connect(path)  # back to schema 2 as it was written: probe_records
    conn.executescript(
        """
        ALTER TABLE probe_history RENAME TO probe_records;
        DROP INDEX probe_history_ring;
        DROP INDEX probe_history_key;
        CREATE INDEX probe_records_ring ON probe_records (uid, container, series, seq);
        CREATE UNIQUE INDEX probe_records_key ON probe_records (uid, key) WHERE key IS NOT NULL;
        PRAGMA user_version = 2;
        """
    )
    conn.close()
    with Store.open(path, FakeClock()) as store:
        assert [e["n"] for e in store.probes.list("u1")] == [0, 1, 9]
        assert store.probes.append([Row("u1", "default", "web", _attempt(9), key="k")]) == 0
        assert store.probes.append([Row("u1", "default", "web", _attempt(3))]) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (3,)
    names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'probe%'")}
    assert names == {"probe_history", "probe_history_ring", "probe_history_key"}
    conn.close()


def test_subscribers_get_new_entries_and_end_with_the_pod(store: Store) -> None:
    _pod(store)

    async def main() -> list[int]:
        receive = store.probes.subscribe("u1")
        store.probes.append([Row("u1", "default", "web", _attempt(n)) for n in range(2)])
        store.delete("Pod", "default", "web")
        with receive:
            return [entry["n"] async for entry in receive]

    assert anyio.run(main) == [0, 1]


def test_ring_limit_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError):
        ProbeLog(store._conn, limit=0)
