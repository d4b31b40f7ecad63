"""Store: opening, the revision counter, CRUD with the API server's errors, a second opener."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import minikubelet.store as store_pkg
from minikubelet.clock import FakeClock
from minikubelet.errors import AlreadyExists, Conflict, NotFound
from minikubelet.store import SCHEMA_VERSION, Store, StoreError


def pod(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{namespace}-{name}",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": labels,
        },
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Pending"},
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state.db", FakeClock()) as opened:
        yield opened


def test_exports() -> None:
    assert sorted(store_pkg.__all__) == sorted(
        [
            "SCHEMA_VERSION",
            "Expired",
            "LabelSelector",
            "Store",
            "StoreError",
            "WatchEvent",
            "Watcher",
            "parse_label_selector",
        ]
    )


def test_open_sets_pragmas_and_schema_version(tmp_path: Path) -> None:
    Store.open(tmp_path / "s.db", FakeClock()).close()
    conn = sqlite3.connect(tmp_path / "s.db")
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_reopen_keeps_objects_and_revision(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db", FakeClock()) as first:
        first.create("Pod", pod("web"))
    with Store.open(tmp_path / "s.db", FakeClock()) as second:
        assert second.revision == "1"
        assert second.get("Pod", "default", "web")["metadata"]["resourceVersion"] == "1"
        assert second.create("Pod", pod("db"))["metadata"]["resourceVersion"] == "2"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    expected = (
        f"state store {path} was written by a newer minikubelet "
        f"(schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION})"
    )
    with pytest.raises(StoreError) as info:
        Store.open(path, FakeClock())
    assert str(info.value) == expected


@pytest.mark.parametrize("content", [b"this is not a database at all" * 200, b"\0" * 4096])
def test_corrupt_file_is_refused_with_its_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=str(path)):
        Store.open(path, FakeClock())


def test_unopenable_path_is_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing"):
        Store.open(tmp_path / "missing" / "s.db", FakeClock())


def test_every_write_bumps_one_global_revision(store: Store) -> None:
    rvs = [
        store.create("Pod", pod("a"))["metadata"]["resourceVersion"],
        store.create("Node", {"metadata": {"name": "n1", "uid": "u"}})["metadata"][
            "resourceVersion"
        ],
        store.update_status("Pod", "default", "a", {"phase": "Running"})["metadata"][
            "resourceVersion"
        ],
        store.delete("Node", "", "n1")["metadata"]["resourceVersion"],
    ]
    assert rvs == ["1", "2", "3", "2"]  # delete returns the last state, as stored
    assert store.revision == "4"


def test_create_and_get(store: Store) -> None:
    created = store.create("Pod", pod("web"))
    assert created["metadata"]["resourceVersion"] == "1"
    assert store.get("Pod", "default", "web") == created
    created["spec"] = {}
    assert store.get("Pod", "default", "web")["spec"] != {}  # a copy, not the stored object


ERROR_CASES = [
    (
        "create twice",
        lambda s: s.create("Pod", pod("web")),
        AlreadyExists,
        'pods "web" already exists',
        {"name": "web", "kind": "pods"},
    ),
    (
        "get missing",
        lambda s: s.get("Pod", "default", "nope"),
        NotFound,
        'pods "nope" not found',
        {"name": "nope", "kind": "pods"},
    ),
    (
        "get in another namespace",
        lambda s: s.get("Pod", "other", "web"),
        NotFound,
        'pods "web" not found',
        {"name": "web", "kind": "pods"},
    ),
    (
        "missing node",
        lambda s: s.get("Node", "", "n9"),
        NotFound,
        'nodes "n9" not found',
        {"name": "n9", "kind": "nodes"},
    ),
    (
        "missing lease: the group in the message and the details (`GroupResource.String()`)",
        lambda s: s.get("Lease", "kube-node-lease", "n9"),
        NotFound,
        'leases.coordination.k8s.io "n9" not found',
        {"name": "n9", "group": "coordination.k8s.io", "kind": "leases"},
    ),
    (
        "missing event",
        lambda s: s.delete("Event", "default", "e"),
        NotFound,
        'events "e" not found',
        {"name": "e", "kind": "events"},
    ),
    (
        "update stale",
        lambda s: s.update("Pod", pod("web"), expected_rv="0"),
        Conflict,
        'Operation cannot be fulfilled on pods "web": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": "web", "kind": "pods"},
    ),
    (
        "update missing",
        lambda s: s.update("Pod", pod("nope"), expected_rv=None),
        NotFound,
        'pods "nope" not found',
        {"name": "nope", "kind": "pods"},
    ),
    (
        "update status missing",
        lambda s: s.update_status("Pod", "default", "nope", {}),
        NotFound,
        'pods "nope" not found',
        {"name": "nope", "kind": "pods"},
    ),
    (
        "delete uid precondition",
        lambda s: s.delete("Pod", "default", "web", uid="other"),
        Conflict,
        'Operation cannot be fulfilled on pods "web": StorageError: invalid object, Code: 4, '
        "Key: /registry/pods/default/web, ResourceVersion: 0, AdditionalErrorMsg: "
        "Precondition failed: UID in precondition: other, UID in object meta: uid-default-web",
        {"name": "web", "kind": "pods"},
    ),
    (
        "update uid precondition",
        lambda s: s.update(
            "Pod",
            {**pod("web"), "metadata": {**pod("web")["metadata"], "uid": "x"}},
            expected_rv=None,
        ),
        Conflict,
        'Operation cannot be fulfilled on pods "web": StorageError: invalid object, Code: 4, '
        "Key: /registry/pods/default/web, ResourceVersion: 0, AdditionalErrorMsg: "
        "Precondition failed: UID in precondition: x, UID in object meta: uid-default-web",
        {"name": "web", "kind": "pods"},
    ),
]


@pytest.mark.parametrize(
    ("action", "error", "message", "details"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_errors_in_the_api_servers_words(
    store: Store, action: Any, error: type[Exception], message: str, details: dict[str, str]
) -> None:
    store.create("Pod", pod("web"))
    before = store.revision
    with pytest.raises(error) as info:
        action(store)
    assert str(info.value) == message
    assert info.value.details == details  # type: ignore[attr-defined]
    assert store.revision == before  # a failed write writes nothing


def test_node_uid_conflict_uses_the_minions_key(store: Store) -> None:
    store.create("Node", {"metadata": {"name": "n1", "uid": "u1"}})
    with pytest.raises(Conflict, match=r"Key: /registry/minions/n1, .* meta: u1$"):
        store.delete("Node", "", "n1", uid="u2")


def test_list_sorted_filtered_with_revision(store: Store) -> None:
    for name, ns, app in [("b", "default", "web"), ("a", "kube", "db"), ("a", "default", "web")]:
        store.create("Pod", pod(name, ns, app=app))
    store.create("Node", {"metadata": {"name": "n1", "uid": "u"}})

    def names(items: list[dict[str, Any]]) -> list[str]:
        return [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in items]

    items, rv = store.list("Pod", None)
    assert names(items) == ["default/a", "default/b", "kube/a"]
    assert rv == "4"
    assert names(store.list("Pod", "default")[0]) == ["default/a", "default/b"]
    assert names(store.list("Pod", None, "app=db")[0]) == ["kube/a"]
    assert names(store.list("Pod", None, None, {"metadata.name": "a"})[0]) == [
        "default/a",
        "kube/a",
    ]
    assert store.list("Pod", "none")[0] == []
    assert [n["metadata"]["name"] for n in store.list("Node", None)[0]] == ["n1"]


def test_update_conditional_and_unconditional(store: Store) -> None:
    created = store.create("Pod", pod("web"))
    created["metadata"]["labels"] = {"v": "2"}
    updated = store.update("Pod", created, expected_rv="1")
    assert updated["metadata"]["resourceVersion"] == "2"
    created["metadata"]["labels"] = {"v": "3"}
    with pytest.raises(Conflict):
        store.update("Pod", created, expected_rv="1")
    del created["metadata"]["uid"]  # omitted uid: the stored one is kept
    again = store.update("Pod", created, expected_rv=None)
    assert again["metadata"]["resourceVersion"] == "3"
    assert again["metadata"]["uid"] == "uid-default-web"
    assert store.get("Pod", "default", "web")["metadata"]["labels"] == {"v": "3"}


def test_update_that_changes_nothing_is_not_written(store: Store) -> None:
    created = store.create("Pod", pod("web"))
    same = store.update("Pod", created, expected_rv="1")
    assert same["metadata"]["resourceVersion"] == "1"
    assert store.revision == "1"


def test_update_status_replaces_only_status_and_skips_no_ops(store: Store) -> None:
    store.create("Pod", pod("web"))
    updated = store.update_status("Pod", "default", "web", {"phase": "Running"})
    assert updated["status"] == {"phase": "Running"}
    assert updated["spec"] == pod("web")["spec"]
    assert updated["metadata"]["resourceVersion"] == "2"
    unchanged = store.update_status("Pod", "default", "web", {"phase": "Running"})
    assert unchanged["metadata"]["resourceVersion"] == "2"
    assert store.revision == "2"


def test_delete_returns_last_state_and_removes(store: Store) -> None:
    store.create("Pod", pod("web"))
    store.update_status("Pod", "default", "web", {"phase": "Running"})
    last = store.delete("Pod", "default", "web", uid="uid-default-web")
    assert last["status"] == {"phase": "Running"}
    with pytest.raises(NotFound):
        store.get("Pod", "default", "web")
    store.create("Pod", pod("web"))  # the name is free again


def test_create_rejects_incomplete_objects_and_unknown_kinds(store: Store) -> None:
    with pytest.raises(ValueError, match="metadata.uid"):
        store.create("Pod", {"metadata": {"name": "x", "namespace": "default"}})
    with pytest.raises(ValueError, match="namespace"):
        store.create("Pod", {"metadata": {"name": "x", "uid": "u"}})
    with pytest.raises(ValueError, match="LimitRange"):
        store.create("LimitRange", {"metadata": {"name": "x", "uid": "u", "namespace": "d"}})


def test_second_opener_shares_the_revision_counter(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store.open(path, FakeClock()) as agent, Store.open(path, FakeClock()) as other:
        agent.create("Pod", pod("a"))
        other.create("Pod", pod("b"))
        assert agent.create("Pod", pod("c"))["metadata"]["resourceVersion"] == "3"
        assert [p["metadata"]["name"] for p in other.list("Pod", None)[0]] == ["a", "b", "c"]
        assert other.revision == "3"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
