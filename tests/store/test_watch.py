"""Watch: initial ADDED, resume from a revision, 410 Expired, selectors, overflow, close."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from minikubelet.clock import FakeClock
from minikubelet.errors import BadRequest
from minikubelet.store import Store, Watcher

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pod(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace, "uid": f"u-{name}", "labels": labels}
    return {"metadata": meta, "spec": {}, "status": {"phase": "Pending"}}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "s.db", FakeClock(), watch_window=5, watch_buffer=4) as opened:
        yield opened


async def take(watcher: Watcher, count: int) -> list[tuple[str, str, str]]:
    """The next `count` events as (type, name, resourceVersion); fails instead of hanging."""
    out = []
    with anyio.fail_after(5):
        for _ in range(count):
            kind, obj = await watcher.__anext__()
            out.append((kind, obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))
    return out


async def rest(watcher: Watcher) -> list[tuple[str, str, str]]:
    out = []
    with anyio.fail_after(5):
        async for kind, obj in watcher:
            out.append((kind, obj["metadata"]["name"], obj["metadata"].get("resourceVersion")))
    return out


@pytest.mark.parametrize("since", [None, "0"])
async def test_initial_list_then_live_changes(store: Store, since: str | None) -> None:
    store.create("Pod", pod("b"))
    store.create("Pod", pod("a"))
    store.create("Pod", pod("x", "other"))
    async with store.watch("Pod", "default", since) as watcher:
        assert await take(watcher, 2) == [("ADDED", "a", "2"), ("ADDED", "b", "1")]
        store.update_status("Pod", "default", "a", {"phase": "Running"})
        store.create("Pod", pod("y", "other"))  # another namespace: not seen
        store.delete("Pod", "default", "b")
        assert await take(watcher, 2) == [("MODIFIED", "a", "4"), ("DELETED", "b", "6")]
        assert watcher.resource_version == 6


async def test_writes_between_list_and_iteration_are_neither_lost_nor_doubled(
    store: Store,
) -> None:
    store.create("Pod", pod("a"))
    watcher = store.watch("Pod", None, None)
    async with watcher:
        store.create("Pod", pod("b"))  # after the list, before the first ADDED is read
        assert await take(watcher, 2) == [("ADDED", "a", "1"), ("ADDED", "b", "2")]


async def test_resume_from_a_revision_replays_what_followed(store: Store) -> None:
    for name in "abc":
        store.create("Pod", pod(name))
    store.create("Node", {"metadata": {"name": "n", "uid": "n"}})
    async with store.watch("Pod", "default", "1") as watcher:
        assert await take(watcher, 2) == [("ADDED", "b", "2"), ("ADDED", "c", "3")]
        store.delete("Pod", "default", "a")
        assert await take(watcher, 1) == [("DELETED", "a", "5")]


async def test_resume_from_a_deleted_events_revision_misses_nothing(store: Store) -> None:
    store.create("Pod", pod("a"))
    store.delete("Pod", "default", "a")
    store.create("Pod", pod("a"))
    async with store.watch("Pod", None, "2") as watcher:
        assert await take(watcher, 1) == [("ADDED", "a", "3")]


async def test_too_old_resource_version_is_one_error_410(store: Store) -> None:
    for i in range(7):  # the window keeps 5: revisions 3..7, so "2" is the oldest resumable
        store.create("Pod", pod(f"p{i}"))
    async with store.watch("Pod", None, "2") as watcher:
        assert [rv for _, _, rv in await take(watcher, 5)] == ["3", "4", "5", "6", "7"]
    async with store.watch("Pod", None, "1") as watcher:
        with anyio.fail_after(5):
            events = [e async for e in watcher]
    assert events == [
        (
            "ERROR",
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "too old resource version: 1 (2)",
                "reason": "Expired",
                "code": 410,
            },
        )
    ]


async def test_after_a_restart_only_the_current_revision_is_resumable(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db", FakeClock()) as first:
        first.create("Pod", pod("a"))
        first.create("Pod", pod("b"))
    with Store.open(tmp_path / "s.db", FakeClock()) as second:
        async with second.watch("Pod", None, "1") as watcher:
            assert (await take_raw(watcher))[0] == "ERROR"
        async with second.watch("Pod", None, "2") as watcher:
            second.create("Pod", pod("c"))
            assert await take(watcher, 1) == [("ADDED", "c", "3")]


async def take_raw(watcher: Watcher) -> tuple[str, dict[str, Any]]:
    with anyio.fail_after(5):
        return await watcher.__anext__()


async def test_a_future_revision_waits_for_it(store: Store) -> None:
    async with store.watch("Pod", None, "2") as watcher:
        for name in "abc":
            store.create("Pod", pod(name))
        assert await take(watcher, 1) == [("ADDED", "c", "3")]


async def test_a_slow_watcher_is_cut_off_and_can_resume(store: Store) -> None:
    fast = store.watch("Pod", None, None)
    slow = store.watch("Pod", None, None)
    async with fast, slow:
        for i in range(5):  # buffer 4: the fifth overflows the slow watcher, never the writer
            store.create("Pod", pod(f"p{i}"))
            assert await take(fast, 1) == [("ADDED", f"p{i}", str(i + 1))]
        drained = await rest(slow)
        assert [rv for _, _, rv in drained] == ["1", "2", "3", "4"]
        assert slow.resource_version == 4
        store.create("Pod", pod("p5"))
        assert await take(fast, 1) == [("ADDED", "p5", "6")]
    async with store.watch("Pod", None, "4") as resumed:
        assert [rv for _, _, rv in await take(resumed, 2)] == ["5", "6"]


async def test_label_selector_turns_matching_changes_into_added_and_deleted(
    store: Store,
) -> None:
    store.create("Pod", pod("a", app="web"))
    store.create("Pod", pod("b", app="db"))
    async with store.watch("Pod", None, None, label_selector="app=web") as watcher:
        assert await take(watcher, 1) == [("ADDED", "a", "1")]
        relabel = store.get("Pod", "default", "b")
        relabel["metadata"]["labels"] = {"app": "web"}
        store.update("Pod", relabel, expected_rv=None)
        gone = store.get("Pod", "default", "a")
        gone["metadata"]["labels"] = {}
        store.update("Pod", gone, expected_rv=None)
        store.update_status("Pod", "default", "a", {"phase": "Running"})  # no longer matches
        store.update_status("Pod", "default", "b", {"phase": "Running"})
        assert await take(watcher, 3) == [
            ("ADDED", "b", "3"),
            ("DELETED", "a", "4"),
            ("MODIFIED", "b", "6"),
        ]


async def test_field_selector_on_watch(store: Store) -> None:
    async with store.watch("Pod", None, None, field_selector={"metadata.name": "b"}) as watcher:
        store.create("Pod", pod("a"))
        store.create("Pod", pod("b"))
        assert await take(watcher, 1) == [("ADDED", "b", "2")]


async def test_a_watch_of_one_name_hears_nothing_of_the_others(store: Store) -> None:
    """Scoped by the key, not by decoding: the other pods' changes never reach its buffer (4),
    so six of them do not cut it off, and a resume replays its own changes only."""
    store.create("Pod", pod("b"))
    async with store.watch("Pod", None, "1", field_selector={"metadata.name": "b"}) as watcher:
        for i in range(6):
            store.create("Pod", pod(f"p{i}"))
        store.update_status("Pod", "default", "b", {"phase": "Running"})
        store.delete("Pod", "default", "b")
        assert await take(watcher, 2) == [("MODIFIED", "b", "8"), ("DELETED", "b", "9")]
    async with store.watch("Pod", None, "6", field_selector={"metadata.name": "b"}) as resumed:
        assert await take(resumed, 2) == [("MODIFIED", "b", "8"), ("DELETED", "b", "9")]


def event(name: str, involved_uid: str) -> dict[str, Any]:
    involved = {"kind": "Pod", "namespace": "default", "name": "x", "uid": involved_uid}
    meta = {"name": name, "namespace": "default", "uid": f"u-{name}"}
    return {"metadata": meta, "involvedObject": involved, "reason": "Started", "message": name}


async def test_events_of_one_object_by_its_uid(store: Store) -> None:
    fields = {"involvedObject.uid": "u-1"}
    store.create("Event", event("old", "u-1"))
    store.create("Event", event("other", "u-2"))
    items, revision = store.list("Event", "default", field_selector=fields)
    assert [e["metadata"]["name"] for e in items] == ["old"]
    async with store.watch("Event", "default", revision, field_selector=fields) as watcher:
        for i in range(6):
            store.create("Event", event(f"e{i}", "u-2"))
        store.create("Event", event("mine", "u-1"))
        store.delete("Event", "default", "old")
        assert await take(watcher, 2) == [("ADDED", "mine", "9"), ("DELETED", "old", "10")]


async def test_closing_the_store_ends_every_watch(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db", FakeClock())
    watchers = [store.watch("Pod", None, None) for _ in range(3)]
    store.close()
    for watcher in watchers:
        assert await rest(watcher) == []
        await watcher.aclose()  # idempotent


async def test_many_watchers_see_the_same_order(store: Store) -> None:
    watchers = [store.watch("Pod", None, None, buffer=100) for _ in range(10)]
    for i in range(20):
        store.create("Pod", pod(f"p{i:02}"))
    expected = [("ADDED", f"p{i:02}", str(i + 1)) for i in range(20)]
    for watcher in watchers:
        async with watcher:
            assert await take(watcher, 20) == expected


@pytest.mark.parametrize("since", ["abc", "-1", "1.5"])
async def test_invalid_resource_version_is_bad_request(store: Store, since: str) -> None:
    with pytest.raises(BadRequest, match="invalid resource version"):
        store.watch("Pod", None, since)
